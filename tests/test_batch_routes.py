"""on_batch: lists of records in stream order, size=, failure points, RecordsFailed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from ddbstream import App, Insert, Record, RecordsFailed, testing
from ddbstream.errors import SetupError
from ddbstream.idempotency import Ledger
from test_observability import MemoryLedgerClient


def keys(records: Sequence[Any]) -> list[str]:
    return [str(record.keys["pk"]) for record in records]


def five() -> dict[str, Any]:
    return testing.event(
        *(testing.insert({"pk": key, "n": index}) for index, key in enumerate("abcde"))
    )


def sequence(event: dict[str, Any], index: int) -> str:
    return str(event["Records"][index]["dynamodb"]["SequenceNumber"])


class TestGrouping:
    def test_one_list_per_invocation_in_stream_order(self) -> None:
        """The matching records, in stream order, once, after the records' own routes."""
        app = App()
        seen: list[Any] = []

        @app.on_batch("INSERT", "MODIFY", where={"kind": "order"})
        def bulk(records: Sequence[Record]) -> None:
            seen.append(("bulk", keys(records)))

        app.on_insert(lambda record: seen.append(("each", record.keys["pk"])))
        event = testing.event(
            testing.insert({"pk": "1", "kind": "order"}),
            testing.insert({"pk": "2", "kind": "user"}),
            testing.modify({"pk": "3", "kind": "order"}, {"pk": "3", "kind": "order", "n": 1}),
            testing.remove({"pk": "4", "kind": "order"}),
        )
        app.handler(event, None)

        assert seen == [("each", "1"), ("each", "2"), ("bulk", ["1", "3"])]

    def test_size_chunks(self) -> None:
        """size=2 gives lists of at most two records, in order."""
        app = App()
        seen: list[list[str]] = []
        app.on_batch("INSERT", size=2)(lambda records: seen.append(keys(records)))
        app.handler(five(), None)
        assert seen == [["a", "b"], ["c", "d"], ["e"]]

    def test_no_match_no_call(self) -> None:
        """A batch route no record matched is not called; all event names by default."""
        app = App()
        seen: list[list[str]] = []
        app.on_batch(where={"pk": "zzz"})(lambda records: seen.append(keys(records)))
        app.on_batch()(lambda records: seen.append(keys(records)))
        app.handler(testing.event(testing.insert({"pk": "a"}), testing.remove({"pk": "b"})), None)
        assert seen == [["a", "b"]]

    def test_model_and_context(self) -> None:
        """model= gives the records' items as the model; (records, context) gets the context."""

        @dataclass
        class Order:
            pk: str
            n: int

        app = App(parse_number=int)
        seen: list[Any] = []

        @app.on_batch("INSERT", model=Order)
        def bulk(records: list[Insert[Order]], context: Any) -> None:
            seen.append(([record.new for record in records], context))

        context = object()
        app.handler(testing.event(testing.insert({"pk": "a", "n": 1})), context)
        assert seen == [([Order("a", 1)], context)]

    def test_async_app_and_async_handler(self) -> None:
        """In an async app records are gathered in any order and given in stream order; an
        async def batch handler is awaited."""
        app = App(max_concurrency=5)
        seen: list[list[str]] = []

        @app.on_insert
        async def each(record: Insert) -> None:
            import asyncio

            await asyncio.sleep(0.001 * (5 - int(record.new["n"])))

        @app.on_batch("INSERT")
        async def bulk(records: Sequence[Record]) -> None:
            seen.append(keys(records))

        app.handler(five(), None)
        assert seen == [["a", "b", "c", "d", "e"]]

    def test_repr_and_registration_errors(self) -> None:
        """A batch route shows its size; bad sizes and forgotten parentheses are refused."""
        app = App()
        route = app.add_handler(lambda records: None, events=["INSERT"], batch=3, name="b")
        assert repr(route) == "Route(events=['INSERT'], name='b', batch=3)"
        with pytest.raises(SetupError, match="whole number of at least 1"):
            app.on_batch("INSERT", size=0)
        with pytest.raises(SetupError, match="takes event names, not the handler"):
            app.on_batch(lambda records: None)  # type: ignore[call-overload]
        with pytest.raises(SetupError, match="idempotent=True or False"):
            app.add_handler(
                lambda records: None, events=["INSERT"], batch=0, idempotent="transaction"
            )


class TestFailurePoint:
    def test_report_mode_from_the_first_record(self) -> None:
        """A batch handler that raises: its first record and all after it are retried."""
        app = App(report_batch_item_failures=True)
        calls: list[list[str]] = []

        @app.on_batch("INSERT", size=2)
        def bulk(records: Sequence[Record]) -> None:
            calls.append(keys(records))
            if "c" in keys(records):
                raise ConnectionError("bulk refused")

        event = five()
        outcome = app.process(event)

        assert calls == [["a", "b"], ["c", "d"]]  # nothing after the failure point runs
        assert outcome.failures == [{"itemIdentifier": sequence(event, 2)}]
        assert outcome.processed == 2
        assert isinstance(outcome.error, ConnectionError)
        assert outcome.failed_record is not None
        assert outcome.failed_record.keys["pk"] == "c"
        assert app.handler(event, None) == {
            "batchItemFailures": [{"itemIdentifier": sequence(event, 2)}]
        }

    def test_raise_mode_raises_with_a_note(self) -> None:
        """Without reporting, the batch handler's exception is raised, naming the record."""
        app = App()

        @app.on_batch("INSERT", name="bulk")
        def bulk(records: Sequence[Record]) -> None:
            raise ConnectionError("bulk refused")

        event = five()
        with pytest.raises(ConnectionError) as caught:
            app.handler(event, None)
        notes: list[str] = getattr(caught.value, "__notes__", [])
        assert any(
            "batch route 'bulk' failed on a list of 5 record(s); Lambda retries from record 1 of 5"
            in note
            for note in notes
        )

    def test_records_failed_names_the_earliest(self) -> None:
        """RecordsFailed makes the earliest named record the failure point."""
        app = App(report_batch_item_failures=True)

        @app.on_batch("INSERT")
        def bulk(records: Sequence[Record]) -> None:
            raise RecordsFailed([records[3], records[1]], "two items were rejected")

        event = five()
        outcome = app.process(event)
        assert outcome.failures == [{"itemIdentifier": sequence(event, 1)}]
        assert str(outcome.error) == "two items were rejected"

    def test_records_failed_of_foreign_records_means_the_first(self) -> None:
        """Records the handler was not given do not count: the failure point is its first."""
        app = App(report_batch_item_failures=True)
        stranger = testing.insert({"pk": "x"})

        @app.on_batch("INSERT", where={"n": 3})
        def bulk(records: Sequence[Record]) -> None:
            raise RecordsFailed([stranger])

        event = five()
        assert app.process(event).failures == [{"itemIdentifier": sequence(event, 3)}]

    def test_records_failed_needs_records(self) -> None:
        """An empty RecordsFailed is a mistake: there is no failure point."""
        with pytest.raises(ValueError, match="at least one record"):
            RecordsFailed([])
        error = RecordsFailed(["r"])
        assert str(error) == "1 record(s) of the batch failed"
        import pickle

        assert pickle.loads(pickle.dumps(error)).records == ["r"]

    def test_a_record_failure_stops_the_list_there(self) -> None:
        """Records at and after a record that failed are not given to batch routes."""
        app = App(report_batch_item_failures=True)
        seen: list[list[str]] = []

        @app.on_insert
        def each(record: Insert) -> None:
            if record.keys["pk"] == "c":
                raise ValueError("bad c")

        app.on_batch("INSERT")(lambda records: seen.append(keys(records)))
        event = five()
        assert app.process(event).failures == [{"itemIdentifier": sequence(event, 2)}]
        assert seen == [["a", "b"]]

    def test_a_later_batch_failure_keeps_the_record_failure(self) -> None:
        """A batch failure after the loop's own failure point does not move it."""
        app = App(report_batch_item_failures=True)

        @app.on_insert
        def each(record: Insert) -> None:
            if record.keys["pk"] == "b":
                raise ValueError("bad b")

        @app.on_batch("INSERT", where={"pk": "a"})
        def bulk(records: Sequence[Record]) -> None:
            pass

        event = five()
        outcome = app.process(event)
        assert outcome.failures == [{"itemIdentifier": sequence(event, 1)}]
        assert isinstance(outcome.error, ValueError)

    def test_raise_mode_record_failure_runs_no_batch(self) -> None:
        """Without reporting, a failed record retries the whole batch: no batch route runs."""
        app = App()
        seen: list[list[str]] = []
        app.on_insert(lambda record: 1 / 0 if record.keys["pk"] == "c" else None)
        app.on_batch("INSERT")(lambda records: seen.append(keys(records)))
        with pytest.raises(ZeroDivisionError):
            app.handler(five(), None)
        assert seen == []

    def test_time_guard_runs_the_batch_for_records_done(self) -> None:
        """When the time guard stops the batch, the batch routes get the records that ran."""
        app = App(report_batch_item_failures=True, min_remaining_ms=1000)
        seen: list[list[str]] = []
        left = iter([5000, 500, 500, 500])

        class Context:
            def get_remaining_time_in_millis(self) -> int:
                return next(left)

        app.on_insert(lambda record: None)
        app.on_batch("INSERT")(lambda records: seen.append(keys(records)))
        event = five()
        response = app.handler(event, Context())
        assert seen == [["a", "b"]]
        assert response["batchItemFailures"][0] == {"itemIdentifier": sequence(event, 2)}

    def test_two_batch_routes_share_the_failure_point(self) -> None:
        """A later batch route gets only records before an earlier one's failure point."""
        app = App(report_batch_item_failures=True)
        seen: list[list[str]] = []

        @app.on_batch("INSERT")
        def first(records: Sequence[Record]) -> None:
            raise RecordsFailed([records[2]])

        app.on_batch("INSERT", name="second")(lambda records: seen.append(keys(records)))
        event = five()
        assert app.process(event).failures == [{"itemIdentifier": sequence(event, 2)}]
        assert seen == [["a", "b"]]


class TestIdempotent:
    def test_done_records_are_left_out(self) -> None:
        """With idempotent=True a record the route completed is not in the next list; the
        records at and after a failure point are given back and come again."""
        ledger = Ledger("ledger", client=MemoryLedgerClient())
        app = App(ledger=ledger, report_batch_item_failures=True)
        calls: list[list[str]] = []
        fail = ["c"]

        @app.on_batch("INSERT", idempotent=True, name="bulk")
        def bulk(records: Sequence[Record]) -> None:
            calls.append(keys(records))
            for record in records:
                if record.keys["pk"] in fail:
                    raise RecordsFailed([record])

        event = five()
        first = app.process(event)
        fail.clear()
        second = app.process(event)

        assert first.failures == [{"itemIdentifier": sequence(event, 2)}]
        assert calls == [["a", "b", "c", "d", "e"], ["c", "d", "e"]]
        assert second.failures == []
        assert second.duplicates == 2

    def test_given_back_after_a_record_failure(self) -> None:
        """Records gathered at or after a failed record are given back to the ledger."""
        ledger = Ledger("ledger", client=MemoryLedgerClient())
        app = App(ledger=ledger, report_batch_item_failures=True)
        calls: list[list[str]] = []
        app.on_insert(lambda record: 1 / 0 if record.keys["pk"] == "d" else None)

        @app.on_batch("INSERT", idempotent=True, name="bulk", size=2)
        def bulk(records: Sequence[Record]) -> None:
            calls.append(keys(records))

        client = ledger.client
        app.process(five())
        assert calls == [["a", "b"], ["c"]]
        statuses = sorted(item["status"]["S"] for item in client.items.values())
        assert statuses == ["COMPLETED"] * 3

    def test_raise_mode_gives_everything_back(self) -> None:
        """In raise mode a failure retries the batch whole: every owner is given back."""
        client = MemoryLedgerClient()
        app = App(ledger=Ledger("ledger", client=client))
        app.on_insert(lambda record: 1 / 0 if record.keys["pk"] == "b" else None)
        app.on_batch("INSERT", idempotent=True, name="bulk")(lambda records: None)
        with pytest.raises(ZeroDivisionError):
            app.handler(five(), None)
        assert client.items == {}
