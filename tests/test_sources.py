"""Event shapes: DynamoDB Streams, Kinesis Data Streams for DynamoDB, EventBridge Pipes, windows."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

import pytest

from conftest import LoadEvent
from ddbstream import App, Record, Window
from ddbstream.errors import EventError, RecordError

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2026-01-01T00:00:00.000"


def stream_record(number: int, key: str = "a", event_name: str = "INSERT") -> dict[str, Any]:
    """A DynamoDB Streams record as Lambda delivers it."""
    return {
        "eventID": f"id-{number}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "eventSourceARN": ARN,
        "dynamodb": {
            "ApproximateCreationDateTime": 1767225600,
            "Keys": {"pk": {"S": key}},
            "NewImage": {"pk": {"S": key}, "n": {"N": str(number)}},
            "SequenceNumber": f"{1000 + number}",
            "SizeBytes": 20,
            "StreamViewType": "NEW_IMAGE",
        },
    }


def kinesis_record(
    number: int, key: str = "a", *, stamp: int = 1767225600123, **extra: Any
) -> dict[str, Any]:
    """A Kinesis Data Streams for DynamoDB record: the change is base64 JSON in kinesis.data."""
    change = {
        "awsRegion": "eu-west-1",
        "eventID": f"change-{number}",
        "eventName": "INSERT",
        "userIdentity": None,
        "recordFormat": "application/json",
        "tableName": "Orders",
        "dynamodb": {
            "ApproximateCreationDateTime": stamp,
            "Keys": {"pk": {"S": key}},
            "NewImage": {"pk": {"S": key}, "n": {"N": str(number)}},
            "SizeBytes": 20,
            **extra,
        },
        "eventSource": "aws:dynamodb",
    }
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": f"partition-{key}",
            "sequenceNumber": f"4959{number:04d}",
            "data": base64.b64encode(json.dumps(change).encode()).decode(),
            "approximateArrivalTimestamp": 1767225600.5,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:4959{number:04d}",
        "eventName": "aws:kinesis:record",
        "awsRegion": "eu-west-1",
        "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/orders-changes",
    }


def collect(app: App) -> list[Record]:
    """Register a route on every event that keeps the records it sees."""
    seen: list[Record] = []
    app.on("INSERT", "MODIFY", "REMOVE")(seen.append)
    return seen


class TestKinesis:
    def test_records_decode_like_stream_records(self, app: App) -> None:
        """The change inside kinesis.data reaches handlers as an ordinary Record."""
        seen = collect(app)

        response = app.handler({"Records": [kinesis_record(1), kinesis_record(2, "b")]}, None)

        assert response == {"batchItemFailures": []}
        assert [record.new for record in seen] == [{"pk": "a", "n": 1}, {"pk": "b", "n": 2}]
        first = seen[0]
        assert first.table_name == "Orders"
        assert first.event_id == "change-1"
        assert first.sequence_number == "49590001"
        assert first.region == "eu-west-1"
        assert first.raw["eventSource"] == "aws:kinesis"
        assert first.event_source_arn == ARN.replace(ARN, first.raw["eventSourceARN"])

    @pytest.mark.parametrize(
        ("stamp", "extra", "expected"),
        [
            (1767225600123, {}, datetime(2026, 1, 1, 0, 0, 0, 123000, tzinfo=timezone.utc)),
            (1767225600123456, {}, datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=timezone.utc)),
            (
                1767225600123,
                {"ApproximateCreationDateTimePrecision": "MILLISECOND"},
                datetime(2026, 1, 1, 0, 0, 0, 123000, tzinfo=timezone.utc),
            ),
            (
                1767225600123456,
                {"ApproximateCreationDateTimePrecision": "MICROSECOND"},
                datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=timezone.utc),
            ),
        ],
    )
    def test_timestamps_in_milli_or_microseconds(
        self, app: App, stamp: int, extra: dict[str, str], expected: datetime
    ) -> None:
        """Kinesis timestamps in ms or µs become the same aware UTC datetime."""
        seen = collect(app)

        app.handler({"Records": [kinesis_record(1, stamp=stamp, **extra)]}, None)

        assert seen[0].approximate_creation_time == expected

    def test_failure_reports_the_kinesis_sequence_number(self) -> None:
        """The identifier of a failed Kinesis record is kinesis.sequenceNumber."""
        app = App(report_batch_item_failures=True)

        @app.on_insert
        def fail_on_two(record: Record) -> None:
            assert record.new is not None
            if record.new["n"] == 2:
                raise ValueError("no")

        event = {"Records": [kinesis_record(1), kinesis_record(2), kinesis_record(3)]}

        assert app.handler(event, None) == {"batchItemFailures": [{"itemIdentifier": "49590002"}]}

    @pytest.mark.parametrize(
        "data", ["not base64!", base64.b64encode(b"not json").decode(), "WzFd"]
    )
    def test_undecodable_data_fails_that_record(self, data: str) -> None:
        """kinesis.data that is not base64 JSON of a change object fails the record."""
        app = App(report_batch_item_failures=True)
        seen = collect(app)
        broken = kinesis_record(2)
        broken["kinesis"]["data"] = data

        response = app.handler({"Records": [kinesis_record(1), broken, kinesis_record(3)]}, None)

        assert response == {"batchItemFailures": [{"itemIdentifier": "49590002"}]}
        assert len(seen) == 1
        with pytest.raises(RecordError, match=r"kinesis\.data"):
            App().handler({"Records": [broken]}, None)

    @pytest.mark.parametrize("flat", [False, True])
    def test_a_record_that_is_no_object(self, flat: bool) -> None:
        """A Kinesis record that is not a JSON object fails as a RecordError saying so."""
        app = App()
        seen = collect(app)
        record: Any = kinesis_record(1)
        if flat:  # as EventBridge Pipes delivers it
            record = {**record["kinesis"], "eventID": "e-1"}
        batch = [record, "junk"] if flat else {"Records": [record, "junk"]}

        with pytest.raises(RecordError, match="a record must be a JSON object, got str"):
            app.handler(batch, None)
        assert len(seen) == 1

    def test_unknown_event_name_is_named_by_kinesis_sequence_number(self, app: App) -> None:
        """A change with an unknown eventName fails, named by the Kinesis sequence number."""
        change = json.loads(base64.b64decode(kinesis_record(1)["kinesis"]["data"]))
        change["eventName"] = "UPSERT"
        broken = kinesis_record(1)
        broken["kinesis"]["data"] = base64.b64encode(json.dumps(change).encode()).decode()

        with pytest.raises(RecordError, match="unknown eventName 'UPSERT'") as caught:
            app.handler({"Records": [broken]}, None)
        assert caught.value.sequence_number == "49590001"

    def test_missing_sequence_number_fails_the_batch_before_any_record(self) -> None:
        """Reporting, a Kinesis record without sequenceNumber fails the batch: nothing runs."""
        app = App(report_batch_item_failures=True)
        seen = collect(app)
        broken = kinesis_record(2)
        del broken["kinesis"]["sequenceNumber"]

        with pytest.raises(RecordError, match=r"kinesis\.sequenceNumber"):
            app.handler({"Records": [kinesis_record(1), broken]}, None)
        assert seen == []


class TestPipes:
    def test_a_bare_list_is_a_pipes_batch(self, app: App) -> None:
        """EventBridge Pipes delivers a bare JSON list of stream records."""
        seen = collect(app)

        assert app.handler([stream_record(1), stream_record(2)], None) == {"batchItemFailures": []}
        assert [record.keys for record in seen] == [{"pk": "a"}, {"pk": "a"}]

    def test_failures_are_reported_by_event_id_by_default(self) -> None:
        """Pipes failures carry the eventID unless pipes_identifier says otherwise."""
        app = App(report_batch_item_failures=True)
        app.on_insert(lambda record: 1 / 0)

        assert app.handler([stream_record(7)], None) == {
            "batchItemFailures": [{"itemIdentifier": "id-7"}]
        }

    def test_failures_by_sequence_number_when_configured(self) -> None:
        """pipes_identifier="SequenceNumber" reports dynamodb.SequenceNumber instead."""
        app = App(report_batch_item_failures=True, pipes_identifier="SequenceNumber")
        app.on_insert(lambda record: 1 / 0)

        assert app.handler([stream_record(7)], None) == {
            "batchItemFailures": [{"itemIdentifier": "1007"}]
        }

    def test_kinesis_records_in_a_list(self, app: App) -> None:
        """A Pipes batch from a Kinesis source holds Kinesis records."""
        seen = collect(app)

        app.handler([kinesis_record(1)], None)

        assert seen[0].table_name == "Orders"

    def test_an_empty_list_is_an_empty_batch(self, app: App) -> None:
        """An empty Pipes batch succeeds with no failures."""
        assert app.handler([], None) == {"batchItemFailures": []}

    def test_a_record_without_event_id_fails_the_batch(self) -> None:
        """Reporting, a record without its identifier could not be reported: the batch fails."""
        app = App(report_batch_item_failures=True)
        record = stream_record(1)
        del record["eventID"]

        with pytest.raises(RecordError, match="eventID"):
            app.handler([record], None)


class TestPipesKinesis:
    @staticmethod
    def flattened(number: int) -> dict[str, Any]:
        """A Kinesis record as EventBridge Pipes delivers it: no ``kinesis`` block."""
        record = kinesis_record(number)
        return {**record.pop("kinesis"), **record}

    def test_flattened_kinesis_records_are_read(self, app: App) -> None:
        """Pipes from a Kinesis stream: data and sequenceNumber at the top of each record."""
        seen = collect(app)

        assert app.handler([self.flattened(1), self.flattened(2)], None) == {
            "batchItemFailures": []
        }
        assert [record.new for record in seen] == [{"pk": "a", "n": 1}, {"pk": "a", "n": 2}]
        assert seen[0].table_name == "Orders"

    @pytest.mark.parametrize(
        ("field", "expected"),
        [("eventID", "shardId-000000000000:49590002"), ("SequenceNumber", "49590002")],
    )
    def test_failures_are_reported_by_the_chosen_field(self, field: str, expected: str) -> None:
        """pipes_identifier picks eventID or the Kinesis sequence number."""
        app = App(report_batch_item_failures=True, pipes_identifier=field)
        app.on_insert(lambda record: 1 / 0)

        response = app.handler([self.flattened(2)], None)

        assert response == {"batchItemFailures": [{"itemIdentifier": expected}]}

    def test_sequence_number_is_the_kinesis_one(self, app: App) -> None:
        """record.sequence_number is the Kinesis sequence number whatever reports failures."""
        seen = collect(app)

        app.handler([self.flattened(3)], None)

        assert seen[0].sequence_number == "49590003"

    def test_bad_data_fails_that_record(self) -> None:
        """A flattened record whose data is not a change fails, naming ``data``."""
        broken = self.flattened(1)
        broken["data"] = "WzFd"

        with pytest.raises(RecordError, match="data holds no DynamoDB change"):
            App().handler([broken], None)


class TestFailureNotes:
    def test_pipes_note_names_event_id_and_sequence_number(self) -> None:
        """The note names the record's eventID and its real SequenceNumber, once each."""
        app = App()
        app.on_insert(lambda record: 1 / 0)

        with pytest.raises(ZeroDivisionError) as caught:
            app.handler([stream_record(7)], None)

        assert getattr(caught.value, "__notes__", []) == [
            "ddbstream: record 1 of 1 failed, eventID 'id-7', SequenceNumber '1007'"
        ]

    def test_a_raised_failure_is_logged_with_its_record(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Lambda's runtime logs no notes: the handler logs which record failed."""
        app = App()
        app.on_insert(lambda record: 1 / 0)

        with pytest.raises(ZeroDivisionError):
            app.handler({"Records": [stream_record(7)]}, None)

        assert [record.getMessage() for record in caplog.records] == [
            "record 1 of 1 failed, eventID 'id-7', SequenceNumber '1007': ZeroDivisionError: "
            "division by zero; raising it so that Lambda retries the batch"
        ]

    def test_a_reported_failure_is_logged_with_its_traceback(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """In report mode the handler logs what it hands back to Lambda, with the exception."""
        app = App(report_batch_item_failures=True)
        app.on_insert(lambda record: 1 / 0)

        app.handler({"Records": [stream_record(7), stream_record(8)]}, None)

        (logged,) = caplog.records
        assert logged.getMessage() == (
            "reporting 1 record(s) from 1007 in batchItemFailures; Lambda retries from there"
        )
        assert logged.exc_info is not None

    def test_running_out_of_time_is_logged_as_a_warning(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Records reported for lack of time are logged as a warning, without an exception."""

        class Context:
            def get_remaining_time_in_millis(self) -> int:
                return 0

        app = App(report_batch_item_failures=True)
        app.on_insert(lambda record: None)

        app.handler({"Records": [stream_record(1), stream_record(2)]}, Context())

        (logged,) = caplog.records
        assert logged.levelname == "WARNING"
        assert "from 1002" in logged.getMessage()
        assert "too little time left" in logged.getMessage()


class TestTumblingWindows:
    def test_state_is_carried_and_returned(self, load_event: LoadEvent) -> None:
        """Handlers update app.window.state; the response returns it to Lambda."""
        app = App()

        @app.on("INSERT", "MODIFY", "REMOVE")
        def count(record: Record) -> None:
            assert app.window is not None
            app.window.state["count"] = app.window.state.get("count", 0) + 1

        event = load_event("aws_lambda_go_dynamodb_time_window_event.json")
        response = app.handler(event, None)

        assert response["batchItemFailures"] == []
        assert response["state"] == {"1": "state1", "count": len(event["Records"])}
        json.dumps(response)

    def test_window_fields(self, app: App, load_event: LoadEvent) -> None:
        """The window's bounds, flags and shard are read from the event."""
        event = load_event("aws_lambda_docs_with_ddb_time_window_event.json")

        app.handler(event, None)

        window = app.window
        assert isinstance(window, Window)
        assert window.start == event["window"]["start"]
        assert window.end == event["window"]["end"]
        assert window.is_final is bool(event["isFinalInvokeForWindow"])
        assert window.terminated_early is bool(event["isWindowTerminatedEarly"])
        assert window.shard_id == event["shardId"]
        assert "Window(start=" in repr(window)

    def test_state_is_returned_even_when_a_record_fails(self) -> None:
        """Lambda counts a window invocation without state as failed: state is always there."""
        app = App(report_batch_item_failures=True)
        app.on_insert(lambda record: 1 / 0)
        event = window_event([stream_record(1)], state={"total": 3})

        response = app.handler(event, None)

        assert response == {
            "batchItemFailures": [{"itemIdentifier": "1001"}],
            "state": {"total": 3},
        }

    def test_no_state_starts_empty(self, app: App) -> None:
        """The first invocation of a window has no state: handlers get an empty dict."""
        event = window_event([], state=None)

        assert app.handler(event, None) == {"batchItemFailures": [], "state": {}}

    def test_window_end_hook_runs_on_the_final_invocation_only(self) -> None:
        """on_window_end hooks run once the final batch of the window succeeded."""
        app = App()
        ended: list[dict[str, Any]] = []
        app.on_window_end(lambda window: ended.append(dict(window.state)))

        app.handler(window_event([stream_record(1)], state={"n": 1}), None)
        assert ended == []
        app.handler(window_event([], state={"n": 2}, final=True), None)
        assert ended == [{"n": 2}]

    def test_async_window_end_hook(self) -> None:
        """An async def window hook is awaited."""
        app = App()
        ended: list[str | None] = []

        @app.on_window_end
        async def summarize(window: Window) -> None:
            ended.append(window.start)

        app.handler(window_event([], final=True), None)

        assert ended == ["2026-01-01T00:00:00Z"]

    def test_window_end_hook_skipped_when_the_batch_failed(self) -> None:
        """A failed final batch is retried by Lambda, so the window has not ended yet."""
        app = App(report_batch_item_failures=True)
        app.on_insert(lambda record: 1 / 0)
        ended: list[Window] = []
        app.on_window_end(ended.append)

        app.handler(window_event([stream_record(1)], final=True), None)

        assert ended == []

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"window": "x"}, "'window' object"),
            ({"state": [1]}, "'state' must be a JSON object"),
        ],
    )
    def test_malformed_window_events(self, app: App, changes: dict[str, Any], message: str) -> None:
        """A window event with a broken window or state is refused as a whole."""
        event = {**window_event([]), **changes}

        with pytest.raises(EventError, match=message):
            app.handler(event, None)


def window_event(
    records: list[dict[str, Any]], *, state: dict[str, Any] | None = None, final: bool = False
) -> dict[str, Any]:
    """A tumbling-window DynamoDB Streams event."""
    return {
        "Records": records,
        "window": {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:05:00Z"},
        "state": state,
        "shardId": "shard-1",
        "eventSourceARN": ARN,
        "isFinalInvokeForWindow": final,
        "isWindowTerminatedEarly": False,
    }


class TestEventShapes:
    @pytest.mark.parametrize(
        "event",
        [None, "text", 3, {}, {"Records": "x"}, {"Records": None}, {"detail": {}}],
    )
    def test_non_batches_are_refused(self, app: App, event: Any) -> None:
        """Anything that is not a batch of records raises EventError."""
        with pytest.raises(EventError):
            app.handler(event, None)

    def test_sqs_event_message_says_what_it_saw(self, app: App) -> None:
        """The message names the keys the event has, to hint at the wrong trigger."""
        with pytest.raises(EventError, match="Is the function triggered by something"):
            app.handler({"detail-type": "x", "source": "aws.events"}, None)


class TestDocsExamples:
    def test_window_example_counts_and_publishes(self, load_example: Any) -> None:
        """docs/examples/sources_window.py counts orders and publishes at the window's end."""
        example = load_example("sources_window")
        order = stream_record(1)
        order["dynamodb"]["NewImage"]["type"] = {"S": "ORDER"}
        other = stream_record(2)

        first = example.handler(window_event([order, other]), None)
        last = example.handler(window_event([], state=first["state"], final=True), None)

        assert first == {"batchItemFailures": [], "state": {"orders": 1}}
        assert last["state"] == {"orders": 1}
        assert example.published == [{"window": "2026-01-01T00:00:00Z", "orders": 1}]

    def test_async_example_posts_each_status_change(self, load_example: Any) -> None:
        """docs/examples/sources_async.py sends one webhook per changed status."""
        example = load_example("sources_async")
        changes = []
        for number, (old, new) in enumerate([("NEW", "PAID"), ("PAID", "PAID"), ("A", "B")]):
            change = stream_record(number, key=f"order-{number}", event_name="MODIFY")
            change["dynamodb"]["StreamViewType"] = "NEW_AND_OLD_IMAGES"
            change["dynamodb"]["OldImage"] = {"status": {"S": old}}
            change["dynamodb"]["NewImage"] = {"status": {"S": new}}
            changes.append(change)

        response = example.handler({"Records": changes}, None)

        assert response == {"batchItemFailures": []}
        assert sorted(example.sent) == ["order-0:PAID", "order-2:B"]
