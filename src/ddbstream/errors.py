"""The exceptions ddbstream raises, all under :class:`DdbStreamError`.

```text
DdbStreamError                  base of everything ddbstream raises; never raised itself
├── SetupError                  a route, filter or option cannot be valid (at registration)
├── EventError                  the event is not a batch of stream records
├── RecordError                 one record is malformed or cannot be processed
│   ├── DecodeError             a DynamoDB JSON value cannot be decoded
│   ├── MissingImageError       an image the stream's view type does not carry
│   └── ModelError              a route's model= rejected an image
├── OutOfTimeError              too little time left to start the next record
├── LedgerError                 the record ledger (ddbstream.idempotency) cannot do its part
│   └── RecordInProgressError   another invocation is running the record's route
├── FailureMessageError         not an on-failure record of a stream (a ValueError too)
├── SinkError                   a sink (ddbstream.sinks) cannot take or deliver a message
└── RecordsFailed               raised by an on_batch handler: these of its records failed
```

Exceptions raised by your own handlers are never wrapped: they keep their type, and ddbstream
only adds a note naming the record they failed on.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "DdbStreamError",
    "DecodeError",
    "EventError",
    "FailureMessageError",
    "LedgerError",
    "MissingImageError",
    "ModelError",
    "OutOfTimeError",
    "RecordError",
    "RecordInProgressError",
    "RecordsFailed",
    "SetupError",
    "SinkError",
]


class DdbStreamError(Exception):
    """Base class of every exception ddbstream raises itself."""


class SetupError(DdbStreamError):
    """A route, filter or option cannot be valid; raised when it is registered."""


class EventError(DdbStreamError):
    """The event handed to ``app.handler`` is not a batch of stream records at all."""


class RecordError(DdbStreamError):
    """One record of the batch is malformed or cannot be processed.

    Attributes:
        event_id: the record's ``eventID``, when it has one.
        sequence_number: the record's sequence number, when it has one.
    """

    def __init__(
        self, message: str, *, event_id: str | None = None, sequence_number: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.event_id = event_id
        self.sequence_number = sequence_number

    def __str__(self) -> str:
        where = describe_record(self.event_id, self.sequence_number)
        return f"{self.message} ({where})" if where else self.message

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_record_error,
            (type(self), self.message, self.event_id, self.sequence_number),
            self.__dict__,  # notes, and attributes set after creation
        )


class DecodeError(RecordError):
    """A DynamoDB JSON value cannot be decoded.

    Attributes:
        path: where the value sits, as ``NewImage.address.zip`` or ``OldImage.items[2]``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str = "",
        event_id: str | None = None,
        sequence_number: str | None = None,
    ) -> None:
        self.path = path
        super().__init__(
            f"{path}: {message}" if path else message,
            event_id=event_id,
            sequence_number=sequence_number,
        )
        self.reason = message

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_decode_error,
            (self.reason, self.path, self.event_id, self.sequence_number),
            self.__dict__,  # notes, and attributes set after creation
        )


class MissingImageError(RecordError):
    """A route or ``record.diff`` needs an image that the stream's view type does not carry."""


class ModelError(RecordError):
    """A route's ``model=`` rejected an image of the record; the model's own error is the cause.

    Attributes:
        route: the name of the route whose model it is.
        model: the model's name (``Order``).
        image: ``NewImage``, ``OldImage`` or ``Keys``.
        path: where the rejected value sits, as ``NewImage.lines[0].qty`` (the image alone
            when the model does not say which field).
    """

    def __init__(
        self,
        message: str,
        *,
        route: str | None = None,
        model: str | None = None,
        image: str | None = None,
        path: str = "",
        event_id: str | None = None,
        sequence_number: str | None = None,
    ) -> None:
        super().__init__(message, event_id=event_id, sequence_number=sequence_number)
        self.route = route
        self.model = model
        self.image = image
        self.path = path


class OutOfTimeError(DdbStreamError):
    """The Lambda invocation had too little time left to start the next record.

    Raised only when ``report_batch_item_failures`` is off; with it on, the remaining records are
    reported as failures instead, so Lambda redelivers them.
    """


class LedgerError(DdbStreamError):
    """The record ledger could not read or write its DynamoDB table; the record fails.

    Lambda retries the record, and the route runs then (or is skipped, if it completed).

    Attributes:
        table_name: the ledger table.
        route: the stable name of the route the ledger was guarding.
        event_id: the record's ``eventID``, when it has one.
        sequence_number: the record's sequence number, when it has one.
    """

    def __init__(
        self,
        message: str,
        *,
        table_name: str | None = None,
        route: str | None = None,
        event_id: str | None = None,
        sequence_number: str | None = None,
    ) -> None:
        super().__init__(message)
        self.table_name = table_name
        self.route = route
        self.event_id = event_id
        self.sequence_number = sequence_number


class RecordInProgressError(LedgerError):
    """Another invocation holds an unexpired claim on the record for this route.

    The record fails so that Lambda retries it later: by then the other invocation has
    completed it (the retry skips the route) or its claim has expired (the retry takes over).
    """


class FailureMessageError(DdbStreamError, ValueError):
    """A message handed to :func:`ddbstream.failures.parse` is not an on-failure record of a
    DynamoDB or Kinesis stream, nor an SQS, SNS or S3 wrapping of one."""


class SinkError(DdbStreamError):
    """A sink (:mod:`ddbstream.sinks`) cannot take a message, or could not deliver it.

    Raised by ``send()`` for a message that can never be sent (too large, a missing option);
    ``flush()`` returns one, unraised, for the earliest record whose message the service still
    refused after the retries.

    Attributes:
        message: the message without the record's name.
        code: the AWS error code (``ThrottlingException``, ``InternalFailure``...) when the
            service gave one.
        event_id: the ``eventID`` of the record the message was sent for, when it has one.
        sequence_number: that record's sequence number, when it has one.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        event_id: str | None = None,
        sequence_number: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.event_id = event_id
        self.sequence_number = sequence_number

    def __str__(self) -> str:
        where = describe_record(self.event_id, self.sequence_number)
        return f"{self.message} ({where})" if where else self.message

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_sink_error,
            (self.message, self.code, self.event_id, self.sequence_number),
            self.__dict__,  # notes, and attributes set after creation
        )


def describe_record(event_id: str | None, sequence_number: str | None) -> str:
    """Name a record the way every message does: ``eventID 'x', SequenceNumber '1'``."""
    parts = []
    if event_id is not None:
        parts.append(f"eventID {event_id!r}")
    if sequence_number is not None:
        parts.append(f"SequenceNumber {sequence_number!r}")
    return ", ".join(parts)


class RecordsFailed(DdbStreamError):
    """Raise it from an ``on_batch`` handler to say which of its records failed.

    The earliest of *records* (in stream order) becomes the failure point: the records
    before it are done, it and every record after it are retried. A batch handler that
    raises any other exception fails at its first record.

    Args:
        records: the records that failed (those the handler was given).
        message: what went wrong; by default, how many records failed.

    Attributes:
        records: the records, as given.
    """

    def __init__(self, records: Iterable[object], message: str | None = None) -> None:
        self.records = list(records)
        if not self.records:
            raise ValueError(
                "RecordsFailed needs at least one record: the earliest is where Lambda retries"
            )
        super().__init__(message or f"{len(self.records)} record(s) of the batch failed")

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.records, str(self)), self.__dict__)


def _rebuild_record_error(
    cls: type[RecordError], message: str, event_id: str | None, sequence_number: str | None
) -> RecordError:
    return cls(message, event_id=event_id, sequence_number=sequence_number)


def _rebuild_decode_error(
    reason: str, path: str, event_id: str | None, sequence_number: str | None
) -> DecodeError:
    return DecodeError(reason, path=path, event_id=event_id, sequence_number=sequence_number)


def _rebuild_sink_error(
    message: str, code: str | None, event_id: str | None, sequence_number: str | None
) -> SinkError:
    return SinkError(message, code=code, event_id=event_id, sequence_number=sequence_number)
