"""Reliability at the edges (#11): windows, cancellation, stray tasks, odd contexts and inputs."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest

from ddbstream import App, Attr, Record, Window, deserialize, deserialize_image
from ddbstream.cli import main
from ddbstream.errors import DecodeError, EventError, RecordError, SetupError

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2026-01-01T00:00:00.000"


def change(index: int, key: str = "a", **dynamodb: Any) -> dict[str, Any]:
    return {
        "eventID": f"id-{index}",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "eventSourceARN": ARN,
        "dynamodb": {
            "Keys": {"pk": {"S": key}},
            "NewImage": {"pk": {"S": key}, "n": {"N": str(index)}},
            "SequenceNumber": str(100 + index),
            "StreamViewType": "NEW_IMAGE",
            **dynamodb,
        },
    }


def windowed(*records: dict[str, Any], state: Any = None, final: bool = False) -> dict[str, Any]:
    return {
        "Records": list(records),
        "window": {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:01:00Z"},
        "state": {} if state is None else state,
        "shardId": "shard-1",
        "isFinalInvokeForWindow": final,
        "isWindowTerminatedEarly": False,
    }


def notes(error: BaseException) -> list[str]:
    found: list[str] = getattr(error, "__notes__", [])
    return found


def counting_app(*, fail_on: str, is_async: bool, **options: Any) -> App:
    """Route 1 adds the record's n to the window's total; route 2 fails on eventID *fail_on*,
    the first time only."""
    app = App(report_batch_item_failures=True, **options)
    failed: set[str] = set()

    def fails(record: Record[Any]) -> bool:
        if record.event_id != fail_on or fail_on in failed:
            return False
        failed.add(fail_on)
        return True

    @app.on_insert
    def add(record: Record[Any]) -> None:
        assert app.window is not None
        assert record.new is not None
        state = app.window.state
        state["total"] = state.get("total", 0) + int(record.new["n"])

    if is_async:

        @app.on_insert
        async def check(record: Record[Any]) -> None:
            await asyncio.sleep(0)
            if fails(record):
                raise ValueError("route 2 failed")

    else:

        @app.on_insert
        def check_sync(record: Record[Any]) -> None:
            if fails(record):
                raise ValueError("route 2 failed")

    return app


class TestWindowStateOfAFailedRecord:
    @pytest.mark.parametrize("is_async", [False, True])
    def test_state_is_the_state_after_the_last_completed_record(self, is_async: bool) -> None:
        """A failed record's contribution is taken back out: its retry adds it once."""
        app = counting_app(fail_on="id-3", is_async=is_async)
        event = windowed(change(1), change(2, "b"), change(3, "c"), change(4, "d"))

        response = app(event, None)

        assert response["batchItemFailures"] == [{"itemIdentifier": "103"}]
        assert response["state"] == {"total": 1 + 2}
        retry = app(windowed(change(3, "c"), change(4, "d"), state=response["state"]))
        assert retry["state"] == {"total": 1 + 2 + 3 + 4}

    def test_a_state_replaced_by_a_handler_is_put_back_too(self) -> None:
        app = App(report_batch_item_failures=True)

        @app.on_insert
        def replace(record: Record[Any]) -> None:
            assert app.window is not None
            app.window.state = {"replaced": record.event_id}
            raise ValueError("after replacing the state")

        response = app(windowed(change(1), state={"kept": 1}))

        assert response["state"] == {"kept": 1}

    def test_async_windowed_batches_run_one_record_at_a_time(self) -> None:
        """Concurrent records would make a failed record's contribution inseparable."""
        app = App(report_batch_item_failures=True, max_concurrency=8)
        running: list[int] = []
        most = 0

        @app.on_insert
        async def slow(record: Record[Any]) -> None:
            nonlocal most
            running.append(1)
            most = max(most, len(running))
            await asyncio.sleep(0.001)
            running.pop()

        app(windowed(*(change(index, f"k{index}") for index in range(6))))

        assert most == 1

    def test_without_reporting_the_state_is_left_alone(self) -> None:
        """A raised failure makes Lambda discard the response: nothing to roll back."""
        app = counting_app(fail_on="id-2", is_async=False)
        app.report_batch_item_failures = False

        with pytest.raises(ValueError, match="route 2 failed"):
            app(windowed(change(1), change(2, "b")))


class TestWindowEndHook:
    @pytest.mark.parametrize("report", [False, True])
    def test_a_failing_hook_raises_with_a_note_naming_the_window(self, report: bool) -> None:
        """Lambda retries the final invocation with the previous state: nothing counts twice."""
        app = App(report_batch_item_failures=report)
        app.on_insert(lambda record: None)

        @app.on_window_end
        def publish(window: Window) -> None:
            raise ConnectionError("cannot publish")

        with pytest.raises(ConnectionError) as raised:
            app(windowed(change(1), final=True))

        assert notes(raised.value) == [
            "ddbstream: window-end hook TestWindowEndHook.test_a_failing_hook_raises_with_a_note_"
            "naming_the_window.<locals>.publish failed for the window 2026-01-01T00:00:00Z to "
            "2026-01-01T00:01:00Z (shard shard-1); Lambda retries the window's final invocation"
        ]

    def test_the_failure_is_logged_with_its_note(self, caplog: pytest.LogCaptureFixture) -> None:
        app = App(report_batch_item_failures=True)
        app.on_window_end(mock.Mock(side_effect=ValueError("no"), __qualname__="publish"))

        with pytest.raises(ValueError, match="no"):
            app(windowed(final=True))

        assert "window-end hook publish failed for the window" in caplog.text


class TestCancelledHandler:
    @pytest.mark.parametrize("report", [False, True])
    def test_a_cancelled_record_fails_like_any_other(self, report: bool) -> None:
        app = App(report_batch_item_failures=report)
        done: list[str] = []

        @app.on_insert
        async def handle(record: Record[Any]) -> None:
            await asyncio.sleep(0)
            if record.event_id == "id-2":
                raise asyncio.CancelledError("gave up")
            done.append(str(record.event_id))

        event = {"Records": [change(1), change(2, "b"), change(3, "c")]}
        if report:
            response = app(event)
            assert response["batchItemFailures"] == [{"itemIdentifier": "102"}]
            assert "id-1" in done
            return
        with pytest.raises(RecordError, match="cancelled") as raised:
            app(event)
        assert isinstance(raised.value.__cause__, asyncio.CancelledError)
        assert notes(raised.value) == [
            "ddbstream: record 2 of 3 failed, eventID 'id-2', SequenceNumber '102'"
        ]

    def test_error_hooks_see_it(self) -> None:
        app = App()
        seen: list[Exception] = []

        @app.on_insert
        async def handle(record: Record[Any]) -> None:
            raise asyncio.CancelledError

        app.on_error(lambda record, error: seen.append(error))
        assert app({"Records": [change(1)]}) == {"batchItemFailures": []}
        assert isinstance(seen[0], RecordError)

    def test_a_sync_wrapper_awaitable_that_is_cancelled_fails_its_record(self) -> None:
        app = App(report_batch_item_failures=True)

        async def cancelled() -> None:
            raise asyncio.CancelledError

        app.on_insert(lambda record: cancelled())

        response = app({"Records": [change(1), change(2)]})

        assert response["batchItemFailures"] == [{"itemIdentifier": "101"}]

    def test_cancelling_the_invocation_still_ends_it(self) -> None:
        app = App(report_batch_item_failures=True)

        @app.on_insert
        async def cancel_everything(record: Record[Any]) -> None:
            mine = asyncio.current_task()
            for task in asyncio.all_tasks():
                if task is not mine:
                    task.cancel()  # the invocation's own task
            await asyncio.sleep(1)

        with pytest.raises(asyncio.CancelledError):
            app({"Records": [change(1)]})


class TestTasksLeftRunning:
    @pytest.mark.parametrize("report", [False, True])
    def test_the_record_fails_and_the_tasks_are_cancelled(self, report: bool) -> None:
        app = App(report_batch_item_failures=report)
        finished: list[str] = []
        stopped: list[str] = []

        async def later(name: str) -> None:
            try:
                await asyncio.sleep(1 if name == "stray" else 0.01)
                finished.append(name)
            except asyncio.CancelledError:
                stopped.append(name)
                raise

        @app.on_insert
        async def fire_and_forget(record: Record[Any]) -> None:
            if record.event_id == "id-2":
                asyncio.create_task(later("stray"))  # noqa: RUF006  # left running on purpose
            await asyncio.gather(asyncio.create_task(later("awaited")))

        event = {"Records": [change(1), change(2, "b"), change(3, "c")]}
        if report:
            response = app(event)
            assert response["batchItemFailures"] == [{"itemIdentifier": "102"}]
        else:
            with pytest.raises(RecordError, match=r"1 task\(s\) it started .*later"):
                app(event)
        assert finished.count("stray") == 0
        assert stopped == ["stray"]

    def test_in_a_sync_app_too(self) -> None:
        """A sync handler returning an awaitable runs it on its own loop, checked alike."""
        app = App()

        async def stray() -> None:
            await asyncio.sleep(1)

        async def work() -> None:
            asyncio.create_task(stray())  # noqa: RUF006  # left running on purpose

        app.on_insert(lambda record: work())

        with pytest.raises(RecordError, match="still running"):
            app({"Records": [change(1)]})


class TestSyncHandlersInAnAsyncApp:
    def test_asyncio_run_works_in_a_sync_handler(self) -> None:
        """As many SDK wrappers do: adding an async route must not break it."""
        app = App(report_batch_item_failures=True)
        results: list[int] = []

        async def fetch(value: int) -> int:
            await asyncio.sleep(0)
            return value * 2

        @app.on_insert
        def sync_handler(record: Record[Any]) -> None:
            assert record.new is not None
            results.append(asyncio.run(fetch(int(record.new["n"]))))

        @app.on_remove
        async def async_handler(record: Record[Any]) -> None:
            await asyncio.sleep(0)

        response = app({"Records": [change(1), change(2, "b")]})

        assert response == {"batchItemFailures": []}
        assert results == [2, 4]

    def test_a_sync_error_hook_may_call_asyncio_run_too(self) -> None:
        app = App()
        logged: list[str] = []

        async def log(text: str) -> None:
            logged.append(text)

        @app.on_insert
        async def fail(record: Record[Any]) -> None:
            raise ValueError("no")

        app.on_error(lambda record, error: asyncio.run(log(str(error))))

        assert app({"Records": [change(1)]}) == {"batchItemFailures": []}
        assert logged == ["no"]


class TestUnusableClock:
    class Broken:
        def get_remaining_time_in_millis(self) -> int:
            raise RuntimeError("no deadline here")

    class Text:
        def get_remaining_time_in_millis(self) -> str:
            return "10"

    class Nothing:
        def get_remaining_time_in_millis(self) -> None:
            return None

    class Flag:
        def get_remaining_time_in_millis(self) -> bool:
            return True

    @pytest.mark.parametrize("context", [mock.Mock(), Broken(), Text(), Nothing(), Flag()])
    @pytest.mark.parametrize("report", [False, True])
    @pytest.mark.parametrize("is_async", [False, True])
    def test_no_guard(self, context: Any, report: bool, is_async: bool) -> None:
        app = App(report_batch_item_failures=report, min_remaining_ms=10**9)
        seen: list[str] = []
        if is_async:

            async def handle(record: Record[Any]) -> None:
                seen.append(str(record.event_id))

            app.on_insert(handle)
        else:
            app.on_insert(lambda record: seen.append(str(record.event_id)))

        response = app({"Records": [change(1), change(2), change(3)]}, context)

        assert response == {"batchItemFailures": []}
        assert seen == ["id-1", "id-2", "id-3"]


class TestNotes:
    @pytest.mark.parametrize("report", [False, True])
    def test_an_error_with_a_tuple_of_notes_is_the_one_raised(self, report: bool) -> None:
        app = App(report_batch_item_failures=report)

        @app.on_insert
        def handle(record: Record[Any]) -> None:
            error = ValueError("the handler's own")
            error.__notes__ = ("theirs",)  # type: ignore[attr-defined]
            raise error

        if report:
            outcome = app.process({"Records": [change(1)]})
            assert isinstance(outcome.error, ValueError)
            assert notes(outcome.error)[0] == "theirs"
            return
        with pytest.raises(ValueError, match="the handler's own") as raised:
            app({"Records": [change(1)]})
        assert notes(raised.value) == [
            "theirs",
            "ddbstream: record 1 of 1 failed, eventID 'id-1', SequenceNumber '101'",
        ]

    def test_notes_the_handler_added_come_first(self) -> None:
        app = App()

        @app.on_insert
        def handle(record: Record[Any]) -> None:
            error = ValueError("noted")
            error.__notes__ = ["mine"]  # type: ignore[attr-defined]  # add_note is 3.11+
            raise error

        with pytest.raises(ValueError, match="noted") as raised:
            app({"Records": [change(1)]})
        assert notes(raised.value) == [
            "mine",
            "ddbstream: record 1 of 1 failed, eventID 'id-1', SequenceNumber '101'",
        ]

    def test_an_odd_note_is_kept_and_logging_skips_it(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        app = App()

        @app.on_insert
        def handle(record: Record[Any]) -> None:
            error = ValueError("odd")
            error.__notes__ = 42  # type: ignore[attr-defined]
            raise error

        # No match=: pytest.raises joins the notes as text to match them, and 42 is no text.
        with pytest.raises(ValueError) as raised:  # noqa: PT011
            app({"Records": [change(1)]})
        assert str(raised.value) == "odd"
        assert notes(raised.value)[0] == 42  # type: ignore[comparison-overlap]
        assert "record 1 of 1 failed" in caplog.text


class TestApproximateCreationTime:
    @pytest.mark.parametrize("stamp", ["1700000000", True, [1], 1e300, float("nan")])
    def test_a_malformed_value_is_a_record_error(self, stamp: Any) -> None:
        app = App()
        app.on_insert(lambda record: record.approximate_creation_time)

        outcome = app.process({"Records": [change(1, ApproximateCreationDateTime=stamp)]})

        assert isinstance(outcome.error, RecordError)
        assert "ApproximateCreationDateTime" in str(outcome.error)
        assert outcome.error.event_id == "id-1"
        assert outcome.error.sequence_number == "101"

    def test_a_good_value_still_reads(self) -> None:
        app = App()
        seen: list[Any] = []
        app.on_insert(lambda record: seen.append(record.approximate_creation_time))

        app({"Records": [change(1, ApproximateCreationDateTime=1700000000)]})

        assert seen[0].year == 2023


class TestStringsAreStrings:
    @pytest.mark.parametrize(
        ("image", "path"),
        [
            ({"a": {"S": 5}}, "image.a"),
            ({"a": {"M": {"b": {"S": None}}}}, "image.a.b"),
            ({"a": {"L": [{"S": "x"}, {"S": ["y"]}]}}, "image.a[1]"),
            ({"a": {"M": {"b": {"L": [{"M": {"c": {"S": 1.5}}}]}}}}, "image.a.b[0].c"),
        ],
    )
    def test_a_non_string_s_is_refused_at_any_depth(self, image: Any, path: str) -> None:
        with pytest.raises(DecodeError, match="S must hold a string") as raised:
            deserialize_image(image)
        assert raised.value.path == path

    def test_a_lone_value(self) -> None:
        with pytest.raises(DecodeError, match="S must hold a string, got int"):
            deserialize({"S": 5})

    def test_a_filter_does_not_match_it(self) -> None:
        app = App(report_batch_item_failures=True)
        ran: list[str] = []
        app.on_insert(where=Attr("x").eq(5))(lambda record: ran.append("matched"))
        record = change(1)
        record["dynamodb"]["NewImage"]["x"] = {"S": 5}

        outcome = app.process({"Records": [record]})

        assert ran == []
        assert isinstance(outcome.error, DecodeError)


class TestEventShapes:
    def test_sqs_messages_as_a_pipes_list_name_their_source(self) -> None:
        app = App(report_batch_item_failures=True)
        messages = [{"messageId": "m1", "eventSource": "aws:sqs", "body": "{}"}]

        with pytest.raises(EventError, match="come from 'aws:sqs'"):
            app(messages)

    def test_a_list_of_stream_records_still_runs(self) -> None:
        app = App(report_batch_item_failures=True)
        seen: list[str] = []
        app.on_insert(lambda record: seen.append(str(record.event_id)))

        assert app([change(1)]) == {"batchItemFailures": []}
        assert seen == ["id-1"]

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ("not base64!", "kinesis.data is not base64 ("),
            (base64.b64encode(b"{not json").decode(), "kinesis.data is base64, but not of JSON"),
            (None, "kinesis.data must be base64 text of a DynamoDB change, got NoneType"),
        ],
    )
    def test_kinesis_data_is_blamed_for_what_is_wrong(self, data: Any, message: str) -> None:
        app = App()
        app.on_insert(lambda record: None)
        event = {
            "Records": [
                {
                    "eventID": "k1",
                    "eventSource": "aws:kinesis",
                    "kinesis": {"data": data, "sequenceNumber": "7", "partitionKey": "p"},
                }
            ]
        }

        outcome = app.process(event)

        assert isinstance(outcome.error, RecordError)
        assert message in str(outcome.error)

    def test_good_kinesis_data_still_reads(self) -> None:
        app = App()
        seen: list[Any] = []
        app.on_insert(lambda record: seen.append(record.new))
        data = base64.b64encode(json.dumps(change(1)).encode()).decode()
        event = {"Records": [{"eventID": "k1", "kinesis": {"data": data, "sequenceNumber": "7"}}]}

        app(event)

        assert seen == [{"pk": "a", "n": Decimal(1)}]


class TestInvokeWithALoneSurrogate:
    def test_the_event_id_is_printed_escaped(
        self, tmp_path: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (tmp_path / "surrogate_app.py").write_text(
            "from ddbstream import App\n"
            "app = App(report_batch_item_failures=True)\n"
            "app.on_insert(lambda record: None)\n"
            "handler = app.handler\n"
        )
        record = change(1)
        record["eventID"] = "a\ud800b"
        (tmp_path / "event.json").write_text(json.dumps({"Records": [record]}))
        monkeypatch.chdir(tmp_path)
        monkeypatch.syspath_prepend(str(tmp_path))

        status = main(["invoke", "surrogate_app.handler", "event.json"])

        assert status == 0
        assert "a\\ud800b" in capsys.readouterr().out


class TestAsyncFilters:
    @pytest.mark.parametrize("option", ["where", "new", "old"])
    def test_an_async_filter_is_refused_at_registration(self, option: str) -> None:
        app = App()

        async def is_big(image: Any) -> bool:
            return True

        options: dict[str, Any] = {option: is_big}
        with pytest.raises(SetupError, match="not an async def"):
            app.on_modify(**options)(lambda record: None)


class TestOneAppManyThreads:
    def test_each_invocation_sees_its_own_window_and_context(self) -> None:
        """Two threads in one app at once: neither sees the other's window or context."""
        app = App(report_batch_item_failures=True)
        both_inside = threading.Barrier(2, timeout=5)
        contexts: dict[str, object] = {}

        @app.on_insert
        def count(record: Record[Any]) -> None:
            window = app.window
            assert window is not None
            both_inside.wait()  # the other thread's invocation has started by now
            window.state["count"] = window.state.get("count", 0) + 1
            assert app.window is window
            contexts[str(window.shard_id)] = app.context

        responses: dict[str, Any] = {}

        def invoke(shard: str, count: int) -> None:
            event = windowed(change(1), state={"count": count})
            event["shardId"] = shard
            responses[shard] = app(event, f"context of {shard}")

        threads = [
            threading.Thread(target=invoke, args=(shard, n)) for shard, n in (("a", 10), ("b", 20))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert responses["a"]["state"] == {"count": 11}
        assert responses["b"]["state"] == {"count": 21}
        assert contexts == {"a": "context of a", "b": "context of b"}
        assert app.context is None
