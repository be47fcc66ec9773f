"""Record: one change, with images decoded on first use and cached."""

from __future__ import annotations

from collections.abc import Mapping

from ._codec import same_value
from ._typing import Generic, ItemT
from .errors import MissingImageError, RecordError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from typing import Any

    from ._codec import Decoder
    from ._typing import Image, RawImage

__all__ = [
    "BLANK_RECORD_CLASS",
    "EVENT_NAMES",
    "IMAGES_OF_EVENT",
    "RECORD_CLASSES",
    "TTL_PRINCIPAL",
    "UNSET",
    "VIEW_IMAGES",
    "Diff",
    "Insert",
    "Modify",
    "Record",
    "Remove",
    "item_image",
    "make_record",
]

EVENT_NAMES = frozenset({"INSERT", "MODIFY", "REMOVE"})
IMAGES_OF_EVENT = {
    "INSERT": ("NewImage",),
    "MODIFY": ("NewImage", "OldImage"),
    "REMOVE": ("OldImage",),
}
"""The images a change of each event has, in the order ``record.item`` prefers them."""
VIEW_IMAGES = {
    "KEYS_ONLY": (),
    "NEW_IMAGE": ("NewImage",),
    "OLD_IMAGE": ("OldImage",),
    "NEW_AND_OLD_IMAGES": ("NewImage", "OldImage"),
}
"""The images a stream of each view type carries (of those its change has)."""
UNSET: Any = object()
"""What an image slot holds until the image is decoded."""
TTL_PRINCIPAL = "dynamodb.amazonaws.com"
"""The ``userIdentity.principalId`` of the records Time to Live makes."""


class Diff:
    """What a change did to the item's top-level attributes.

    Attributes:
        added: attributes only the new image has, with their new values.
        removed: attributes only the old image has, with their old values.
        changed: attributes both images have with different values, as ``(old, new)``.
    """

    __slots__ = ("added", "changed", "removed")

    def __init__(
        self,
        added: dict[str, Any],
        removed: dict[str, Any],
        changed: dict[str, tuple[Any, Any]],
    ) -> None:
        self.added = added
        self.removed = removed
        self.changed = changed

    @property
    def names(self) -> set[str]:
        """Every attribute name that was added, removed or changed."""
        return {*self.added, *self.removed, *self.changed}

    def __contains__(self, name: object) -> bool:
        return name in self.added or name in self.removed or name in self.changed

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Diff):
            return NotImplemented
        return (self.added, self.removed, self.changed) == (
            other.added,
            other.removed,
            other.changed,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dicts it holds

    def __repr__(self) -> str:
        return f"Diff(added={self.added!r}, removed={self.removed!r}, changed={self.changed!r})"


class Record(Generic[ItemT]):
    """One change from the stream, as handlers receive it.

    Every record is an :class:`Insert`, a :class:`Modify` or a :class:`Remove`, so
    ``isinstance`` and ``match record:`` tell the change apart. All are generic in the item
    type (``Modify[Order]``), a ``dict`` by default.

    Images (``keys``, ``new``, ``old``) are decoded on first access and cached, so a handler
    that never reads ``old`` never pays for decoding it. ``None`` means the change has no
    such image (``old`` of an INSERT); an image the change has but the stream does not carry
    (``new`` of a MODIFY on a KEYS_ONLY stream) raises :class:`~ddbstream.errors.MissingImageError`.
    ``raw`` is the record exactly as the event delivered it.

    The app makes the records; tests build events with :mod:`ddbstream.testing` and get the
    records back from :func:`ddbstream.testing.run`.
    """

    __slots__ = (
        "_decoder",
        "_keys",
        "_new",
        "_old",
        "_sequence_number",
        "change",
        "dynamodb",
        "event_name",
        "raw",
    )

    # No __init__: make_record() fills the slots. Calling a class whose __init__ is object's
    # is the cheapest way to make an instance, and the batch loop makes one per record.
    raw: Mapping[str, Any]
    """The record exactly as the event delivered it."""
    change: Mapping[str, Any]
    """The DynamoDB change record: ``raw`` itself, or what Kinesis carried inside it."""
    dynamodb: Mapping[str, Any]
    """The record's ``dynamodb`` block, undecoded (DynamoDB JSON)."""
    event_name: str
    """``"INSERT"``, ``"MODIFY"`` or ``"REMOVE"``."""
    _decoder: Decoder
    _keys: Image
    _new: Any  # the decoded image, None, or UNSET until read
    _old: Any
    _sequence_number: str | None  # given for Kinesis; in the dynamodb block otherwise

    # --- images ---------------------------------------------------------------------------

    @property
    def keys(self) -> Image:
        """The item's key attributes, decoded (present in every view type)."""
        keys = self._keys
        if keys is UNSET:
            raw = self.dynamodb.get("Keys")
            if raw is None:
                raise RecordError(
                    "record has no Keys",
                    event_id=self.event_id,
                    sequence_number=self.sequence_number,
                )
            keys = self._keys = self._decode(raw, "Keys")
        return keys

    if TYPE_CHECKING:
        # Each subclass says what its change has; a Record of any event has either.

        @property
        def new(self) -> ItemT | None:
            """The item after the change; ``None`` on a REMOVE."""

        @property
        def old(self) -> ItemT | None:
            """The item before the change; ``None`` on an INSERT."""

    @property
    def item(self) -> ItemT:
        """The new image, else the old image, else the keys: the best view of the item.

        "Else" is about what the record carries: on a KEYS_ONLY stream ``item`` is the keys.
        """
        image = item_image(self.event_name, self.dynamodb)
        found: Any = self.keys if image == "Keys" else self.new if image == "NewImage" else self.old
        return found  # type: ignore[no-any-return]

    @property
    def diff(self) -> Diff:
        """Top-level attributes added, removed and changed by this change.

        Raises:
            MissingImageError: the stream's view type lacks an image this change needs
                (a MODIFY needs NEW_AND_OLD_IMAGES).
        """
        self.require_images("record.diff")
        new: Image = self.new or {}  # type: ignore[assignment]  # images are dicts here
        old: Image = self.old or {}  # type: ignore[assignment]
        added = {name: value for name, value in new.items() if name not in old}
        removed = {name: value for name, value in old.items() if name not in new}
        changed = {
            name: (old[name], value)
            for name, value in new.items()
            if name in old and not same_value(old[name], value)
        }
        return Diff(added, removed, changed)

    def require_images(self, needed_by: str) -> None:
        """Raise MissingImageError unless the record carries every image its event implies."""
        dynamodb = self.dynamodb
        if "NewImage" in dynamodb and "OldImage" in dynamodb:  # NEW_AND_OLD_IMAGES: all there
            return
        missing = [image for image in IMAGES_OF_EVENT[self.event_name] if image not in dynamodb]
        if missing:
            raise self.missing_image(missing, needed_by)

    def missing_image(self, images: Sequence[str], needed_by: str) -> MissingImageError:
        """The error for *needed_by* reading *images* that this record's stream does not carry."""
        view = self.stream_view_type or "unknown"
        return MissingImageError(
            f"{needed_by} needs the {' and '.join(images)} of this {self.event_name}, but "
            f"the stream's view type is {view}; set StreamViewType to NEW_AND_OLD_IMAGES",
            event_id=self.event_id,
            sequence_number=self.sequence_number,
        )

    def _decode(self, raw: RawImage, name: str) -> Image:
        try:
            return self._decoder.fast_image(raw)
        except Exception:  # bad input: decode again, carefully, to say what and where
            pass
        return self._decode_carefully(raw, name)

    def _decode_carefully(self, raw: RawImage, name: str) -> Image:
        """Decode *raw* again, raising the DecodeError that says what is wrong and where."""
        try:
            return self._decoder.careful_image(raw, name)
        except RecordError as error:
            error.event_id = self.event_id
            error.sequence_number = self.sequence_number
            raise

    # --- metadata -------------------------------------------------------------------------

    @property
    def sequence_number(self) -> str | None:
        """Position of the change in its shard (the Kinesis sequence number for Kinesis)."""
        number = self._sequence_number
        return self.dynamodb.get("SequenceNumber") if number is None else number

    @property
    def event_id(self) -> str | None:
        """The record's ``eventID``."""
        return self.change.get("eventID")

    @property
    def raw_event(self) -> Mapping[str, Any]:
        """The change as DynamoDB wrote it (for Kinesis, the decoded ``kinesis.data``).

        Under the name Powertools' event source classes use, so that its idempotency utility
        (``idempotent_function(data_keyword_argument="record", ...)``) reads the record:
        ``event_key_jmespath="eventID"`` keys it by the change's ``eventID``.
        """
        return self.change

    @property
    def approximate_creation_time(self) -> datetime | None:
        """When the change happened (to the second on DynamoDB Streams), as an aware UTC time.

        Raises:
            RecordError: ``ApproximateCreationDateTime`` is not a number of seconds (or of
                milliseconds or microseconds, as its precision says) that is a time.
        """
        sent = stamp = self.dynamodb.get("ApproximateCreationDateTime")
        if stamp is None:
            return None
        from datetime import datetime, timezone  # not at import time: costs a cold start

        precision = self.dynamodb.get("ApproximateCreationDateTimePrecision")
        try:
            if stamp.__class__ not in (int, float):  # bool is an int, but no time
                raise TypeError(f"a number of seconds, got {type(stamp).__name__}")
            if precision == "MICROSECOND" or (precision is None and stamp > 1e14):
                stamp /= 1_000_000
            elif precision == "MILLISECOND" or (precision is None and stamp > 1e11):
                stamp /= 1000
            return datetime.fromtimestamp(stamp, tz=timezone.utc)
        except (TypeError, ValueError, OverflowError, OSError) as problem:
            raise RecordError(
                f"dynamodb.ApproximateCreationDateTime {sent!r} is not a time: {problem}",
                event_id=self.event_id,
                sequence_number=self.sequence_number,
            ) from None

    @property
    def size_bytes(self) -> int | None:
        """Size of the record in the stream, as DynamoDB reports it."""
        return self.dynamodb.get("SizeBytes")

    @property
    def stream_view_type(self) -> str | None:
        """``KEYS_ONLY``, ``NEW_IMAGE``, ``OLD_IMAGE`` or ``NEW_AND_OLD_IMAGES``."""
        return self.dynamodb.get("StreamViewType")

    @property
    def event_source_arn(self) -> str | None:
        """ARN of the stream (DynamoDB Streams) or of the Kinesis stream."""
        return self.change.get("eventSourceARN") or self.raw.get("eventSourceARN")

    @property
    def table_name(self) -> str | None:
        """Name of the table, from ``tableName`` or the stream ARN."""
        name = self.change.get("tableName")
        if name is not None:
            return name  # type: ignore[no-any-return]
        return table_from_arn(self.change.get("eventSourceARN"))

    @property
    def region(self) -> str | None:
        """The AWS region of the table (``awsRegion``)."""
        return self.change.get("awsRegion")

    @property
    def is_ttl_expiry(self) -> bool:
        """True for a REMOVE that DynamoDB's Time to Live made, not a delete by a client."""
        if self.event_name != "REMOVE":
            return False
        identity = self.change.get("userIdentity")
        return (
            isinstance(identity, dict)
            and identity.get("type") == "Service"
            and identity.get("principalId") == TTL_PRINCIPAL
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(event_name={self.event_name!r}, event_id={self.event_id!r}, "
            f"sequence_number={self.sequence_number!r})"
        )


# The image properties of Insert, Modify and Remove repeat one another rather than share a
# helper: they run for every record, and a call more costs a tenth of decoding a small image.


class Insert(Record[ItemT]):
    """A new item: ``new`` is the item, ``old`` is ``None``."""

    __slots__ = ()

    @property
    def new(self) -> ItemT:
        """The item as written.

        Raises:
            MissingImageError: the stream's view type (KEYS_ONLY, OLD_IMAGE) omits it.
        """
        new = self._new
        if new is UNSET:
            raw = self.dynamodb.get("NewImage")
            if raw is None:
                raise self.missing_image(("NewImage",), "record.new")
            try:
                new = self._decoder.fast_image(raw)
            except Exception:  # bad input: decode again, carefully, to say what and where
                new = self._decode_carefully(raw, "NewImage")
            self._new = new
        return new  # type: ignore[no-any-return]

    @property
    def old(self) -> None:
        """``None``: an INSERT has no old image."""
        return None


class Modify(Record[ItemT]):
    """An updated item: ``new`` after the change, ``old`` before it."""

    __slots__ = ()

    @property
    def new(self) -> ItemT:
        """The item after the change.

        Raises:
            MissingImageError: the stream's view type (KEYS_ONLY, OLD_IMAGE) omits it.
        """
        new = self._new
        if new is UNSET:
            raw = self.dynamodb.get("NewImage")
            if raw is None:
                raise self.missing_image(("NewImage",), "record.new")
            try:
                new = self._decoder.fast_image(raw)
            except Exception:  # bad input: decode again, carefully, to say what and where
                new = self._decode_carefully(raw, "NewImage")
            self._new = new
        return new  # type: ignore[no-any-return]

    @property
    def old(self) -> ItemT:
        """The item before the change.

        Raises:
            MissingImageError: the stream's view type (KEYS_ONLY, NEW_IMAGE) omits it.
        """
        old = self._old
        if old is UNSET:
            raw = self.dynamodb.get("OldImage")
            if raw is None:
                raise self.missing_image(("OldImage",), "record.old")
            try:
                old = self._decoder.fast_image(raw)
            except Exception:  # bad input: decode again, carefully, to say what and where
                old = self._decode_carefully(raw, "OldImage")
            self._old = old
        return old  # type: ignore[no-any-return]


class Remove(Record[ItemT]):
    """A deleted item (by a client, or expired by Time to Live): ``old`` is the item."""

    __slots__ = ()

    @property
    def new(self) -> None:
        """``None``: a REMOVE has no new image."""
        return None

    @property
    def old(self) -> ItemT:
        """The item as it was before the delete.

        Raises:
            MissingImageError: the stream's view type (KEYS_ONLY, NEW_IMAGE) omits it.
        """
        old = self._old
        if old is UNSET:
            raw = self.dynamodb.get("OldImage")
            if raw is None:
                raise self.missing_image(("OldImage",), "record.old")
            try:
                old = self._decoder.fast_image(raw)
            except Exception:  # bad input: decode again, carefully, to say what and where
                old = self._decode_carefully(raw, "OldImage")
            self._old = old
        return old  # type: ignore[no-any-return]


RECORD_CLASSES: dict[str, type[Record[Any]]] = {
    "INSERT": Insert,
    "MODIFY": Modify,
    "REMOVE": Remove,
}
"""The class of a record of each event name."""
BLANK_RECORD_CLASS: type[Record[Any]] = Modify
"""The class records are made as before they get their own (the commonest: no change)."""


def item_image(event_name: str, dynamodb: Mapping[str, Any]) -> str:
    """Which image ``record.item`` (and so ``where=``) reads: ``NewImage``, ``OldImage``
    or ``Keys``, the first of the change's images the record carries, in that order."""
    for image in IMAGES_OF_EVENT[event_name]:
        if image in dynamodb:
            return image
    return "Keys"


def make_record(
    raw: Any, decoder: Decoder, change: Any = None, sequence_number: str | None = None
) -> Record:
    """The Record handlers receive for *raw*, its images to be decoded by *decoder*.

    *change* is the DynamoDB change record when it is not *raw* itself (Kinesis carries it
    inside), and *sequence_number* the record's position when the change does not hold it.
    The batch loop writes this out for stream records (``_batch.run_batch``; a test keeps
    the two alike) and calls it for the others, so the usual case is tested first.

    Raises:
        RecordError: the record has no ``dynamodb`` object or an unknown ``eventName``.
    """
    if change is None:
        change = raw
    if change.__class__ is dict:
        dynamodb = change.get("dynamodb")
        event_name = change.get("eventName")
    else:
        dynamodb = event_name = None
    if (
        dynamodb.__class__ is not dict
        or event_name.__class__ is not str
        or event_name not in EVENT_NAMES
    ):
        dynamodb, event_name = _checked(change, sequence_number)
    record = BLANK_RECORD_CLASS()  # then given its class: see _batch.run_batch
    record.raw = raw
    record.change = change
    record._decoder = decoder
    record._keys = record._new = record._old = UNSET
    record.dynamodb = dynamodb
    record.event_name = event_name
    record._sequence_number = sequence_number
    record_class = RECORD_CLASSES[event_name]
    if record_class is not BLANK_RECORD_CLASS:
        record.__class__ = record_class
    return record


def _checked(change: Any, sequence_number: str | None) -> tuple[Mapping[str, Any], str]:
    """The dynamodb block and event name of an unusual *change*, or the error it deserves."""
    if not isinstance(change, Mapping):
        raise RecordError(
            f"a record must be a JSON object, got {type(change).__name__}",
            sequence_number=sequence_number,
        )
    dynamodb = change.get("dynamodb")
    event_name = change.get("eventName")
    event_id = change.get("eventID")
    if not isinstance(dynamodb, Mapping):
        raise RecordError(
            "record has no 'dynamodb' object; is this a DynamoDB stream record?",
            event_id=event_id,
            sequence_number=sequence_number,
        )
    if sequence_number is None:
        sequence_number = dynamodb.get("SequenceNumber")
    if not isinstance(event_name, str) or event_name not in EVENT_NAMES:
        raise RecordError(
            f"unknown eventName {event_name!r}; expected INSERT, MODIFY or REMOVE",
            event_id=event_id,
            sequence_number=sequence_number,
        )
    return dynamodb, event_name


def table_from_arn(arn: object) -> str | None:
    """``arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/...`` -> ``NAME``."""
    if not isinstance(arn, str):
        return None
    try:
        return _TABLE_OF_ARN[arn]
    except KeyError:
        pass
    parts = arn.split(":", 5)
    name = None
    if len(parts) == 6 and parts[2] == "dynamodb":
        resource = parts[5].split("/")
        name = resource[1] if len(resource) > 1 and resource[0] == "table" else None
    if len(_TABLE_OF_ARN) < 256:  # a function reads a stream or a few: stays small
        _TABLE_OF_ARN[arn] = name
    return name


_TABLE_OF_ARN: dict[str, str | None] = {}
"""Stream ARN -> table name, parsed once: every record of a batch names the same stream."""
