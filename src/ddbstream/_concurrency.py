"""The batch loop for ``async def`` handlers: concurrent across items, ordered within one.

Records are started in stream order, each once it has a slot (at most ``max_concurrency``
run at once) and once the previous record of the same item (same stream and keys) has
finished; so records of one item run strictly one after another, and with one slot the whole
batch runs in stream order. Failure rules follow the sequential loop as closely as
concurrency allows:

- a record after a failed record of the same item never runs;
- no record later in the stream than the earliest failure starts once that failure is known;
- every record earlier in the stream than the earliest failure still runs (Lambda retries from
  the earliest failure only, so an earlier record left out would be lost);
- the earliest failure in stream order is what is reported or raised.

Records of other items that had already started past the failure point may run again on the
retry: handlers that must not repeat need idempotency, or ``max_concurrency=1``. With a tumbling
window and failures reported, records run one at a time: the window's state is one aggregate,
and only then can a failed record's contribution be taken back out of it.

Handlers run as they would in a synchronous app: a sync handler sees no running event loop (so
``asyncio.run`` works in it), an ``asyncio.CancelledError`` a handler raises fails its record,
and a record whose handlers leave tasks running fails too (the loop would cancel them silently).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
from asyncio import _set_running_loop

from ._batch import (
    Outcome,
    cancelled,
    clock,
    note_failure,
    out_of_time,
    snapshot,
    tasks_left_running,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._codec import Decoder
    from ._record import Record
    from ._routing import Dispatch
    from ._sources import Batch, Window
    from .types import LambdaContext

__all__ = ["run_batch_async"]


def run_batch_async(
    batch: Batch,
    decoder: Decoder,
    dispatch: Dispatch,
    *,
    report_failures: bool,
    raise_failures: bool,
    context: LambdaContext | None,
    min_remaining_ms: int,
    max_concurrency: int,
) -> Outcome:
    """Run every record through *dispatch* with the ordering and failure rules above.

    *report_failures* and *raise_failures* mean what they mean for ``_batch.run_batch``.

    Raises:
        RecordError: with *report_failures*, a record has no identifier (checked before any
            record runs).
        Exception: the earliest failure, with *raise_failures*.
    """
    # As in the sequential loop: identifiers are needed up front only to report failures.
    if report_failures:
        batch.read_identifiers()
    run = _Run(batch, decoder, dispatch, context, min_remaining_ms)
    if report_failures and batch.window is not None:
        run.window = batch.window
        max_concurrency = 1  # see the module's docstring
    return asyncio.run(run.run(max_concurrency, raise_failures))


_RECORD: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "ddbstream_record", default=None
)
"""The index of the record whose task is running; tasks its handlers start inherit it."""


class _Run:
    def __init__(
        self,
        batch: Batch,
        decoder: Decoder,
        dispatch: Dispatch,
        context: LambdaContext | None,
        min_remaining_ms: int,
    ) -> None:
        self.batch = batch
        self.raws = batch.records
        self.source = batch.source
        self.decoder = decoder
        self.dispatch = dispatch
        self.remaining_ms = clock(context)
        self.min_remaining_ms = min_remaining_ms
        self.first_failure: int | None = None  # index of the earliest failed or unstarted record
        self.errors: dict[int, Exception] = {}  # every handler failure, by record index
        self.records: dict[int, Record] = {}  # the failed ones' Records, by record index
        self.started = 0
        self.done = 0
        self.window: Window | None = None  # set to take a failed record out of its state
        self.spawned: dict[int, list[asyncio.Task[Any]]] = {}  # tasks handlers started
        self.loop: asyncio.AbstractEventLoop | None = None
        self.main: asyncio.Task[Any] | None = None  # the invocation's own task
        # A record's routes, inside the middleware when there is some.
        self.process: Any = self._routes if dispatch.chain is None else dispatch.chain(self._routes)

    def _routes(self, record: Record) -> Any:
        return _process(record, self)

    def _task_factory(
        self, loop: asyncio.AbstractEventLoop, coroutine: Any, **options: Any
    ) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.Task(coroutine, loop=loop, **options)
        index = _RECORD.get()
        if index is not None:
            self.spawned.setdefault(index, []).append(task)
        return task

    async def run(self, max_concurrency: int, raise_failures: bool) -> Outcome:
        self.loop = loop = asyncio.get_running_loop()
        self.main = asyncio.current_task()
        loop.set_task_factory(self._task_factory)
        slots = asyncio.Semaphore(max_concurrency)
        last_of_item: dict[str, asyncio.Task[None]] = {}
        tasks: list[asyncio.Task[None]] = []
        for index, raw in enumerate(self.raws):
            await slots.acquire()  # in stream order: no record overtakes an earlier one
            if self.first_failure is not None and index > self.first_failure:
                slots.release()
                break  # Lambda redelivers it and everything after: running it now repeats it
            key = _item_key(raw)
            task = asyncio.ensure_future(self._run_one(index, last_of_item.get(key), slots))
            last_of_item[key] = task
            tasks.append(task)
        await asyncio.gather(*tasks)
        return self._outcome(raise_failures)

    async def _run_one(
        self, index: int, previous: asyncio.Task[None] | None, slots: asyncio.Semaphore
    ) -> None:
        try:
            if previous is not None:
                await previous  # the same item's earlier record; it never raises
            if self.first_failure is not None and index > self.first_failure:
                return
            remaining_ms = self.remaining_ms
            # Never before the first record: an invocation that cannot start one would be
            # retried the same way forever, until the records expire.
            if self.started and remaining_ms is not None and remaining_ms() < self.min_remaining_ms:
                self._fail(index)
                return
            self.started += 1
            raw = self.raws[index]
            window = self.window
            saved = None if window is None else snapshot(window.state)
            _RECORD.set(index)
            try:
                record = self.source.record(raw, self.decoder)
                self.records[index] = record
                await self.process(record)
                left = [task for task in self.spawned.pop(index, ()) if not task.done()]
                if left:
                    raise tasks_left_running(left)
                del self.records[index]
            except Exception as error:
                note_failure(error, raw, self._identifier(index), index, len(self.raws))
                self.errors[index] = error
                self._fail(index)
                if window is not None:
                    window.state = saved  # type: ignore[assignment]  # taken before it ran
                return
            self.done += 1
        finally:
            slots.release()

    def _identifier(self, index: int) -> str | None:
        return self.batch.identifier_at(index)

    def _fail(self, index: int) -> None:
        if self.first_failure is None or index < self.first_failure:
            self.first_failure = index

    def _outcome(self, raise_failures: bool) -> Outcome:
        first = self.first_failure
        if first is None:
            return Outcome(len(self.raws), [], None)
        # The earliest handler failure, even if a record before it then ran out of time:
        # its exception must not vanish.
        error = self.errors[min(self.errors)] if self.errors else None
        if first in self.errors:
            if raise_failures:
                raise self.errors[first]
            failed = self.batch.failures(first, first + 1)
            return Outcome(self.done, failed, error, self.records.get(first), first)
        # Out of time before record `first` started: it and every record after it go back.
        if raise_failures:
            raise out_of_time(
                self.min_remaining_ms, first, len(self.raws), self._identifier(first)
            ) from error
        return Outcome(self.done, self.batch.failures(first), error, None, first)


async def _process(record: Record, run: _Run) -> None:
    """Run *record*'s handlers: the sequential loop's body (_batch.run_batch), with await."""
    dispatch, loop = run.dispatch, run.loop
    handlers = dispatch.plan[record.event_name][1]
    if handlers is None:
        handlers = _outside_loop(loop, dispatch.select, record)
    for handler in handlers:
        try:
            # Calling an async handler only makes its coroutine; a sync one runs here, and
            # must see what it sees in a sync app: no running loop.
            result = _outside_loop(loop, handler, record)
            if result is not None and hasattr(result, "__await__"):
                await result
        except Exception as error:
            _outside_loop(loop, dispatch.on_failure, record, error)
        except asyncio.CancelledError as error:
            cancelling = getattr(run.main, "cancelling", None)  # Python 3.11+
            if cancelling is not None and cancelling():
                raise  # the invocation itself is being cancelled: let it end
            failure = cancelled(error)
            failure.__cause__ = error
            _outside_loop(loop, dispatch.on_failure, record, failure)


def _outside_loop(loop: asyncio.AbstractEventLoop | None, function: Any, *args: Any) -> Any:
    """Call *function* as if no event loop were running in this thread, as in a sync app."""
    _set_running_loop(None)
    try:
        return function(*args)
    finally:
        _set_running_loop(loop)


def _item_key(raw: Any) -> str:
    """Records of the same item share this key: the stream and the key attributes."""
    if not isinstance(raw, dict):
        return "?"
    change = raw.get("dynamodb")
    keys = change.get("Keys") if isinstance(change, dict) else None
    if keys is not None:
        source = raw.get("eventSourceARN", "")
        return f"{source}|{json.dumps(keys, sort_keys=True, default=str)}"
    # Kinesis (as Lambda or as Pipes delivers it): DynamoDB's partition key is the item's.
    kinesis = raw.get("kinesis", raw)
    partition = kinesis.get("partitionKey") if isinstance(kinesis, dict) else None
    return f"kinesis|{partition}" if partition is not None else "?"
