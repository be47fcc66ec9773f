"""Event shapes: what Lambda hands the function, turned into records and their identifiers.

- DynamoDB Streams: ``{"Records": [...]}``, each record with a ``dynamodb`` block; the failure
  identifier is ``dynamodb.SequenceNumber``.
- Kinesis Data Streams for DynamoDB: ``{"Records": [...]}``, each record's ``kinesis.data``
  being base64 JSON of the change; the identifier is ``kinesis.sequenceNumber``.
- EventBridge Pipes: a bare JSON list of such records; the identifier is configurable.
- Tumbling windows: the event also carries ``window`` and ``state``.
"""

from __future__ import annotations

from ._codec import strict_base64
from ._record import make_record
from .errors import EventError, RecordError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    from ._codec import Decoder
    from ._record import Record
    from .types import BatchItemFailure

__all__ = ["Batch", "Source", "Window", "read_event"]

PIPES_IDENTIFIERS = ("eventID", "SequenceNumber")


class Window:
    """The tumbling window an invocation belongs to, and the state carried across it.

    Attributes:
        start: the window's start, as the ISO 8601 text Lambda sends.
        end: the window's end, likewise.
        state: the state returned by the previous invocation of this window; update it in
            handlers, and ddbstream returns it to Lambda.
        is_final: whether this is the window's last invocation (state is then delivered for
            the last time).
        terminated_early: whether the window closed early because the state grew too big.
        shard_id: the shard the window belongs to.
    """

    __slots__ = ("end", "is_final", "shard_id", "start", "state", "terminated_early")

    def __init__(self, event: Mapping[str, Any]) -> None:
        window = event.get("window")
        if not isinstance(window, dict):
            raise EventError("a tumbling window event needs a 'window' object with start and end")
        state = event.get("state")
        if state is None:
            state = {}
        if not isinstance(state, dict):
            raise EventError(f"the window's 'state' must be a JSON object, got {state!r}")
        self.start: str | None = window.get("start")
        self.end: str | None = window.get("end")
        self.state: dict[str, Any] = state
        self.is_final = bool(event.get("isFinalInvokeForWindow"))
        self.terminated_early = bool(event.get("isWindowTerminatedEarly"))
        self.shard_id: str | None = event.get("shardId")

    def __repr__(self) -> str:
        return f"Window(start={self.start!r}, end={self.end!r}, is_final={self.is_final!r})"


class Source:
    """How to read records of one event shape (DynamoDB Streams here; subclasses for others).

    ``record(raw, decoder)`` wraps a raw record as the Record handlers receive.
    """

    __slots__ = ()

    records_are_changes = True
    """Each raw record is a DynamoDB change itself: the batch loop makes its Record inline,
    as ``make_record`` would."""

    def identifiers(self, raws: Sequence[Any]) -> list[str]:
        """Every record's batchItemFailures identifier, read before anything is decoded.

        Raises:
            RecordError: a record has none, so its failure could not be reported.
        """
        if type(self) is Source:  # stream records: one comprehension, checked as a whole
            try:
                found = [raw["dynamodb"]["SequenceNumber"] for raw in raws]
            except (KeyError, TypeError, IndexError):
                pass
            else:
                if all(found) and set(map(type, found)) <= {str}:
                    return found
        return [self.identifier(raw) for raw in raws]

    def identifier(self, raw: Any) -> str:
        """One record's batchItemFailures identifier."""
        try:
            identifier = raw["dynamodb"]["SequenceNumber"]
        except (KeyError, TypeError, IndexError):
            identifier = None
        return _require_identifier(identifier, raw, "dynamodb.SequenceNumber")

    def identifier_or_none(self, raw: Any) -> str | None:
        """*raw*'s identifier if it has one: for messages, where a missing one is no error."""
        try:
            return self.identifier(raw)
        except RecordError:
            return None

    record = staticmethod(make_record)


class KinesisSource(Source):
    """Kinesis Data Streams for DynamoDB: the change is base64 JSON in ``kinesis.data``.

    EventBridge Pipes flattens Kinesis records (``data`` and ``sequenceNumber`` at the top,
    no ``kinesis`` block): *flat* reads them so, and *field* picks the identifier,
    ``"sequenceNumber"`` or ``"eventID"``.
    """

    __slots__ = ("field", "flat")

    records_are_changes = False

    def __init__(self, *, flat: bool = False, field: str = "sequenceNumber") -> None:
        self.flat = flat
        self.field = field

    def identifier(self, raw: Any) -> str:
        if self.field == "eventID":
            return _event_id_identifier(raw)
        block = self._block(raw)
        identifier = block.get("sequenceNumber") if isinstance(block, dict) else None
        where = "sequenceNumber" if self.flat else "kinesis.sequenceNumber"
        return _require_identifier(identifier, raw, where)

    def record(self, raw: Any, decoder: Decoder) -> Record:  # type: ignore[override]
        import json

        if not isinstance(raw, dict):
            raise RecordError(f"a record must be a JSON object, got {type(raw).__name__}")
        event_id = raw.get("eventID")
        block = self._block(raw)
        sequence_number = block.get("sequenceNumber") if isinstance(block, dict) else None
        where = "data" if self.flat else "kinesis.data"
        data = block.get("data") if isinstance(block, dict) else None
        if not isinstance(data, str):
            raise RecordError(
                f"{where} must be base64 text of a DynamoDB change, got {type(data).__name__}",
                event_id=event_id,
                sequence_number=sequence_number,
            )
        try:
            text = strict_base64(data)
        except (TypeError, ValueError) as error:
            raise RecordError(
                f"{where} is not base64 ({error}); Kinesis delivers a change as base64 of its JSON",
                event_id=event_id,
                sequence_number=sequence_number,
            ) from None
        try:
            change = json.loads(text)
        except ValueError as error:
            raise RecordError(
                f"{where} is base64, but not of JSON: {error}",
                event_id=event_id,
                sequence_number=sequence_number,
            ) from None
        if not isinstance(change, dict):
            raise RecordError(
                f"{where} holds no DynamoDB change record",
                event_id=event_id,
                sequence_number=sequence_number,
            )
        return make_record(raw, decoder, change, sequence_number)

    def _block(self, raw: Any) -> Any:
        if self.flat:
            return raw
        return raw.get("kinesis") if isinstance(raw, dict) else None


class PipesSource(Source):
    """EventBridge Pipes: a bare list of DynamoDB stream records, reported by ``eventID``."""

    __slots__ = ()

    def identifier(self, raw: Any) -> str:
        return _event_id_identifier(raw)


DYNAMODB_STREAMS = Source()
KINESIS = KinesisSource()
PIPES = PipesSource()


class Batch:
    """One event, read: where its records come from, the records, and its window.

    Attributes:
        source: how to read the records and their identifiers.
        records: the raw records, in stream order.
        window: the tumbling window, when the event has one.
        identifiers: every record's batchItemFailures identifier once
            :meth:`read_identifiers` has read them (to report failures), else None.
    """

    __slots__ = ("identifiers", "records", "source", "window")

    def __init__(self, source: Source, records: list[Any], window: Window | None = None) -> None:
        self.source = source
        self.records = records
        self.window = window
        self.identifiers: list[str] | None = None

    def read_identifiers(self) -> None:
        """Read every record's identifier before any record runs.

        Reporting failures needs them all first: a record whose failure could not be
        reported must fail the batch before any record runs, or the retry would run the
        records before it twice. Without reporting, any failure retries the whole batch.

        Raises:
            RecordError: a record has none.
        """
        self.identifiers = self.source.identifiers(self.records)

    def identifier_at(self, index: int) -> str | None:
        """Record *index*'s identifier: as read up front, else from the record itself, None
        when it has none."""
        if self.identifiers is not None:
            return self.identifiers[index]
        return self.source.identifier_or_none(self.records[index])

    def failures(self, start: int, stop: int | None = None) -> list[BatchItemFailure]:
        """The batch item failures of records *start* to *stop* (default: the end).

        A record without an identifier (possible only for an app that does not report, run
        by ``App.process``) gets an empty one, which Lambda would take as a failure of the
        whole batch, as it is for such an app.
        """
        stop = len(self.records) if stop is None else stop
        return [{"itemIdentifier": self.identifier_at(index) or ""} for index in range(start, stop)]

    def __len__(self) -> int:
        return len(self.records)


def read_event(event: Any, pipes_identifier: str) -> Batch:
    """Recognize the event's shape: its source, its records and its window.

    Raises:
        EventError: the event is not a batch of stream records of any known shape.
    """
    if isinstance(event, list):
        head = event[0] if event and isinstance(event[0], dict) else {}
        _check_origin(head)
        if "kinesis" in head:
            return Batch(KINESIS, event)
        if "data" in head and "sequenceNumber" in head:  # Pipes flattens Kinesis records
            field = "eventID" if pipes_identifier == "eventID" else "sequenceNumber"
            return Batch(KinesisSource(flat=True, field=field), event)
        return Batch(PIPES if pipes_identifier == "eventID" else DYNAMODB_STREAMS, event)
    if not isinstance(event, dict):
        raise EventError(
            f"expected a DynamoDB stream event ({{'Records': [...]}}), got {type(event).__name__}"
        )
    records = event.get("Records")
    if not isinstance(records, list):
        keys = ", ".join(sorted(map(str, event))[:8]) or "none"
        raise EventError(
            "expected a DynamoDB stream event with a 'Records' list; this event has the keys "
            f"{keys}. Is the function triggered by something other than a stream?"
        )
    window = Window(event) if "window" in event else None
    first = records[0] if records and isinstance(records[0], dict) else {}
    if "kinesis" in first:
        return Batch(KINESIS, records, window)
    _check_origin(first)
    return Batch(DYNAMODB_STREAMS, records, window)


def _check_origin(first: dict[str, Any]) -> None:
    """Refuse a batch whose first record says it comes from SQS, SNS, S3...: the trigger is
    wrong, not one record (EventBridge Pipes delivers such records as a bare list too)."""
    if "dynamodb" in first or "kinesis" in first:
        return
    origin = first.get("eventSource", first.get("EventSource"))
    if isinstance(origin, str) and origin not in ("aws:dynamodb", "aws:kinesis"):
        raise EventError(
            f"expected DynamoDB stream records, but the records come from {origin!r}. "
            "Is the function triggered by something other than a stream?"
        )


def _event_id_identifier(raw: Any) -> str:
    identifier = raw.get("eventID") if isinstance(raw, dict) else None
    return _require_identifier(identifier, raw, "eventID")


def _require_identifier(identifier: Any, raw: Any, field: str) -> str:
    if isinstance(identifier, str) and identifier:
        return identifier
    event_id = raw.get("eventID") if isinstance(raw, dict) else None
    raise RecordError(
        f"record has no {field}, so a failure of it could not be reported to Lambda; "
        "the whole batch fails instead",
        event_id=event_id if isinstance(event_id, str) else None,
    )
