"""The end of an invocation: batch routes (``on_batch``) and sinks, and where the batch stops.

The batch loop runs each record's own routes and gathers the records of batch routes. Once it
is done (every record, or up to a failure, or up to the time guard), :class:`Ending` runs:

1. each batch route, in registration order, with its records in stream order (in chunks of
   its ``size``), only records before the failure point so far;
2. each sink used in the invocation, flushed in stream order, its messages for records at
   or after the failure point so far dropped (they are sent again when the records run again).

A batch handler that raises moves the failure point to its first record (or the earliest
record :class:`~ddbstream.errors.RecordsFailed` names); a sink whose message was not
delivered, to that message's record. Records before the failure point are done. What the
steps before had done for records at or after a new failure point runs again on the retry:
that is the price of one call for many records, and idempotent routes do not repeat it.
"""

from __future__ import annotations

from ._batch import Outcome, add_note, run_awaitable
from .errors import RecordsFailed, describe_record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ._gathered import Gathered
    from ._record import Record
    from ._routing import Route
    from ._sources import Batch
    from .idempotency import Ledger

__all__ = ["Ending"]


class Ending:
    """The end of one invocation, as the module's docstring says.

    Args:
        batch: the invocation's records.
        gathered: what the loop gathered.
        ledger: the app's ledger (for idempotent batch routes), or None.
        call: calls a batch route's handler with its list (and the context it wants).
        remaining_ms: the invocation's time left, or None without a clock.
        min_remaining_ms: the app's time guard; a sink's retries stop waiting before half
            of it is left.
    """

    def __init__(
        self,
        batch: Batch,
        gathered: Gathered,
        *,
        ledger: Ledger | None,
        call: Callable[[Route, list[Record[Any]]], object],
        remaining_ms: Callable[[], float] | None,
        min_remaining_ms: int,
    ) -> None:
        self.batch = batch
        self.gathered = gathered
        self.ledger = ledger
        self.call = call
        self.remaining_ms = remaining_ms
        self.min_remaining_ms = min_remaining_ms
        self.index_of = {id(raw): index for index, raw in enumerate(batch.records)}
        self.failure: tuple[int, BaseException, Record[Any] | None] | None = None

    def _index(self, record: Record[Any]) -> int:
        # By the raw record: a model's view is another object than the record, with its raw.
        return self.index_of.get(id(record.raw), len(self.index_of))

    def run(self, outcome: Outcome, routes: tuple[Route, ...], *, raise_failures: bool) -> Outcome:
        """Run the batch routes and flush the sinks; the outcome with the new failure point.

        Raises:
            Exception: with *raise_failures*, the error at the new failure point.
        """
        stop = outcome.stop if outcome.failures else len(self.batch.records)
        for route in routes:
            entries = self.gathered.entries.get(route)
            if entries:
                stop = self._run_route(route, entries, stop)
        for sink in self.gathered.sinks:
            stop = self._flush(sink, stop)
        failure = self.failure
        if failure is None or (outcome.failures and failure[0] >= outcome.stop):
            return outcome
        index, error, record = failure
        if raise_failures:
            raise error
        return Outcome(
            index,
            self.batch.failures(index, index + 1),
            error,
            record,
        )

    def abandon(self) -> None:
        """The batch is retried whole: give back every record the ledger holds, drop messages."""
        for route, entries in self.gathered.entries.items():
            self._give_back(entries, route)
        for sink in self.gathered.sinks:
            sink.discard(*sink.buffered())

    def _fail(self, index: int, error: BaseException, record: Record[Any] | None) -> None:
        if self.failure is None or index < self.failure[0]:
            self.failure = (index, error, record)

    def _run_route(
        self, route: Route, entries: list[tuple[Record[Any], str | None]], stop: int
    ) -> int:
        entries.sort(key=lambda entry: self._index(entry[0]))  # async loops gather in any order
        size = route.batch or len(entries)
        for start in range(0, len(entries), size):
            chunk = [
                entry for entry in entries[start : start + size] if self._index(entry[0]) < stop
            ]
            late = [entry for entry in entries[start : start + size] if entry not in chunk]
            self._give_back(late, route)
            if not chunk:
                continue
            records = [record for record, _ in chunk]
            try:
                result = self.call(route, records)
                if result is not None and hasattr(result, "__await__"):
                    run_awaitable(result)
            except Exception as error:
                failed = _first_failed(error, records, self._index)
                point = self._index(failed)
                self._note(error, route, failed, point, len(records))
                self._fail(point, error, failed)
                stop = min(stop, point)
                self._complete([entry for entry in chunk if self._index(entry[0]) < point], route)
                self._give_back([entry for entry in chunk if self._index(entry[0]) >= point], route)
                continue
            self._complete(chunk, route)
        return stop

    def _note(
        self, error: BaseException, route: Route, failed: Record[Any], point: int, size: int
    ) -> None:
        named = describe_record(failed.event_id, failed.sequence_number)
        add_note(
            error,
            f"ddbstream: batch route {route.name!r} failed on a list of {size} record(s); "
            f"Lambda retries from record {point + 1} of {len(self.batch.records)}, {named}",
        )

    def _complete(self, entries: list[tuple[Record[Any], str | None]], route: Route) -> None:
        if self.ledger is None:
            return
        for record, owner in entries:
            if owner is not None:
                self.ledger._complete_or_log(route.stable_name, record)

    def _give_back(self, entries: list[tuple[Record[Any], str | None]], route: Route) -> None:
        if self.ledger is None:
            return
        for record, owner in entries:
            if owner is not None:
                self.ledger.abandon(route.stable_name, record, owner)

    def _flush(self, sink: Any, stop: int) -> int:
        late = [record for record in sink.buffered() if self._index(record) >= stop]
        if late:
            sink.discard(*late)
        order = sorted(sink.buffered(), key=self._index)
        deadline = None
        if self.remaining_ms is not None:
            left_ms = self.remaining_ms() - self.min_remaining_ms / 2
            deadline = sink._clock() + max(left_ms, 0) / 1000
        result = sink.flush(order, deadline=deadline)
        failed = result.failed_record
        if failed is None:
            return stop
        point = self._index(failed)
        self._fail(point, result.error, failed)
        return min(stop, point)


def _first_failed(
    error: BaseException, records: list[Record[Any]], index: Callable[[Record[Any]], int]
) -> Record[Any]:
    """The failure point of a batch handler's *error*: its first record, or the earliest of
    those a ``RecordsFailed`` names (of the list it was given; others are ignored)."""
    if isinstance(error, RecordsFailed):
        given = {id(record) for record in records}
        named = [record for record in error.records if id(record) in given]
        if named:
            return min(named, key=index)  # type: ignore[arg-type]
    return records[0]
