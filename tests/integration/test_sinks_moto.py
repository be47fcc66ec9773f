"""The sinks against real endpoints: moto's server's SQS, SNS and EventBridge.

Messages are read back from SQS queues: directly, through an SNS subscription, or through an
EventBridge rule whose target is the queue. Failures are made by `Refusing`, a real moto client
wrapped to refuse chosen entries the way the services report refused entries.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import itertools
import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import LoadExample
from ddbstream import Record
from ddbstream._codec import EXACT_DECODER
from ddbstream._record import make_record
from ddbstream.sinks import (
    SNS,
    SNS_REQUEST_BYTES,
    SQS,
    SQS_REQUEST_BYTES,
    EventBridge,
    to_json,
)
from ddbstream.testing import insert, modify

from .conftest import REGION

Refuse = Callable[[dict[str, Any]], "tuple[str, str, bool] | None"]


def record(pk: str, **item: Any) -> Record[Any]:
    """A record of an INSERT of the item with key *pk*."""
    return make_record(insert({"pk": pk, **item}), EXACT_DECODER)


class Sleeps:
    """An injected sleep: the delays asked for, none waited."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class Refusing:
    """A moto client that refuses the entries *refuse* names, *times* times each, as AWS does.

    It records every request's entries, as sent, in ``requests``.
    """

    def __init__(self, client: Any, refuse: Refuse, *, times: int = 1_000) -> None:
        self.client = client
        self.refuse = refuse
        self.left: dict[str, int] = {}
        self.times = times
        self.requests: list[list[dict[str, Any]]] = []

    def _refused(self, entry: dict[str, Any], key: str) -> tuple[str, str, bool] | None:
        verdict = self.refuse(entry)
        if verdict is None:
            return None
        left = self.left.setdefault(key, self.times)
        if left == 0:
            return None
        self.left[key] = left - 1
        return verdict

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> Any:
        return self._batch(
            Entries, "MessageBody", self.client.send_message_batch, QueueUrl=QueueUrl
        )

    def publish_batch(
        self, *, TopicArn: str, PublishBatchRequestEntries: list[dict[str, Any]]
    ) -> Any:
        entries = PublishBatchRequestEntries
        return self._batch(entries, "Message", self._publish, TopicArn=TopicArn)

    def _publish(self, *, TopicArn: str, Entries: list[dict[str, Any]]) -> Any:
        return self.client.publish_batch(TopicArn=TopicArn, PublishBatchRequestEntries=Entries)

    def _batch(self, entries: list[dict[str, Any]], body: str, call: Any, **target: Any) -> Any:
        self.requests.append(entries)
        failed, passed = [], []
        for entry in entries:
            verdict = self._refused(entry, entry[body])
            if verdict is None:
                passed.append(entry)
            else:
                code, message, sender_fault = verdict
                failed.append(
                    {
                        "Id": entry["Id"],
                        "Code": code,
                        "Message": message,
                        "SenderFault": sender_fault,
                    }
                )
        response = call(Entries=passed, **target) if passed else {"Successful": []}
        return {**response, "Failed": [*response.get("Failed", []), *failed]}

    def put_events(self, *, Entries: list[dict[str, Any]]) -> Any:
        self.requests.append(Entries)
        verdicts = [self._refused(entry, entry["Detail"]) for entry in Entries]
        passed = [
            entry for entry, verdict in zip(Entries, verdicts, strict=True) if verdict is None
        ]
        answered = iter(self.client.put_events(Entries=passed)["Entries"] if passed else [])
        results = [
            next(answered)
            if verdict is None
            else {"ErrorCode": verdict[0], "ErrorMessage": verdict[1]}
            for verdict in verdicts
        ]
        return {"FailedEntryCount": sum(v is not None for v in verdicts), "Entries": results}


@pytest.fixture(scope="module")
def sqs(moto_endpoint: str) -> Any:
    import boto3

    return boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)


@pytest.fixture(scope="module")
def sns(moto_endpoint: str) -> Any:
    import boto3

    return boto3.client("sns", endpoint_url=moto_endpoint, region_name=REGION)


@pytest.fixture(scope="module")
def events(moto_endpoint: str) -> Any:
    import boto3

    return boto3.client("events", endpoint_url=moto_endpoint, region_name=REGION)


class Queue:
    """A queue on moto's server and what it holds."""

    def __init__(self, sqs: Any, *, fifo: bool = False) -> None:
        name = f"q-{uuid.uuid4().hex[:12]}" + (".fifo" if fifo else "")
        attributes = {"FifoQueue": "true"} if fifo else {}
        self.sqs = sqs
        self.url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        self.arn: str = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def receive(self) -> list[dict[str, Any]]:
        """Every message in the queue, in the order the queue gives them."""
        messages: list[dict[str, Any]] = []
        while True:
            page = self.sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=10,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
                VisibilityTimeout=60,
            ).get("Messages", [])
            if not page:
                return messages
            messages.extend(page)

    def bodies(self) -> list[str]:
        return [message["Body"] for message in self.receive()]


@pytest.fixture
def queue(sqs: Any) -> Callable[..., Queue]:
    return lambda fifo=False: Queue(sqs, fifo=fifo)


# --- SQS --------------------------------------------------------------------------------------


class TestSQS:
    def test_messages_arrive_in_stream_order(self, sqs: Any, queue: Callable[..., Queue]) -> None:
        """Messages go in the order of the records given to flush, not of the send() calls."""
        target = queue()
        sink = SQS(target.url, client=sqs)
        records = [record(f"k{index}") for index in range(25)]
        for item in reversed(records):
            sink.send(item, {"pk": item.keys["pk"]})

        result = sink.flush(records)

        assert (result.sent, result.unsent, result.requests, result.ok) == (25, 0, 3, True)
        assert target.bodies() == [
            json.dumps({"pk": f"k{index}"}, separators=(",", ":")) for index in range(25)
        ]
        assert sink.pending == 0

    def test_every_value_type_arrives_exactly(self, sqs: Any, queue: Callable[..., Queue]) -> None:
        """Decimals, sets, bytes, maps, lists and times arrive as exact JSON."""
        target = queue()
        sink = SQS(target.url, client=sqs)
        item = {
            "pk": "a",
            "price": Decimal("19.990"),
            "big": Decimal("123456789012345678901234567890123456.78"),
            "count": Decimal("1E+3"),
            "tags": {"b", "a"},
            "scores": {Decimal("2"), Decimal("1.5")},
            "blobs": {b"\x01", b"\x00"},
            "raw": b"\xff\x00",
            "nested": {"list": [None, True, Decimal("-0.001")]},
        }
        change = record("a", **{k: v for k, v in item.items() if k != "pk"})
        sink.send(
            change,
            {"new": change.new, "at": datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)},
        )

        assert sink.flush().ok
        [body] = target.bodies()
        decoded = json.loads(body, parse_float=Decimal, parse_int=Decimal)
        assert decoded["new"]["price"] == Decimal("19.990")
        assert decoded["new"]["big"] == item["big"]
        assert decoded["new"]["count"] == 1000
        assert decoded["new"]["tags"] == ["a", "b"]
        assert decoded["new"]["scores"] == [Decimal("1.5"), Decimal("2")]
        assert decoded["new"]["blobs"] == [base64.b64encode(b"\x00").decode(), "AQ=="]
        assert base64.b64decode(decoded["new"]["raw"]) == b"\xff\x00"
        assert decoded["new"]["nested"] == {"list": [None, True, Decimal("-0.001")]}
        assert decoded["at"] == "2024-05-01T00:00:00+00:00"

    def test_attributes_and_delay(self, sqs: Any, queue: Callable[..., Queue]) -> None:
        """Message attributes arrive typed; a delayed message is not received at once."""
        target = queue()
        sink = SQS(target.url, client=sqs)
        sink.send(
            record("a"),
            "plain text",
            attributes={
                "kind": "order",
                "n": Decimal("2.5"),
                "blob": b"\x01",
                "raw": {"DataType": "String", "StringValue": "x"},
            },
        )
        sink.send(record("b"), "later", delay_seconds=600)

        assert sink.flush().sent == 2
        [message] = target.receive()
        assert message["Body"] == "plain text"
        assert message["MessageAttributes"] == {
            "kind": {"StringValue": "order", "DataType": "String"},
            "n": {"StringValue": "2.5", "DataType": "Number"},
            "blob": {"BinaryValue": b"\x01", "DataType": "Binary"},
            "raw": {"StringValue": "x", "DataType": "String"},
        }

    def test_fifo_group_and_deduplication_ids(self, sqs: Any, queue: Callable[..., Queue]) -> None:
        """A FIFO queue's messages carry the item key as group and the eventID as dedup id."""
        target = queue(fifo=True)
        sink = SQS(target.url, client=sqs)
        first = make_record(insert({"pk": "order#1", "sk": Decimal(7)}), EXACT_DECODER)
        second = make_record(modify({"pk": "é" * 80}, {"pk": "é" * 80, "v": 1}), EXACT_DECODER)
        sink.send(first, {"n": 1})
        sink.send(first, {"n": 2})
        sink.send(second, {"n": 3})

        assert sink.flush().sent == 3
        received = [message["Attributes"] for message in target.receive()]
        assert [(a["MessageGroupId"], a["MessageDeduplicationId"]) for a in received[:2]] == [
            ('{"pk":"order#1","sk":7}', first.event_id),
            ('{"pk":"order#1","sk":7}', f"{first.event_id}:1"),
        ]
        long_key = to_json({"pk": "é" * 80})
        assert received[2]["MessageGroupId"] == hashlib.sha256(long_key.encode()).hexdigest()
        assert received[2]["MessageDeduplicationId"] == second.event_id

    def test_fifo_resend_is_deduplicated(self, sqs: Any, queue: Callable[..., Queue]) -> None:
        """Sending a record's messages again (a retried batch) delivers them once."""
        target = queue(fifo=True)
        sink = SQS(target.url, client=sqs)
        change = record("a")
        for _ in range(2):
            sink.send(change, {"n": 1})
            sink.send(change, {"n": 2})
            assert sink.flush().sent == 2

        assert target.bodies() == ['{"n":1}', '{"n":2}']

    def test_chunks_at_the_byte_limit(self, sqs: Any, queue: Callable[..., Queue]) -> None:
        """Messages of a third of the limit go three to a request, and all arrive in order."""
        target = queue()
        client = Refusing(sqs, lambda entry: None)
        sink = SQS(target.url, client=client)
        third = SQS_REQUEST_BYTES // 3
        for index in range(7):
            sink.send(record(f"k{index}"), str(index) * third)

        result = sink.flush()

        assert result.requests == 3
        assert [len(request) for request in client.requests] == [3, 3, 1]
        assert [body[0] for body in target.bodies()] == [str(index) for index in range(7)]

    @settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        sizes=st.lists(
            st.one_of(
                st.integers(1, 64),
                st.integers(SQS_REQUEST_BYTES // 2 - 32, SQS_REQUEST_BYTES // 2 + 32),
                st.integers(SQS_REQUEST_BYTES - 64, SQS_REQUEST_BYTES),
            ),
            min_size=1,
            max_size=14,
        ),
        wide=st.booleans(),
    )
    def test_requests_never_pass_the_limits(
        self, sqs: Any, queue: Callable[..., Queue], sizes: list[int], wide: bool
    ) -> None:
        """Around the byte limit, each request holds at most 10 entries and 1 MiB, and is full."""
        target = queue()
        client = Refusing(sqs, lambda entry: None)
        sink = SQS(target.url, client=client)
        character = "é" if wide else "x"  # two bytes in UTF-8, or one
        bodies = [character * (size // len(character.encode())) for size in sizes]
        for index, body in enumerate(bodies):
            sink.send(record(f"k{index}"), body)

        result = sink.flush()

        assert result.ok
        sent = [[entry["MessageBody"] for entry in request] for request in client.requests]
        assert [body for request in sent for body in request] == bodies
        totals = [sum(len(body.encode()) for body in request) for request in sent]
        assert all(
            len(request) <= 10 and total <= SQS_REQUEST_BYTES
            for request, total in zip(sent, totals, strict=True)
        )
        for request, following in itertools.pairwise(sent):  # a request ends only when full
            assert (
                len(request) == 10
                or sum(len(b.encode()) for b in [*request, following[0]]) > SQS_REQUEST_BYTES
            )
        assert len(target.receive()) == len(bodies)

    def test_refused_entries_are_retried(self, sqs: Any, queue: Callable[..., Queue]) -> None:
        """An entry refused twice by a service fault arrives on the third request."""
        target = queue()
        client = Refusing(
            sqs,
            lambda entry: (
                ("InternalError", "try again", False) if entry["MessageBody"] == "b" else None
            ),
            times=2,
        )
        sleeps = Sleeps()
        sink = SQS(target.url, client=client, sleep=sleeps, base_delay=0.5)
        for pk in "abc":
            sink.send(record(pk), pk)

        result = sink.flush()

        assert (result.ok, result.sent, result.requests) == (True, 3, 3)
        assert [len(request) for request in client.requests] == [3, 1, 1]
        assert len(sleeps.delays) == 2
        assert 0 <= sleeps.delays[0] <= 0.5
        assert 0 <= sleeps.delays[1] <= 1.0
        assert sorted(target.bodies()) == ["a", "b", "c"]

    def test_failure_point_is_the_earliest_record_still_refused(
        self, sqs: Any, queue: Callable[..., Queue]
    ) -> None:
        """After the attempts, the earliest refused record is the failure point; later ones wait."""
        target = queue()
        failing = {"k3", "k5"}
        client = Refusing(
            sqs,
            lambda entry: (
                ("ServiceUnavailable", "down", False) if entry["MessageBody"] in failing else None
            ),
        )
        sink = SQS(target.url, client=client, sleep=Sleeps(), attempts=3)
        records = [record(f"k{index}") for index in range(15)]
        for item in records:
            sink.send(item, item.keys["pk"])

        result = sink.flush(records)

        assert result.failed_record is records[3]
        assert result.error is not None
        assert result.error.code == "ServiceUnavailable"
        assert result.error.event_id == records[3].event_id
        assert "ServiceUnavailable: down" in str(result.error)
        assert (result.sent, result.unsent, result.requests) == (8, 7, 3)
        assert sorted(target.bodies()) == sorted(f"k{i}" for i in range(10) if i not in (3, 5))

    def test_sender_fault_is_not_retried(self, sqs: Any, queue: Callable[..., Queue]) -> None:
        """A sender fault fails at once: no retry, no wait."""
        target = queue()
        client = Refusing(
            sqs,
            lambda entry: (
                ("InvalidParameterValue", "bad", True) if entry["MessageBody"] == "b" else None
            ),
        )
        sleeps = Sleeps()
        sink = SQS(target.url, client=client, sleep=sleeps)
        records = [record(pk) for pk in "abc"]
        for item in records:
            sink.send(item, item.keys["pk"])

        result = sink.flush()

        assert result.failed_record is records[1]
        assert (result.requests, sleeps.delays) == (1, [])

    def test_a_missing_queue_fails_the_first_record(self, sqs: Any) -> None:
        """A whole request refused (no such queue) makes its first record the failure point."""
        sink = SQS(
            f"{sqs.meta.endpoint_url}/123456789012/missing-{uuid.uuid4().hex}",
            client=sqs,
            sleep=Sleeps(),
        )
        records = [record(pk) for pk in "ab"]
        for item in records:
            sink.send(item, "x")

        result = sink.flush()

        assert result.failed_record is records[0]
        assert result.error is not None
        assert result.error.code in {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
        assert (result.sent, result.unsent, result.requests) == (0, 2, 1)


# --- SNS --------------------------------------------------------------------------------------


class TestSNS:
    def subscribed(
        self, sns: Any, sqs: Any, *, fifo: bool = False, raw: bool = True
    ) -> tuple[str, Queue]:
        name = f"t-{uuid.uuid4().hex[:12]}" + (".fifo" if fifo else "")
        topic = sns.create_topic(Name=name, Attributes={"FifoTopic": "true"} if fifo else {})[
            "TopicArn"
        ]
        target = Queue(sqs, fifo=fifo)
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=target.arn,
            Attributes={"RawMessageDelivery": "true" if raw else "false"},
        )
        return topic, target

    def test_messages_reach_the_subscribed_queue(self, sns: Any, sqs: Any) -> None:
        """Published messages reach an SQS subscription, in order, with subject and attributes."""
        topic, target = self.subscribed(sns, sqs, raw=False)
        sink = SNS(topic, client=sns)
        records = [record(f"k{index}", total=Decimal("0.1")) for index in range(12)]
        for item in records:
            sink.send(item, item.new, subject="changed", attributes={"pk": item.keys["pk"]})

        result = sink.flush(records)

        assert (result.sent, result.requests) == (12, 2)
        envelopes = [json.loads(body) for body in target.bodies()]
        assert [json.loads(e["Message"], parse_float=Decimal) for e in envelopes] == [
            {"pk": f"k{index}", "total": Decimal("0.1")} for index in range(12)
        ]
        assert {e["Subject"] for e in envelopes} == {"changed"}
        assert envelopes[0]["MessageAttributes"]["pk"] == {"Type": "String", "Value": "k0"}

    def test_fifo_topic_ids(self, sns: Any, sqs: Any) -> None:
        """A FIFO topic's messages carry the group and deduplication ids through to the queue."""
        topic, target = self.subscribed(sns, sqs, fifo=True)
        sink = SNS(topic, client=sns)
        change = record("order#9")
        sink.send(change, {"n": 1})

        assert sink.flush().ok
        [message] = target.receive()
        assert message["Attributes"]["MessageGroupId"] == '{"pk":"order#9"}'
        assert message["Attributes"]["MessageDeduplicationId"] == change.event_id

    def test_chunks_at_the_byte_limit(self, sns: Any, sqs: Any) -> None:
        """Messages of half the limit (attributes counted) go one to a request."""
        topic, target = self.subscribed(sns, sqs)
        client = Refusing(sns, lambda entry: None)
        sink = SNS(topic, client=client)
        for index in range(3):
            sink.send(record(f"k{index}"), "x" * (SNS_REQUEST_BYTES // 2), attributes={"a": "b"})

        assert sink.flush().requests == 3
        assert len(target.receive()) == 3

    def test_failure_point(self, sns: Any, sqs: Any) -> None:
        """A message throttled past the attempts makes its record the failure point."""
        topic, target = self.subscribed(sns, sqs)
        client = Refusing(
            sns,
            lambda entry: ("Throttled", "slow down", False) if entry["Message"] == "b" else None,
        )
        sink = SNS(topic, client=client, sleep=Sleeps(), attempts=2)
        records = [record(pk) for pk in "abc"]
        for item in records:
            sink.send(item, item.keys["pk"])

        result = sink.flush(records)

        assert result.failed_record is records[1]
        assert (result.sent, result.unsent, result.requests) == (2, 1, 2)
        assert sorted(target.bodies()) == ["a", "c"]


# --- EventBridge ------------------------------------------------------------------------------


class TestEventBridge:
    def routed(self, events: Any, sqs: Any, source: str) -> Queue:
        """A queue that a rule on the default bus sends *source*'s events to."""
        target = Queue(sqs)
        rule = f"r-{uuid.uuid4().hex[:12]}"
        events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))
        events.put_targets(Rule=rule, Targets=[{"Id": "queue", "Arn": target.arn}])
        return target

    def test_events_reach_the_rules_target(self, events: Any, sqs: Any) -> None:
        """Events arrive through a rule, in order, with their type, source and resources."""
        source = f"test.{uuid.uuid4().hex[:8]}"
        target = self.routed(events, sqs, source)
        sink = EventBridge(source=source, detail_type="OrderChanged", client=events)
        records = [record(f"k{index}", total=Decimal("2.5")) for index in range(13)]
        for item in records:
            sink.send(item, item.item, resources=[f"arn:aws:dynamodb:::table/{item.keys['pk']}"])

        result = sink.flush(records)

        assert (result.sent, result.requests) == (13, 2)
        delivered = [json.loads(body, parse_float=Decimal) for body in target.bodies()]
        assert [event["detail"] for event in delivered] == [
            {"pk": f"k{index}", "total": Decimal("2.5")} for index in range(13)
        ]
        assert {(event["source"], event["detail-type"]) for event in delivered} == {
            (source, "OrderChanged")
        }
        assert delivered[0]["resources"] == ["arn:aws:dynamodb:::table/k0"]

    def test_failed_entries_are_retried_then_reported(self, events: Any, sqs: Any) -> None:
        """FailedEntryCount entries are retried; one still failing is the failure point."""
        source = f"test.{uuid.uuid4().hex[:8]}"
        target = self.routed(events, sqs, source)
        client = Refusing(
            events,
            lambda entry: ("InternalFailure", "oops", False) if '"b"' in entry["Detail"] else None,
        )
        sink = EventBridge(
            source=source, detail_type="T", client=client, sleep=Sleeps(), attempts=3
        )
        records = [record(pk) for pk in "abc"]
        for item in records:
            sink.send(item, {"pk": item.keys["pk"]})

        result = sink.flush(records)

        assert result.failed_record is records[1]
        assert result.error is not None
        assert result.error.code == "InternalFailure"
        assert [len(request) for request in client.requests] == [3, 1, 1]
        assert sorted(json.loads(b)["detail"]["pk"] for b in target.bodies()) == ["a", "c"]

    def test_chunks_at_the_documented_entry_size(self, events: Any) -> None:
        """Entry sizes add Source, DetailType, Detail, Resources and 14 bytes for Time."""
        client = Refusing(events, lambda entry: None)
        sink = EventBridge(source="s", detail_type="t", client=client)
        detail = {"x": "y" * 100_000}
        size = len("s") + len("t") + len(to_json(detail)) + len("arn") + 14
        for index in range(4):
            sink.send(
                record(f"k{index}"),
                detail,
                resources=["arn"],
                time=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
            )

        assert sink.flush().ok
        assert 2 * size <= 262_143 < 3 * size
        assert [len(request) for request in client.requests] == [2, 2]


# --- the docs page ----------------------------------------------------------------------------


class Context:
    def get_remaining_time_in_millis(self) -> int:
        return 60_000


class TestDocsExample:
    """docs/sinks.md's example app, against moto's server as it would run in Lambda."""

    @pytest.fixture
    def archive(self, moto_endpoint: str, sqs: Any, monkeypatch: pytest.MonkeyPatch) -> Queue:
        target = Queue(sqs, fifo=True)
        monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", moto_endpoint)
        monkeypatch.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", moto_endpoint)
        monkeypatch.setenv("ARCHIVE_QUEUE_URL", target.url)
        return target

    def batch(self) -> dict[str, Any]:
        from ddbstream.testing import event, remove

        return event(
            modify({"pk": "o#1", "status": "NEW"}, {"pk": "o#1", "status": "PAID"}),
            remove({"pk": "o#2", "total": Decimal("10.50"), "tags": {"b", "a"}}),
        )

    def test_publishes_and_archives(
        self, archive: Queue, events: Any, sqs: Any, load_example: LoadExample
    ) -> None:
        """The status change reaches the bus's rule target; the removed item the FIFO queue."""
        bus_target = TestEventBridge().routed(events, sqs, "shop.orders")
        example = load_example("sinks_app")

        assert example.handler(self.batch(), Context()) == {"batchItemFailures": []}

        [published] = [json.loads(body) for body in bus_target.bodies()]
        assert (published["detail-type"], published["detail"]) == (
            "OrderStatusChanged",
            {"orderId": "o#1", "from": "NEW", "to": "PAID"},
        )
        [message] = archive.receive()
        assert json.loads(message["Body"], parse_float=Decimal) == {
            "pk": "o#2",
            "total": Decimal("10.5"),
            "tags": ["a", "b"],
        }
        assert message["Attributes"]["MessageGroupId"] == '{"pk":"o#2"}'

    def test_a_failed_send_is_reported(
        self, archive: Queue, sqs: Any, load_example: LoadExample, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A message the queue keeps refusing makes its record a batch item failure."""
        example = load_example("sinks_app")
        client = Refusing(sqs, lambda entry: ("InternalError", "down", False))
        monkeypatch.setattr(example, "archive", SQS(archive.url, client=client, sleep=Sleeps()))
        batch = self.batch()

        response = example.handler(batch, Context())

        removed = batch["Records"][1]["dynamodb"]["SequenceNumber"]
        assert response == {"batchItemFailures": [{"itemIdentifier": removed}]}
        assert archive.receive() == []


# --- the app flushes (issue 15) --------------------------------------------------------------


class TestAppFlushes:
    """An App flushes the sinks used in an invocation when it ends, against moto's server."""

    def app(self, sink: SQS, *, report: bool = True, fail: str | None = None) -> Any:
        from ddbstream import App

        app = App(report_batch_item_failures=report)

        @app.on_insert
        def publish(record: Record) -> None:
            if record.keys["pk"] == fail:
                raise ValueError(f"bad {fail}")
            sink.send(record, {"pk": record.keys["pk"]})

        return app

    def event(self, count: int = 5) -> dict[str, Any]:
        from ddbstream.testing import event

        return event(*(insert({"pk": f"k{index}"}) for index in range(count)))

    def test_sent_at_the_end_in_stream_order(self, sqs: Any, queue: Callable[..., Queue]) -> None:
        """Nothing is left in the buffer; the queue holds the messages in stream order."""
        target = queue(fifo=True)
        sink = SQS(target.url, client=sqs)
        assert self.app(sink).handler(self.event(), None) == {"batchItemFailures": []}
        assert sink.pending == 0
        assert [json.loads(body)["pk"] for body in target.bodies()] == [f"k{i}" for i in range(5)]

    def test_async_sends_are_put_in_stream_order(
        self, sqs: Any, queue: Callable[..., Queue]
    ) -> None:
        """Async handlers send in any order; the flush puts them in the stream's."""
        import asyncio

        from ddbstream import App

        target = queue(fifo=True)
        sink = SQS(target.url, client=sqs)
        app = App(max_concurrency=5)

        @app.on_insert
        async def publish(record: Record) -> None:
            index = int(str(record.keys["pk"])[1:])
            await asyncio.sleep(0.002 * (5 - index))
            sink.send(record, {"pk": record.keys["pk"]})

        app.handler(self.event(), None)
        assert [json.loads(body)["pk"] for body in target.bodies()] == [f"k{i}" for i in range(5)]

    def test_flushed_before_the_time_guard_stops(
        self, sqs: Any, queue: Callable[..., Queue]
    ) -> None:
        """The records done before the guard stopped have their messages sent."""
        target = queue()
        sink = SQS(target.url, client=sqs)
        left = iter([60_000, 60_000, 10, 10, 10, 10])

        class Short:
            def get_remaining_time_in_millis(self) -> int:
                return next(left, 10)

        event = self.event()
        response = self.app(sink).handler(event, Short())
        assert response["batchItemFailures"][0] == {
            "itemIdentifier": event["Records"][3]["dynamodb"]["SequenceNumber"]
        }
        assert sorted(json.loads(body)["pk"] for body in target.bodies()) == ["k0", "k1", "k2"]

    def test_a_failed_send_is_the_failure_point(
        self, sqs: Any, queue: Callable[..., Queue]
    ) -> None:
        """The earliest record whose message is refused for good is reported; before it, done."""
        target = queue()
        client = Refusing(
            sqs,
            lambda entry: (
                ("InternalError", "down", False) if "k2" in entry["MessageBody"] else None
            ),
        )
        sink = SQS(target.url, client=client, sleep=Sleeps())
        event = self.event()
        response = self.app(sink).handler(event, None)
        assert response == {
            "batchItemFailures": [
                {"itemIdentifier": event["Records"][2]["dynamodb"]["SequenceNumber"]}
            ]
        }
        delivered = sorted(json.loads(body)["pk"] for body in target.bodies())
        assert delivered[:2] == ["k0", "k1"]  # k3 and k4 were in the same request: sent too
        assert "k2" not in delivered

    def test_raise_mode_raises_the_sink_error(self, sqs: Any, queue: Callable[..., Queue]) -> None:
        """Without reporting, a message not delivered raises its SinkError."""
        from ddbstream.errors import SinkError

        target = queue()
        client = Refusing(sqs, lambda entry: ("InternalError", "down", False))
        sink = SQS(target.url, client=client, sleep=Sleeps())
        with pytest.raises(SinkError, match="InternalError"):
            self.app(sink, report=False).handler(self.event(2), None)

    def test_messages_of_records_retried_are_not_sent(
        self, sqs: Any, queue: Callable[..., Queue]
    ) -> None:
        """A record that failed and those after it send nothing now; they send on the retry."""
        target = queue()
        sink = SQS(target.url, client=sqs)
        from ddbstream import App

        app = App(report_batch_item_failures=True)

        @app.on_insert
        def publish(record: Record) -> None:
            sink.send(record, {"pk": record.keys["pk"]})
            if record.keys["pk"] == "k2":
                raise ValueError("after sending")

        app.handler(self.event(), None)
        assert sorted(json.loads(body)["pk"] for body in target.bodies()) == ["k0", "k1"]

    def test_raise_mode_failure_sends_nothing(self, sqs: Any, queue: Callable[..., Queue]) -> None:
        """In raise mode a failed record retries the batch whole: no message is sent."""
        target = queue()
        sink = SQS(target.url, client=sqs)
        with pytest.raises(ValueError, match="bad k3"):
            self.app(sink, report=False, fail="k3").handler(self.event(), None)
        assert sink.pending == 0
        assert target.bodies() == []

    def test_batch_route_sends_then_flush(self, sqs: Any, queue: Callable[..., Queue]) -> None:
        """A batch route's sends are flushed after it; its failure point drops later messages."""
        from ddbstream import App, Insert, RecordsFailed

        target = queue()
        sink = SQS(target.url, client=sqs)
        app = App(report_batch_item_failures=True)

        @app.on_batch("INSERT")
        def bulk(records: list[Insert]) -> None:
            for record in records:
                sink.send(record, {"pk": record.keys["pk"]})
            raise RecordsFailed([records[3]])

        event = self.event()
        response = app.handler(event, None)
        assert response == {
            "batchItemFailures": [
                {"itemIdentifier": event["Records"][3]["dynamodb"]["SequenceNumber"]}
            ]
        }
        assert sorted(json.loads(body)["pk"] for body in target.bodies()) == ["k0", "k1", "k2"]


class TestBulkPage:
    """docs/bulk.md's example: BatchWriteItem from on_batch, against moto's server."""

    @pytest.fixture
    def target(self, dynamodb: Any, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
        name = f"search-{uuid.uuid4().hex[:8]}"
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_endpoint)
        monkeypatch.setenv("SEARCH_TABLE", name)
        return name

    def event(self) -> dict[str, Any]:
        from ddbstream.testing import event, remove

        orders = [
            insert({"pk": f"o#{index}", "type": "ORDER", "status": "NEW", "total": Decimal("9.50")})
            for index in range(30)
        ]
        return event(
            *orders,
            insert({"pk": "u#1", "type": "USER"}),
            remove({"pk": "o#0", "type": "ORDER"}),
        )

    def test_copies_in_requests_of_25(
        self, target: str, dynamodb: Any, load_example: LoadExample
    ) -> None:
        """30 orders in two requests, the user left out, the removed order deleted."""
        example = load_example("bulk_app")
        calls: list[int] = []
        real = example.dynamodb.batch_write_item

        def counting(**request: Any) -> Any:
            calls.append(len(request["RequestItems"][target]))
            return real(**request)

        example.dynamodb.batch_write_item = counting
        assert example.handler(self.event(), None) == {"batchItemFailures": []}
        assert calls == [25, 5, 1]
        items = dynamodb.scan(TableName=target)["Items"]
        assert sorted(item["pk"]["S"] for item in items) == sorted(f"o#{i}" for i in range(1, 30))
        one = next(item for item in items if item["pk"]["S"] == "o#7")
        assert json.loads(one["document"]["S"], parse_float=Decimal)["total"] == Decimal("9.5")

    def test_unprocessed_items_are_the_failure_point(
        self, target: str, load_example: LoadExample
    ) -> None:
        """Items BatchWriteItem did not write fail their records; the earliest is reported."""
        example = load_example("bulk_app")
        real = example.dynamodb.batch_write_item

        def partial(**request: Any) -> Any:
            requests = request["RequestItems"][target]
            response = real(RequestItems={target: requests[:20]})
            return {**response, "UnprocessedItems": {target: requests[20:]}}

        example.dynamodb.batch_write_item = partial
        event = self.event()
        response = example.handler(event, None)
        assert response == {
            "batchItemFailures": [
                {"itemIdentifier": event["Records"][20]["dynamodb"]["SequenceNumber"]}
            ]
        }
