"""ddbstream.failures without a server: on-failure records, parked records, reading a range
from a stand-in client, and ``ddbstream replay`` on messages that carry their records."""

from __future__ import annotations

import contextlib
import json
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import App, Record
from ddbstream.cli import main
from ddbstream.errors import DdbStreamError, FailureMessageError
from ddbstream.failures import (
    PARKED,
    ReplayError,
    park,
    park_message,
    parse,
    parse_parked,
    read_records,
)
from ddbstream.testing import insert

FAILURES = Path(__file__).resolve().parent / "events" / "failures"
DOC_SEQUENCE = "800000000003126276362"
DOC_STREAM = "arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388"


def load(name: str) -> Any:
    return json.loads((FAILURES / name).read_text(encoding="utf-8"))


def stream_record(sequence_number: str, key: str) -> dict[str, Any]:
    """A DynamoDB stream record in Lambda's event shape."""
    return {
        "eventID": f"e-{key}",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"pk": {"S": key}},
            "NewImage": {"pk": {"S": key}},
            "SequenceNumber": sequence_number,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


def document(first: str = "100", last: str = "102", size: int = 3, **extra: Any) -> dict[str, Any]:
    """An on-failure record for a DynamoDB stream, as the docs' example, with another range."""
    body: dict[str, Any] = load("dynamodb_sqs_body.json")
    body["DDBStreamBatchInfo"].update(
        startSequenceNumber=first, endSequenceNumber=last, batchSize=size
    )
    body.update(extra)
    return body


class TestParseDocumentedShapes:
    def test_sqs_body(self) -> None:
        """The documented SQS/SNS record reads into every field."""
        failure = parse(load("dynamodb_sqs_body.json"))

        assert failure.source == "dynamodb"
        assert failure.stream_arn == DOC_STREAM
        assert failure.shard_id == "shardId-00000001573689847184-864758bb"
        assert failure.first_sequence_number == failure.last_sequence_number == DOC_SEQUENCE
        assert failure.batch_size == 1
        assert failure.condition == "RetryAttemptsExhausted"
        assert failure.invoke_count == 1
        assert failure.function_arn == "arn:aws:lambda:us-east-2:123456789012:function:myfunction"
        assert failure.function_error == "Unhandled"
        assert failure.timestamp == datetime(2019, 11, 14, 0, 13, 49, 717000, tzinfo=timezone.utc)
        assert failure.first_arrival == datetime(2019, 11, 14, 0, 13, 19, tzinfo=timezone.utc)
        assert failure.last_arrival == failure.first_arrival
        assert failure.records is None
        assert failure.truncated is False
        assert failure.envelopes == ()
        assert failure.region == "us-east-2"
        assert failure.document["version"] == "1.0"

    def test_kinesis(self) -> None:
        """The documented Kinesis record reads as a Kinesis source, its big numbers kept."""
        failure = parse(load("kinesis_sqs_body.json"))

        assert failure.source == "kinesis"
        assert failure.stream_arn == "arn:aws:kinesis:us-east-2:123456789012:stream/mystream"
        assert failure.shard_id == "shardId-000000000001"
        assert failure.batch_size == 500
        assert failure.last_arrival == datetime(2019, 11, 14, 0, 38, 5, 580000, tzinfo=timezone.utc)
        assert failure.covers("49601189658422359378836298522000000000000000000000000000")
        assert not failure.covers("49601189658422359378836298522902373528957594348623495187")

    @pytest.mark.parametrize(
        ("name", "envelopes"),
        [
            ("dynamodb_sqs_record.json", ("sqs",)),
            ("dynamodb_sqs_event.json", ("sqs",)),
            ("dynamodb_sns_notification.json", ("sns",)),
            ("dynamodb_sns_event.json", ("sns",)),
            ("dynamodb_sns_via_sqs_event.json", ("sqs", "sns")),
        ],
    )
    def test_wrappings(self, name: str, envelopes: tuple[str, ...]) -> None:
        """SQS and SNS deliveries read as the record they carry, naming what was unwrapped."""
        failure = parse(load(name))

        assert failure == parse(load("dynamodb_sqs_body.json"))._replace(envelopes=envelopes)
        assert failure.envelopes == envelopes

    def test_receive_message_response(self) -> None:
        """A ReceiveMessage response with one message (as the AWS CLI prints it) reads too."""
        body = (FAILURES / "dynamodb_sqs_body.json").read_text(encoding="utf-8")
        response = {"Messages": [{"MessageId": "m1", "ReceiptHandle": "r1", "Body": body}]}

        assert parse(json.dumps(response)).envelopes == ("sqs",)

    def test_text_and_bytes(self) -> None:
        """JSON text and bytes read as the parsed document does."""
        text = (FAILURES / "dynamodb_sqs_body.json").read_text(encoding="utf-8")

        assert parse(text) == parse(text.encode()) == parse(json.loads(text))

    def test_s3_object_carries_the_records(self) -> None:
        """The S3 object's payload (escaped JSON) gives the batch's records."""
        failure = parse(load("dynamodb_s3_object.json"))

        assert failure.records is not None
        assert [r["dynamodb"]["SequenceNumber"] for r in failure.records] == [DOC_SEQUENCE]
        assert failure.records[0]["dynamodb"]["Keys"] == {"pk": {"S": "order#1"}}
        assert failure.truncated is False

    def test_pipes_context(self) -> None:
        """EventBridge Pipes writes ``context`` where Lambda writes ``requestContext``."""
        body = document()
        del body["requestContext"], body["responseContext"]
        body["context"] = {
            "partnerResourceArn": "arn:aws:pipes:x",
            "condition": "RecordAgeExceeded",
        }

        failure = parse(body)

        assert failure.condition == "RecordAgeExceeded"
        assert failure.invoke_count is None
        assert failure.function_error is None


class TestPayload:
    def test_records_outside_the_range_are_left_out(self) -> None:
        """A payload record before the range (already checkpointed) is not replayed twice."""
        event = {"Records": [stream_record(n, f"k{n}") for n in ("99", "100", "101", "102")]}

        failure = parse(document(payload=json.dumps(event)))

        assert failure.records is not None
        assert [r["dynamodb"]["SequenceNumber"] for r in failure.records] == ["100", "101", "102"]
        assert failure.truncated is False

    def test_fewer_records_than_the_batch(self) -> None:
        """A payload with fewer records of the range than batchSize is marked truncated."""
        event = {"Records": [stream_record("100", "a")]}

        failure = parse(document(payload=event))  # an object is read as well as text

        assert failure.records is not None
        assert len(failure.records) == 1
        assert failure.truncated is True

    @pytest.mark.parametrize("payload", [None, ""])
    def test_dropped_payload(self, payload: Any) -> None:
        """An empty payload means the records were dropped: truncated, none carried."""
        failure = parse(document(payload=payload))

        assert failure.records is None
        assert failure.truncated is True

    def test_kinesis_and_flat_records(self) -> None:
        """Kinesis records and Pipes' flat ones are placed by their sequenceNumber."""
        event = [
            {"kinesis": {"sequenceNumber": "100", "data": ""}},
            {"sequenceNumber": "101", "data": ""},
            {"sequenceNumber": 102},  # not text: cannot be placed, left out
        ]

        failure = parse(document(payload=json.dumps(event)))

        assert failure.records is not None
        assert len(failure.records) == 2
        assert failure.truncated is True

    @pytest.mark.parametrize(
        ("payload", "expected"),
        [
            ("{not json", "payload is not the event as JSON"),
            (json.dumps({"Records": "x"}), "payload must hold the event"),
            (json.dumps([1, 2]), "payload must hold the event"),
        ],
    )
    def test_bad_payload(self, payload: str, expected: str) -> None:
        """A payload that is not an event is refused, saying what it is."""
        with pytest.raises(FailureMessageError, match=expected):
            parse(document(payload=payload))


class TestParseRefuses:
    @pytest.mark.parametrize(
        ("message", "expected"),
        [
            ("{oops", "The message is not JSON"),
            (b"\xff\xfe", "not UTF-8"),
            ("[1, 2]", "found a JSON list"),
            ("null", "found null"),
            ({"hello": 1}, "found a JSON object with the keys hello"),
            ({}, "with no keys"),
            ({"Records": []}, "holds 0 Records"),
            ({"Records": [{}, {}]}, r"parse one at a time, e.g. \[parse\(item\)"),
            ({"Records": [{"eventSource": "aws:s3", "s3": {}}]}, "S3 event notification"),
            ({"Records": [{"eventSource": "aws:dynamodb"}]}, "stream record"),
            ({"Records": [{"kinesis": {}, "eventSource": "aws:kinesis"}]}, "aws:kinesis"),
            (
                {"requestContext": {}, "requestPayload": {}, "version": "1.0"},
                "asynchronous invocation",
            ),
            ({"eventSource": "aws:sqs", "body": "[]"}, "found a JSON list"),
        ],
    )
    def test_not_a_failure_record(self, message: Any, expected: str) -> None:
        """Anything else is refused with what was found and what was expected."""
        with pytest.raises(FailureMessageError, match=expected):
            parse(message)

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            ({"streamArn": ""}, "streamArn must be a non-empty string, got ''"),
            ({"shardId": None}, "shardId must be a non-empty string"),
            ({"startSequenceNumber": "12a"}, r"startSequenceNumber must be a sequence number"),
            ({"startSequenceNumber": "200"}, "'200' is after endSequenceNumber '102'"),
            ({"batchSize": 0}, "batchSize must be a whole number of at least 1, got 0"),
            ({"batchSize": True}, "batchSize must be a whole number"),
            ({"approximateArrivalOfFirstRecord": "yesterday"}, "not an ISO 8601 time"),
        ],
    )
    def test_bad_fields(self, change: dict[str, Any], expected: str) -> None:
        """A wrong field is named, with its value."""
        body = document()
        body["DDBStreamBatchInfo"].update(change)

        with pytest.raises(FailureMessageError, match=expected):
            parse(body)

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            ({"DDBStreamBatchInfo": []}, "DDBStreamBatchInfo must be a JSON object"),
            ({"requestContext": []}, "requestContext and responseContext must be JSON objects"),
            ({"requestContext": {"approximateInvokeCount": "3"}}, "must be a number, got '3'"),
        ],
    )
    def test_bad_sections(self, change: dict[str, Any], expected: str) -> None:
        """A section of the wrong type is refused."""
        with pytest.raises(FailureMessageError, match=expected):
            parse(document(**change))

    def test_too_deeply_wrapped(self) -> None:
        """Wrappings past any real delivery are refused rather than followed forever."""
        message: Any = load("dynamodb_sqs_body.json")
        for _ in range(12):
            message = {"Type": "Notification", "Message": json.dumps(message)}

        with pytest.raises(FailureMessageError, match="more than 5 SQS or SNS envelopes"):
            parse(message)

    def test_is_a_value_error(self) -> None:
        """The error is a DdbStreamError and a ValueError."""
        assert issubclass(FailureMessageError, DdbStreamError)
        assert issubclass(FailureMessageError, ValueError)

    @given(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=5),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(
                    st.sampled_from(
                        ["Records", "body", "Body", "Sns", "Type", "Message", "payload", "x"]
                    ),
                    inner,
                    max_size=4,
                )
            ),
            max_leaves=12,
        )
    )
    def test_anything_else_raises_only_failure_message_error(self, message: Any) -> None:
        """Whatever JSON comes in, parse returns a value or raises FailureMessageError."""
        with contextlib.suppress(FailureMessageError):
            parse(message)


class TestFailureMessageValue:
    def test_immutable(self) -> None:
        """Fields cannot be set after parsing."""
        failure = parse(document())

        with pytest.raises(AttributeError, match="immutable"):
            failure.batch_size = 9

    def test_equality_and_hash(self) -> None:
        """Equal messages are equal and hash alike; the raw document is not compared."""
        one, two = parse(document()), parse(json.dumps(document(version="2.0")))

        assert one == two
        assert hash(one) == hash(two)
        assert one != parse(document(last="103"))
        assert one != "a string"

    def test_repr_names_the_batch_first(self) -> None:
        """The repr starts with what identifies the batch."""
        assert repr(parse(document())).startswith(
            f"FailureMessage(source='dynamodb', stream_arn='{DOC_STREAM}', shard_id="
        )

    def test_describe(self) -> None:
        """One line names the batch and why."""
        assert parse(document()).describe() == (
            f"3 record(s) of dynamodb stream {DOC_STREAM}, shard "
            "shardId-00000001573689847184-864758bb, sequence numbers 100 to 102, "
            "RetryAttemptsExhausted after 1 invocation(s)"
        )

    def test_unknown_field(self) -> None:
        """Building one with a field it does not have is an error."""
        with pytest.raises(TypeError, match="unexpected fields: colour"):
            parse(document())._replace(colour="red")

    def test_region_of_an_odd_arn(self) -> None:
        """An ARN without a region gives None."""
        assert parse(document())._replace(stream_arn="stream").region is None
        assert not parse(document()).covers("not a number")


# --- parking ---------------------------------------------------------------------------------


class Recorder:
    """A sink that remembers what it was sent and when it was flushed."""

    def __init__(self, *, fail: bool = False) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fail = fail

    def send(self, record: Record[Any], payload: Any, /) -> None:
        if self.fail:
            raise ConnectionError("queue unreachable")
        self.calls.append(("send", payload))

    def flush(self) -> None:
        self.calls.append(("flush", None))


@pytest.fixture
def poison_app() -> tuple[App, Recorder]:
    app = App(report_batch_item_failures=True)
    sink = Recorder()

    @app.on_insert
    def charge(record: Record) -> None:
        if record.keys["pk"] == "bad":
            raise ValueError("cannot charge bad")

    @app.on_error(ValueError)
    def aside(record: Record, error: Exception) -> None:
        park(record, error, sink)

    return app, sink


class TestPark:
    def test_marks_the_record_handled(self, poison_app: tuple[App, Recorder]) -> None:
        """A parked record is handled: the batch goes on, nothing is reported."""
        app, sink = poison_app
        event = {"Records": [insert({"pk": "ok"}), insert({"pk": "bad"}), insert({"pk": "ok2"})]}

        response = app.handler(event, None)

        assert response == {"batchItemFailures": []}
        assert [call for call, _ in sink.calls] == ["send", "flush"]
        payload = sink.calls[0][1]
        assert payload["format"] == PARKED
        assert payload["record"] == event["Records"][1]
        assert payload["error"]["type"] == "ValueError"
        assert payload["error"]["message"] == "cannot charge bad"
        assert "cannot charge bad" in payload["error"]["traceback"]
        assert payload["sequenceNumber"] == event["Records"][1]["dynamodb"]["SequenceNumber"]
        assert json.loads(json.dumps(payload)) == payload  # JSON-ready

    def test_sink_without_flush(self) -> None:
        """A sink without flush() is only sent to."""
        sent: list[Any] = []

        class Plain:
            def send(self, record: Record[Any], payload: Any, /) -> None:
                sent.append(payload)

        record = _record()
        park(record, KeyError("amount"), Plain())

        assert sent[0]["error"] == {
            "type": "KeyError",
            "message": "'amount'",
            "traceback": "KeyError: 'amount'\n",
        }

    def test_failing_sink_keeps_the_record_failed(self) -> None:
        """When the sink fails, park raises with a note, so the hook keeps the record failed."""
        app = App(report_batch_item_failures=True)

        @app.on_insert
        def charge(record: Record) -> None:
            raise ValueError("poison")

        @app.on_error(ValueError)
        def aside(record: Record, error: Exception) -> None:
            park(record, error, Recorder(fail=True))

        event = {"Records": [insert({"pk": "a"})]}
        outcome = app.process(event)

        assert isinstance(outcome.error, ConnectionError)
        assert outcome.failures == [
            {"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}
        ]
        notes = getattr(outcome.error, "__notes__", [])
        assert any("could not park the record" in note for note in notes)

    def test_round_trip_through_parse_parked(self) -> None:
        """What park sends reads back with parse_parked, also inside an SQS record."""
        record = _record()
        payload = park_message(record, RuntimeError("boom"))

        for message in (payload, {"eventSource": "aws:sqs", "body": json.dumps(payload)}):
            parked = parse_parked(message)
            assert parked.record == dict(record.raw)
            assert parked.error_type == "RuntimeError"
            assert parked.error_message == "boom"
            assert parked.event_id == record.event_id
            assert parked.sequence_number == record.sequence_number
            assert parked.parked_at is not None
        assert "RuntimeError" in repr(parse_parked(payload))

    @pytest.mark.parametrize(
        ("message", "expected"),
        [
            ({"format": PARKED, "record": [], "error": {}}, "needs a 'record' object"),
            ({"x": 1}, "Expected a parked record"),
            ("[]", "Expected a parked record"),
        ],
    )
    def test_parse_parked_refuses(self, message: Any, expected: str) -> None:
        """What is not a parked record is refused."""
        with pytest.raises(FailureMessageError, match=expected):
            parse_parked(message)


def _record() -> Record[Any]:
    app = App()
    seen: list[Record[Any]] = []
    app.on_insert(seen.append)
    app.handler({"Records": [insert({"pk": "p1"})]}, None)
    return seen[0]


# --- reading a range from a stand-in client ----------------------------------------------------


class ClientError(Exception):
    """botocore's ClientError as far as ddbstream reads it: a response with an error code."""

    def __init__(self, code: str) -> None:
        super().__init__(f"An error occurred ({code})")
        self.response = {"Error": {"Code": code}}


class FakeStreams:
    """A dynamodbstreams client over a list of sequence numbers, a page of *page* at a time."""

    def __init__(self, numbers: list[int], *, page: int = 2, errors: list[str] = ()) -> None:  # type: ignore[assignment]
        self.numbers = numbers
        self.page = page
        self.errors = list(errors)
        self.iterators: list[dict[str, Any]] = []

    def get_shard_iterator(self, **arguments: Any) -> dict[str, str]:
        self.iterators.append(arguments)
        start = int(arguments["SequenceNumber"])
        if arguments["ShardIteratorType"] == "AFTER_SEQUENCE_NUMBER":
            start += 1
        return {
            "ShardIterator": str(
                next((i for i, n in enumerate(self.numbers) if n >= start), len(self.numbers))
            )
        }

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        if self.errors:
            raise ClientError(self.errors.pop(0))
        at = int(ShardIterator)
        chunk = self.numbers[at : at + self.page]
        records = [{"dynamodb": {"SequenceNumber": str(n)}, "eventName": "INSERT"} for n in chunk]
        return {"Records": records, "NextShardIterator": str(at + len(chunk))}


def sequence_numbers(records: list[dict[str, Any]]) -> list[str]:
    return [r["dynamodb"]["SequenceNumber"] for r in records]


class TestReadRecords:
    def test_across_pages_both_ends_included(self) -> None:
        """From the first sequence number to the last, included, across pages, in order."""
        client = FakeStreams([100, 101, 102, 103, 104, 105])

        records = read_records(parse(document("101", "104", 4)), client=client)

        assert sequence_numbers(records) == ["101", "102", "103", "104"]
        assert client.iterators[0]["ShardIteratorType"] == "AT_SEQUENCE_NUMBER"
        assert records[0]["eventSourceARN"] == DOC_STREAM  # Lambda's event shape

    def test_last_number_not_in_the_stream(self) -> None:
        """A last sequence number the stream does not hold ends the range at the next one."""
        client = FakeStreams([100, 101, 103, 104], page=5)

        assert sequence_numbers(read_records(parse(document("100", "102")), client=client)) == [
            "100",
            "101",
        ]

    def test_numbers_compare_as_integers(self) -> None:
        """A longer sequence number is a later one, whatever text order says."""
        client = FakeStreams([9, 10, 11], page=5)

        assert sequence_numbers(read_records(parse(document("9", "10", 2)), client=client)) == [
            "9",
            "10",
        ]

    def test_expired_iterator_is_renewed_once(self) -> None:
        """An expired iterator is replaced after the last record read, once."""
        client = FakeStreams([100, 101, 102], page=1)
        client.errors = ["ExpiredIteratorException"]

        assert sequence_numbers(read_records(parse(document()), client=client)) == [
            "100",
            "101",
            "102",
        ]

        twice = FakeStreams([100, 101, 102], errors=["ExpiredIteratorException"] * 2)
        with pytest.raises(ReplayError, match="expired twice"):
            read_records(parse(document()), client=twice)

    def test_renewed_after_the_last_record_read(self) -> None:
        """Renewing in the middle continues after the last record read, none twice."""

        class ExpiresOnce(FakeStreams):
            calls = 0

            def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
                self.calls += 1
                if self.calls == 2:
                    raise ClientError("ExpiredIteratorException")
                return super().get_records(ShardIterator, Limit)

        client = ExpiresOnce([100, 101, 102, 103], page=1)

        assert sequence_numbers(read_records(parse(document("100", "103", 4)), client=client)) == [
            "100",
            "101",
            "102",
            "103",
        ]
        assert client.iterators[1] == {
            "StreamArn": DOC_STREAM,
            "ShardId": "shardId-00000001573689847184-864758bb",
            "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
            "SequenceNumber": "100",
        }

    def test_trimmed_by_the_service(self) -> None:
        """TrimmedDataAccessException says the records are older than the retention."""
        client = FakeStreams([100], errors=["TrimmedDataAccessException"])

        with pytest.raises(ReplayError, match=r"no longer holds the records .* 24 hours"):
            read_records(parse(document()), client=client)

    def test_first_record_missing(self) -> None:
        """A stream whose first record is after the first sequence number lost the range's
        start."""
        client = FakeStreams([101, 102])

        with pytest.raises(ReplayError, match="the first record it holds from there is 101"):
            read_records(parse(document()), client=client)

    def test_shard_ends_before_the_last(self) -> None:
        """A closed shard that ends before the last sequence number is an error."""
        client = FakeStreams([100, 101])
        client.get_records = _closing(client.get_records)  # type: ignore[method-assign]

        with pytest.raises(ReplayError, match="ends before sequence number 102; the last record"):
            read_records(parse(document()), client=client)

    def test_open_shard_without_the_last(self) -> None:
        """An open shard that never reaches the last sequence number stops after empty pages."""
        client = FakeStreams([])

        with pytest.raises(ReplayError, match="ends before sequence number 102, and holds no"):
            read_records(parse(document()), client=client)

    @pytest.mark.parametrize(
        ("code", "expected"),
        [
            ("ResourceNotFoundException", "does not exist at this endpoint"),
            ("AccessDeniedException", r"GetRecords failed for shard .*AccessDeniedException"),
        ],
    )
    def test_errors(self, code: str, expected: str) -> None:
        """Other errors of the service are one paragraph naming the shard."""
        with pytest.raises(ReplayError, match=expected):
            read_records(parse(document()), client=FakeStreams([100], errors=[code]))

    def test_error_without_a_response(self) -> None:
        """An exception that is not the service's (no connection) is named by its text."""

        class Down(FakeStreams):
            def get_shard_iterator(self, **arguments: Any) -> dict[str, str]:
                raise OSError("connection refused")

        with pytest.raises(ReplayError, match=r"GetShardIterator failed .*: connection refused"):
            read_records(parse(document()), client=Down([]))

    def test_local_endpoint_without_credentials(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """With an endpoint and no credentials configured, placeholder ones are used, and the
        region is the stream ARN's."""
        from ddbstream import failures

        for name in (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
        ):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
        monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)

        client = failures._client(parse(document()), "http://127.0.0.1:9", None)

        assert client.meta.region_name == "us-east-2"
        assert client.meta.endpoint_url == "http://127.0.0.1:9"
        assert client._request_signer._credentials.access_key == "local"

    def test_without_boto3(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without boto3 the error says what to install."""
        monkeypatch.setitem(sys.modules, "boto3", None)

        with pytest.raises(ReplayError, match=r"pip install 'ddbstream\[aws\]'"):
            read_records(parse(document()))


def _closing(get_records: Any) -> Any:
    def closing(ShardIterator: str, Limit: int) -> dict[str, Any]:
        page: dict[str, Any] = get_records(ShardIterator, Limit)
        if not page["Records"]:
            page["NextShardIterator"] = None
        return page

    return closing


# --- ddbstream replay, no server --------------------------------------------------------------

APP = """
from ddbstream import App

app = App()


@app.on_insert
def show(record):
    if record.keys["pk"] == "bad":
        raise ValueError("bad record")
    print("ran", record.keys["pk"])
"""


@pytest.fixture
def app_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(sys, "path", list(sys.path))
    path = tmp_path / "replay_app.py"
    path.write_text(textwrap.dedent(APP), encoding="utf-8")
    return f"{path}:app"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["replay", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


class TestReplayCommand:
    def test_s3_message_needs_no_stream(
        self, app_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An S3 object's records run as they are, in order; nothing calls AWS."""
        event = {"Records": [stream_record(n, f"k{n}") for n in ("99", "100", "101", "102")]}
        message = tmp_path / "object.json"
        message.write_text(json.dumps(document(payload=json.dumps(event))), encoding="utf-8")

        status, out, err = run(capsys, app_file, str(message))

        assert status == 0, err
        assert [line for line in out.splitlines() if line.startswith("ran ")] == [
            "ran k100",
            "ran k101",
            "ran k102",
        ]
        assert "3 record(s) read from the message's payload" in out
        assert "3 of 3 records processed" in out

    def test_failure_stops_and_exits_1(
        self, app_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A failing record stops the run; the rest are not run; exit status 1."""
        event = {"Records": [stream_record("100", "a"), stream_record("101", "bad")]}
        event["Records"].append(stream_record("102", "c"))
        message = tmp_path / "object.json"
        message.write_text(json.dumps(document(payload=event)), encoding="utf-8")

        status, out, err = run(capsys, app_file, str(message))

        assert status == 1
        assert "ran a" in out
        assert "ran c" not in out
        assert "1 of 3 records processed; record 2 (eventID e-bad) failed" in out
        assert "reported" not in out  # nothing is reported to Lambda by a replay
        assert "ValueError: bad record" in err

    def test_parked_record(
        self,
        app_file: str,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A parked record (from standard input) runs again."""
        raw = stream_record("100", "fixed")
        payload = {"format": PARKED, "record": raw, "error": {"type": "KeyError"}}
        monkeypatch.setattr(sys, "stdin", _Stdin(json.dumps(payload)))

        status, out, _ = run(capsys, app_file, "-")

        assert status == 0
        assert "replaying a parked record (parked after KeyError: )" in out
        assert "ran fixed" in out

    @pytest.mark.parametrize(
        ("content", "expected"),
        [
            ('{"hello": 1}', "found a JSON object with the keys hello"),
            ("{oops", "not JSON"),
        ],
    )
    def test_not_a_message(
        self,
        app_file: str,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        content: str,
        expected: str,
    ) -> None:
        """What is neither an on-failure record nor a parked one: one line, exit 2."""
        message = tmp_path / "message.json"
        message.write_text(content, encoding="utf-8")

        status, _, err = run(capsys, app_file, str(message))

        assert status == 2
        assert expected in err
        assert "Traceback" not in err

    def test_missing_file(
        self, app_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A message file that cannot be read: exit 2."""
        status, _, err = run(capsys, app_file, str(tmp_path / "nope.json"))

        assert status == 2
        assert "cannot read the message" in err

    def test_unusable_records(
        self, app_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Records the app cannot take as a batch: exit 2, one line."""
        payload = {"format": PARKED, "record": {"eventSource": "aws:sqs"}, "error": {}}
        message = tmp_path / "parked.json"
        message.write_text(json.dumps(payload), encoding="utf-8")

        status, _, err = run(capsys, app_file, str(message))

        assert status == 2
        assert "the records come from 'aws:sqs'" in err


class _Stdin:
    def __init__(self, text: str) -> None:
        self.text = text

    def read(self) -> str:
        return self.text
