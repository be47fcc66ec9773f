"""Failures and retries: stop at the first failure, raise or report it, never lose a record."""

from __future__ import annotations

import copy
import json
import logging
from types import MappingProxyType
from typing import Any

import pytest

from conftest import LoadEvent
from ddbstream import App, Record
from ddbstream.errors import DecodeError, MissingImageError, OutOfTimeError, RecordError, SetupError

INSERT_SEQ = "4421584500000000017450439091"
MODIFY_SEQ = "4421584600000000017450439092"
REMOVE_SEQ = "4421584700000000017450439093"
MODIFY_ID = "eccbc87e4b5ce2fe28308fd9f2a7baf3"


class Context:
    """A Lambda context whose remaining time is scripted, one value per call."""

    def __init__(self, *remaining_ms: int) -> None:
        self.remaining = list(remaining_ms)
        self.calls = 0

    def get_remaining_time_in_millis(self) -> int:
        self.calls += 1
        return self.remaining.pop(0) if len(self.remaining) > 1 else self.remaining[0]


def notes(error: BaseException) -> list[str]:
    """The notes added to *error* (``__notes__``, which Python 3.10 does not declare)."""
    found: list[str] = getattr(error, "__notes__", [])
    return found


@pytest.fixture
def batch(load_event: LoadEvent) -> dict[str, Any]:
    """A fresh copy of the INSERT, MODIFY, REMOVE batch."""
    event: dict[str, Any] = copy.deepcopy(load_event("batch.json"))
    return event


def tracking_app(*, fail_on: str | None = None, **options: Any) -> tuple[App, list[str]]:
    """An app that records the events it handles and raises ValueError on *fail_on*."""
    app = App(**options)
    ran: list[str] = []

    @app.on("INSERT", "MODIFY", "REMOVE")
    def handle(record: Record) -> None:
        ran.append(record.event_name)
        if record.event_name == fail_on:
            raise ValueError(f"cannot handle {record.event_name}")

    return app, ran


class TestDefaultMode:
    def test_success(self, batch: dict[str, Any]) -> None:
        """A batch without failures runs every record in order and reports nothing."""
        app, ran = tracking_app()

        assert app.handler(batch, None) == {"batchItemFailures": []}
        assert ran == ["INSERT", "MODIFY", "REMOVE"]

    def test_first_failure_is_raised_with_its_own_type(self, batch: dict[str, Any]) -> None:
        """The handler's exception propagates unchanged, and later records are not run."""
        app, ran = tracking_app(fail_on="MODIFY")

        with pytest.raises(ValueError, match="cannot handle MODIFY") as caught:
            app.handler(batch, None)

        assert type(caught.value) is ValueError
        assert ran == ["INSERT", "MODIFY"]

    def test_note_names_the_record(self, batch: dict[str, Any]) -> None:
        """The raised exception carries a note naming the record's eventID and sequence number."""
        app, _ = tracking_app(fail_on="MODIFY")

        with pytest.raises(ValueError, match="cannot handle MODIFY") as caught:
            app.handler(batch, None)

        assert notes(caught.value) == [
            f"ddbstream: record 2 of 3 failed, eventID '{MODIFY_ID}', SequenceNumber '{MODIFY_SEQ}'"
        ]

    def test_later_handlers_of_the_record_do_not_run(self, batch: dict[str, Any]) -> None:
        """A failure stops the failed record's remaining handlers too."""
        app = App()
        ran: list[str] = []
        app.on_insert(name="first")(lambda record: ran.append("first"))

        @app.on_insert
        def broken(record: Record) -> None:
            raise KeyError("x")

        app.on_insert(name="third")(lambda record: ran.append("third"))

        with pytest.raises(KeyError):
            app.handler(batch, None)
        assert ran == ["first"]


class TestReportMode:
    def test_reports_the_failed_record(self, batch: dict[str, Any]) -> None:
        """The first failure is reported by its SequenceNumber; later records are not run."""
        app, ran = tracking_app(fail_on="MODIFY", report_batch_item_failures=True)

        response = app.handler(batch, None)

        assert response == {"batchItemFailures": [{"itemIdentifier": MODIFY_SEQ}]}
        assert ran == ["INSERT", "MODIFY"]
        assert json.loads(json.dumps(response)) == response

    def test_first_record_fails(self, batch: dict[str, Any]) -> None:
        """A failure of the first record reports it and runs nothing after it."""
        app, ran = tracking_app(fail_on="INSERT", report_batch_item_failures=True)

        response = app.handler(batch, None)

        assert response == {"batchItemFailures": [{"itemIdentifier": INSERT_SEQ}]}
        assert ran == ["INSERT"]

    def test_failure_is_logged(self, batch: dict[str, Any], caplog: Any) -> None:
        """A reported failure is logged with its traceback, so it is not invisible."""
        app, _ = tracking_app(fail_on="REMOVE", report_batch_item_failures=True)

        with caplog.at_level(logging.ERROR, logger="ddbstream"):
            app.handler(batch, None)

        (entry,) = caplog.records
        assert REMOVE_SEQ in entry.getMessage()
        assert entry.exc_info is not None
        assert isinstance(entry.exc_info[1], ValueError)

    def test_retry_from_the_failure_succeeds(self, batch: dict[str, Any]) -> None:
        """Lambda's retry (the batch from the failed record on) runs each record exactly once."""
        failures = iter([True])
        app = App(report_batch_item_failures=True)
        ran: list[str] = []

        @app.on("INSERT", "MODIFY", "REMOVE")
        def flaky(record: Record) -> None:
            if record.event_name == "MODIFY" and next(failures, False):
                raise TimeoutError("downstream busy")
            ran.append(record.event_name)

        first = app.handler(batch, None)
        failed = first["batchItemFailures"][0]["itemIdentifier"]
        retry = {
            "Records": [
                raw
                for raw in batch["Records"]
                if int(raw["dynamodb"]["SequenceNumber"]) >= int(failed)
            ]
        }
        second = app.handler(retry, None)

        assert second == {"batchItemFailures": []}
        assert ran == ["INSERT", "MODIFY", "REMOVE"]


class TestIdentifiers:
    @pytest.mark.parametrize("sequence_number", [None, "", 12345])
    def test_record_without_sequence_number_fails_the_batch(
        self, batch: dict[str, Any], sequence_number: Any
    ) -> None:
        """Reporting, a record with no usable SequenceNumber fails the batch before any runs."""
        app, ran = tracking_app(report_batch_item_failures=True)
        last = batch["Records"][2]["dynamodb"]
        if sequence_number is None:
            del last["SequenceNumber"]
        else:
            last["SequenceNumber"] = sequence_number

        with pytest.raises(RecordError, match=r"no dynamodb\.SequenceNumber") as caught:
            app.handler(batch, None)

        assert ran == []
        assert caught.value.event_id == "a87ff679a2f3e71d9181a67b7542122c"

    def test_without_reporting_no_identifier_is_needed(self, batch: dict[str, Any]) -> None:
        """Not reporting, any failure retries the whole batch: records without one just run."""
        app, ran = tracking_app()
        for raw in batch["Records"]:
            del raw["dynamodb"]["SequenceNumber"]

        assert app.handler(batch, None) == {"batchItemFailures": []}
        assert ran == ["INSERT", "MODIFY", "REMOVE"]

    def test_without_reporting_a_failure_is_named_by_event_id(self, batch: dict[str, Any]) -> None:
        """A failed record with no SequenceNumber is named by its eventID in the note."""
        app = App()

        @app.on_remove
        def fail(record: Record) -> None:
            raise ValueError("boom")

        del batch["Records"][2]["dynamodb"]["SequenceNumber"]

        with pytest.raises(ValueError, match="boom") as caught:
            app.handler(batch, None)

        assert notes(caught.value) == [
            "ddbstream: record 3 of 3 failed, eventID 'a87ff679a2f3e71d9181a67b7542122c'"
        ]

    def test_process_agrees_with_the_handler(self, batch: dict[str, Any]) -> None:
        """App.process (and so testing.run and invoke) reads identifiers as the handler does."""
        app, ran = tracking_app()
        del batch["Records"][1]["dynamodb"]["SequenceNumber"]

        outcome = app.process(batch)

        assert (outcome.failures, outcome.error, outcome.processed) == ([], None, 3)
        assert ran == ["INSERT", "MODIFY", "REMOVE"]

    def test_process_names_a_failure_without_identifier(self, batch: dict[str, Any]) -> None:
        """Not reporting, a failed record without an identifier has an empty one in process."""
        app = App()
        app.on_modify(lambda record: 1 / 0)
        del batch["Records"][1]["dynamodb"]["SequenceNumber"]

        outcome = app.process(batch)

        assert outcome.failures == [{"itemIdentifier": ""}]
        assert isinstance(outcome.error, ZeroDivisionError)
        assert outcome.processed == 1

    def test_a_failed_record_without_any_name(self, batch: dict[str, Any]) -> None:
        """A failed record with neither eventID nor SequenceNumber is named by position only."""
        app, _ = tracking_app(fail_on="INSERT")
        first = batch["Records"][0]
        del first["eventID"], first["dynamodb"]["SequenceNumber"]

        with pytest.raises(ValueError, match="cannot handle INSERT") as caught:
            app.handler(batch, None)

        assert notes(caught.value) == ["ddbstream: record 1 of 3 failed"]

    def test_unusual_but_valid_records_run(self, batch: dict[str, Any]) -> None:
        """A record whose dynamodb block is a Mapping but not a dict takes the careful path."""
        app, ran = tracking_app()
        app.on_modify(lambda record: ran.append(record.new["status"]))
        batch["Records"][1]["dynamodb"] = MappingProxyType(batch["Records"][1]["dynamodb"])

        assert app.handler(batch, None) == {"batchItemFailures": []}
        assert ran == ["INSERT", "MODIFY", "SHIPPED", "REMOVE"]

    def test_a_record_that_is_no_object_is_named_by_its_type(self, batch: dict[str, Any]) -> None:
        """A record that is not an object fails when reached, its note saying what it is."""
        app, ran = tracking_app()
        batch["Records"].insert(1, None)

        with pytest.raises(
            RecordError, match="a record must be a JSON object, got NoneType"
        ) as caught:
            app.handler(batch, None)

        assert ran == ["INSERT"]
        assert notes(caught.value) == [
            "ddbstream: record 2 of 4 failed, a NoneType instead of a record object"
        ]

    @pytest.mark.parametrize("index", [0, 1])
    @pytest.mark.parametrize("event_source", ["aws:dynamodb", None])
    def test_record_without_dynamodb_block(
        self, batch: dict[str, Any], index: int, event_source: str | None
    ) -> None:
        """Reporting, a record with no dynamodb block cannot be reported: the batch fails."""
        app, ran = tracking_app(report_batch_item_failures=True)
        raw = batch["Records"][index]
        del raw["dynamodb"]
        if event_source is None:
            del raw["eventSource"]

        with pytest.raises(RecordError, match="whole batch fails") as caught:
            app.handler(batch, None)

        assert ran == []
        assert caught.value.event_id == raw["eventID"]

    @pytest.mark.parametrize("index", [0, 1])
    def test_record_without_dynamodb_block_not_reporting(
        self, batch: dict[str, Any], index: int
    ) -> None:
        """Not reporting, a record with no dynamodb block fails when its turn comes."""
        app, ran = tracking_app()
        raw = batch["Records"][index]
        del raw["dynamodb"]

        with pytest.raises(RecordError, match="record has no 'dynamodb' object") as caught:
            app.handler(batch, None)

        assert ran == ["INSERT", "MODIFY"][:index]
        assert caught.value.event_id == raw["eventID"]

    def test_identifiers_read_before_decoding(self, batch: dict[str, Any]) -> None:
        """Identifiers are checked before any image is decoded: a bad value comes second."""
        app, ran = tracking_app(report_batch_item_failures=True)
        app.on_insert(lambda record: record.new)
        batch["Records"][0]["dynamodb"]["NewImage"]["total"] = {"N": "bad"}
        del batch["Records"][2]["dynamodb"]["SequenceNumber"]

        with pytest.raises(RecordError) as caught:
            app.handler(batch, None)

        assert not isinstance(caught.value, DecodeError)
        assert ran == []

    def test_reported_identifier_is_the_raw_one(self, batch: dict[str, Any]) -> None:
        """A record that cannot be decoded is still reported by its raw SequenceNumber."""
        app = App(report_batch_item_failures=True)
        app.on_modify(lambda record: record.new)
        batch["Records"][1]["dynamodb"]["NewImage"]["items"] = {"L": "not a list"}

        response = app.handler(batch, None)

        assert response == {"batchItemFailures": [{"itemIdentifier": MODIFY_SEQ}]}


class TestMalformedRecords:
    @pytest.mark.parametrize(
        ("change", "error", "message"),
        [
            (
                lambda raw: raw.update(eventName="UPSERT"),
                RecordError,
                "unknown eventName 'UPSERT'",
            ),
            (
                lambda raw: raw["dynamodb"]["NewImage"].update(zip={"N": "1O115"}),
                DecodeError,
                "NewImage.zip: not a number: '1O115'",
            ),
            (
                lambda raw: raw["dynamodb"]["NewImage"].update(photo={"B": "not base64!"}),
                DecodeError,
                "NewImage.photo: invalid base64",
            ),
            (
                lambda raw: raw["dynamodb"]["NewImage"].update(x={"DATE": "2024-01-01"}),
                DecodeError,
                "NewImage.x: unknown type tag 'DATE'",
            ),
            (
                lambda raw: raw["dynamodb"].pop("OldImage"),
                MissingImageError,
                "NEW_AND_OLD_IMAGES",
            ),
        ],
    )
    @pytest.mark.parametrize("report", [False, True])
    def test_fails_that_record(
        self,
        batch: dict[str, Any],
        report: bool,
        change: Any,
        error: type[Exception],
        message: str,
    ) -> None:
        """A malformed record fails (reported or raised) with a message naming it."""
        app = App(report_batch_item_failures=report)
        ran: list[str] = []

        @app.on("INSERT", "MODIFY", "REMOVE")
        def handle(record: Record) -> None:
            ran.append(record.event_name)
            _ = record.diff  # reads both images

        change(batch["Records"][1])

        if report:
            response = app.handler(batch, None)
            assert response == {"batchItemFailures": [{"itemIdentifier": MODIFY_SEQ}]}
            outcome = app.process(batch)
            assert isinstance(outcome.error, error)
            assert message in str(outcome.error)
        else:
            with pytest.raises(error, match=message) as caught:
                app.handler(batch, None)
            assert f"SequenceNumber '{MODIFY_SEQ}'" in notes(caught.value)[0]
        assert ran[0] == "INSERT"
        assert "REMOVE" not in ran

    def test_decode_error_in_a_filter_fails_the_record(self, batch: dict[str, Any]) -> None:
        """A filter that meets a bad value fails the record, naming the image path."""
        app = App(report_batch_item_failures=True)
        app.on_modify(new={"status": "SHIPPED"})(lambda record: None)
        batch["Records"][1]["dynamodb"]["NewImage"]["status"] = {"S": "x", "N": "1"}

        outcome = app.process(batch)

        assert outcome.failures == [{"itemIdentifier": MODIFY_SEQ}]
        assert isinstance(outcome.error, DecodeError)
        assert outcome.error.path.startswith("NewImage.status")
        assert outcome.error.sequence_number == MODIFY_SEQ

    def test_record_that_is_not_an_object(self, app: App) -> None:
        """A record that is not a JSON object fails the batch, as it has no identifier."""
        with pytest.raises(RecordError):
            app.handler({"Records": ["INSERT"]}, None)


class TestErrorHooks:
    def test_bare_hook_handles_every_error(self, batch: dict[str, Any]) -> None:
        """A bare ``@app.on_error`` hook sees (record, exception) and handles the failure."""
        app, ran = tracking_app(fail_on="MODIFY", report_batch_item_failures=True)
        seen: list[tuple[str, str]] = []

        @app.on_error
        def hook(record: Record, error: Exception) -> None:
            seen.append((record.event_name, str(error)))

        response = app.handler(batch, None)

        assert response == {"batchItemFailures": []}
        assert seen == [("MODIFY", "cannot handle MODIFY")]
        assert ran == ["INSERT", "MODIFY", "REMOVE"]

    def test_decorator_returns_the_hook(self, app: App) -> None:
        """Both forms of on_error return the hook unchanged."""

        def hook(record: Record, error: Exception) -> None:
            pass

        assert app.on_error(hook) is hook
        assert app.on_error(ValueError)(hook) is hook
        assert app.on_error()(hook) is hook

    def test_typed_hook_only_for_its_type(self, batch: dict[str, Any]) -> None:
        """``@app.on_error(KeyError)`` does not handle a ValueError."""
        app, _ = tracking_app(fail_on="MODIFY")
        seen: list[Exception] = []
        app.on_error(KeyError)(lambda record, error: seen.append(error))

        with pytest.raises(ValueError, match="cannot handle MODIFY"):
            app.handler(batch, None)
        assert seen == []

    def test_first_matching_hook_runs(self, batch: dict[str, Any]) -> None:
        """Only the first registered hook whose type matches runs."""
        app, _ = tracking_app(fail_on="REMOVE")
        seen: list[str] = []
        app.on_error(KeyError)(lambda record, error: seen.append("key"))
        app.on_error(ValueError)(lambda record, error: seen.append("value"))
        app.on_error(Exception)(lambda record, error: seen.append("any"))

        app.handler(batch, None)

        assert seen == ["value"]

    def test_handled_record_runs_its_remaining_handlers(self, batch: dict[str, Any]) -> None:
        """After a hook handles a failure, the record's remaining handlers still run."""
        app = App()
        ran: list[str] = []

        @app.on_insert
        def broken(record: Record) -> None:
            raise RuntimeError("flaky")

        app.on_insert(name="after")(lambda record: ran.append("after"))
        app.on_error(RuntimeError)(lambda record, error: ran.append("hook"))

        app.handler(batch, None)

        assert ran == ["hook", "after"]

    @pytest.mark.parametrize("report", [False, True])
    def test_raising_hook_keeps_the_record_failed(
        self, batch: dict[str, Any], report: bool
    ) -> None:
        """A hook that raises keeps the record failed; its exception is what fails it."""
        app, ran = tracking_app(fail_on="MODIFY", report_batch_item_failures=report)

        @app.on_error
        def escalate(record: Record, error: Exception) -> None:
            raise LookupError(f"escalated {record.sequence_number}") from error

        if report:
            response = app.handler(batch, None)
            assert response == {"batchItemFailures": [{"itemIdentifier": MODIFY_SEQ}]}
        else:
            with pytest.raises(LookupError, match=f"escalated {MODIFY_SEQ}") as caught:
                app.handler(batch, None)
            assert isinstance(caught.value.__cause__, ValueError)
        assert ran == ["INSERT", "MODIFY"]

    def test_reraising_the_error(self, batch: dict[str, Any]) -> None:
        """A hook that re-raises (after logging, say) keeps the original failure."""
        app, _ = tracking_app(fail_on="MODIFY")
        logged: list[str] = []

        @app.on_error
        def log_and_raise(record: Record, error: Exception) -> None:
            logged.append(str(error))
            raise error

        with pytest.raises(ValueError, match="cannot handle MODIFY"):
            app.handler(batch, None)
        assert logged == ["cannot handle MODIFY"]

    def test_hooks_see_decode_errors(self, batch: dict[str, Any]) -> None:
        """Decoding failures reach the hooks too, with the record."""
        app = App(report_batch_item_failures=True)
        app.on_modify(lambda record: record.new)
        seen: list[tuple[str | None, str]] = []
        app.on_error(DecodeError)(lambda record, error: seen.append((record.event_id, error.path)))
        batch["Records"][1]["dynamodb"]["NewImage"]["total"] = {"N": "?"}

        assert app.handler(batch, None) == {"batchItemFailures": []}
        assert seen == [(MODIFY_ID, "NewImage.total")]

    @pytest.mark.parametrize("exception", [KeyboardInterrupt, SystemExit, BaseException])
    def test_only_exception_types(self, app: App, exception: type[BaseException]) -> None:
        """on_error refuses exception types that are not Exceptions."""
        with pytest.raises(SetupError, match=f"subclass of Exception, got {exception.__name__}"):
            app.on_error(exception)

    def test_add_error_handler_checks_its_arguments(self, app: App) -> None:
        """add_error_handler refuses a non-exception type and a non-callable hook."""
        with pytest.raises(SetupError, match="takes an exception class, got 'x'"):
            app.add_error_handler("x", lambda record, error: None)  # type: ignore[arg-type]
        with pytest.raises(SetupError, match="must be callable, got 3"):
            app.add_error_handler(ValueError, 3)  # type: ignore[arg-type]
        with pytest.raises(SetupError, match="must be callable"):
            app.on_error(3)  # type: ignore[call-overload]


class TestTimeGuard:
    def test_report_mode_reports_the_rest(self, batch: dict[str, Any]) -> None:
        """With too little time left, the record and every one after it are reported."""
        app, ran = tracking_app(report_batch_item_failures=True)

        response = app.handler(batch, Context(900))

        assert response == {
            "batchItemFailures": [{"itemIdentifier": MODIFY_SEQ}, {"itemIdentifier": REMOVE_SEQ}]
        }
        assert ran == ["INSERT"]

    def test_default_mode_raises_out_of_time(self, batch: dict[str, Any]) -> None:
        """Without reporting, running out of time raises OutOfTimeError before the record."""
        app, ran = tracking_app()

        with pytest.raises(OutOfTimeError) as caught:
            app.handler(batch, Context(60_000, 10))

        assert ran == ["INSERT", "MODIFY"]
        message = str(caught.value)
        assert "less than 1000 ms" in message
        assert "1 of 3 records" in message
        assert repr(REMOVE_SEQ) in message
        assert "report_batch_item_failures" in message

    def test_checked_before_every_record_but_the_first(self, batch: dict[str, Any]) -> None:
        """The remaining time is read once before each record after the first."""
        app, _ = tracking_app()
        context = Context(60_000)

        app.handler(batch, context)

        assert context.calls == 2

    @pytest.mark.parametrize("report", [True, False])
    def test_the_first_record_always_runs(self, batch: dict[str, Any], report: bool) -> None:
        """An invocation that starts short of time still runs one record, so retries progress."""
        app, ran = tracking_app(report_batch_item_failures=report, min_remaining_ms=5_000)

        if report:
            response = app.handler(batch, Context(999))
            assert len(response["batchItemFailures"]) == 2
        else:
            with pytest.raises(OutOfTimeError):
                app.handler(batch, Context(999))

        assert ran == ["INSERT"]

    @pytest.mark.parametrize(
        ("margin", "remaining", "runs"), [(0, 0, 3), (100, 150, 3), (200, 150, 1)]
    )
    def test_min_remaining_ms(
        self, batch: dict[str, Any], margin: int, remaining: int, runs: int
    ) -> None:
        """``min_remaining_ms`` sets the margin below which no further record starts."""
        app, ran = tracking_app(report_batch_item_failures=True, min_remaining_ms=margin)

        response = app.handler(batch, Context(remaining))

        assert len(ran) == runs
        assert len(response["batchItemFailures"]) == 3 - runs

    @pytest.mark.parametrize("context", [None, object(), {"remaining": 0}])
    def test_no_usable_context_no_guard(self, batch: dict[str, Any], context: Any) -> None:
        """Without a Lambda context (tests, scripts) every record runs."""
        app, ran = tracking_app()

        app.handler(batch, context)

        assert ran == ["INSERT", "MODIFY", "REMOVE"]


class TestResponses:
    def test_empty_batch(self, app: App) -> None:
        """An empty batch returns an empty failure list and runs nothing."""
        ran: list[Record] = []
        app.on("INSERT", "MODIFY", "REMOVE")(ran.append)

        assert app.handler({"Records": []}, None) == {"batchItemFailures": []}
        assert ran == []

    @pytest.mark.parametrize("fail_on", [None, "INSERT", "MODIFY", "REMOVE"])
    @pytest.mark.parametrize("remaining", [60_000, 0])
    def test_always_json_serializable(
        self, batch: dict[str, Any], fail_on: str | None, remaining: int
    ) -> None:
        """Whatever happens, the response survives ``json.dumps`` unchanged."""
        app, _ = tracking_app(fail_on=fail_on, report_batch_item_failures=True)

        response = app.handler(batch, Context(remaining))

        assert json.loads(json.dumps(response)) == response
        assert set(response) == {"batchItemFailures"}
        for failure in response["batchItemFailures"]:
            assert set(failure) == {"itemIdentifier"}
            assert isinstance(failure["itemIdentifier"], str)
            assert failure["itemIdentifier"]


class TestProcess:
    def test_outcome_of_a_failed_batch(self, batch: dict[str, Any]) -> None:
        """process() returns the records started, the routes run, the failures and the error."""
        app, _ = tracking_app(fail_on="MODIFY")

        outcome = app.process(batch)

        assert [record.event_name for record in outcome.records] == ["INSERT", "MODIFY"]
        assert [(record.event_name, name) for record, name in outcome.ran] == [
            ("INSERT", "tracking_app.<locals>.handle"),
            ("MODIFY", "tracking_app.<locals>.handle"),
        ]
        assert outcome.failures == [{"itemIdentifier": MODIFY_SEQ}]
        assert isinstance(outcome.error, ValueError)
        assert outcome.processed == 1
        assert repr(outcome) == (
            f"Outcome(processed=1, failures=[{{'itemIdentifier': '{MODIFY_SEQ}'}}], "
            "error=ValueError('cannot handle MODIFY'))"
        )

    def test_outcome_of_a_good_batch(self, batch: dict[str, Any]) -> None:
        """A batch without failures has every record processed and no error."""
        app, _ = tracking_app()

        outcome = app.process(batch)

        assert (outcome.processed, outcome.failures, outcome.error) == (3, [], None)
        assert len(outcome.records) == 3

    def test_process_never_raises_record_failures(self, batch: dict[str, Any]) -> None:
        """process() returns the failure even when the app would raise it."""
        app, _ = tracking_app(fail_on="INSERT")
        assert app.report_batch_item_failures is False

        outcome = app.process(batch)

        assert outcome.failures == [{"itemIdentifier": INSERT_SEQ}]

    def test_time_guard_in_process(self, batch: dict[str, Any]) -> None:
        """process() reports records it had no time for, without an error."""
        app, _ = tracking_app()

        outcome = app.process(batch, Context(0))

        assert len(outcome.failures) == 2
        assert outcome.error is None
        assert [record.event_name for record in outcome.records] == ["INSERT"]
