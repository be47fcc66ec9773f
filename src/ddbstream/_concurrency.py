"""The batch loop for ``async def`` handlers: concurrent across item keys, ordered within one.

Records of one item (same table and keys) run strictly one after another, in stream order;
records of different items run concurrently, up to a limit. Failure rules follow the
sequential loop as closely as concurrency allows:

- a record after a failed record of the same item never runs;
- no record later in the stream than the earliest failure starts once that failure is known;
- every record earlier in the stream than the earliest failure still runs (Lambda retries from
  the earliest failure only, so an earlier record left out would be lost);
- the earliest failure in stream order is what is reported or raised.

Records of other items that had already started past the failure point may run again on the
retry; handlers that must not repeat should use async concurrency with care (or none).
"""

from __future__ import annotations

import asyncio
import json

from ._batch import Outcome, add_note, clock, describe
from .errors import OutOfTimeError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence
    from typing import Any

    from ._codec import Decoder
    from ._record import Record
    from ._sources import Source
    from ._typing import BatchItemFailure, LambdaContext

__all__ = ["run_batch_async"]


def run_batch_async(
    raws: Sequence[Any],
    source: Source,
    decoder: Decoder,
    process: Callable[[Record], Awaitable[None]],
    *,
    report_failures: bool,
    context: LambdaContext | None,
    min_remaining_ms: int,
    max_concurrency: int,
) -> Outcome:
    """Run *process* on every record with the ordering and failure rules above.

    Raises:
        RecordError: a record has no identifier (checked before any record runs).
        Exception: the earliest failure, when *report_failures* is off.
    """
    identifiers = [source.identifier(raw) for raw in raws]
    return asyncio.run(
        _Run(raws, identifiers, source, decoder, process, context, min_remaining_ms).run(
            max_concurrency, report_failures
        )
    )


class _Run:
    def __init__(
        self,
        raws: Sequence[Any],
        identifiers: list[str],
        source: Source,
        decoder: Decoder,
        process: Callable[[Record], Awaitable[None]],
        context: LambdaContext | None,
        min_remaining_ms: int,
    ) -> None:
        self.raws = raws
        self.identifiers = identifiers
        self.source = source
        self.decoder = decoder
        self.process = process
        self.remaining_ms = clock(context)
        self.min_remaining_ms = min_remaining_ms
        self.first_failure: int | None = None  # index of the earliest failed or unstarted record
        self.error: BaseException | None = None
        self.out_of_time = False
        self.done = 0

    async def run(self, max_concurrency: int, report_failures: bool) -> Outcome:
        slots = asyncio.Semaphore(max_concurrency)
        groups: dict[str, list[int]] = {}
        for index, raw in enumerate(self.raws):
            groups.setdefault(_item_key(raw), []).append(index)
        await asyncio.gather(*(self._run_group(indexes, slots) for indexes in groups.values()))

        first = self.first_failure
        if first is None:
            return Outcome(len(self.raws), [], None)
        if self.out_of_time and self.error is None:
            if not report_failures:
                raise OutOfTimeError(
                    f"less than {self.min_remaining_ms} ms of the invocation left; stopping "
                    f"before record {first + 1} of {len(self.raws)} so that no record is cut off "
                    "half-way (Lambda retries the batch). Turn on report_batch_item_failures to "
                    "keep the progress instead."
                )
            failures: list[BatchItemFailure] = [
                {"itemIdentifier": identifier} for identifier in self.identifiers[first:]
            ]
            return Outcome(self.done, failures, None)
        error = self.error
        assert error is not None
        if not report_failures:
            raise error
        return Outcome(self.done, [{"itemIdentifier": self.identifiers[first]}], error)

    async def _run_group(self, indexes: list[int], slots: asyncio.Semaphore) -> None:
        for index in indexes:
            async with slots:
                if self.first_failure is not None and index > self.first_failure:
                    return  # Lambda redelivers it: running it now would run it twice
                remaining_ms = self.remaining_ms
                if remaining_ms is not None and remaining_ms() < self.min_remaining_ms:
                    self._fail(index, None)
                    return
                raw = self.raws[index]
                identifier = self.identifiers[index]
                try:
                    await self.process(self.source.record(raw, self.decoder, identifier))
                except Exception as error:
                    position = f"record {index + 1} of {len(self.raws)}"
                    add_note(error, f"ddbstream: {position} failed, {describe(raw, identifier)}")
                    self._fail(index, error)
                    return
                self.done += 1

    def _fail(self, index: int, error: BaseException | None) -> None:
        if self.first_failure is None or index < self.first_failure:
            self.first_failure = index
            self.error = error
            self.out_of_time = error is None


def _item_key(raw: Any) -> str:
    """Records of the same item share this key: table (stream) and key attributes."""
    change = raw.get("dynamodb") if isinstance(raw, dict) else None
    keys = change.get("Keys") if isinstance(change, dict) else None
    if keys is None:
        # Kinesis and malformed records: the partition key, else one group for the unknown.
        kinesis = raw.get("kinesis") if isinstance(raw, dict) else None
        partition = kinesis.get("partitionKey") if isinstance(kinesis, dict) else None
        return f"kinesis:{partition}" if partition is not None else "?"
    source = raw.get("eventSourceARN", "")
    return f"{source}|{json.dumps(keys, sort_keys=True, default=str)}"
