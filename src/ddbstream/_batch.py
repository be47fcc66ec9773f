"""The batch loop: records in order, one at a time, stopping at the first failure.

Why stop: Lambda retries a stream batch from the first failed record onwards (with
ReportBatchItemFailures) or as a whole (without). Records after a failure will be delivered
again either way, so running them now would run them twice.
"""

from __future__ import annotations

from ._record import BLANK_RECORD_CLASS, UNSET, make_record
from .errors import OutOfTimeError, RecordError, describe_record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ._codec import Decoder
    from ._record import Record
    from ._routing import Dispatch
    from ._sources import Batch
    from .types import BatchItemFailure, LambdaContext

__all__ = [
    "Outcome",
    "add_note",
    "cancelled",
    "clock",
    "describe",
    "log_raised",
    "log_reported",
    "note_failure",
    "out_of_time",
    "run_awaitable",
    "run_batch",
    "snapshot",
    "tasks_left_running",
]


class Outcome:
    """What happened to a batch: how many records ran, and which failed or were not started.

    Attributes:
        failures: the ``batchItemFailures`` list to return to Lambda.
        processed: how many records completed (successfully, or handled by an error hook).
        error: the exception the first failed record raised, if one did.
        failed_record: the Record of that failure; None when there was none, or when the
            record could not even be read.
        records: with tracing on (``App.process``), the records started, in order.
        ran: with tracing on, ``(record, route name)`` for every handler started, in order.
        duplicates: how many route calls the ledger skipped, their record having run them
            before (``idempotent=`` routes).
        stop: the index of the first record not done (the failure point), or the batch's
            size when every record was.
    """

    __slots__ = (
        "_routes_by_record",
        "duplicates",
        "error",
        "failed_record",
        "failures",
        "processed",
        "ran",
        "records",
        "stop",
    )

    def __init__(
        self,
        processed: int,
        failures: list[BatchItemFailure],
        error: BaseException | None,
        failed_record: Record | None = None,
        stop: int | None = None,
    ) -> None:
        self.processed = processed
        self.stop = processed if stop is None else stop
        self.failures = failures
        self.error = error
        self.failed_record = failed_record
        self.records: list[Record] = []
        self.ran: list[tuple[Record, str]] = []
        self.duplicates = 0
        self._routes_by_record: dict[int, list[str]] | None = None

    def routes_run(self, record: Record) -> list[str]:
        """The names of the routes that ran for *record* (with tracing on), in order."""
        if self._routes_by_record is None:
            self._routes_by_record = {}
            for ran, name in self.ran:
                self._routes_by_record.setdefault(id(ran), []).append(name)
        return list(self._routes_by_record.get(id(record), ()))

    def __repr__(self) -> str:
        return (
            f"Outcome(processed={self.processed}, failures={self.failures!r}, error={self.error!r})"
        )


def run_batch(
    batch: Batch,
    decoder: Decoder,
    dispatch: Dispatch,
    *,
    report_failures: bool,
    raise_failures: bool,
    context: LambdaContext | None,
    min_remaining_ms: int,
) -> Outcome:
    """Run every record of *batch* through *dispatch*, in order; stop at the first failure.

    The failed record (or, when time runs short, every record not started) is returned as a
    batch item failure; with *raise_failures* the failure is raised instead, so that Lambda
    retries the whole batch. *report_failures* says that Lambda is told of failures by
    their identifiers, which must then all be there before any record runs.

    Raises:
        RecordError: with *report_failures*, a record has no identifier (checked for all
            records before any runs).
        Exception: the first failure, with *raise_failures*.
    """
    if report_failures:
        batch.read_identifiers()
    raws = batch.records
    source = batch.source
    record_of = source.record
    streams = source.records_are_changes
    plan = dispatch.plan
    # Every record is made as one class and then given its own (the classes share one
    # layout): the interpreter caches slot stores per class, so stores on records of three
    # classes at one place would miss every time, which costs more than the assignment.
    blank = BLANK_RECORD_CLASS
    select = dispatch.select
    on_failure = dispatch.on_failure
    remaining_ms = clock(context)
    # With failures reported, a tumbling window's state must be returned as it was after the
    # last record that completed: the failed record comes again, and must not count twice.
    window = batch.window if report_failures else None
    saved = None
    # One loop, no call per record beyond making it and running its handlers: this is the
    # hot path. _concurrency's _process is its async twin; keep the two alike.
    for index, raw in enumerate(raws):
        # Never before the first record: an invocation that cannot start one would be
        # retried the same way forever, until the records expire.
        if index and remaining_ms is not None and remaining_ms() < min_remaining_ms:
            if raise_failures:
                raise out_of_time(min_remaining_ms, index, len(raws), batch.identifier_at(index))
            return Outcome(index, batch.failures(index), None)
        record = None
        if window is not None:
            saved = snapshot(window.state)
        try:
            # make_record(raw, decoder), written out for stream records: its call and checks
            # are a tenth of what a small record costs. A record that is not a dict with a
            # known eventName and a dynamodb object goes to make_record, which says why.
            if streams:
                try:
                    event_name = raw["eventName"]
                    record_class, handlers = plan[event_name]
                    dynamodb = raw["dynamodb"]
                except (KeyError, TypeError):
                    dynamodb = None
                if dynamodb.__class__ is dict:
                    record = blank()
                    record.raw = record.change = raw
                    record._decoder = decoder
                    record._keys = record._new = record._old = UNSET
                    record.dynamodb = dynamodb
                    record.event_name = event_name
                    record._sequence_number = None
                    if record_class is not blank:
                        record.__class__ = record_class
                else:
                    record = make_record(raw, decoder)
                    handlers = plan[record.event_name][1]
            else:
                record = record_of(raw, decoder)
                handlers = plan[record.event_name][1]
            if handlers is None:
                handlers = select(record)
            for handler in handlers:
                try:
                    result = handler(record)
                    if result is not None and hasattr(result, "__await__"):
                        # An async handler that did not look async (a sync wrapper, say).
                        run_awaitable(result)
                except Exception as error:
                    on_failure(record, error)
        except Exception as error:
            identifier = batch.identifier_at(index)
            note_failure(error, raw, identifier, index, len(raws))
            if raise_failures:
                raise
            if window is not None:
                window.state = saved  # type: ignore[assignment]  # set before the record ran
            return Outcome(index, [{"itemIdentifier": identifier or ""}], error, record)
    return Outcome(len(raws), [], None)


def snapshot(state: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a window's *state*, to put back if the record about to run fails."""
    import copy  # only for tumbling windows with failures reported

    return copy.deepcopy(state)


def run_awaitable(awaitable: Any) -> None:
    """Run *awaitable* to completion from synchronous code.

    Raises:
        RecordError: it was cancelled from inside, or left tasks running (see
            :func:`cancelled` and :func:`tasks_left_running`).
    """
    import asyncio  # only for async handlers: asyncio costs a cold start

    asyncio.run(_wait_for(awaitable))


async def _wait_for(awaitable: Any) -> None:
    import asyncio

    try:
        await awaitable
    except asyncio.CancelledError as error:
        raise cancelled(error) from error
    # asyncio.run would cancel what is left without a word, and the record would count as done.
    current = asyncio.current_task()
    left = [task for task in asyncio.all_tasks() if task is not current]
    if left:
        raise tasks_left_running(left)


def cancelled(error: BaseException) -> RecordError:
    """The failure of a record whose handler raised ``asyncio.CancelledError`` itself.

    Nothing outside the record cancelled it (the invocation's own cancellation is let
    through), so it is one record's failure like any other, not the end of the invocation.
    """
    detail = f": {error}" if str(error) else ""
    return RecordError(
        f"a handler was cancelled (asyncio.CancelledError{detail}) while ddbstream was not "
        "cancelling it; the record counts as failed. Catch the cancellation inside the "
        "handler if the work it cut short may be given up."
    )


def tasks_left_running(tasks: list[Any]) -> RecordError:
    """The failure of a record whose handlers returned while tasks they started still ran.

    They are cancelled: their work would be lost without a trace when the batch's event loop
    closes, and the record would count as done.
    """
    for task in tasks:
        task.cancel()
    names = ", ".join(sorted(_task_name(task) for task in tasks))
    return RecordError(
        f"a handler returned while {len(tasks)} task(s) it started were still running "
        f"({names}); ddbstream cancelled them and counts the record as failed. Await every "
        "task a handler starts (asyncio.gather, or a TaskGroup) before it returns."
    )


def _task_name(task: Any) -> str:
    coroutine = task.get_coro()
    name = getattr(coroutine, "__qualname__", None) or task.get_name()
    return str(name)


def out_of_time(
    min_remaining_ms: int, index: int, total: int, identifier: str | None
) -> OutOfTimeError:
    """The error for a batch stopped by the time guard before record *index*."""
    named = f" ({identifier!r})" if identifier is not None else ""
    return OutOfTimeError(
        f"less than {min_remaining_ms} ms of the invocation left with {total - index} of "
        f"{total} records to go; stopping before record {index + 1}{named} so that no "
        "record is cut off half-way (Lambda retries the batch). Turn on "
        "report_batch_item_failures to keep the progress instead."
    )


def note_failure(
    error: BaseException, raw: Any, identifier: str | None, index: int, total: int
) -> None:
    """Add the note that names the failed record: its position, eventID and sequence number."""
    note = f"ddbstream: record {index + 1} of {total} failed"
    named = describe(raw, identifier)
    if named:
        note += f", {named}"
    elif not isinstance(raw, dict):
        note += f", a {type(raw).__name__} instead of a record object"
    add_note(error, note)


def clock(context: Any) -> Callable[[], float] | None:
    """The context's remaining time in ms, or None without a context that has the method.

    A method that raises or returns no number (a test's ``Mock``, say) reads as infinite
    time: a context without a usable clock means no time guard, never a failed batch.
    """
    method = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(method):
        return None

    def remaining_ms() -> float:
        try:
            left = method()
        except Exception:
            return _NO_CLOCK
        return left if left.__class__ in _NUMBERS else _NO_CLOCK

    return remaining_ms


_NO_CLOCK = float("inf")
_NUMBERS = (int, float)


def describe(raw: Any, identifier: str | None) -> str:
    """Name a raw record by its eventID and sequence number, whichever identifies it."""
    event_id = _field(raw, "eventID")
    sequence_number = (
        _field(raw.get("dynamodb"), "SequenceNumber")
        or _field(raw.get("kinesis"), "sequenceNumber")
        or _field(raw, "sequenceNumber")  # Kinesis records as EventBridge Pipes flattens them
        if isinstance(raw, dict)
        else None
    )
    if sequence_number is None and identifier != event_id:
        sequence_number = identifier
    return describe_record(event_id, sequence_number)


def _field(container: Any, name: str) -> str | None:
    value = container.get(name) if isinstance(container, dict) else None
    return value if isinstance(value, str) else None


def add_note(error: BaseException, note: str) -> None:
    """``error.add_note(note)``, also on Python 3.10 (no add_note) and whatever ``__notes__``
    the error already holds: a tuple, which ``add_note`` refuses, becomes a list."""
    notes = getattr(error, "__notes__", None)
    if isinstance(notes, list):
        notes.append(note)
        return
    kept = list(notes) if isinstance(notes, tuple) else [] if notes is None else [notes]
    error.__notes__ = [*kept, note]  # type: ignore[attr-defined]


def log_raised(error: BaseException) -> None:
    """Name the failed record in the log: Lambda's runtime logs the exception without notes."""
    notes = [
        note
        for note in getattr(error, "__notes__", None) or ()
        if isinstance(note, str) and note.startswith("ddbstream:")
    ]
    if notes:
        import logging  # only on failure; the Lambda runtime has it loaded anyway

        logging.getLogger("ddbstream").error(
            "%s: %s: %s; raising it so that Lambda retries the batch",
            notes[-1].removeprefix("ddbstream: "),
            type(error).__name__,
            error,
        )


def log_reported(outcome: Outcome) -> None:
    """Say in the function's log what a partial batch response hands back to Lambda.

    A failure that is reported, not raised, would leave no trace in CloudWatch otherwise.
    """
    import logging  # only on failure; the Lambda runtime has it loaded anyway

    logger = logging.getLogger("ddbstream")
    failed = outcome.failures
    message = "reporting %d record(s) from %s in batchItemFailures; Lambda retries from there"
    if outcome.error is None:
        logger.warning(
            message + " (too little time left)", len(failed), failed[0]["itemIdentifier"]
        )
    else:
        logger.error(message, len(failed), failed[0]["itemIdentifier"], exc_info=outcome.error)
