"""ddbstream.observability: log context, EMF metrics, OpenTelemetry spans."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ddbstream import App, Record, testing
from ddbstream.errors import SetupError
from ddbstream.idempotency import Ledger
from ddbstream.observability import MAX_VALUES, EMFMetrics, LogContext, Tracing

# --- logs ------------------------------------------------------------------------------------

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class LambdaJsonFormatter(logging.Formatter):
    """What Lambda's runtime prints with AWS_LAMBDA_LOG_FORMAT=JSON: the standard fields and
    every extra attribute of the log record as a key."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "timestamp": self.formatTime(record),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
        }
        line.update((name, value) for name, value in vars(record).items() if name not in _STANDARD)
        return json.dumps(line, default=str)


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(LambdaJsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def log_lines() -> Iterator[list[dict[str, Any]]]:
    handler = Lines()
    logger = logging.getLogger("orders")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


log = logging.getLogger("orders")


class TestLogContext:
    def test_lines_carry_the_record_and_route(self, log_lines: list[dict[str, Any]]) -> None:
        """Each line a handler or middleware logs names the record; the handler's its route."""
        app = App()
        app.use(LogContext())

        @app.middleware
        def around(record: Record, call_next: Any) -> None:
            log.info("before")
            call_next(record)

        @app.on_insert(name="save")
        def save(record: Record) -> None:
            log.info("saving")

        event = testing.event(testing.insert({"pk": "a"}, table="Orders"))
        app.handler(event, None)
        log.info("after the invocation")

        raw = event["Records"][0]
        before, saving, after = log_lines
        expected = {
            "event_id": raw["eventID"],
            "sequence_number": raw["dynamodb"]["SequenceNumber"],
            "event_name": "INSERT",
            "table_name": "Orders",
        }
        assert {name: before[name] for name in expected} == expected
        assert "route" not in before
        assert {name: saving[name] for name in expected} == expected
        assert saving["route"] == "save"
        assert after["message"] == "after the invocation"
        assert not set(expected) & set(after)  # nothing leaks after the invocation
        assert "route" not in after

    def test_nothing_leaks_after_a_failure(self, log_lines: list[dict[str, Any]]) -> None:
        """A failed record's identity is gone from the lines logged after it."""
        app = App()
        app.use(LogContext())
        app.on_insert(lambda record: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            app.handler(testing.event(testing.insert({"pk": "a"})), None)
        log.info("later")
        assert "event_id" not in log_lines[-1]

    def test_concurrent_async_records_keep_their_own(self, log_lines: list[dict[str, Any]]) -> None:
        """Records of an async app run at once, and each line names its own record."""
        app = App(max_concurrency=10)
        app.use(LogContext())

        @app.on_insert
        async def handle(record: Record) -> None:
            for step in range(3):
                log.info("step %d of %s", step, record.keys["pk"])
                await asyncio.sleep(0)

        records = [testing.insert({"pk": f"k{index}"}) for index in range(8)]
        app.handler(testing.event(*records), None)

        assert len(log_lines) == 24
        by_key = {raw["dynamodb"]["Keys"]["pk"]["S"]: raw["eventID"] for raw in records}
        for line in log_lines:
            assert line["event_id"] == by_key[line["message"].split()[-1]]
        # they did interleave: the first record's lines are not all first
        assert {line["message"].split()[-1] for line in log_lines[:3]} != {"k0"}

    def test_one_factory_for_many(self, log_lines: list[dict[str, Any]]) -> None:
        """Two LogContext extensions (two apps) install the log record factory once."""
        factory = logging.getLogRecordFactory()
        LogContext()
        assert logging.getLogRecordFactory() is factory
        assert repr(LogContext()) == "LogContext()"


# --- metrics ---------------------------------------------------------------------------------

# The Embedded Metric Format's document structure, as its specification states it.
EMF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["_aws"],
    "properties": {
        "_aws": {
            "type": "object",
            "required": ["Timestamp", "CloudWatchMetrics"],
            "properties": {
                "Timestamp": {"type": "integer", "minimum": 0},
                "CloudWatchMetrics": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["Namespace", "Dimensions", "Metrics"],
                        "additionalProperties": False,
                        "properties": {
                            "Namespace": {"type": "string", "minLength": 1, "maxLength": 255},
                            "Dimensions": {
                                "type": "array",
                                "items": {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": 30,
                                    "items": {"type": "string", "minLength": 1, "maxLength": 250},
                                },
                            },
                            "Metrics": {
                                "type": "array",
                                "maxItems": 100,
                                "items": {
                                    "type": "object",
                                    "required": ["Name"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "Name": {"type": "string", "minLength": 1},
                                        "Unit": {"type": "string"},
                                        "StorageResolution": {"enum": [1, 60]},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}
UNITS = {"Count", "Milliseconds"}


def documents(output: str) -> list[dict[str, Any]]:
    """Parse EMF lines and check each against the schema and the references it makes."""
    found = []
    for line in output.splitlines():
        document = json.loads(line)
        jsonschema.validate(document, EMF_SCHEMA)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                for name in dimension_set:
                    assert isinstance(document[name], str)  # a dimension's value is a string
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                assert metric["Unit"] in UNITS
                if isinstance(value, list):
                    assert 1 <= len(value) <= MAX_VALUES
                    assert all(isinstance(member, (int, float)) for member in value)
                else:
                    assert isinstance(value, (int, float))
        found.append(document)
    return found


def counts(found: list[dict[str, Any]], table: str = "Table") -> dict[str, Any]:
    """The counters of *table*'s documents, and every RecordAge value."""
    names = ["RecordsProcessed", "RecordsFailed", "RecordsUnmatched", "RecordsHandled"]
    names.append("RecordsDuplicate")
    mine = [document for document in found if document["TableName"] == table]
    totals: dict[str, Any] = {name: sum(doc.get(name, 0) for doc in mine) for name in names}
    totals["RecordAge"] = [age for doc in mine for age in doc.get("RecordAge", [])]
    return totals


class TestEMFMetrics:
    @pytest.mark.parametrize("report", [True, False])
    def test_counts_match_the_batch(self, report: bool, capsys: pytest.CaptureFixture[str]) -> None:
        """Processed, failed, unmatched and handled are the batch's own numbers."""
        app = App(report_batch_item_failures=report)
        app.use(EMFMetrics("Orders/Stream", dimensions={"Service": "orders"}))

        @app.on_insert(where={"kind": "bad"})
        def fail(record: Record) -> None:
            raise ValueError("bad")

        @app.on_insert(where={"kind": "odd"})
        def odd(record: Record) -> None:
            raise KeyError("odd")

        @app.on_error(KeyError)
        def forgive(record: Record, error: Exception) -> None:
            pass

        app.on_modify(lambda record: None)
        created = datetime.now(timezone.utc) - timedelta(seconds=5)
        records = [
            testing.insert({"pk": "1", "kind": "odd"}, approximate_creation_time=created),
            testing.modify({"pk": "2"}, {"pk": "2", "n": 1}, approximate_creation_time=created),
            testing.insert({"pk": "3", "kind": "none"}, approximate_creation_time=created),
            testing.insert({"pk": "4", "kind": "bad"}, approximate_creation_time=created),
            testing.insert({"pk": "5"}),
        ]
        outcome = app.process(testing.event(*records))
        found = documents(capsys.readouterr().out)

        assert len(found) == 1
        (document,) = found
        assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Service", "TableName"]]
        assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Orders/Stream"
        assert document["Service"] == "orders"
        totals = counts(found)
        assert totals["RecordsProcessed"] == outcome.processed == 3
        assert totals["RecordsFailed"] == 1
        assert totals["RecordsUnmatched"] == 1
        assert totals["RecordsHandled"] == 1
        assert totals["RecordsDuplicate"] == 0
        assert len(totals["RecordAge"]) == 4  # records started
        assert all(4_000 < age < 60_000 for age in totals["RecordAge"])

    def test_raise_mode_still_prints(self, capsys: pytest.CaptureFixture[str]) -> None:
        """When the batch raises, the line is printed before the error leaves."""
        app = App()
        app.use(EMFMetrics("N"))
        app.on_insert(lambda record: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            app.handler(testing.event(testing.insert({"pk": "a"})), None)
        totals = counts(documents(capsys.readouterr().out))
        assert (totals["RecordsProcessed"], totals["RecordsFailed"]) == (0, 1)

    def test_a_record_that_cannot_be_read_counts_as_failed(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A malformed record fails before its routes; it still counts as failed."""
        app = App(report_batch_item_failures=True)
        app.use(EMFMetrics("N"))
        app.on_insert(lambda record: None)
        event = testing.event(testing.insert({"pk": "a"}), testing.insert({"pk": "b"}))
        event["Records"][1]["eventName"] = "UPSERT"
        app.handler(event, None)
        totals = counts(documents(capsys.readouterr().out))
        assert (totals["RecordsProcessed"], totals["RecordsFailed"]) == (1, 1)

    def test_out_of_time_is_not_a_failure(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Records the time guard did not start are neither processed nor failed."""
        app = App()
        app.use(EMFMetrics("N"))
        app.on_insert(lambda record: None)

        class Context:
            def get_remaining_time_in_millis(self) -> int:
                return 5

        with pytest.raises(Exception, match="less than"):
            app.handler(testing.event(*three_records()), Context())
        totals = counts(documents(capsys.readouterr().out))
        assert (totals["RecordsProcessed"], totals["RecordsFailed"]) == (1, 0)

    @settings(max_examples=15, deadline=None)
    @given(size=st.integers(min_value=1, max_value=350))
    def test_chunks_ages_at_the_limit(self, size: int) -> None:
        """More than 100 records: more lines, each within EMF's limits, no value lost."""
        import io
        from contextlib import redirect_stdout

        app = App()
        app.use(EMFMetrics("N"))
        app.on_insert(lambda record: None)
        output = io.StringIO()
        with redirect_stdout(output):
            app.handler(testing.event(*(testing.insert({"pk": str(i)}) for i in range(size))), None)
        found = documents(output.getvalue())
        assert len(found) == -(-size // MAX_VALUES)
        totals = counts(found)
        assert totals["RecordsProcessed"] == size
        assert len(totals["RecordAge"]) == size
        assert all("RecordsProcessed" not in document for document in found[1:])

    def test_tables_and_kinesis(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Records of two tables get a line each; Kinesis times (ms) give ages too."""
        app = App()
        app.use(EMFMetrics("N"))
        app.on_insert(lambda record: None)
        kinesis = testing.kinesis_event(testing.insert({"pk": "k"}, table="Kin"))
        app.handler(kinesis, None)
        app.handler(
            testing.event(
                testing.insert({"pk": "a"}, table="A"),
                testing.insert({"pk": "b"}, table="B"),
                testing.insert({"pk": "c"}, table="A", region="eu-west-1"),  # another stream
            ),
            None,
        )
        found = documents(capsys.readouterr().out)
        assert [document["TableName"] for document in found] == ["Kin", "A", "B"]
        assert [len(document["RecordAge"]) for document in found] == [1, 2, 1]

    def test_no_time_no_age(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A record without a readable creation time adds no age, and still counts."""
        app = App()
        app.use(EMFMetrics("N"))
        app.on_insert(lambda record: None)
        bare = testing.insert({"pk": "a"})
        del bare["dynamodb"]["ApproximateCreationDateTime"]
        odd = testing.insert({"pk": "b"})
        odd["dynamodb"]["ApproximateCreationDateTime"] = "yesterday"
        app.handler(testing.event(bare, odd), None)
        (document,) = documents(capsys.readouterr().out)
        assert document["RecordsProcessed"] == 2
        assert "RecordAge" not in document

    def test_duplicates_from_the_ledger(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Route calls the ledger skipped count as RecordsDuplicate."""
        ledger = Ledger("ledger", client=MemoryLedgerClient())
        app = App(ledger=ledger, idempotent=True)
        app.use(EMFMetrics("N"))
        app.add_handler(lambda record: None, events=["INSERT"], name="once")
        event = testing.event(*three_records())
        app.handler(event, None)
        outcome = app.process(event)
        found = documents(capsys.readouterr().out)
        assert outcome.duplicates == 3
        assert [document["RecordsDuplicate"] for document in found] == [0, 3]

    @pytest.mark.parametrize(
        ("namespace", "dimensions", "message"),
        [
            ("", None, "namespace of 1 to 255"),
            ("N", {f"d{i}": "v" for i in range(30)}, "at most 29 dimensions"),
            ("N", {"TableName": "x"}, "'TableName' is taken"),
            ("N", {"d": ""}, "non-empty strings"),
        ],
    )
    def test_refuses_what_emf_would_reject(
        self, namespace: str, dimensions: dict[str, str] | None, message: str
    ) -> None:
        """A namespace or dimensions CloudWatch would drop are refused when made."""
        with pytest.raises(SetupError, match=message):
            EMFMetrics(namespace, dimensions=dimensions)

    def test_repr(self) -> None:
        assert repr(EMFMetrics("N")) == "EMFMetrics(namespace='N')"


def three_records() -> list[dict[str, Any]]:
    return [testing.insert({"pk": key}) for key in "abc"]


class MemoryLedgerClient:
    """A DynamoDB client with just what the ledger calls, in memory."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def put_item(self, **request: Any) -> dict[str, Any]:
        item = request["Item"]
        key = item["id"]["S"]
        if key in self.items and self.items[key].get("status", {}).get("S") == "COMPLETED":
            from botocore.exceptions import ClientError

            raise ClientError(
                {
                    "Error": {"Code": "ConditionalCheckFailedException", "Message": "exists"},
                    "Item": self.items[key],
                },
                "PutItem",
            )
        self.items[key] = item
        return {}

    def update_item(self, **request: Any) -> dict[str, Any]:
        key = request["Key"]["id"]["S"]
        self.items[key]["status"] = {"S": "COMPLETED"}
        return {}

    def delete_item(self, **request: Any) -> dict[str, Any]:
        self.items.pop(request["Key"]["id"]["S"], None)
        return {}


# --- traces ----------------------------------------------------------------------------------


@pytest.fixture
def spans() -> Iterator[tuple[Any, Any]]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


class TestTracing:
    @pytest.mark.parametrize("is_async", [False, True])
    def test_spans_per_record_and_route(self, spans: tuple[Any, Any], is_async: bool) -> None:
        """A span per record with one per route inside; failures set ERROR and the exception."""
        from opentelemetry.trace import StatusCode

        provider, exporter = spans
        app = App(report_batch_item_failures=True)
        app.use(Tracing(tracer_provider=provider))

        async def save_async(record: Record) -> None:
            save(record)

        def save(record: Record) -> None:
            if record.keys["pk"] == "b":
                raise ValueError("bad b")

        app.add_handler(save_async if is_async else save, events=["INSERT"], name="save")
        records = [testing.insert({"pk": "a"}, table="Orders"), testing.insert({"pk": "b"})]
        app.handler(testing.event(*records), None)

        finished = exporter.get_finished_spans()
        names = sorted(span.name for span in finished)
        assert names == sorted(["ddbstream INSERT"] * 2 + ["ddbstream route save"] * 2)
        by_id: dict[str, list[Any]] = {}
        for span in finished:
            by_id.setdefault(span.attributes["ddbstream.event_id"], []).append(span)
        first = sorted(by_id[records[0]["eventID"]], key=lambda span: span.name)
        record_span, route_span = first
        assert route_span.parent.span_id == record_span.context.span_id
        assert record_span.attributes["ddbstream.table"] == "Orders"
        assert (
            record_span.attributes["ddbstream.sequence_number"]
            == (records[0]["dynamodb"]["SequenceNumber"])
        )
        assert route_span.attributes["ddbstream.route"] == "save"
        assert record_span.status.status_code is StatusCode.UNSET
        for span in by_id[records[1]["eventID"]]:
            assert span.status.status_code is StatusCode.ERROR
            (exception,) = [event for event in span.events if event.name == "exception"]
            assert exception.attributes["exception.type"] == "ValueError"
            assert exception.attributes["exception.message"] == "bad b"

    def test_handled_failure_errors_the_route_only(self, spans: tuple[Any, Any]) -> None:
        """An error hook that handles a route's failure leaves the record's span unset."""
        from opentelemetry.trace import StatusCode

        provider, exporter = spans
        app = App()
        app.use(Tracing(tracer_provider=provider))
        app.add_handler(lambda record: 1 / 0, events=["INSERT"], name="divide")
        app.on_error(lambda record, error: None)
        app.handler(testing.event(testing.insert({"pk": "a"})), None)
        statuses = {span.name: span.status.status_code for span in exporter.get_finished_spans()}
        assert statuses == {
            "ddbstream route divide": StatusCode.ERROR,
            "ddbstream INSERT": StatusCode.UNSET,
        }

    def test_nothing_without_a_provider(self) -> None:
        """With no tracer provider set, the hooks make no span at all."""
        from opentelemetry import trace

        assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
        tracing = Tracing()
        app = App()
        app.use(tracing)
        seen: list[bool] = []
        app.on_insert(lambda record: seen.append(trace.get_current_span().is_recording()))
        app.handler(testing.event(testing.insert({"pk": "a"})), None)
        assert seen == [False]
        assert trace.get_current_span() is trace.INVALID_SPAN
        assert repr(tracing) == "Tracing()"

    def test_opentelemetry_imported_on_first_use(self) -> None:
        """Importing ddbstream.observability and making the extensions imports no otel."""
        code = (
            "import sys; from ddbstream.observability import Tracing, EMFMetrics, LogContext;"
            "Tracing(); EMFMetrics('N'); LogContext();"
            "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry', 'json'))))"
        )
        output = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        assert output.strip() == "[]"


# --- the docs page ---------------------------------------------------------------------------


class TestDocsPage:
    def test_middleware_example(self, load_example: Any, caplog: pytest.LogCaptureFixture) -> None:
        """The hand-written middleware time each record and skip test items."""
        example = load_example("observability_middleware")
        caplog.set_level(logging.INFO, logger="orders")
        records = [testing.insert({"pk": "order#1"}), testing.insert({"pk": "test#2"})]
        assert example.app.handler(testing.event(*records), None) == {"batchItemFailures": []}
        messages = [entry.getMessage() for entry in caplog.records]
        assert messages[0] == "saving order#1"
        assert [message.split(" took ")[0] for message in messages[1:]] == [
            records[0]["eventID"],
            records[1]["eventID"],
        ]

    def test_app_example(
        self,
        load_example: Any,
        log_lines: list[dict[str, Any]],
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """The three extensions together: log keys, one EMF line, the failure counted."""
        example = load_example("observability_app")
        records = [
            testing.modify({"pk": "1", "status": "NEW"}, {"pk": "1", "status": "PAID"}),
            testing.modify({"pk": "2", "status": "PAID"}, {"pk": "2", "status": "LOST"}),
        ]
        response = example.handler(testing.event(*records), None)
        failed = records[1]["dynamodb"]["SequenceNumber"]
        assert response == {"batchItemFailures": [{"itemIdentifier": failed}]}
        assert [line["route"] for line in log_lines[:2]] == ["status_changed"] * 2
        assert log_lines[0]["event_id"] == records[0]["eventID"]
        (document,) = documents(capsys.readouterr().out)
        assert (document["RecordsProcessed"], document["RecordsFailed"]) == (1, 1)
        assert document["Service"] == "orders"

    def test_powertools_example(
        self, load_example: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Powertools' Logger gets the record's keys; its Metrics count what ran."""
        example = load_example("observability_powertools")
        # Powertools reuses the logging.Logger of an earlier run of the example (another
        # test's), whose handler holds that test's stdout: point it at this one's.
        for handler in logging.getLogger("order-events").handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.stream = sys.stdout  # not setStream: it flushes the closed one
        record = testing.insert({"pk": "a"})
        assert example.handler(testing.event(record), None) == {"batchItemFailures": []}
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        saving = next(line for line in lines if line.get("message") == "saving")
        assert (saving["event_id"], saving["pk"]) == (record["eventID"], "a")
        metric = next(line for line in lines if "_aws" in line)
        assert metric["RecordsProcessed"] in (1, [1.0], 1.0)

        # A failed record is logged with its exception and counted, then reported. (One test:
        # Powertools' Logger keeps the stdout it found first, this test's.)
        record = testing.insert({"pk": "a"})
        record["dynamodb"]["Keys"] = {"pk": {"X": "?"}}
        response = example.handler(testing.event(record), None)
        failed = record["dynamodb"]["SequenceNumber"]
        assert response == {"batchItemFailures": [{"itemIdentifier": failed}]}
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert any(line.get("message") == "record failed" for line in lines)
        metric = next(line for line in lines if "_aws" in line)
        assert metric["RecordsFailed"] in (1, [1.0], 1.0)

    def test_extension_example(self, load_example: Any, capsys: pytest.CaptureFixture[str]) -> None:
        """The hand-written extension names the slow record and counts the unmatched."""
        example = load_example("observability_extension")
        slow = testing.insert({"pk": "slow"})
        example.app.handler(
            testing.event(testing.insert({"pk": "fast"}), slow, testing.remove({"pk": "x"})),
            None,
        )
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 2
        assert lines[0].startswith(f"slow: {slow['eventID']} took ")
        assert lines[1] == "3 records, 1 unmatched"
