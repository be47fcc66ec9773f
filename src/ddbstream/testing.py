"""Build realistic stream events from plain Python values, and run an app on them in tests.

```python
from ddbstream.testing import insert, modify, run

result = run(app, insert({"pk": "order#1", "status": "NEW"}),
             modify({"pk": "order#1", "status": "NEW"}, {"pk": "order#1", "status": "PAID"}))
assert result.ran == ["welcome", "paid"]
```

The builders return exactly what Lambda delivers: DynamoDB JSON with numbers as strings and
binary as base64 text, a 32-hex-digit ``eventID``, the stream ARN, a ``SizeBytes`` estimate
computed as DynamoDB does, and sequence numbers that rise in the order records are built.
Nothing here is imported by ``import ddbstream``.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

from ._record import TTL_PRINCIPAL
from ._serializer import as_item, image_size, serialize, serialize_image

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import datetime
    from typing import Any

    from ._app import App
    from ._record import Record
    from .types import BatchItemFailure, BatchResponse

    Item = Mapping[str, Any] | object
    """An item: a dict of attribute names to values, or a model instance (a dataclass,
    pydantic model, msgspec Struct or attrs class), whose fields are the attributes."""

__all__ = [
    "RunResult",
    "event",
    "insert",
    "kinesis_event",
    "modify",
    "pipes_event",
    "remove",
    "run",
    "serialize",
    "serialize_image",
]

ACCOUNT_ID = "123456789012"
"""The AWS account in every ARN the builders make."""
STREAM_LABEL = "2026-01-01T00:00:00.000"
"""The stream label in every DynamoDB stream ARN the builders make."""
VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")

# Shaped like real ones (28 digits) and all of one width, so they rise as text too.
_SEQUENCE_BASE = 4_421_584_500_000_000_017_450_439_000
_KINESIS_SEQUENCE_BASE = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_000
_sequence = itertools.count(1)
_kinesis_sequence = itertools.count(1)


# --- records ---------------------------------------------------------------------------------


def insert(
    new: Item,
    *,
    table: str = "Table",
    key_names: str | Sequence[str] | None = None,
    view_type: str = "NEW_AND_OLD_IMAGES",
    region: str = "us-east-1",
    approximate_creation_time: datetime | None = None,
) -> dict[str, Any]:
    """Build the INSERT record a stream delivers when *new* is put into an empty slot.

    Args:
        new: the item written, as plain Python values: a dict, or a model instance (a
            dataclass, pydantic model, msgspec Struct or attrs class) whose fields are the
            attributes.
        table: the table's name (it appears in ``eventSourceARN``).
        key_names: the key attribute names: one name or a (partition, sort) pair. Default
            ``pk``, plus ``sk`` when the item has one.
        view_type: the stream's ``StreamViewType``; it decides which images the record has.
        region: the ``awsRegion``.
        approximate_creation_time: when the change happened (aware); default now.

    Returns:
        One record, exactly as in the ``Records`` list Lambda hands the function.

    Raises:
        ValueError: a key attribute is missing or not a string, number or bytes; an unknown
            view type.
        TypeError: a value DynamoDB cannot store (the message names its path).
    """
    return _record(
        "INSERT",
        None,
        new,
        table=table,
        key_names=key_names,
        view_type=view_type,
        region=region,
        approximate_creation_time=approximate_creation_time,
        ttl=False,
    )


def modify(
    old: Item,
    new: Item,
    *,
    table: str = "Table",
    key_names: str | Sequence[str] | None = None,
    view_type: str = "NEW_AND_OLD_IMAGES",
    region: str = "us-east-1",
    approximate_creation_time: datetime | None = None,
) -> dict[str, Any]:
    """Build the MODIFY record a stream delivers when *old* is replaced by *new*.

    Both items must have the same key. Options as for :func:`insert`.
    """
    return _record(
        "MODIFY",
        old,
        new,
        table=table,
        key_names=key_names,
        view_type=view_type,
        region=region,
        approximate_creation_time=approximate_creation_time,
        ttl=False,
    )


def remove(
    old: Item,
    *,
    ttl: bool = False,
    table: str = "Table",
    key_names: str | Sequence[str] | None = None,
    view_type: str = "NEW_AND_OLD_IMAGES",
    region: str = "us-east-1",
    approximate_creation_time: datetime | None = None,
) -> dict[str, Any]:
    """Build the REMOVE record a stream delivers when *old* is deleted.

    Args:
        old: the item deleted.
        ttl: make it a Time to Live expiry (DynamoDB's ``userIdentity`` is added), not a
            delete by a client.

    Other options as for :func:`insert`.
    """
    return _record(
        "REMOVE",
        old,
        None,
        table=table,
        key_names=key_names,
        view_type=view_type,
        region=region,
        approximate_creation_time=approximate_creation_time,
        ttl=ttl,
    )


def _record(
    event_name: str,
    old: Item | None,
    new: Item | None,
    *,
    table: str,
    key_names: str | Sequence[str] | None,
    view_type: str,
    region: str,
    approximate_creation_time: datetime | None,
    ttl: bool,
) -> dict[str, Any]:
    import uuid

    if view_type not in VIEW_TYPES:
        raise ValueError(
            f"unknown view_type {view_type!r}; expected one of {', '.join(VIEW_TYPES)}"
        )
    if old is not None:
        old = as_item(old, path="old")
    if new is not None:
        new = as_item(new, path="new")
    old_image = None if old is None else serialize_image(old, path="old")
    new_image = None if new is None else serialize_image(new, path="new")
    item = new if new is not None else old
    assert item is not None
    keys = _keys(item, key_names, "new" if new is not None else "old")
    if old is not None and new is not None:
        old_keys = _keys(old, tuple(keys), "old")
        if old_keys != keys:
            raise ValueError(
                f"old and new must be the same item, but their keys differ: {old_keys!r} and "
                f"{keys!r}"
            )
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": _epoch_seconds(approximate_creation_time),
        "Keys": keys,
    }
    size = image_size(keys)
    if new_image is not None and view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        body["NewImage"] = new_image
        size += image_size(new_image)
    if old_image is not None and view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        body["OldImage"] = old_image
        size += image_size(old_image)
    body["SequenceNumber"] = _next_sequence_number()
    body["SizeBytes"] = size
    body["StreamViewType"] = view_type
    record: dict[str, Any] = {
        "eventID": uuid.uuid4().hex,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": body,
        "eventSourceARN": (
            f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{table}/stream/{STREAM_LABEL}"
        ),
    }
    if ttl:
        record["userIdentity"] = {"type": "Service", "principalId": TTL_PRINCIPAL}
    return record


def _keys(
    item: Mapping[str, Any], key_names: str | Sequence[str] | None, which: str
) -> dict[str, Any]:
    if key_names is None:
        names: tuple[str, ...] = ("pk", "sk") if "sk" in item else ("pk",)
    elif isinstance(key_names, str):
        names = (key_names,)
    else:
        names = tuple(key_names)
    if not 1 <= len(names) <= 2:
        raise ValueError(f"key_names must name one or two attributes, got {key_names!r}")
    keys: dict[str, Any] = {}
    for name in names:
        if name not in item:
            hint = "" if key_names is not None else ", or pass key_names=('orderId',)"
            raise ValueError(
                f"{which} has no key attribute {name!r}; its attributes are "
                f"{', '.join(map(repr, item)) or 'none'}. Add it{hint}."
            )
        value = item[name]
        if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal, bytes)):
            raise ValueError(
                f"{which}.{name}: a key attribute must be a string, number or bytes, got {value!r}"
            )
        keys[name] = serialize(value, path=f"{which}.{name}")
    return keys


def _epoch_seconds(when: datetime | None) -> float:
    if when is None:
        import time

        return float(int(time.time()))
    if when.tzinfo is None:
        raise ValueError(
            f"approximate_creation_time must be an aware datetime, got the naive {when!r}; "
            "add tzinfo=timezone.utc"
        )
    return float(int(when.timestamp()))


def _next_sequence_number() -> str:
    return str(_SEQUENCE_BASE + next(_sequence))


# --- events ----------------------------------------------------------------------------------


def event(*records: Mapping[str, Any]) -> dict[str, Any]:
    """Wrap records into the DynamoDB Streams event Lambda passes to the handler.

    Sequence numbers rise through the event, as in a shard. Records already in that order
    (records built one after another, in the order built) keep their numbers; from the first
    record out of order (or repeated) on, copies with fresh, higher numbers are used.
    """
    return {"Records": _in_order(records)}


def pipes_event(*records: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Wrap records into the bare list EventBridge Pipes delivers (see :func:`event`)."""
    return _in_order(records)


def kinesis_event(*records: Mapping[str, Any], stream: str = "table-changes") -> dict[str, Any]:
    """Wrap records into the event Lambda passes for Kinesis Data Streams for DynamoDB.

    Each record's change travels as base64 JSON in ``kinesis.data``, with the ``tableName``
    and the creation time in milliseconds; ``SequenceNumber`` and ``StreamViewType`` are not
    carried (Kinesis has its own ``sequenceNumber``, rising through the event).

    Args:
        records: records made by :func:`insert`, :func:`modify` or :func:`remove`.
        stream: the Kinesis data stream's name (it appears in ``eventSourceARN``).
    """
    import base64
    import hashlib
    import json
    import uuid

    from ._record import table_from_arn

    wrapped: list[dict[str, Any]] = []
    for record in records:
        body = _body(record)
        region = record.get("awsRegion", "us-east-1")
        created = body.get("ApproximateCreationDateTime")
        change_body: dict[str, Any] = {}
        if created is None:  # a record edited by hand
            arrival = _epoch_seconds(None)
        else:
            change_body["ApproximateCreationDateTime"] = int(created * 1000)
            arrival = created + 0.25  # Kinesis receives it a moment after the change
        for name in ("Keys", "NewImage", "OldImage"):
            if name in body:
                change_body[name] = body[name]
        change_body["SizeBytes"] = body.get("SizeBytes", 0)
        change = {
            "awsRegion": region,
            "eventID": str(uuid.uuid4()),
            "eventName": record["eventName"],
            "userIdentity": record.get("userIdentity"),
            "recordFormat": "application/json",
            "tableName": table_from_arn(record.get("eventSourceARN")) or "Table",
            "dynamodb": change_body,
            "eventSource": "aws:dynamodb",
        }
        sequence_number = str(_KINESIS_SEQUENCE_BASE + next(_kinesis_sequence))
        key_text = json.dumps(body.get("Keys"), sort_keys=True).encode("utf-8")
        wrapped.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": hashlib.md5(key_text, usedforsecurity=False)
                    .hexdigest()
                    .upper(),
                    "sequenceNumber": sequence_number,
                    "data": base64.b64encode(json.dumps(change).encode("utf-8")).decode("ascii"),
                    "approximateArrivalTimestamp": arrival,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"shardId-000000000000:{sequence_number}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT_ID}:role/lambda-role",
                "awsRegion": region,
                "eventSourceARN": f"arn:aws:kinesis:{region}:{ACCOUNT_ID}:stream/{stream}",
            }
        )
    return {"Records": wrapped}


def _body(record: Any) -> dict[str, Any]:
    body = record.get("dynamodb") if isinstance(record, dict) else None
    if not isinstance(body, dict) or not isinstance(body.get("SequenceNumber"), str):
        raise TypeError(
            f"expected a stream record made by insert(), modify() or remove(), got {record!r:.200}"
        )
    return body


def _in_order(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    ordered: list[dict[str, Any]] = []
    last = -1
    for record in records:
        body = _body(record)
        number = int(body["SequenceNumber"])
        if number <= last:
            fresh = _next_sequence_number()
            record = {**record, "dynamodb": {**body, "SequenceNumber": fresh}}
            number = int(fresh)
        ordered.append(dict(record))
        last = number
    return ordered


# --- running ---------------------------------------------------------------------------------


class RunResult:
    """What :func:`run` saw: the routes that ran, and what the app reported.

    Attributes:
        ran: the names of the routes that ran (fallbacks included), in order, over all
            records. A route's name is its function's ``__qualname__`` unless registered
            with ``name=``.
        ran_per_record: the same names, one list per record started (records after a failure
            are not started).
        records: the records started, as the handlers received them.
        failures: the ``batchItemFailures`` entries: the first failed record, or every record
            not started when time ran short.
        error: the exception the failed record raised, or ``None``.
        processed: how many records completed.
    """

    __slots__ = (
        "_app",
        "_outcome",
        "error",
        "failures",
        "processed",
        "ran",
        "ran_per_record",
        "records",
    )

    def __init__(self, app: App, event: Any, context: Any) -> None:
        outcome = app.process(event, context)
        self._app = app
        self._outcome = outcome
        self.records: list[Record] = outcome.records
        self.failures: list[BatchItemFailure] = outcome.failures
        self.error: BaseException | None = outcome.error
        self.processed: int = outcome.processed
        self.ran: list[str] = [name for _, name in outcome.ran]
        self.ran_per_record: list[list[str]] = [
            outcome.routes_run(record) for record in outcome.records
        ]

    @property
    def ok(self) -> bool:
        """Whether every record completed: no failure, nothing left unstarted."""
        return not self.failures and self.error is None

    @property
    def response(self) -> BatchResponse:
        """What ``app.handler`` returns for this event, or raises the exception it would raise.

        Without ``report_batch_item_failures`` a failure propagates, so reading this raises the
        handler's exception (as ``app.handler`` would, for Lambda to retry the batch).
        """
        app = self._app
        if self.failures and not app.report_batch_item_failures:
            if self.error is not None:
                raise self.error
            from .errors import OutOfTimeError

            raise OutOfTimeError(
                f"less than {app.min_remaining_ms} ms of the invocation were left with "
                f"{len(self.failures)} records to go"
            )
        return app._response(self._outcome)

    def __repr__(self) -> str:
        return f"RunResult(ran={self.ran!r}, failures={self.failures!r}, error={self.error!r})"


def run(app: App, *records: Any, context: Any = None) -> RunResult:
    """Run *app* on records (or on one whole event) and return what ran and was reported.

    Handlers really run, in order, and the batch stops at the first failure as it does in
    Lambda; the exception is kept in the result rather than raised.

    ```python
    result = run(app, insert({"pk": "a"}), remove({"pk": "b"}))
    assert result.ran == ["welcome", "goodbye"]
    assert result.response == {"batchItemFailures": []}
    ```

    Args:
        app: the app under test.
        records: records made by :func:`insert`, :func:`modify` and :func:`remove` (wrapped
            with :func:`event`), or a single whole event such as :func:`kinesis_event`'s.
        context: the Lambda context, if the test needs one.
    """
    if len(records) == 1 and (
        isinstance(records[0], list) or (isinstance(records[0], dict) and "Records" in records[0])
    ):
        whole = records[0]
    else:
        whole = event(*records)
    return RunResult(app, whole, context)
