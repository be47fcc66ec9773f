"""Publish changes to EventBridge, SQS and SNS: buffered, in stream order, in few requests.

Handlers call ``sink.send(record, payload)``; nothing is sent then. ``sink.flush()`` sends what
is buffered, in the order of the records, in as few requests as each API's limits allow, and
retries the entries the service refuses. What still fails is reported by the
:class:`FlushResult`: the earliest record with a message not delivered is the failure point;
records before it are done.

```python
from ddbstream import sinks

events = sinks.EventBridge(source="orders", detail_type="OrderChanged")

@app.on_modify(changed="status")
def publish(record):
    events.send(record, {"orderId": record.keys["pk"], "status": record.new["status"]})
```

Payloads are encoded by :func:`to_json` (exact numbers, sets, bytes). boto3 is imported when a
sink first sends, unless a ``client=`` was given; ``import ddbstream`` never imports it.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ._encoding import to_json
from ._scope import SINKS
from .errors import SinkError

if TYPE_CHECKING:
    from datetime import datetime

    from ._record import Record

__all__ = ["SNS", "SQS", "EventBridge", "FlushResult", "Sink", "to_json"]

ENTRIES_PER_REQUEST = 10
"""The most entries PutEvents, SendMessageBatch and PublishBatch take in one request."""
EVENTBRIDGE_REQUEST_BYTES = 262_143
"""PutEvents: the entries' total size "must be less than 256KB" (EventBridge User Guide)."""
SQS_REQUEST_BYTES = 1_048_576
"""SendMessageBatch: 1 MiB for a message and for the batch's total (raised from 256 KiB, 2025)."""
SNS_REQUEST_BYTES = 262_144
"""PublishBatch: 256 KiB for a message and for the batch's aggregate size."""

# Whole-call errors that say "later", not "never" (plus any 5xx status).
_THROTTLING = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "KMSThrottlingException",
        "AWS.SimpleQueueService.RequestThrottled",
    }
)
# PutEvents entry errors that no retry mends (SQS and SNS mark theirs with SenderFault).
_EVENTBRIDGE_PERMANENT = frozenset(
    {
        "AccessDeniedException",
        "InvalidArgument",
        "MalformedDetail",
        "NotAuthorizedForDetailTypeException",
        "NotAuthorizedForSourceException",
        "ValidationException",
    }
)
_TOKEN_LENGTH = 128  # MessageGroupId and MessageDeduplicationId: 128 printable ASCII characters


class FlushResult:
    """What one ``flush()`` delivered, and where it stopped.

    Attributes:
        sent: the messages the service accepted.
        unsent: the messages not delivered: refused after the retries, or not tried because an
            earlier request failed (sending them would only send them twice, as their records
            run again).
        requests: the API calls made, retries included.
        failed_record: the earliest record (in the order flushed) with a message not delivered,
            or ``None`` when every message was. It and every record after it should run again;
            the records before it are done.
        error: why that record's message was not delivered (its ``code`` is AWS's error code),
            or ``None``.
    """

    __slots__ = ("error", "failed_record", "requests", "sent", "unsent")

    def __init__(
        self,
        *,
        sent: int = 0,
        unsent: int = 0,
        requests: int = 0,
        failed_record: Record[Any] | None = None,
        error: SinkError | None = None,
    ) -> None:
        self.sent = sent
        self.unsent = unsent
        self.requests = requests
        self.failed_record = failed_record
        self.error = error

    @property
    def ok(self) -> bool:
        """Whether every message buffered was delivered."""
        return self.failed_record is None

    def __repr__(self) -> str:
        return (
            f"FlushResult(sent={self.sent}, unsent={self.unsent}, requests={self.requests}, "
            f"failed_record={self.failed_record!r}, error={self.error!r})"
        )


class _Message:
    """One buffered entry: the record it is for, the API's entry, its size as the API counts."""

    __slots__ = ("entry", "record", "size")

    def __init__(self, record: Record[Any], entry: dict[str, Any], size: int) -> None:
        self.record = record
        self.entry = entry
        self.size = size


class Sink:
    """What the three sinks share: the buffer, ``flush()``, chunking and retries.

    Args:
        client: A boto3 client for the service; by default one is made (and boto3 imported)
            when the sink first sends.
        max_request_bytes: The most bytes one request (and so one message) may hold, as the API
            counts them. Lower it for a queue whose ``MaximumMessageSize`` is lower.
        attempts: How many times a request is made for a message, retries included.
        base_delay: Seconds before the first retry; each retry doubles it, up to *max_delay*,
            and waits a random part of it ("full jitter"), so that retrying functions spread out.
        max_delay: The longest wait before a retry, in seconds.
        sleep: Waits between retries (``time.sleep``); tests pass a recorder.
        clock: The clock ``flush(deadline=...)`` is read on (``time.monotonic``).
    """

    _service = ""
    _limit = 0

    def __init__(
        self,
        *,
        client: Any = None,
        max_request_bytes: int | None = None,
        attempts: int = 4,
        base_delay: float = 0.1,
        max_delay: float = 2.0,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if attempts < 1:
            raise ValueError(f"attempts={attempts!r} must be at least 1.")
        limit = self._limit if max_request_bytes is None else max_request_bytes
        if not 0 < limit <= self._limit:
            raise ValueError(
                f"max_request_bytes={max_request_bytes!r} must be between 1 and {self._limit}, "
                f"the most {type(self).__name__} takes."
            )
        self._client = client
        self.max_request_bytes = limit
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._sleep = sleep
        self._clock = clock
        self._random = random.Random()
        self._buffer: list[_Message] = []
        self._sent_for: dict[str, int] = {}  # messages per eventID: the deduplication suffix

    @property
    def client(self) -> Any:
        """The boto3 client the sink sends with (made on first use unless given)."""
        if self._client is None:
            import boto3  # here, not at import: boto3 costs a cold start that not all pay

            self._client = boto3.client(self._service)
        return self._client

    @property
    def pending(self) -> int:
        """How many messages are buffered, waiting for ``flush()``."""
        return len(self._buffer)

    def buffered(self) -> list[Record[Any]]:
        """The records with messages waiting for ``flush()``, in the order of their first send."""
        seen: dict[int, Record[Any]] = {}
        for message in self._buffer:
            seen.setdefault(id(message.record), message.record)
        return list(seen.values())

    def discard(self, *records: Record[Any]) -> int:
        """Drop the buffered messages of *records* (records that will run again); return how many.

        Args:
            *records: The records whose messages are not to be sent.
        """
        dropped = {id(record) for record in records}
        kept = [message for message in self._buffer if id(message.record) not in dropped]
        count = len(self._buffer) - len(kept)
        self._buffer = kept
        return count

    def flush(
        self, order: Sequence[Record[Any]] | None = None, *, deadline: float | None = None
    ) -> FlushResult:
        """Send every buffered message, in the order of their records; empty the buffer.

        Messages go in requests of up to 10 entries and ``max_request_bytes``, in order. The
        entries a request refuses are retried (with backoff) in a request of their own, and
        so is a whole request the service throttled or failed on its side. When a message still
        fails after ``attempts`` requests, or is refused for good (a sender fault), the flush
        stops: later requests are not made. The result names the earliest record with a message
        not delivered.

        Args:
            order: The records in stream order. Messages are sent in the order of their records
                in it (a record's own messages in the order they were sent); messages of records
                not in it go last, in the order ``send()`` was called. By default, the order of
                the ``send()`` calls.
            deadline: A time on the sink's ``clock`` after which no retry is waited for (so that
                a flush before Lambda's timeout ends in time); what is not sent by then fails.

        Returns:
            The counts, and the failure point when a message was not delivered.
        """
        messages = self._buffer
        self._buffer = []
        self._sent_for.clear()
        if order is not None:
            position = {id(record): index for index, record in enumerate(order)}
            last = len(position)
            # A stable sort: a record's messages, and those of unlisted records, keep their order.
            messages.sort(key=lambda message: position.get(id(message.record), last))
        result = FlushResult()
        start = 0
        for chunk in self._chunks(messages):
            failed = self._deliver(chunk, result, deadline)
            start += len(chunk)
            if failed is not None:
                result.unsent += len(messages) - start
                break
        return result

    def _chunks(self, messages: list[_Message]) -> Iterable[list[_Message]]:
        """Consecutive runs of *messages* that fit one request."""
        chunk: list[_Message] = []
        size = 0
        for message in messages:
            if chunk and (
                len(chunk) == ENTRIES_PER_REQUEST or size + message.size > self.max_request_bytes
            ):
                yield chunk
                chunk, size = [], 0
            chunk.append(message)
            size += message.size
        if chunk:
            yield chunk

    def _deliver(
        self, chunk: list[_Message], result: FlushResult, deadline: float | None
    ) -> _Message | None:
        """Send *chunk*, retrying what may succeed later; return its first undelivered message."""
        todo = chunk
        attempt = 1
        stuck: tuple[_Message, str, str] | None = None  # the earliest refused for good
        while True:
            result.requests += 1
            try:
                refused = self._put([message.entry for message in todo])
            except Exception as error:
                code, text, retryable = _call_error(error)
                refused = [(index, code, text, retryable) for index in range(len(todo))]
            result.sent += len(todo) - len(refused)
            refused.sort()
            retry: list[tuple[_Message, str, str]] = []
            for index, code, text, retryable in refused:
                if not retryable:
                    stuck = (todo[index], code, text)
                    break  # retrying what follows cannot move the failure point
                retry.append((todo[index], code, text))
            if retry and attempt < self.attempts:
                delay = self._delay(attempt)
                if deadline is None or self._clock() + delay <= deadline:
                    result.unsent += len(refused) - len(retry)
                    self._sleep(delay)
                    todo = [message for message, _, _ in retry]
                    attempt += 1
                    continue
            result.unsent += len(refused)
            culprit = retry[0] if retry else stuck
            if culprit is None:
                return None
            first, code, text = culprit
            result.failed_record = first.record
            result.error = SinkError(
                f"{self!r} could not deliver a message ({attempt} "
                f"request{'s' if attempt > 1 else ''} made): {code}: {text}",
                code=code,
                event_id=first.record.event_id,
                sequence_number=first.record.sequence_number,
            )
            return first

    def _delay(self, attempt: int) -> float:
        """Full jitter: a random wait up to the doubled delay (AWS's backoff advice)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return self._random.uniform(0, ceiling)

    if TYPE_CHECKING:

        def _put(self, entries: list[dict[str, Any]]) -> list[tuple[int, str, str, bool]]:
            """Make the request; return the refused entries as (index, code, message, retry)."""

    def _add(self, record: Record[Any], entry: dict[str, Any], size: int) -> None:
        if size > self.max_request_bytes:
            raise SinkError(
                f"The message for {self!r} is {size} bytes, more than the {self.max_request_bytes} "
                "one request takes. Send less (a reference to the item, say) or split it.",
                event_id=record.event_id,
                sequence_number=record.sequence_number,
            )
        self._buffer.append(_Message(record, entry, size))
        used = SINKS.get()
        if used is not None and not any(sink is self for sink in used):
            used.append(self)  # the app flushes it when the invocation ends

    def _fifo_ids(
        self, record: Record[Any], group_id: str | None, deduplication_id: str | None
    ) -> tuple[str, str]:
        """MessageGroupId from the item's key, MessageDeduplicationId from the eventID."""
        if group_id is None:
            group_id = to_json(dict(sorted(record.keys.items())))
        if deduplication_id is None:
            event_id = record.event_id
            if event_id is None:
                raise SinkError(
                    f"{self!r} is FIFO and the record has no eventID to deduplicate by. "
                    "Pass deduplication_id= to send().",
                    sequence_number=record.sequence_number,
                )
            # A record's second message must not be taken for a repeat of its first.
            count = self._sent_for.get(event_id, 0)
            self._sent_for[event_id] = count + 1
            deduplication_id = event_id if count == 0 else f"{event_id}:{count}"
        return _token(group_id), _token(deduplication_id)


class EventBridge(Sink):
    """Put events on an EventBridge bus (``PutEvents``), one event per ``send()``.

    Args:
        source: The events' ``Source`` (``send()`` may override it).
        detail_type: The events' ``DetailType`` (``send()`` may give or override it).
        bus_name: The bus's name or ARN; by default the account's default bus.
        client: A boto3 ``events`` client; see :class:`Sink` for this and the other options.
        **options: ``max_request_bytes``, ``attempts``, ``base_delay``, ``max_delay``,
            ``sleep``, ``clock``, as for :class:`Sink`.

    Sizes are counted as EventBridge documents it: the UTF-8 bytes of ``Source``,
    ``DetailType``, ``Detail`` and each resource, plus 14 bytes when ``Time`` is set.
    """

    _service = "events"
    _limit = EVENTBRIDGE_REQUEST_BYTES

    def __init__(
        self,
        *,
        source: str | None = None,
        detail_type: str | None = None,
        bus_name: str | None = None,
        client: Any = None,
        **options: Any,
    ) -> None:
        super().__init__(client=client, **options)
        self.source = source
        self.detail_type = detail_type
        self.bus_name = bus_name

    def send(
        self,
        record: Record[Any],
        detail: Mapping[str, Any] | str,
        *,
        detail_type: str | None = None,
        source: str | None = None,
        resources: Sequence[str] = (),
        time: datetime | None = None,
        bus_name: str | None = None,
    ) -> None:
        """Buffer an event for *record*; ``flush()`` puts it.

        Args:
            record: The record the event is about: its place in the stream orders the events,
                and a failure to put it makes it the failure point.
            detail: The event's ``Detail``: a mapping, encoded by :func:`to_json`, or JSON text
                of an object, sent as it is.
            detail_type: The ``DetailType``, when the sink has none or this one differs.
            source: The ``Source``, when the sink has none or this one differs.
            resources: ARNs the event is about (``Resources``).
            time: The event's ``Time``; by default, when EventBridge receives it.
            bus_name: The bus, when not the sink's.

        Raises:
            SinkError: The event has no source or detail type, or is larger than a request.
            TypeError: *detail* holds a value :func:`to_json` cannot encode.
        """
        source = source or self.source
        detail_type = detail_type or self.detail_type
        if not source or not detail_type:
            missing = "source" if not source else "detail_type"
            raise SinkError(
                f"{self!r} has no {missing} for this event. Pass {missing}= to EventBridge() "
                "or to send().",
                event_id=record.event_id,
                sequence_number=record.sequence_number,
            )
        text = detail if isinstance(detail, str) else to_json(_object(detail))
        entry: dict[str, Any] = {"Source": source, "DetailType": detail_type, "Detail": text}
        size = _utf8(source) + _utf8(detail_type) + _utf8(text)
        if resources:
            entry["Resources"] = list(resources)
            size += sum(_utf8(resource) for resource in resources)
        if time is not None:
            entry["Time"] = time
            size += 14
        bus_name = bus_name or self.bus_name
        if bus_name:
            entry["EventBusName"] = bus_name
        self._add(record, entry, size)

    def _put(self, entries: list[dict[str, Any]]) -> list[tuple[int, str, str, bool]]:
        response = self.client.put_events(Entries=entries)
        if not response.get("FailedEntryCount"):
            return []
        return [
            (
                index,
                result["ErrorCode"],
                result.get("ErrorMessage", ""),
                result["ErrorCode"] not in _EVENTBRIDGE_PERMANENT,
            )
            for index, result in enumerate(response["Entries"])
            if result.get("ErrorCode")
        ]

    def __repr__(self) -> str:
        return f"EventBridge(source={self.source!r}, bus_name={self.bus_name!r})"


class SQS(Sink):
    """Send messages to an SQS queue (``SendMessageBatch``), standard or FIFO.

    A queue whose URL ends in ``.fifo`` gets each message's ``MessageGroupId`` from its
    record's key (so changes to one item stay in order) and its ``MessageDeduplicationId`` from
    the record's ``eventID`` (so a record sent again within SQS's five-minute window is not
    delivered twice); a record's second message gets ``eventID:1``, and so on. Ids longer than
    128 characters, or with characters SQS refuses, are replaced by their SHA-256.

    Args:
        queue_url: The queue's URL.
        client: A boto3 ``sqs`` client; see :class:`Sink` for this and the other options.
        **options: ``max_request_bytes``, ``attempts``, ``base_delay``, ``max_delay``,
            ``sleep``, ``clock``, as for :class:`Sink`.
    """

    _service = "sqs"
    _limit = SQS_REQUEST_BYTES

    def __init__(self, queue_url: str, *, client: Any = None, **options: Any) -> None:
        super().__init__(client=client, **options)
        self.queue_url = queue_url
        self.fifo = queue_url.endswith(".fifo")

    def send(
        self,
        record: Record[Any],
        payload: Any,
        *,
        attributes: Mapping[str, Any] | None = None,
        delay_seconds: int | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
    ) -> None:
        """Buffer a message for *record*; ``flush()`` sends it.

        Args:
            record: The record the message is about.
            payload: The body: text as it is, anything else encoded by :func:`to_json`.
            attributes: Message attributes: ``str``, numbers (``int``, ``Decimal``), ``bytes``,
                or dicts in SQS's own shape (``{"DataType": ..., "StringValue": ...}``).
            delay_seconds: Seconds before the message can be received (standard queues).
            group_id: The ``MessageGroupId`` (FIFO), instead of the record's key.
            deduplication_id: The ``MessageDeduplicationId`` (FIFO), instead of the eventID.

        Raises:
            SinkError: The message is larger than a request, or its options do not fit the queue.
            TypeError: *payload* or an attribute holds a value that cannot be encoded.
        """
        body = payload if isinstance(payload, str) else to_json(payload)
        entry: dict[str, Any] = {"MessageBody": body}
        size = _utf8(body)
        if attributes:
            entry["MessageAttributes"], extra = _attributes(attributes)
            size += extra
        if delay_seconds is not None:
            if self.fifo:
                raise SinkError(
                    f"{self!r} is a FIFO queue, which takes no delay per message. "
                    "Set the queue's DelaySeconds instead.",
                    event_id=record.event_id,
                    sequence_number=record.sequence_number,
                )
            entry["DelaySeconds"] = delay_seconds
        if self.fifo:
            entry["MessageGroupId"], entry["MessageDeduplicationId"] = self._fifo_ids(
                record, group_id, deduplication_id
            )
        self._add(record, entry, size)

    def _put(self, entries: list[dict[str, Any]]) -> list[tuple[int, str, str, bool]]:
        numbered = [{"Id": str(index), **entry} for index, entry in enumerate(entries)]
        response = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=numbered)
        return _batch_failures(response)

    def __repr__(self) -> str:
        return f"SQS(queue_url={self.queue_url!r})"


class SNS(Sink):
    """Publish messages to an SNS topic (``PublishBatch``), standard or FIFO.

    A topic whose ARN ends in ``.fifo`` gets ``MessageGroupId`` and ``MessageDeduplicationId``
    as :class:`SQS` gives them.

    Args:
        topic_arn: The topic's ARN.
        client: A boto3 ``sns`` client; see :class:`Sink` for this and the other options.
        **options: ``max_request_bytes``, ``attempts``, ``base_delay``, ``max_delay``,
            ``sleep``, ``clock``, as for :class:`Sink`.
    """

    _service = "sns"
    _limit = SNS_REQUEST_BYTES

    def __init__(self, topic_arn: str, *, client: Any = None, **options: Any) -> None:
        super().__init__(client=client, **options)
        self.topic_arn = topic_arn
        self.fifo = topic_arn.endswith(".fifo")

    def send(
        self,
        record: Record[Any],
        payload: Any,
        *,
        subject: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
    ) -> None:
        """Buffer a message for *record*; ``flush()`` publishes it.

        Args:
            record: The record the message is about.
            payload: The message: text as it is, anything else encoded by :func:`to_json`.
            subject: The ``Subject`` (for email subscriptions).
            attributes: Message attributes, as for :meth:`SQS.send`.
            group_id: The ``MessageGroupId`` (FIFO), instead of the record's key.
            deduplication_id: The ``MessageDeduplicationId`` (FIFO), instead of the eventID.

        Raises:
            SinkError: The message is larger than a request.
            TypeError: *payload* or an attribute holds a value that cannot be encoded.
        """
        message = payload if isinstance(payload, str) else to_json(payload)
        entry: dict[str, Any] = {"Message": message}
        size = _utf8(message)
        if subject is not None:
            entry["Subject"] = subject
            size += _utf8(subject)  # not documented as counted; counted to be safe
        if attributes:
            entry["MessageAttributes"], extra = _attributes(attributes)
            size += extra
        if self.fifo:
            entry["MessageGroupId"], entry["MessageDeduplicationId"] = self._fifo_ids(
                record, group_id, deduplication_id
            )
        self._add(record, entry, size)

    def _put(self, entries: list[dict[str, Any]]) -> list[tuple[int, str, str, bool]]:
        numbered = [{"Id": str(index), **entry} for index, entry in enumerate(entries)]
        response = self.client.publish_batch(
            TopicArn=self.topic_arn, PublishBatchRequestEntries=numbered
        )
        return _batch_failures(response)

    def __repr__(self) -> str:
        return f"SNS(topic_arn={self.topic_arn!r})"


# --- helpers ---------------------------------------------------------------------------------


def _utf8(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _object(detail: Any) -> Mapping[str, Any]:
    if not isinstance(detail, Mapping):
        raise TypeError(
            f"An event's detail must be a mapping (EventBridge takes JSON objects only), "
            f"not a {type(detail).__qualname__}."
        )
    return detail


def _token(text: str) -> str:
    """*text* if SQS takes it as a group or deduplication id, else its SHA-256 in hex."""
    if 0 < len(text) <= _TOKEN_LENGTH and text.isascii() and text.isprintable() and " " not in text:
        return text
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _attributes(attributes: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """Message attributes in the API's shape, and the bytes they add to the message."""
    shaped: dict[str, Any] = {}
    size = 0
    for name, value in attributes.items():
        if isinstance(value, Mapping):
            attribute = dict(value)
        elif isinstance(value, str):
            attribute = {"DataType": "String", "StringValue": value}
        elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            attribute = {"DataType": "Number", "StringValue": str(value)}
        elif isinstance(value, (bytes, bytearray)):
            attribute = {"DataType": "Binary", "BinaryValue": bytes(value)}
        else:
            raise TypeError(
                f"Cannot send the message attribute {name!r}: a {type(value).__qualname__}. "
                'Pass str, int, Decimal, bytes, or a dict such as {"DataType": "String", '
                '"StringValue": "x"}.'
            )
        shaped[name] = attribute
        # Name, type and value all count toward the message's size.
        size += _utf8(name) + _utf8(str(attribute.get("DataType", "")))
        if "BinaryValue" in attribute:
            size += len(attribute["BinaryValue"])
        else:
            size += _utf8(str(attribute.get("StringValue", "")))
    return shaped, size


def _batch_failures(response: Mapping[str, Any]) -> list[tuple[int, str, str, bool]]:
    """The ``Failed`` entries of a SendMessageBatch or PublishBatch response."""
    return [
        (
            int(failure["Id"]),
            failure["Code"],
            failure.get("Message", ""),
            not failure["SenderFault"],
        )
        for failure in response.get("Failed", ())
    ]


def _call_error(error: Exception) -> tuple[str, str, bool]:
    """The code, message and retryability of a failed call; other exceptions propagate."""
    response = getattr(error, "response", None)
    if isinstance(response, Mapping) and isinstance(response.get("Error"), Mapping):
        # botocore's ClientError: the service answered with an error
        code = str(response["Error"].get("Code", ""))
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        retry = code in _THROTTLING or status >= 500
        return code, str(response["Error"].get("Message", "")), retry
    try:
        from botocore.exceptions import BotoCoreError, ConnectionError, HTTPClientError
    except ImportError:  # pragma: no cover - a client given without botocore installed
        raise error from None
    if not isinstance(error, BotoCoreError):
        raise error
    # No answer (connection refused, timed out) may work later; a malformed request never does.
    retry = isinstance(error, (ConnectionError, HTTPClientError))
    return type(error).__name__, str(error), retry
