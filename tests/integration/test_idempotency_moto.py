"""The record ledger against a real DynamoDB endpoint: moto's server.

Each test makes its own ledger table (``Ledger.create_table``) and runs apps whose routes
are ``idempotent=``; the ledger's entries are read back with boto3 to check its states.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from conftest import LoadExample
from ddbstream import App, Insert, Modify, Record, Router
from ddbstream.errors import LedgerError, RecordInProgressError, SetupError
from ddbstream.idempotency import COMPLETED, IN_PROGRESS, Ledger
from ddbstream.testing import event, insert, kinesis_event, modify, pipes_event

MakeLedger = Callable[..., Ledger]


class Clock:
    """An injected clock: seconds since the epoch, moved by hand."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Context:
    """A Lambda context with a fixed remaining time."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def make_ledger(dynamodb: Any) -> MakeLedger:
    """A new ledger table on moto's server, and a Ledger on it."""

    def make(**options: Any) -> Ledger:
        ledger = Ledger(f"ledger-{uuid.uuid4().hex[:12]}", client=dynamodb, **options)
        ledger.create_table()
        return ledger

    return make


def entry(ledger: Ledger, key: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = ledger.client.get_item(
        TableName=ledger.table_name, Key={"id": {"S": key}}, ConsistentRead=True
    ).get("Item")
    return item


def entries(ledger: Ledger) -> dict[str, str]:
    items = ledger.client.scan(TableName=ledger.table_name)["Items"]
    return {item["id"]["S"]: item["status"]["S"] for item in items}


class TestTable:
    def test_create_table_makes_the_key_and_ttl(self, make_ledger: MakeLedger) -> None:
        """create_table() makes partition key id (S) and Time to Live on expires; twice is fine."""
        ledger = make_ledger()
        ledger.create_table()  # exists already: left alone
        client = ledger.client
        table = client.describe_table(TableName=ledger.table_name)["Table"]
        assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
        ttl = client.describe_time_to_live(TableName=ledger.table_name)
        assert ttl["TimeToLiveDescription"] == {
            "TimeToLiveStatus": "ENABLED",
            "AttributeName": "expires",
        }


class TestOnce:
    def test_same_event_twice_runs_each_handler_once(self, make_ledger: MakeLedger) -> None:
        """A redelivered batch skips every idempotent route: duplicates, not failures."""
        ledger = make_ledger()
        app = App(ledger=ledger, idempotent=True)
        calls: list[str] = []

        @app.on_insert
        def welcome(record: Insert) -> None:
            calls.append(f"welcome {record.new['pk']}")

        @app.on_insert(name="audit")
        def audit(record: Insert) -> None:
            calls.append(f"audit {record.new['pk']}")

        batch = event(insert({"pk": "a"}), insert({"pk": "b"}))
        first = app.process(batch)
        second = app.process(batch)

        assert calls == ["welcome a", "audit a", "welcome b", "audit b"]
        assert (first.duplicates, first.failures, first.processed) == (0, [], 2)
        assert (second.duplicates, second.failures, second.processed) == (4, [], 2)
        assert second.ran == []  # skipped routes are not listed as run
        event_id = batch["Records"][0]["eventID"]
        module = __name__
        stored = entries(ledger)
        assert (
            stored[
                f"{module}:TestOnce.test_same_event_twice_runs_each_handler_once.<locals>.welcome#{event_id}"
            ]
            == COMPLETED
        )
        assert stored[f"audit#{event_id}"] == COMPLETED

    def test_completed_entry_expires_after(self, make_ledger: MakeLedger) -> None:
        """COMPLETED entries expire expires_after seconds from when the handler returned."""
        clock = Clock()
        ledger = make_ledger(expires_after=3600, clock=clock)
        app = App(ledger=ledger)
        app.on_insert(name="noop", idempotent=True)(lambda record: None)
        batch = event(insert({"pk": "a"}))
        app.handler(batch, None)
        item = entry(ledger, f"noop#{batch['Records'][0]['eventID']}")
        assert item is not None
        assert int(item["expires"]["N"]) == int(clock.now) + 3601
        assert "owner" not in item

    def test_failing_second_route_does_not_rerun_the_first(self, make_ledger: MakeLedger) -> None:
        """After route 2 failed, the retry skips route 1 and runs route 2 again."""
        ledger = make_ledger()
        app = App(ledger=ledger, report_batch_item_failures=True)
        calls: list[str] = []
        failures = [RuntimeError("mail server down")]

        @app.on_insert(name="charge", idempotent=True)
        def charge(record: Insert) -> None:
            calls.append("charge")

        @app.on_insert(name="mail", idempotent=True)
        def mail(record: Insert) -> None:
            calls.append("mail")
            if failures:
                raise failures.pop()

        batch = event(insert({"pk": "a"}))
        response = app.handler(batch, None)
        assert response["batchItemFailures"] == [
            {"itemIdentifier": batch["Records"][0]["dynamodb"]["SequenceNumber"]}
        ]
        event_id = batch["Records"][0]["eventID"]
        assert entries(ledger) == {f"charge#{event_id}": COMPLETED}  # mail's entry deleted
        assert app.handler(batch, None) == {"batchItemFailures": []}
        assert calls == ["charge", "mail", "mail"]

    def test_raise_mode_and_routes_without_idempotency(self, make_ledger: MakeLedger) -> None:
        """In raise mode the error propagates; routes not marked idempotent run every time."""
        ledger = make_ledger()
        app = App(ledger=ledger)
        calls: list[str] = []
        app.on_insert(name="once", idempotent=True)(lambda record: calls.append("once"))
        app.on_insert(name="always")(lambda record: calls.append("always"))

        @app.on_insert(name="fails", idempotent=True)
        def fails(record: Insert) -> None:
            raise ValueError("boom")

        batch = event(insert({"pk": "a"}))
        for _ in range(2):
            with pytest.raises(ValueError, match="boom"):
                app.handler(batch, None)
        assert calls == ["once", "always", "always"]

    def test_app_default_opt_out(self, make_ledger: MakeLedger) -> None:
        """idempotent=False on a registration opts out of App(idempotent=True)."""
        ledger = make_ledger()
        app = App(ledger=ledger, idempotent=True)
        calls: list[str] = []
        app.on_modify(name="out", idempotent=False)(lambda record: calls.append("out"))
        batch = event(modify({"pk": "a", "n": 1}, {"pk": "a", "n": 2}))
        app.handler(batch, None)
        app.handler(batch, None)
        assert calls == ["out", "out"]
        assert entries(ledger) == {}

    def test_fallback_is_idempotent_with_the_app(self, make_ledger: MakeLedger) -> None:
        """App(idempotent=True) covers on_unmatched fallbacks too."""
        ledger = make_ledger()
        app = App(ledger=ledger, idempotent=True)
        calls: list[str] = []

        @app.on_unmatched
        def rest(record: Record) -> None:
            calls.append(record.event_name)

        batch = event(insert({"pk": "a"}))
        app.handler(batch, None)
        assert app.process(batch).duplicates == 1
        assert calls == ["INSERT"]

    @pytest.mark.parametrize("source", ["kinesis", "pipes"])
    def test_other_sources(self, make_ledger: MakeLedger, source: str) -> None:
        """Kinesis and Pipes records are keyed by the change's eventID."""
        ledger = make_ledger()
        app = App(ledger=ledger, idempotent=True)
        calls: list[str] = []
        app.on_insert(name="seen")(lambda record: calls.append(record.new["pk"]))
        change = insert({"pk": "a"})
        batch: Any = kinesis_event(change) if source == "kinesis" else pipes_event(change)
        app.handler(batch, None)
        assert app.process(batch).duplicates == 1
        assert calls == ["a"]
        if source == "kinesis":
            inner = json.loads(base64.b64decode(batch["Records"][0]["kinesis"]["data"]))
            event_id = inner["eventID"]  # the change's, not the Kinesis record's
        else:
            event_id = change["eventID"]
        assert entries(ledger) == {f"seen#{event_id}": COMPLETED}

    def test_kinesis_duplicate_of_a_change(self, make_ledger: MakeLedger) -> None:
        """The same change in two Kinesis records (new sequence numbers) runs once."""
        ledger = make_ledger()
        app = App(ledger=ledger, idempotent=True)
        calls: list[str] = []
        app.on_insert(name="seen")(lambda record: calls.append(record.new["pk"]))
        first = kinesis_event(insert({"pk": "a"}))
        # The copy: the same change (kinesis.data), written again at a later sequence number.
        again = copy.deepcopy(first)
        again["Records"][0]["kinesis"]["sequenceNumber"] += "1"
        again["Records"][0]["eventID"] += "1"
        app.handler(first, None)
        app.handler(again, None)
        assert calls == ["a"]


class TestInProgress:
    def test_crash_then_expiry(self, make_ledger: MakeLedger) -> None:
        """A crashed invocation's claim fails the record until it expires, then is taken over."""
        clock = Clock()
        ledger = make_ledger(clock=clock)
        app = App(ledger=ledger, report_batch_item_failures=True)
        calls: list[str] = []
        app.on_insert(name="work", idempotent=True)(lambda record: calls.append("ran"))
        batch = event(insert({"pk": "a"}))
        # An invocation with 30 s left claims the record and dies before it completes.
        crashed = App(ledger=ledger)
        crashed.on_insert(name="work", idempotent=True)(lambda record: _crash())
        with pytest.raises(_Crash):
            crashed.handler(batch, Context(30_000))
        key = f"work#{batch['Records'][0]['eventID']}"
        claim = entry(ledger, key)
        assert claim is not None
        assert claim["status"]["S"] == IN_PROGRESS
        # The crash skipped the delete: the entry lives 30 s + a 10 s margin.
        assert int(claim["expires"]["N"]) == int(clock.now + 30 + 10) + 1

        clock.now += 20
        outcome = app.process(batch)
        assert isinstance(outcome.error, RecordInProgressError)
        assert "already running this record" in str(outcome.error)
        assert outcome.error.table_name == ledger.table_name
        assert outcome.error.route == "work"
        assert calls == []

        clock.now += 25  # past the claim's expiry: taken over
        assert app.process(batch).failures == []
        assert calls == ["ran"]
        assert entries(ledger) == {key: COMPLETED}

    def test_claim_without_context_uses_the_default(self, make_ledger: MakeLedger) -> None:
        """Without a Lambda context the claim lives in_progress_expires_after seconds."""
        clock = Clock()
        ledger = make_ledger(clock=clock, in_progress_expires_after=60)
        seen: list[int] = []
        app = App(ledger=ledger)

        @app.on_insert(name="peek", idempotent=True)
        def peek(record: Insert) -> None:
            claim = entry(ledger, f"peek#{record.event_id}")
            assert claim is not None
            seen.append(int(claim["expires"]["N"]))

        app.handler(event(insert({"pk": "a"})), None)
        assert seen == [int(clock.now) + 61]

    def test_two_threads_race_on_one_record(self, make_ledger: MakeLedger) -> None:
        """Two invocations at once on one record: the handler runs once, the other fails."""
        ledger = make_ledger()
        batch = event(insert({"pk": "a"}))
        started = threading.Event()
        release = threading.Event()
        calls: list[str] = []
        results: dict[str, Any] = {}

        def make_app() -> App:
            app = App(ledger=ledger, report_batch_item_failures=True)

            @app.on_insert(name="once", idempotent=True)
            def once(record: Insert) -> None:
                calls.append(threading.current_thread().name)
                started.set()
                release.wait(10)

            return app

        def invoke(name: str) -> None:
            results[name] = make_app().process(batch)

        first = threading.Thread(target=invoke, args=("first",), name="first")
        first.start()
        assert started.wait(10)
        invoke("second")  # while the first holds the claim
        release.set()
        first.join(10)

        assert calls == ["first"]
        assert results["first"].failures == []
        assert isinstance(results["second"].error, RecordInProgressError)
        # Lambda's retry of the second: now a duplicate.
        assert make_app().process(batch).duplicates == 1


class TestTransaction:
    def test_effect_and_mark_commit_together(self, make_ledger: MakeLedger, dynamodb: Any) -> None:
        """transact_item() goes into the handler's transaction; a redelivery is skipped."""
        ledger = make_ledger()
        app = App(ledger=ledger)
        totals = ledger.table_name  # the effect goes into the ledger table, under its own id
        calls: list[str] = []

        @app.on_insert(name="count", idempotent="transaction")
        def count(record: Insert) -> None:
            calls.append("count")
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": totals,
                            "Key": {"id": {"S": "total"}},
                            "UpdateExpression": "ADD amount :one SET #status = :s",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": {
                                ":one": {"N": "1"},
                                ":s": {"S": "TOTAL"},
                            },
                        }
                    },
                    app.ledger.transact_item(record),
                ]
            )

        batch = event(insert({"pk": "a"}))
        app.handler(batch, None)
        second = app.process(batch)
        assert second.duplicates == 1
        assert calls == ["count"]
        total = entry(ledger, "total")
        assert total is not None
        assert total["amount"] == {"N": "1"}
        assert entries(ledger)[f"count#{batch['Records'][0]['eventID']}"] == COMPLETED

    def test_failing_condition_leaves_no_marker(
        self, make_ledger: MakeLedger, dynamodb: Any
    ) -> None:
        """A transaction cancelled by the handler's own condition writes no mark: it runs again."""
        ledger = make_ledger()
        app = App(ledger=ledger, report_batch_item_failures=True)
        calls: list[str] = []

        @app.on_insert(name="reserve", idempotent="transaction")
        def reserve(record: Insert) -> None:
            calls.append("reserve")
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": ledger.table_name,
                            "Key": {"id": {"S": "stock"}},
                            "ConditionExpression": "attribute_exists(id)",  # no stock yet
                        }
                    },
                    app.ledger.transact_item(record),
                ]
            )

        batch = event(insert({"pk": "a"}))
        outcome = app.process(batch)
        assert type(outcome.error).__name__ == "TransactionCanceledException"
        assert entries(ledger) == {}
        app.process(batch)
        assert calls == ["reserve", "reserve"]

    def test_a_completed_mark_cancels_a_racing_transaction(self, make_ledger: MakeLedger) -> None:
        """Two deliveries that both passed the check: the second's transaction is cancelled."""
        ledger = make_ledger()
        app = App(ledger=ledger)
        items: list[dict[str, Any]] = []
        app.on_insert(name="mark", idempotent="transaction")(
            lambda record: items.append(app.ledger.transact_item(record))
        )
        batch = event(insert({"pk": "a"}))
        app.handler(batch, None)
        app.handler(batch, None)  # nothing committed yet: the check lets it through
        client = ledger.client
        client.transact_write_items(TransactItems=[items[0]])
        with pytest.raises(client.exceptions.TransactionCanceledException):
            client.transact_write_items(TransactItems=[items[1]])

    def test_transact_item_outside_a_transaction_route(self, make_ledger: MakeLedger) -> None:
        """transact_item() from another route is a SetupError saying what to register."""
        ledger = make_ledger()
        app = App(ledger=ledger)

        @app.on_insert(idempotent=True)
        def wrong(record: Insert) -> None:
            app.ledger.transact_item(record)

        outcome = app.process(event(insert({"pk": "a"})))
        assert isinstance(outcome.error, SetupError)
        assert "idempotent='transaction'" in str(outcome.error)
        assert entries(ledger) == {}  # the failed route's claim is deleted


class TestAsync:
    def test_async_handlers(self, make_ledger: MakeLedger) -> None:
        """async def routes: the ledger's calls run in a thread; each record runs once."""
        ledger = make_ledger()
        app = App(ledger=ledger, idempotent=True, report_batch_item_failures=True)
        calls: list[str] = []
        failures = [RuntimeError("once")]

        @app.on_insert(name="first")
        async def first(record: Insert) -> None:
            await asyncio.sleep(0)
            calls.append(f"first {record.new['pk']}")

        @app.on_insert(name="second")
        async def second(record: Insert) -> None:
            calls.append(f"second {record.new['pk']}")
            if record.new["pk"] == "b" and failures:
                raise failures.pop()

        batch = event(insert({"pk": "a"}), insert({"pk": "b"}))
        assert len(app.handler(batch, None)["batchItemFailures"]) == 1
        assert app.handler(batch, None) == {"batchItemFailures": []}
        third = app.process(batch)
        assert sorted(calls) == ["first a", "first b", "second a", "second b", "second b"]
        assert third.duplicates == 4

    def test_async_transaction(self, make_ledger: MakeLedger) -> None:
        """An async transaction route is checked before it runs and skipped once marked."""
        ledger = make_ledger()
        app = App(ledger=ledger)
        calls: list[str] = []

        @app.on_insert(name="mark", idempotent="transaction")
        async def mark(record: Insert) -> None:
            calls.append("mark")
            item = app.ledger.transact_item(record)
            await asyncio.to_thread(ledger.client.transact_write_items, TransactItems=[item])

        batch = event(insert({"pk": "a"}))
        app.handler(batch, None)
        assert app.process(batch).duplicates == 1
        assert calls == ["mark"]

    def test_sync_wrapper_of_a_coroutine(self, make_ledger: MakeLedger) -> None:
        """A plain function returning a coroutine completes once the coroutine ran."""
        ledger = make_ledger()
        app = App(ledger=ledger)
        calls: list[str] = []

        async def work(record: Modify) -> None:
            calls.append("work")

        async def broken(record: Modify) -> None:
            raise ValueError("broken")

        app.on_modify(name="work", idempotent=True)(lambda record: work(record))
        app.on_modify(name="broken", idempotent=True)(lambda record: broken(record))
        batch = event(modify({"pk": "a", "n": 1}, {"pk": "a", "n": 2}))
        with pytest.raises(ValueError, match="broken"):
            app.handler(batch, None)
        assert entries(ledger) == {f"work#{batch['Records'][0]['eventID']}": COMPLETED}
        assert calls == ["work"]


class TestErrors:
    def test_missing_table(self, dynamodb: Any) -> None:
        """A missing ledger table fails the record with a LedgerError saying how to create it."""
        ledger = Ledger("no-such-ledger", client=dynamodb)
        app = App(ledger=ledger)
        app.on_insert(name="work", idempotent=True)(lambda record: None)
        outcome = app.process(event(insert({"pk": "a"})))
        error = outcome.error
        assert isinstance(error, LedgerError)
        assert "Ledger table 'no-such-ledger' does not exist" in str(error)
        assert "Ledger.create_table()" in str(error)
        assert error.table_name == "no-such-ledger"
        assert error.event_id == outcome.failed_record.event_id  # type: ignore[union-attr]
        assert isinstance(error.__cause__, dynamodb.exceptions.ResourceNotFoundException)

    def test_missing_table_in_transaction_mode(self, dynamodb: Any) -> None:
        """The transaction mode's check fails the same way."""
        app = App(ledger=Ledger("no-such-ledger", client=dynamodb))
        app.on_insert(name="work", idempotent="transaction")(lambda record: None)
        outcome = app.process(event(insert({"pk": "a"})))
        assert isinstance(outcome.error, LedgerError)
        assert "GetItem" not in str(outcome.error)
        assert "does not exist" in str(outcome.error)

    @pytest.mark.parametrize(
        ("code", "expected"),
        [
            ("AccessDeniedException", "may not call PutItem on ledger table 'stub'"),
            ("ProvisionedThroughputExceededException", "throttled PutItem on ledger table"),
            ("ThrottlingException", "on-demand capacity"),
            ("InternalServerError", "PutItem on ledger table 'stub' failed"),
        ],
    )
    def test_client_errors(self, code: str, expected: str) -> None:
        """Access denied and throttling (after boto3's retries) are LedgerErrors with advice."""
        from botocore.exceptions import ClientError

        class Client:
            def put_item(self, **request: Any) -> None:
                raise ClientError({"Error": {"Code": code, "Message": "no"}}, "PutItem")

        app = App(ledger=Ledger("stub", client=Client()))
        app.on_insert(name="work", idempotent=True)(lambda record: None)
        outcome = app.process(event(insert({"pk": "a"})))
        assert isinstance(outcome.error, LedgerError)
        assert expected in str(outcome.error)
        assert "route 'work'" in str(outcome.error)

    def test_failed_completion_and_delete(
        self, make_ledger: MakeLedger, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A failed COMPLETED write is logged, not a failure; a failed delete becomes a note."""
        from botocore.exceptions import ClientError

        ledger = make_ledger()
        real = ledger.client

        class Flaky:
            def put_item(self, **request: Any) -> Any:
                if request["Item"]["status"]["S"] == COMPLETED:
                    raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "PutItem")
                return real.put_item(**request)

            def delete_item(self, **request: Any) -> Any:
                raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "DeleteItem")

        flaky = Ledger(ledger.table_name, client=Flaky())
        app = App(ledger=flaky)
        app.on_insert(name="works", idempotent=True)(lambda record: None)
        outcome = app.process(event(insert({"pk": "a"})))
        assert outcome.failures == []  # failing it would make the retry run the handler again
        [logged] = caplog.records
        assert logged.levelname == "ERROR"
        assert "could not be marked COMPLETED" in logged.getMessage()
        assert "may not call PutItem on ledger table" in logged.getMessage()

        other = App(ledger=flaky)

        @other.on_insert(name="fails", idempotent=True)
        def fails(record: Insert) -> None:
            raise ValueError("handler")

        outcome = other.process(event(insert({"pk": "b"})))
        assert isinstance(outcome.error, ValueError)
        notes = getattr(outcome.error, "__notes__", [])
        assert any("could not be deleted" in note for note in notes)


class TestSetup:
    def test_router_included_later_needs_the_ledger(self) -> None:
        """A router's idempotent route in an app without a ledger fails when the app starts."""
        router = Router()
        router.on_insert(idempotent=True)(lambda record: None)
        app = App()
        app.include_router(router)
        with pytest.raises(SetupError, match="has no ledger"):
            app.handler(event(insert({"pk": "a"})), None)


def _crash() -> None:
    raise _Crash


class _Crash(BaseException):
    """Stands for the invocation dying: not an Exception, so no delete runs."""


class TestPowertools:
    def test_idempotent_function_deduplicates_records(
        self, make_ledger: MakeLedger, dynamodb: Any
    ) -> None:
        """Powertools' idempotent_function given a Record keys it by the change's eventID."""
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        table = make_ledger().table_name  # Powertools' table: the same key schema
        persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=dynamodb)
        config = IdempotencyConfig(event_key_jmespath="eventID")
        sent: list[str] = []

        @idempotent_function(  # type: ignore[untyped-decorator]  # Powertools: untyped here
            data_keyword_argument="record", persistence_store=persistence, config=config
        )
        def send_welcome(record: Insert) -> str:
            sent.append(record.new["pk"])
            return "sent"

        app = App()

        @app.on_insert
        def welcome(record: Insert, context: Any) -> None:
            config.register_lambda_context(context)  # Powertools reads the remaining time
            send_welcome(record=record)

        batch = event(insert({"pk": "a"}), insert({"pk": "b"}))
        context = Context(60_000)
        app.handler(batch, context)
        app.handler(batch, context)
        assert sent == ["a", "b"]
        kinesis = kinesis_event(insert({"pk": "c"}))
        app.handler(kinesis, context)
        app.handler(kinesis, context)
        assert sent == ["a", "b", "c"]
        keys = [item["id"]["S"] for item in dynamodb.scan(TableName=table)["Items"]]
        assert len(keys) == 3


class TestDocsExamples:
    """The idempotency page's examples, against moto's server as they would run in Lambda."""

    @pytest.fixture
    def environment(
        self, moto_endpoint: str, make_ledger: MakeLedger, monkeypatch: pytest.MonkeyPatch
    ) -> Ledger:
        ledger = make_ledger()
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_endpoint)
        monkeypatch.setenv("LEDGER_TABLE", ledger.table_name)
        monkeypatch.setenv("IDEMPOTENCY_TABLE", ledger.table_name)
        return ledger

    def test_app(self, environment: Ledger, load_example: LoadExample) -> None:
        """The routes marked idempotent=True run once per record; the others every time."""
        example = load_example("idempotency_app")
        batch = event(
            insert({"pk": "c#1", "email": "ana@example.com"}),
            modify(
                {"pk": "o#1", "orderId": "o#1", "status": "NEW"},
                {"pk": "o#1", "orderId": "o#1", "status": "PAID"},
            ),
        )
        for _ in range(2):
            assert example.handler(batch, Context(60_000)) == {"batchItemFailures": []}
        assert example.sent == ["welcome ana@example.com", "charge o#1"]
        names = sorted(key.split("#")[0] for key in entries(environment))
        assert names == ["charge-card", "docs_example_idempotency_app:send_welcome"]

    def test_transaction(
        self, environment: Ledger, load_example: LoadExample, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The order is counted once however often it is delivered."""
        totals = Ledger(f"totals-{uuid.uuid4().hex[:8]}", client=environment.client)
        totals.create_table()
        monkeypatch.setenv("TOTALS_TABLE", totals.table_name)
        example = load_example("idempotency_transaction")
        batch = event(insert({"pk": "o#1", "customer": "ana"}))
        for _ in range(3):
            example.handler(batch, None)
        total = entry(totals, "ana")
        assert total is not None
        assert total["orders"] == {"N": "1"}

    def test_powertools(self, environment: Ledger, load_example: LoadExample) -> None:
        """Powertools' idempotent_function sends one welcome per record."""
        example = load_example("idempotency_powertools")
        batch = event(insert({"pk": "c#1", "email": "ana@example.com"}))
        for _ in range(2):
            example.handler(batch, Context(60_000))
        assert example.sent == ["welcome ana@example.com"]
