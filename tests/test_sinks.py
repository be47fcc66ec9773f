"""``ddbstream.sinks`` with scripted clients: options, errors, retries, the failure point.

What the services do with the messages is tested against moto's server in
``integration/test_sinks_moto.py``; here a client answers as the test scripts it.
"""

from __future__ import annotations

import datetime
import hashlib
import pickle
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError

import ddbstream
from ddbstream import Record
from ddbstream._codec import EXACT_DECODER
from ddbstream._record import make_record
from ddbstream.errors import DdbStreamError, SinkError
from ddbstream.sinks import SNS, SQS, EventBridge, FlushResult, Sink
from ddbstream.testing import insert

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/orders"
TOPIC = "arn:aws:sns:us-east-1:123456789012:orders"

Answer = Callable[[list[dict[str, Any]]], Any]


def record(pk: str, **item: Any) -> Record[Any]:
    return make_record(insert({"pk": pk, **item}), EXACT_DECODER)


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} happened"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "SendMessageBatch",
    )


class Scripted:
    """A client whose answers are scripted: each request takes the next answer (or succeeds)."""

    def __init__(self, *answers: Answer | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[list[dict[str, Any]]] = []

    def _answer(self, entries: list[dict[str, Any]]) -> Any:
        self.requests.append(entries)
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        return answer(entries) if answer else {}

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> Any:
        return self._answer(Entries)

    def publish_batch(
        self, *, TopicArn: str, PublishBatchRequestEntries: list[dict[str, Any]]
    ) -> Any:
        return self._answer(PublishBatchRequestEntries)

    def put_events(self, *, Entries: list[dict[str, Any]]) -> Any:
        return self._answer(Entries)


def failing(*ids: str, sender_fault: bool = False, code: str = "InternalError") -> Answer:
    """An SQS/SNS answer refusing the entries with these Ids."""

    def answer(entries: list[dict[str, Any]]) -> Any:
        return {
            "Failed": [
                {"Id": entry["Id"], "Code": code, "Message": "no", "SenderFault": sender_fault}
                for entry in entries
                if entry["Id"] in ids
            ]
        }

    return answer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class TestImport:
    def test_sinks_do_not_import_boto3(self) -> None:
        """Importing ddbstream.sinks loads neither boto3 nor botocore."""
        script = (
            "import sys, ddbstream.sinks; "
            "print(sorted(m for m in sys.modules if m.startswith(('boto3', 'botocore'))))"
        )
        src = str(Path(ddbstream.__file__).resolve().parent.parent)
        output = subprocess.run(
            [sys.executable, "-c", f"import sys; sys.path.insert(0, {src!r}); {script}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert output.strip() == "[]"

    def test_client_is_made_on_first_use(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without client=, the sink makes a boto3 client of its service when first asked."""
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        sink = SQS(QUEUE)

        client = sink.client

        assert client.meta.service_model.service_name == "sqs"
        assert sink.client is client


class TestOptions:
    def test_attempts_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="attempts=0 must be at least 1"):
            SQS(QUEUE, attempts=0)

    @pytest.mark.parametrize(
        ("sink", "limit"), [(SNS, 262_144), (EventBridge, 262_143), (SQS, 1_048_576)]
    )
    def test_request_bytes_bounded_by_the_api(self, sink: Callable[..., Sink], limit: int) -> None:
        """max_request_bytes can lower the API's limit, not raise it."""
        target = () if sink is EventBridge else ("x",)
        with pytest.raises(ValueError, match=f"between 1 and {limit}"):
            sink(*target, max_request_bytes=limit + 1)
        assert sink(*target, max_request_bytes=limit).max_request_bytes == limit

    def test_reprs_name_the_target(self) -> None:
        assert repr(SQS(QUEUE)) == f"SQS(queue_url={QUEUE!r})"
        assert repr(SNS(TOPIC)) == f"SNS(topic_arn={TOPIC!r})"
        assert (
            repr(EventBridge(source="s", bus_name="b")) == "EventBridge(source='s', bus_name='b')"
        )


class TestSend:
    def test_too_large_names_the_record(self) -> None:
        """A message larger than a request is refused at send(), naming its record."""
        sink = SQS(QUEUE, max_request_bytes=100)
        change = record("a")
        with pytest.raises(SinkError, match=r"is 101 bytes, more than the 100") as caught:
            sink.send(change, "x" * 101)
        assert caught.value.event_id == change.event_id
        assert f"eventID {change.event_id!r}" in str(caught.value)
        sink.send(change, "x" * 100)
        assert sink.pending == 1

    def test_attributes_count_toward_the_size(self) -> None:
        """Attribute names, types and values count, as SQS and SNS count them."""
        sink = SNS(TOPIC, max_request_bytes=31)
        sink.send(
            record("a"), "12345", attributes={"ab": "cd", "n": 5, "b": b"\x00"}
        )  # 5 + 10 + 8 + 8
        with pytest.raises(SinkError):
            sink.send(record("a"), "123456", attributes={"ab": "cd", "n": 5, "b": b"\x00"})

    @pytest.mark.parametrize("value", [True, 1.5, None])
    def test_attribute_types(self, value: Any) -> None:
        with pytest.raises(TypeError, match="Cannot send the message attribute 'a'"):
            SQS(QUEUE).send(record("a"), "x", attributes={"a": value})

    def test_event_needs_source_and_type(self) -> None:
        with pytest.raises(SinkError, match=r"has no source for this event. Pass source="):
            EventBridge(detail_type="t").send(record("a"), {})
        with pytest.raises(SinkError, match="has no detail_type"):
            EventBridge(source="s").send(record("a"), {})

    def test_event_detail_is_an_object(self) -> None:
        with pytest.raises(TypeError, match="must be a mapping"):
            EventBridge(source="s", detail_type="t").send(record("a"), [1])  # type: ignore[arg-type]

    def test_event_entry(self) -> None:
        """Options of the sink and of send() make the entry; text detail is sent as it is."""
        client = Scripted(lambda entries: {"FailedEntryCount": 0, "Entries": [{}] * len(entries)})
        sink = EventBridge(source="s", detail_type="t", bus_name="bus", client=client)
        when = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
        sink.send(
            record("a"),
            '{"raw":1}',
            source="s2",
            detail_type="t2",
            resources=["r"],
            time=when,
            bus_name="b2",
        )
        sink.send(record("b"), {"n": Decimal("1.0")})

        assert sink.flush().sent == 2
        assert client.requests == [
            [
                {
                    "Source": "s2",
                    "DetailType": "t2",
                    "Detail": '{"raw":1}',
                    "Resources": ["r"],
                    "Time": when,
                    "EventBusName": "b2",
                },
                {"Source": "s", "DetailType": "t", "Detail": '{"n":1.0}', "EventBusName": "bus"},
            ]
        ]

    def test_fifo_takes_no_delay(self) -> None:
        with pytest.raises(SinkError, match="FIFO queue, which takes no delay"):
            SQS(QUEUE + ".fifo").send(record("a"), "x", delay_seconds=5)

    def test_fifo_needs_an_event_id(self) -> None:
        raw = insert({"pk": "a"})
        del raw["eventID"]
        change = make_record(raw, EXACT_DECODER)
        sink = SNS(TOPIC + ".fifo")
        with pytest.raises(SinkError, match="no eventID to deduplicate by"):
            sink.send(change, "x")
        sink.send(change, "x", deduplication_id="mine")
        assert sink.pending == 1

    def test_fifo_ids_given_or_hashed(self) -> None:
        """Ids given are used; too long or with refused characters, they become a SHA-256."""
        client = Scripted()
        sink = SQS(QUEUE + ".fifo", client=client)
        sink.send(record("a"), "x", group_id="g", deduplication_id="d" * 129)
        sink.send(record("b"), "y", group_id="has space", deduplication_id="")

        sink.flush()

        [first, second] = client.requests[0]
        assert (first["MessageGroupId"], first["MessageDeduplicationId"]) == (
            "g",
            hashlib.sha256(b"d" * 129).hexdigest(),
        )
        assert second["MessageGroupId"] == hashlib.sha256(b"has space").hexdigest()
        assert second["MessageDeduplicationId"] == hashlib.sha256(b"").hexdigest()

    def test_deduplication_count_restarts_after_flush(self) -> None:
        """A record sent again after a flush (its retry) gets the same ids as the first time."""
        client = Scripted()
        sink = SQS(QUEUE + ".fifo", client=client)
        change = record("a")
        for _ in range(2):
            sink.send(change, "1")
            sink.send(change, "2")
            sink.flush()
        ids = [
            [entry["MessageDeduplicationId"] for entry in request] for request in client.requests
        ]
        assert ids == [[change.event_id, f"{change.event_id}:1"]] * 2


class TestFlush:
    def test_nothing_buffered(self) -> None:
        client = Scripted()
        result = SQS(QUEUE, client=client).flush()
        assert (result.ok, result.sent, result.requests, client.requests) == (True, 0, 0, [])

    def test_unlisted_records_go_last(self) -> None:
        """Messages of records not in order= follow the listed ones, in send() order."""
        client = Scripted()
        sink = SQS(QUEUE, client=client)
        a, b, c, d = (record(pk) for pk in "abcd")
        for change in (d, c, b, a):
            sink.send(change, change.keys["pk"])

        sink.flush([a, b])

        assert [entry["MessageBody"] for entry in client.requests[0]] == ["a", "b", "d", "c"]
        assert [entry["Id"] for entry in client.requests[0]] == ["0", "1", "2", "3"]

    def test_discard(self) -> None:
        """Discarded records' messages are not sent."""
        client = Scripted()
        sink = SNS(TOPIC, client=client)
        a, b = record("a"), record("b")
        sink.send(a, "1")
        sink.send(b, "2")
        sink.send(a, "3")

        assert sink.discard(a) == 2
        assert sink.flush().sent == 1
        assert [entry["Message"] for entry in client.requests[0]] == ["2"]

    @pytest.mark.parametrize("code", ["ThrottlingException", "RequestThrottled", "Throttling"])
    def test_throttled_call_is_retried(self, code: str) -> None:
        """A whole request throttled is made again after a wait."""
        sleeps: list[float] = []
        client = Scripted(client_error(code))
        sink = SQS(QUEUE, client=client, sleep=sleeps.append)
        sink.send(record("a"), "x")

        result = sink.flush()

        assert (result.ok, result.sent, result.requests, len(sleeps)) == (True, 1, 2, 1)

    def test_server_error_is_retried(self) -> None:
        client = Scripted(client_error("InternalError", 500), client_error("InternalError", 503))
        sink = SNS(TOPIC, client=client, sleep=lambda _: None)
        sink.send(record("a"), "x")
        assert sink.flush().requests == 3

    def test_connection_error_is_retried(self) -> None:
        client = Scripted(EndpointConnectionError(endpoint_url="http://x"))
        sink = EventBridge(source="s", detail_type="t", client=client, sleep=lambda _: None)
        sink.send(record("a"), {})
        assert sink.flush().requests == 2

    def test_permanent_call_errors_are_not_retried(self) -> None:
        """An error no retry mends fails the request's first record at once."""
        sleeps: list[float] = []
        client = Scripted(ParamValidationError(report="bad"))
        sink = SQS(QUEUE, client=client, sleep=sleeps.append)
        records = [record(pk) for pk in "ab"]
        for change in records:
            sink.send(change, "x")

        result = sink.flush()

        assert result.failed_record is records[0]
        assert result.error is not None
        assert result.error.code == "ParamValidationError"
        assert (result.requests, result.unsent, sleeps) == (1, 2, [])

    def test_other_exceptions_propagate(self) -> None:
        """A bug (not a boto3 error) is not taken for a delivery failure."""
        sink = SQS(QUEUE, client=Scripted(KeyError("oops")))
        sink.send(record("a"), "x")
        with pytest.raises(KeyError):
            sink.flush()

    def test_backoff_doubles_up_to_the_maximum(self) -> None:
        """Waits are random, within a ceiling that doubles from base_delay up to max_delay."""
        sleeps: list[float] = []
        client = Scripted(*[client_error("Throttling")] * 6)
        sink = SQS(
            QUEUE, client=client, sleep=sleeps.append, attempts=6, base_delay=1.0, max_delay=4.0
        )
        sink.send(record("a"), "x")

        result = sink.flush()

        assert (result.ok, result.requests) == (False, 6)
        assert len(sleeps) == 5
        assert all(
            0 <= wait <= ceiling for wait, ceiling in zip(sleeps, [1, 2, 4, 4, 4], strict=True)
        )
        assert "(6 requests made): Throttling: Throttling happened" in str(result.error)

    def test_no_wait_past_the_deadline(self) -> None:
        """A retry whose wait would end after the deadline is not made."""
        clock = Clock()
        sleeps: list[float] = []
        client = Scripted(client_error("Throttling"))
        sink = SQS(QUEUE, client=client, sleep=sleeps.append, clock=clock, base_delay=1.0)
        sink.send(record("a"), "x")

        result = sink.flush(deadline=clock.now)

        assert (result.ok, result.requests, sleeps) == (False, 1, [])
        assert "(1 request made)" in str(result.error)

    def test_retry_only_before_a_permanent_refusal(self) -> None:
        """Entries before one refused for good are retried; it stays the failure point."""

        def answer(entries: list[dict[str, Any]]) -> Any:
            return {
                "Failed": [
                    {"Id": "1", "Code": "InternalError", "Message": "", "SenderFault": False},
                    {
                        "Id": "2",
                        "Code": "InvalidParameterValue",
                        "Message": "bad",
                        "SenderFault": True,
                    },
                    {"Id": "3", "Code": "InternalError", "Message": "", "SenderFault": False},
                ]
            }

        client = Scripted(answer)
        sink = SQS(QUEUE, client=client, sleep=lambda _: None)
        records = [record(pk) for pk in "abcd"]
        for change in records:
            sink.send(change, change.keys["pk"])

        result = sink.flush()

        assert [[entry["MessageBody"] for entry in request] for request in client.requests] == [
            ["a", "b", "c", "d"],
            ["b"],
        ]
        assert result.failed_record is records[2]
        assert result.error is not None
        assert result.error.code == "InvalidParameterValue"
        assert (result.sent, result.unsent) == (2, 2)

    def test_eventbridge_permanent_codes(self) -> None:
        """PutEvents entries refused as malformed are not retried."""
        client = Scripted(
            lambda entries: {
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "MalformedDetail", "ErrorMessage": "bad"}],
            }
        )
        sink = EventBridge(source="s", detail_type="t", client=client)
        sink.send(record("a"), "{")
        result = sink.flush()
        assert (result.requests, result.error and result.error.code) == (1, "MalformedDetail")

    def test_later_requests_wait_for_the_failure(self) -> None:
        """After a request that fails, the rest are not sent: they are counted unsent."""
        client = Scripted(failing("0", sender_fault=True))
        sink = SQS(QUEUE, client=client)
        records = [record(f"k{index}") for index in range(25)]
        for change in records:
            sink.send(change, "x")

        result = sink.flush()

        assert (result.sent, result.unsent, result.requests) == (9, 16, 1)
        assert result.failed_record is records[0]
        assert sink.pending == 0

    def test_result_repr(self) -> None:
        assert (
            repr(FlushResult(sent=1))
            == "FlushResult(sent=1, unsent=0, requests=0, failed_record=None, error=None)"
        )


class TestSinkError:
    def test_is_a_ddbstream_error_that_pickles(self) -> None:
        error = SinkError("Not sent.", code="Throttling", event_id="e", sequence_number="1")
        copy = pickle.loads(pickle.dumps(error))
        assert isinstance(copy, SinkError)
        assert isinstance(copy, DdbStreamError)
        assert (copy.code, copy.event_id, str(copy)) == (
            "Throttling",
            "e",
            "Not sent. (eventID 'e', SequenceNumber '1')",
        )
        assert str(SinkError("Plain.")) == "Plain."
