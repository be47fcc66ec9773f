"""After the retries: read Lambda's on-failure records, fetch the records they name, park poison.

When a stream batch runs out of retries (``MaximumRetryAttempts``) or of age
(``MaximumRecordAgeInSeconds``), Lambda skips it and sends an *invocation record* to the
mapping's on-failure destination. Through SQS and SNS it names the batch (stream, shard, first
and last sequence number) without its records, which the stream keeps for 24 hours only;
through S3 it also carries the whole event in ``payload``. :func:`parse` reads any of them,
:func:`read_records` fetches what one names from the stream (``ddbstream replay`` runs the app
on them), and :func:`park` sends a single poison record aside from an ``on_error`` hook so that
it does not block its shard.

Not imported by ``import ddbstream``, and light to import (an ``on_error`` hook in a Lambda
function imports it at a cold start): ``json``, ``datetime`` and boto3 are imported by the
functions that use them.
"""

from __future__ import annotations

from .errors import DdbStreamError, FailureMessageError, describe_record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime
    from typing import Any, Protocol

    from ._record import Record

    class Sink(Protocol):
        """Where :func:`park` sends a record: anything with ``send`` (and ``flush``).

        ``send(record, payload)`` gets the Record and the JSON-ready message :func:`park`
        built for it. ``flush()``, when the sink has one, is called right after, because the
        record counts as handled once the hook returns: a message still in a buffer when
        the invocation ends would be lost with it.
        """

        def send(self, record: Record[Any], payload: Mapping[str, Any], /) -> object: ...


__all__ = [
    "BATCH_INFO_FIELDS",
    "PARKED",
    "FailureMessage",
    "ParkedRecord",
    "ReplayError",
    "park",
    "park_message",
    "parse",
    "parse_parked",
    "read_records",
]

BATCH_INFO_FIELDS = {"DDBStreamBatchInfo": "dynamodb", "KinesisBatchInfo": "kinesis"}
"""The field of the invocation record that names the batch, and the source it means."""

PARKED = "ddbstream.parked/1"
"""The ``format`` of the messages :func:`park` sends."""

_MAX_ENVELOPES = 5  # SNS inside SQS inside an SQS event is three; more is not a message
_MAX_EMPTY_PAGES = 10  # GetRecords pages without records before a range counts as missing


class ReplayError(DdbStreamError):
    """The records an on-failure message names cannot be read: trimmed, gone, or unreachable."""


class _Value:
    """A frozen value with named fields: set once by ``__init__``, compared field by field.

    (Not a dataclass: ``dataclasses`` imports ``inspect``, too slow for a cold start.)
    """

    __slots__: tuple[str, ...] = ()
    _compared: tuple[str, ...] = ()

    def __init__(self, **fields: Any) -> None:
        for name in self.__slots__:
            object.__setattr__(self, name, fields.pop(name))
        if fields:
            raise TypeError(f"unexpected fields: {', '.join(sorted(fields))}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot set {name!r}")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self._compared)

    def __hash__(self) -> int:
        return hash(tuple(repr(getattr(self, name)) for name in self._compared))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._compared)
        return f"{type(self).__name__}({shown})"

    def _replace(self, **changes: Any) -> Any:
        fields = {name: getattr(self, name) for name in self.__slots__}
        fields.update(changes)
        return type(self)(**fields)


class FailureMessage(_Value):
    """One on-failure invocation record of a DynamoDB or Kinesis stream batch, read.

    Attributes:
        source: ``"dynamodb"`` (DynamoDB Streams) or ``"kinesis"`` (Kinesis Data Streams).
        stream_arn: the stream the batch was read from.
        shard_id: the shard of the batch.
        first_sequence_number: the sequence number of the batch's first record.
        last_sequence_number: that of its last record; sequence numbers compare as integers.
        batch_size: how many records Lambda gave up on.
        condition: why: ``"RetryAttemptsExhausted"``, ``"RecordAgeExceeded"``...
        invoke_count: ``approximateInvokeCount``, how often Lambda tried.
        function_arn: the function that failed (from ``requestContext``).
        function_error: ``responseContext.functionError`` (``"Unhandled"``), if any.
        timestamp: when Lambda sent the record.
        first_arrival: ``approximateArrivalOfFirstRecord``.
        last_arrival: ``approximateArrivalOfLastRecord``.
        records: the batch's records in Lambda's event shape, when the message carries them
            (the S3 destination's ``payload``); only those of the range, in order. None when
            the message carries none (SQS, SNS).
        truncated: the message has a ``payload``, but it holds fewer records of the range
            than ``batch_size``: read them from the stream instead.
        envelopes: the wrappings taken off to reach the record, outermost first
            (``("sqs", "sns")`` for an SNS notification delivered through SQS).
        document: the invocation record as Lambda wrote it (not compared, not shown).
    """

    __slots__ = (
        "batch_size",
        "condition",
        "document",
        "envelopes",
        "first_arrival",
        "first_sequence_number",
        "function_arn",
        "function_error",
        "invoke_count",
        "last_arrival",
        "last_sequence_number",
        "records",
        "shard_id",
        "source",
        "stream_arn",
        "timestamp",
        "truncated",
    )
    _compared = (  # what identifies the batch first, in repr
        "source",
        "stream_arn",
        "shard_id",
        "first_sequence_number",
        "last_sequence_number",
        "batch_size",
        "condition",
        "invoke_count",
        "function_arn",
        "function_error",
        "timestamp",
        "first_arrival",
        "last_arrival",
        "records",
        "truncated",
        "envelopes",
    )

    source: str
    stream_arn: str
    shard_id: str
    first_sequence_number: str
    last_sequence_number: str
    batch_size: int
    condition: str | None
    invoke_count: int | None
    function_arn: str | None
    function_error: str | None
    timestamp: datetime | None
    first_arrival: datetime | None
    last_arrival: datetime | None
    records: tuple[dict[str, Any], ...] | None
    truncated: bool
    envelopes: tuple[str, ...]
    document: Mapping[str, Any]

    @property
    def region(self) -> str | None:
        """The stream's region, read from its ARN."""
        parts = self.stream_arn.split(":")
        return parts[3] or None if len(parts) > 5 else None

    def covers(self, sequence_number: str) -> bool:
        """Whether *sequence_number* lies in the batch's range (both ends included)."""
        try:
            number = int(sequence_number)
        except (TypeError, ValueError):
            return False
        return int(self.first_sequence_number) <= number <= int(self.last_sequence_number)

    def describe(self) -> str:
        """One line naming the batch: source, shard, range, size and why."""
        why = f", {self.condition}" if self.condition else ""
        tries = f" after {self.invoke_count} invocation(s)" if self.invoke_count else ""
        return (
            f"{self.batch_size} record(s) of {self.source} stream {self.stream_arn}, shard "
            f"{self.shard_id}, sequence numbers {self.first_sequence_number} to "
            f"{self.last_sequence_number}{why}{tries}"
        )


class ParkedRecord(_Value):
    """A message :func:`park` sent, read back by :func:`parse_parked`.

    Attributes:
        record: the raw record, as the event delivered it.
        error_type: the exception's class name.
        error_message: its text.
        event_id: the record's eventID, if it has one.
        sequence_number: its sequence number, if it has one.
        parked_at: when it was parked.
        envelopes: as for :class:`FailureMessage`.
    """

    __slots__ = (
        "envelopes",
        "error_message",
        "error_type",
        "event_id",
        "parked_at",
        "record",
        "sequence_number",
    )
    _compared = (
        "event_id",
        "sequence_number",
        "error_type",
        "error_message",
        "parked_at",
        "record",
        "envelopes",
    )

    record: dict[str, Any]
    error_type: str
    error_message: str
    event_id: str | None
    sequence_number: str | None
    parked_at: datetime | None
    envelopes: tuple[str, ...]


# --- reading messages ----------------------------------------------------------------------


def parse(message: Any) -> FailureMessage:
    """Read Lambda's on-failure record for a stream batch, however it was delivered.

    *message* is JSON text (``str`` or ``bytes``) or its parsed form: the invocation record
    itself (an SQS message body, an SNS ``Message``, the S3 object), an SQS record as an
    SQS-triggered function receives it, an SNS record or notification, a ReceiveMessage
    response message, or a whole SQS or SNS event holding one record. SNS notifications
    delivered through SQS are unwrapped too.

    Raises:
        FailureMessageError: *message* is none of these, or a field has a wrong value; the
            message says what was found.
    """
    document, envelopes = _unwrap(message, lambda found: _batch_field(found) is not None)
    if document is None:
        raise _not_a_message(envelopes[-1] if envelopes else message, "an on-failure record")
    return _read_document(document, tuple(envelopes))


def parse_parked(message: Any) -> ParkedRecord:
    """Read a message :func:`park` sent (its SQS body, an SQS record or event, or a dict).

    Raises:
        FailureMessageError: *message* is not one.
    """
    document, envelopes = _unwrap(message, lambda found: found.get("format") == PARKED)
    if document is None:
        raise _not_a_message(envelopes[-1] if envelopes else message, "a parked record")
    record = document.get("record")
    error = document.get("error")
    if not isinstance(record, dict) or not isinstance(error, dict):
        raise FailureMessageError(
            "A parked record needs a 'record' object and an 'error' object; this one has "
            f"{_keys(document)}."
        )
    return ParkedRecord(
        record=record,
        error_type=str(error.get("type", "")),
        error_message=str(error.get("message", "")),
        event_id=_optional_text(document, "eventID"),
        sequence_number=_optional_text(document, "sequenceNumber"),
        parked_at=_time(document, "parkedAt"),
        envelopes=tuple(envelopes),
    )


def _unwrap(message: Any, found: Any) -> tuple[dict[str, Any] | None, list[Any]]:
    """Take SQS, SNS and JSON-text wrappings off *message* until *found* says it is there.

    Returns the document (None when it is not there) and the envelopes taken off; when the
    document is None, the last item is what could not be unwrapped further.
    """
    import json

    envelopes: list[Any] = []
    current = message
    for _ in range(_MAX_ENVELOPES * 2):  # a record and its body are two steps
        if isinstance(current, (bytes, bytearray)):
            try:
                current = current.decode("utf-8")
            except UnicodeDecodeError:
                raise FailureMessageError("The message is not UTF-8 text.") from None
        if isinstance(current, str):
            try:
                current = json.loads(current)
            except json.JSONDecodeError as error:
                raise FailureMessageError(f"The message is not JSON: {error}.") from None
        if not isinstance(current, dict):
            return None, [*envelopes, current]
        if found(current):
            return current, envelopes
        inner, envelope = _inside(current)
        if inner is None:
            return None, [*envelopes, current]
        if envelope:
            envelopes.append(envelope)
        current = inner
    raise FailureMessageError(
        f"The message is wrapped in more than {_MAX_ENVELOPES} SQS or SNS envelopes "
        f"({', '.join(envelopes[:4])}, ...): no delivery of Lambda's wraps it so deep."
    )


def _inside(wrapper: dict[str, Any]) -> tuple[Any, str | None]:
    """What *wrapper* carries, and the envelope's name (None for a mere list of one)."""
    for name in ("Records", "Messages"):  # an SQS or SNS event; a ReceiveMessage response
        items = wrapper.get(name)
        if isinstance(items, list):
            if len(items) != 1:
                raise FailureMessageError(
                    f"The message holds {len(items)} {name}; parse one at a time, e.g. "
                    f"[parse(item) for item in event[{name!r}]]."
                )
            return items[0], None
    origin = wrapper.get("eventSource", wrapper.get("EventSource"))
    if origin == "aws:sqs" or ("body" in wrapper and "messageId" in wrapper):
        return wrapper.get("body"), "sqs"
    if "Body" in wrapper and ("MessageId" in wrapper or "ReceiptHandle" in wrapper):
        return wrapper["Body"], "sqs"
    if isinstance(wrapper.get("Sns"), dict):  # an SNS record; the notification is inside
        return wrapper["Sns"], None
    if wrapper.get("Type") == "Notification" and "Message" in wrapper:
        return wrapper["Message"], "sns"
    return None, None


def _not_a_message(found: Any, wanted: str) -> FailureMessageError:
    if not isinstance(found, dict):
        what = f"a JSON {type(found).__name__}" if found is not None else "null"
        return FailureMessageError(
            f"Expected {wanted} (a JSON object), found {what}: {_short(found)}."
        )
    origin = found.get("eventSource", found.get("EventSource"))
    if origin == "aws:s3" or "s3" in found:
        return FailureMessageError(
            "This is an S3 event notification: it names the object Lambda wrote (bucket and "
            "key), it does not hold it. Read the object and parse its body, e.g. "
            "parse(s3.get_object(Bucket=..., Key=...)['Body'].read())."
        )
    if origin in ("aws:dynamodb", "aws:kinesis") or "dynamodb" in found:
        return FailureMessageError(
            f"This is a stream record ({origin or 'dynamodb'}), not {wanted}: run it with "
            "ddbstream invoke instead."
        )
    context = found.get("requestContext")
    if isinstance(context, dict) and "requestPayload" in found:
        return FailureMessageError(
            "This is the record of an asynchronous invocation (it has requestPayload), not of "
            "a stream batch: its requestPayload is the event to invoke the function with again."
        )
    return FailureMessageError(
        f"Expected {wanted}, found a JSON object with {_keys(found)}. Lambda's on-failure "
        "record for a stream has requestContext and DDBStreamBatchInfo (or KinesisBatchInfo); "
        "pass it as the SQS message body, an SQS or SNS record, or the S3 object."
    )


def _batch_field(document: Mapping[str, Any]) -> str | None:
    return next((name for name in BATCH_INFO_FIELDS if name in document), None)


def _read_document(document: dict[str, Any], envelopes: tuple[str, ...]) -> FailureMessage:
    name = _batch_field(document)
    assert name is not None  # _unwrap stopped on it
    info = document[name]
    if not isinstance(info, dict):
        raise FailureMessageError(f"{name} must be a JSON object, got {_short(info)}.")
    stream_arn = _text(info, "streamArn", name)
    shard_id = _text(info, "shardId", name)
    first = _sequence_number(info, "startSequenceNumber", name)
    last = _sequence_number(info, "endSequenceNumber", name)
    if int(first) > int(last):
        raise FailureMessageError(
            f"{name}.startSequenceNumber {first!r} is after endSequenceNumber {last!r}."
        )
    batch_size = info.get("batchSize")
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise FailureMessageError(
            f"{name}.batchSize must be a whole number of at least 1, got {batch_size!r}."
        )
    # Lambda writes requestContext; EventBridge Pipes writes context.
    request = document.get("requestContext", document.get("context"))
    response = document.get("responseContext")
    request = {} if request is None else request
    response = {} if response is None else response
    if not isinstance(request, dict) or not isinstance(response, dict):
        raise FailureMessageError("requestContext and responseContext must be JSON objects.")
    invoke_count = request.get("approximateInvokeCount")
    if invoke_count is not None and (
        not isinstance(invoke_count, int) or isinstance(invoke_count, bool)
    ):
        raise FailureMessageError(
            f"requestContext.approximateInvokeCount must be a number, got {invoke_count!r}."
        )
    failure = FailureMessage(
        source=BATCH_INFO_FIELDS[name],
        stream_arn=stream_arn,
        shard_id=shard_id,
        first_sequence_number=first,
        last_sequence_number=last,
        batch_size=batch_size,
        condition=_optional_text(request, "condition"),
        invoke_count=invoke_count,
        function_arn=_optional_text(request, "functionArn"),
        function_error=_optional_text(response, "functionError"),
        timestamp=_time(document, "timestamp"),
        first_arrival=_time(info, "approximateArrivalOfFirstRecord"),
        last_arrival=_time(info, "approximateArrivalOfLastRecord"),
        records=None,
        truncated=False,
        envelopes=envelopes,
        document=document,
    )
    if "payload" not in document:
        return failure
    records = _payload_records(document["payload"], failure)
    truncated = records is None or len(records) < batch_size
    return failure._replace(records=records, truncated=truncated)  # type: ignore[no-any-return]


def _payload_records(payload: Any, failure: FailureMessage) -> tuple[dict[str, Any], ...] | None:
    """The records of the range in the S3 object's ``payload`` (the event, as JSON text)."""
    import json

    if payload is None or payload == "":
        return None  # dropped: the message is truncated
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except json.JSONDecodeError as error:
            raise FailureMessageError(f"payload is not the event as JSON: {error}.") from None
    records = payload.get("Records") if isinstance(payload, dict) else payload
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise FailureMessageError(
            f"payload must hold the event Lambda invoked the function with ({{'Records': "
            f"[...]}}), got {_short(payload)}."
        )
    # The event may hold records before the range (already checkpointed): leave them out,
    # or replaying would run them twice.
    return tuple(r for r in records if failure.covers(_record_sequence_number(r) or ""))


def _record_sequence_number(record: Mapping[str, Any]) -> str | None:
    for block in ("dynamodb", "kinesis"):
        inner = record.get(block)
        if isinstance(inner, dict):
            value = inner.get("SequenceNumber", inner.get("sequenceNumber"))
            return value if isinstance(value, str) else None
    value = record.get("sequenceNumber")  # EventBridge Pipes' flat Kinesis records
    return value if isinstance(value, str) else None


def _text(info: Mapping[str, Any], key: str, where: str) -> str:
    value = info.get(key)
    if not isinstance(value, str) or not value:
        raise FailureMessageError(f"{where}.{key} must be a non-empty string, got {value!r}.")
    return value


def _sequence_number(info: Mapping[str, Any], key: str, where: str) -> str:
    value = _text(info, key, where)
    if not value.isdigit():
        raise FailureMessageError(f"{where}.{key} must be a sequence number (digits): {value!r}.")
    return value


def _optional_text(document: Mapping[str, Any], key: str) -> str | None:
    value = document.get(key)
    return value if isinstance(value, str) else None


def _time(document: Mapping[str, Any], key: str) -> datetime | None:
    from datetime import datetime, timezone

    value = document.get(key)
    if value is None:
        return None
    try:
        # fromisoformat reads "Z" only from Python 3.11 on.
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise FailureMessageError(f"{key} is not an ISO 8601 time: {value!r}.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _keys(document: Mapping[str, Any]) -> str:
    names = sorted(map(str, document))
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f"the keys {shown}" if names else "no keys"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --- reading the stream --------------------------------------------------------------------


def read_records(
    failure: FailureMessage,
    *,
    client: Any = None,
    endpoint_url: str | None = None,
    region: str | None = None,
) -> list[dict[str, Any]]:
    """Fetch the records *failure* names from its stream, in Lambda's event shape.

    GetShardIterator at the first sequence number, then GetRecords page after page up to
    the last one, included. The records come in stream order, ready for
    ``app.process({"Records": records})``.

    Args:
        failure: what :func:`parse` returned.
        client: a boto3 ``dynamodbstreams`` client (``kinesis`` for a Kinesis source);
            default: one for *endpoint_url* and the stream's region.
        endpoint_url: e.g. ``http://127.0.0.1:5000`` for moto's server.
        region: default: the stream ARN's region.

    Raises:
        ReplayError: the stream no longer holds the records (older than its retention),
            the stream or shard is gone, an iterator expired twice, or a call failed.
    """
    if client is None:
        client = _client(failure, endpoint_url, region)
    return _RangeReader(failure, client).read()


def _client(failure: FailureMessage, endpoint_url: str | None, region: str | None) -> Any:
    try:
        import boto3
    except ImportError:
        raise ReplayError(
            "Reading the stream needs boto3, which is not installed: pip install 'ddbstream[aws]'."
        ) from None
    session = boto3.session.Session(region_name=region or failure.region)
    options: dict[str, Any] = {"region_name": session.region_name or "us-east-1"}
    if endpoint_url is not None:
        options["endpoint_url"] = endpoint_url
        if session.get_credentials() is None:
            # Local endpoints accept any credentials; don't make a developer invent some.
            options["aws_access_key_id"] = options["aws_secret_access_key"] = "local"
    service = "dynamodbstreams" if failure.source == "dynamodb" else "kinesis"
    return session.client(service, **options)


class _RangeReader:
    """Reads one shard from a sequence number to another, included, through GetRecords."""

    def __init__(self, failure: FailureMessage, client: Any) -> None:
        self.failure = failure
        self.client = client
        self.first = int(failure.first_sequence_number)
        self.last = int(failure.last_sequence_number)
        self.kinesis = failure.source == "kinesis"
        self.records: list[dict[str, Any]] = []
        self.seen: str | None = None  # the last sequence number read, to renew an iterator

    def read(self) -> list[dict[str, Any]]:
        iterator: str | None = self._iterator()
        empty = 0
        renewed = False
        while iterator is not None:
            try:
                page = self.client.get_records(ShardIterator=iterator, Limit=1000)
            except Exception as error:
                if _error_code(error) != "ExpiredIteratorException" or renewed:
                    raise self._failed("GetRecords", error) from None
                renewed = True  # iterators live 15 minutes: take a new one, once
                iterator = self._iterator()
                continue
            raws = page.get("Records", [])
            for raw in raws:
                if self._take(raw):
                    return self.records
            empty = 0 if raws else empty + 1
            if empty >= _MAX_EMPTY_PAGES:
                break
            iterator = page.get("NextShardIterator")
        raise self._ended()

    def _take(self, raw: Mapping[str, Any]) -> bool:
        """Keep *raw* if it is in the range; True once the last record has been read."""
        text = raw["SequenceNumber"] if self.kinesis else raw["dynamodb"]["SequenceNumber"]
        number = int(text)
        if not self.records and self.seen is None and number > self.first:
            raise self._trimmed(f"the first record it holds from there is {text}")
        self.seen = text
        if number > self.last:
            return True
        self.records.append(self._lambda_record(raw))
        return number == self.last

    def _lambda_record(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        arn = self.failure.stream_arn
        if not self.kinesis:
            from .tail import to_lambda_record

            return to_lambda_record(raw, arn)
        import base64

        arrival = raw.get("ApproximateArrivalTimestamp")
        return {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": raw.get("PartitionKey"),
                "sequenceNumber": raw["SequenceNumber"],
                "data": base64.b64encode(raw["Data"]).decode("ascii"),
                "approximateArrivalTimestamp": arrival.timestamp() if arrival else None,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{self.failure.shard_id}:{raw['SequenceNumber']}",
            "eventName": "aws:kinesis:record",
            "awsRegion": self.failure.region,
            "eventSourceARN": arn,
        }

    def _iterator(self) -> str:
        failure = self.failure
        kind, position = "AT_SEQUENCE_NUMBER", failure.first_sequence_number
        if self.seen is not None:
            kind, position = "AFTER_SEQUENCE_NUMBER", self.seen
        try:
            if self.kinesis:
                response = self.client.get_shard_iterator(
                    StreamName=failure.stream_arn.rpartition("/")[2],
                    ShardId=failure.shard_id,
                    ShardIteratorType=kind,
                    StartingSequenceNumber=position,
                )
            else:
                response = self.client.get_shard_iterator(
                    StreamArn=failure.stream_arn,
                    ShardId=failure.shard_id,
                    ShardIteratorType=kind,
                    SequenceNumber=position,
                )
        except Exception as error:
            raise self._failed("GetShardIterator", error) from None
        return str(response["ShardIterator"])

    def _failed(self, call: str, error: Exception) -> ReplayError:
        code = _error_code(error)
        failure = self.failure
        if code == "TrimmedDataAccessException":
            return self._trimmed("it answered TrimmedDataAccessException")
        if code == "ResourceNotFoundException":
            return ReplayError(
                f"The stream {failure.stream_arn} or its shard {failure.shard_id!r} does not "
                "exist at this endpoint (any more): a table's stream goes when the stream is "
                "turned off or the table deleted, and a closed shard when its records expire. "
                "The records of the message cannot be read; if the message came from S3, its "
                "payload holds them."
            )
        if code == "ExpiredIteratorException":
            return ReplayError(
                f"The shard iterator for shard {failure.shard_id!r} expired twice while reading "
                "the range (iterators live 15 minutes). Run the replay again."
            )
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        return ReplayError(
            f"{call} failed for shard {failure.shard_id!r} of {failure.stream_arn}: {text}. "
            "Check the endpoint, the region and your credentials."
        )

    def _trimmed(self, what: str) -> ReplayError:
        failure = self.failure
        return ReplayError(
            f"The stream no longer holds the records from sequence number "
            f"{failure.first_sequence_number} of shard {failure.shard_id!r}: {what}. DynamoDB "
            "Streams keeps records for 24 hours (Kinesis for its retention period), so this "
            "message can no longer be replayed from the stream. An S3 on-failure destination "
            "keeps the records in the message itself; park() keeps single records."
        )

    def _ended(self) -> ReplayError:
        failure = self.failure
        got = f"; the last record read is {self.seen}" if self.seen else ", and holds no record"
        return ReplayError(
            f"Shard {failure.shard_id!r} ends before sequence number "
            f"{failure.last_sequence_number}{got}. The message names records that this "
            "stream does not hold: is it the right endpoint and stream?"
        )


def _error_code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


# --- parking -------------------------------------------------------------------------------


def park(
    record: Record[Any], error: BaseException, sink: Sink | str, *, client: Any = None
) -> dict[str, Any]:
    """Send *record* and *error* aside, so that the ``on_error`` hook can return.

    Call it from an ``on_error`` hook: once it returns, the hook returns, the record counts
    as handled and the batch goes on, so one poison record does not hold up its shard until
    the retries or the stream's 24 hours run out. The message holds the raw record as the
    event delivered it, so ``ddbstream replay HANDLER MESSAGE`` runs it again once fixed.

    Args:
        record: the failed record (the hook's first argument).
        error: the exception (the hook's second argument).
        sink: an SQS queue URL, where the message is sent with boto3; or any object with
            ``send(record, payload)`` (and ``flush()``, called right after, if it has one).
        client: with a queue URL, the boto3 SQS client to use (default: a new one).

    Returns:
        The message sent (see :func:`park_message`).

    Raises:
        Exception: sending failed. The hook then raises it, and the record stays failed:
            it is retried rather than lost.
    """
    import json

    payload = park_message(record, error)
    try:
        if isinstance(sink, str):
            if client is None:
                import boto3

                client = boto3.client("sqs")
            client.send_message(QueueUrl=sink, MessageBody=json.dumps(payload))
        else:
            sink.send(record, payload)
            flush = getattr(sink, "flush", None)
            if callable(flush):
                flush()
    except Exception as failure:
        from ._batch import add_note

        where = describe_record(payload["eventID"], payload["sequenceNumber"])
        add_note(failure, f"ddbstream: could not park the record ({where}); it stays failed")
        raise
    return payload


def park_message(record: Record[Any], error: BaseException) -> dict[str, Any]:
    """The JSON-ready message :func:`park` sends for *record* and *error*.

    ``{"format": "ddbstream.parked/1", "record": <raw record>, "error": {"type", "message",
    "traceback"}, "eventID", "sequenceNumber", "eventSourceARN", "parkedAt"}``.
    """
    import traceback
    from datetime import datetime, timezone

    return {
        "format": PARKED,
        "record": dict(record.raw),
        "error": {
            "type": type(error).__name__,
            "message": str(error),
            "traceback": "".join(traceback.format_exception(error)),
        },
        "eventID": record.event_id,
        "sequenceNumber": record.sequence_number,
        "eventSourceARN": record.event_source_arn,
        "parkedAt": datetime.now(timezone.utc).isoformat(),
    }
