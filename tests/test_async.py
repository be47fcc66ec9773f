"""async def handlers: concurrent across items, ordered within one, failures in stream order."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ddbstream import App, Record
from ddbstream.errors import OutOfTimeError, RecordError, SetupError

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2026-01-01T00:00:00.000"


def record(index: int, key: str) -> dict[str, Any]:
    return {
        "eventID": f"id-{index}",
        "eventName": "INSERT",
        "eventSourceARN": ARN,
        "dynamodb": {
            "Keys": {"pk": {"S": key}},
            "NewImage": {"pk": {"S": key}, "i": {"N": str(index)}},
            "SequenceNumber": f"{1000 + index}",
            "StreamViewType": "NEW_IMAGE",
        },
    }


def index_of(record: Record) -> int:
    assert record.new is not None
    return int(record.new["i"])


class FakeContext:
    """A Lambda context whose remaining time drops by *step* ms per call."""

    def __init__(self, remaining_ms: int, step: int) -> None:
        self.remaining_ms = remaining_ms
        self.step = step

    def get_remaining_time_in_millis(self) -> int:
        self.remaining_ms -= self.step
        return self.remaining_ms


keys_strategy = st.lists(st.sampled_from("abcd"), min_size=1, max_size=25)


class TestOrdering:
    @settings(max_examples=60, deadline=None)
    @given(keys=keys_strategy, seed=st.integers(0, 2**32 - 1))
    def test_same_key_in_order_all_run(self, keys: list[str], seed: int) -> None:
        """Under random delays every record runs once, in stream order per item key."""
        delays = random.Random(seed)
        app = App(max_concurrency=3)
        started: list[tuple[str, int]] = []
        finished: list[tuple[str, int]] = []

        @app.on_insert
        async def handle(record: Record) -> None:
            started.append((record.keys["pk"], index_of(record)))
            await asyncio.sleep(delays.random() / 2000)
            finished.append((record.keys["pk"], index_of(record)))

        app.handler({"Records": [record(i, key) for i, key in enumerate(keys)]}, None)

        assert sorted(index for _, index in finished) == list(range(len(keys)))
        for key in set(keys):
            expected = [i for i, k in enumerate(keys) if k == key]
            assert [i for k, i in started if k == key] == expected
            assert [i for k, i in finished if k == key] == expected

    def test_different_keys_overlap(self) -> None:
        """Records of different items run concurrently, up to max_concurrency."""
        app = App(max_concurrency=2)
        running = 0
        peak = 0

        @app.on_insert
        async def handle(record: Record) -> None:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.001)
            running -= 1

        app.handler({"Records": [record(i, key) for i, key in enumerate("abcdef")]}, None)

        assert peak == 2

    def test_sync_and_async_handlers_mix(self) -> None:
        """A record's handlers run in registration order, sync ones too."""
        app = App()
        calls: list[str] = []

        @app.on_insert
        def first(record: Record) -> None:
            calls.append(f"sync {index_of(record)}")

        @app.on_insert
        async def second(record: Record) -> None:
            await asyncio.sleep(0)
            calls.append(f"async {index_of(record)}")

        app.handler({"Records": [record(0, "a"), record(1, "a")]}, None)

        assert calls == ["sync 0", "async 0", "sync 1", "async 1"]


class TestFailures:
    @settings(max_examples=60, deadline=None)
    @given(
        keys=keys_strategy,
        data=st.data(),
        seed=st.integers(0, 2**32 - 1),
    )
    def test_earliest_failure_decides(self, keys: list[str], data: Any, seed: int) -> None:
        """The earliest failure in stream order is reported, every record before it runs,
        and no record runs after a failed record of the same item."""
        failing = data.draw(st.sets(st.integers(0, len(keys) - 1), min_size=1))
        delays = random.Random(seed)
        app = App(report_batch_item_failures=True, max_concurrency=3)
        started: list[int] = []
        succeeded: list[int] = []

        @app.on_insert
        async def handle(record: Record) -> None:
            index = index_of(record)
            started.append(index)
            await asyncio.sleep(delays.random() / 2000)
            if index in failing:
                raise ValueError(index)
            succeeded.append(index)

        response = app.handler({"Records": [record(i, key) for i, key in enumerate(keys)]}, None)

        first = min(failing)
        assert response == {"batchItemFailures": [{"itemIdentifier": f"{1000 + first}"}]}
        assert set(range(first)) <= set(succeeded)
        for failed in failing.intersection(started):
            assert not [i for i in started if i > failed and keys[i] == keys[failed]]

    def test_default_mode_raises_the_earliest_failure(self) -> None:
        """Without report mode the earliest failure in stream order is raised."""
        app = App()

        @app.on_insert
        async def handle(record: Record) -> None:
            index = index_of(record)
            await asyncio.sleep(0.002 if index == 1 else 0)
            if index in (1, 2):
                raise ValueError(f"record {index}")

        with pytest.raises(ValueError, match="record 1") as caught:
            app.handler({"Records": [record(0, "a"), record(1, "b"), record(2, "c")]}, None)
        notes = getattr(caught.value, "__notes__", [])
        assert any("SequenceNumber '1001'" in note for note in notes)

    def test_a_record_that_is_no_object(self) -> None:
        """Not reporting, a record that is not an object fails when its turn comes."""
        app = App()
        seen: list[int] = []

        @app.on_insert
        async def handle(record: Record) -> None:
            seen.append(index_of(record))

        with pytest.raises(RecordError, match="a record must be a JSON object, got NoneType"):
            app.handler({"Records": [record(0, "a"), None]}, None)
        assert seen == [0]

    def test_error_hook_handles_async_failures(self) -> None:
        """on_error hooks see failures of async handlers too."""
        app = App(report_batch_item_failures=True)
        handled: list[int] = []

        @app.on_insert
        async def handle(record: Record) -> None:
            raise KeyError(index_of(record))

        @app.on_error(KeyError)
        def log(record: Record, error: Exception) -> None:
            handled.append(index_of(record))

        response = app.handler({"Records": [record(0, "a"), record(1, "a")]}, None)

        assert response == {"batchItemFailures": []}
        assert handled == [0, 1]

    def test_async_error_hooks_are_refused(self) -> None:
        """Error hooks must be plain functions."""
        app = App()

        async def hook(record: Record, error: Exception) -> None:
            return None

        with pytest.raises(SetupError, match="plain functions"):
            app.on_error(hook)

    def test_time_guard_reports_records_not_started(self) -> None:
        """When time runs short, the first record not started and the rest are reported."""
        app = App(report_batch_item_failures=True, max_concurrency=1, min_remaining_ms=500)
        ran: list[int] = []

        @app.on_insert
        async def handle(record: Record) -> None:
            ran.append(index_of(record))

        context = FakeContext(remaining_ms=750, step=100)
        response = app.handler({"Records": [record(i, "a") for i in range(5)]}, context)

        assert ran == [0, 1, 2]
        assert response == {
            "batchItemFailures": [{"itemIdentifier": f"{1000 + i}"} for i in range(3, 5)]
        }

    def test_time_guard_raises_in_default_mode(self) -> None:
        """Without report mode running out of time raises OutOfTimeError."""
        app = App(min_remaining_ms=500)

        @app.on_insert
        async def handle(record: Record) -> None:
            return None

        with pytest.raises(OutOfTimeError):
            app.handler(
                {"Records": [record(0, "a"), record(1, "b")]}, FakeContext(remaining_ms=100, step=0)
            )

    def test_the_first_record_always_runs(self) -> None:
        """Even with no time left one record runs, so that retries make progress."""
        app = App(report_batch_item_failures=True, min_remaining_ms=5_000)
        ran: list[int] = []

        @app.on_insert
        async def handle(record: Record) -> None:
            ran.append(index_of(record))

        response = app.handler({"Records": [record(0, "a")]}, FakeContext(999, 0))

        assert ran == [0]
        assert response == {"batchItemFailures": []}

    @pytest.mark.parametrize("report", [True, False])
    def test_a_handler_error_survives_a_later_time_out(self, report: bool) -> None:
        """A failure followed by running out of time before an earlier record keeps its error."""
        app = App(report_batch_item_failures=report, min_remaining_ms=500)

        @app.on_insert
        async def handle(record: Record) -> None:
            index = index_of(record)
            if index == 0:
                await asyncio.sleep(0.02)  # record 1 (same item) waits for it
            if index == 2:
                raise ValueError("record 2")

        class Context:
            """Time for record 2 (checked first), none left for record 1 after record 0."""

            def __init__(self) -> None:
                self.values = [5_000, 0]

            def get_remaining_time_in_millis(self) -> int:
                return self.values.pop(0) if len(self.values) > 1 else self.values[0]

        batch = {"Records": [record(0, "a"), record(1, "a"), record(2, "b")]}
        if report:
            outcome = app.process(batch, Context())
            assert outcome.failures == [{"itemIdentifier": "1001"}, {"itemIdentifier": "1002"}]
            assert isinstance(outcome.error, ValueError)
        else:
            with pytest.raises(OutOfTimeError) as caught:
                app.handler(batch, Context())
            assert isinstance(caught.value.__cause__, ValueError)

    def test_one_slot_runs_in_stream_order(self) -> None:
        """With max_concurrency=1 records start in stream order, so none runs past a failure."""
        app = App(report_batch_item_failures=True, max_concurrency=1)
        started: list[int] = []

        @app.on_insert
        async def handle(record: Record) -> None:
            index = index_of(record)
            started.append(index)
            await asyncio.sleep(0.001 if index == 0 else 0)
            if index == 2:
                raise ValueError(index)

        keys = ["a", "b", "b", "a"]
        response = app.handler({"Records": [record(i, k) for i, k in enumerate(keys)]}, None)

        assert started == [0, 1, 2]
        assert response == {"batchItemFailures": [{"itemIdentifier": "1002"}]}


class TestDetection:
    def test_callable_object_with_async_call_is_async(self) -> None:
        """An object whose __call__ is async def is awaited."""
        app = App()
        seen: list[int] = []

        class Handler:
            async def __call__(self, record: Record) -> None:
                seen.append(index_of(record))

        app.on_insert(Handler())
        app.handler({"Records": [record(0, "a")]}, None)

        assert seen == [0]

    def test_partial_of_async_function_is_async(self) -> None:
        """functools.partial around an async def is awaited."""
        import functools

        app = App()
        seen: list[tuple[str, int]] = []

        async def handle(tag: str, record: Record) -> None:
            seen.append((tag, index_of(record)))

        app.on_insert(functools.partial(handle, "x"))
        app.handler({"Records": [record(0, "a")]}, None)

        assert seen == [("x", 0)]

    @pytest.mark.parametrize("with_async_route", [False, True])
    def test_sync_wrapper_of_async_handler_is_awaited(self, with_async_route: bool) -> None:
        """A sync wrapper returning a coroutine is awaited, with or without other async routes."""
        app = App(report_batch_item_failures=True)
        done: list[int] = []

        async def work(record: Record) -> None:
            done.append(index_of(record))

        app.on_insert(lambda record: work(record))
        if with_async_route:
            app.on_modify(work)

        response = app.handler({"Records": [record(0, "a")]}, None)

        assert response == {"batchItemFailures": []}
        assert done == [0]

    def test_func_attribute_is_not_a_partial(self) -> None:
        """Only functools.partial is unwrapped: an object's own async __call__ decides."""
        app = App()
        seen: list[int] = []

        class Handler:
            func = staticmethod(lambda record: None)

            async def __call__(self, record: Record) -> None:
                seen.append(index_of(record))

        route = app.add_handler(Handler(), events=["INSERT"])
        app.handler({"Records": [record(0, "a")]}, None)

        assert route.is_async
        assert route.name == "TestDetection.test_func_attribute_is_not_a_partial.<locals>.Handler"
        assert seen == [0]

    def test_max_concurrency_is_checked(self) -> None:
        """max_concurrency must be a whole number of at least 1."""
        with pytest.raises(SetupError, match="max_concurrency"):
            App(max_concurrency=0)


class TestKinesisItems:
    @pytest.mark.parametrize("flattened", [False, True])
    def test_records_of_one_partition_key_run_in_order(self, flattened: bool) -> None:
        """Kinesis records (as Lambda or as Pipes delivers them) are grouped by partition key."""
        import base64
        import json

        def kinesis(index: int, key: str) -> dict[str, Any]:
            change = {"eventName": "INSERT", "tableName": "T", **record(index, key)}
            block = {
                "partitionKey": key,
                "sequenceNumber": f"{5000 + index}",
                "data": base64.b64encode(json.dumps(change).encode()).decode(),
            }
            if flattened:
                return {**block, "eventID": f"shard:{index}"}
            return {"kinesis": block, "eventID": f"shard:{index}"}

        app = App(max_concurrency=4)
        finished: list[tuple[str, int]] = []

        @app.on_insert
        async def handle(record: Record) -> None:
            index = index_of(record)
            await asyncio.sleep(0.002 if index % 2 == 0 else 0)
            finished.append((record.keys["pk"], index))

        keys = ["a", "a", "b", "a", "b"]
        records = [kinesis(i, key) for i, key in enumerate(keys)]
        app.handler(records if flattened else {"Records": records}, None)

        assert [i for key, i in finished if key == "a"] == [0, 1, 3]
        assert [i for key, i in finished if key == "b"] == [2, 4]
