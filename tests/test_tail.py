"""ddbstream.tail with fake boto3 clients: shard lineage, discovery, iterators, errors.

moto's streams have one shard that never closes, so what only real DynamoDB Streams do
(child shards, shards appearing later, expired iterators) is played by the fakes here. The
end-to-end tests against moto's server are in tests/integration/.
"""

from __future__ import annotations

import io
import itertools
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import App, Record
from ddbstream.tail import StreamTail, TailError, _clients, to_lambda_record

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000"
WHEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)


def raw(key: str, sequence: str, *, event_name: str = "INSERT", **extra: Any) -> dict[str, Any]:
    """A record as boto3's get_records returns it (bytes, datetime)."""
    return {
        "eventID": f"id-{key}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": {
            "ApproximateCreationDateTime": WHEN,
            "Keys": {"pk": {"S": key}},
            "SequenceNumber": sequence,
            "SizeBytes": 10,
            "StreamViewType": "KEYS_ONLY",
            **extra,
        },
    }


class ClientError(Exception):
    """Stands in for botocore's ClientError: an exception with a ``response``."""

    def __init__(self, code: str) -> None:
        super().__init__(f"An error occurred ({code})")
        self.response = {"Error": {"Code": code, "Message": "fake"}}


class FakeShard:
    def __init__(self, shard_id: str, parent: str | None = None, *, closed: bool = False) -> None:
        self.id = shard_id
        self.parent = parent
        self.closed = closed
        self.records: list[dict[str, Any]] = []

    def describe(self) -> dict[str, Any]:
        numbers: dict[str, str] = {"StartingSequenceNumber": "100"}
        if self.closed:
            numbers["EndingSequenceNumber"] = "999"
        description: dict[str, Any] = {"ShardId": self.id, "SequenceNumberRange": numbers}
        if self.parent:
            description["ParentShardId"] = self.parent
        return description


class FakeStreams:
    """The part of a boto3 ``dynamodbstreams`` client tail uses, one shard per page."""

    def __init__(self, *shards: FakeShard) -> None:
        self.shards = list(shards)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_next_get: list[Exception] = []

    def shard(self, shard_id: str) -> FakeShard:
        return next(shard for shard in self.shards if shard.id == shard_id)

    def describe_stream(self, **arguments: Any) -> dict[str, Any]:
        self.calls.append(("describe_stream", arguments))
        ids = [shard.id for shard in self.shards]
        start = arguments.get("ExclusiveStartShardId")
        index = ids.index(start) + 1 if start else 0
        page: dict[str, Any] = {"Shards": [self.shards[index].describe()] if self.shards else []}
        if index + 1 < len(self.shards):
            page["LastEvaluatedShardId"] = ids[index]
        return {"StreamDescription": page}

    def get_shard_iterator(self, **arguments: Any) -> dict[str, Any]:
        self.calls.append(("get_shard_iterator", arguments))
        shard = self.shard(arguments["ShardId"])
        kind = arguments["ShardIteratorType"]
        if kind == "TRIM_HORIZON":
            position = 0
        elif kind == "LATEST":
            position = len(shard.records)
        else:
            assert kind == "AFTER_SEQUENCE_NUMBER"
            sequences = [r["dynamodb"]["SequenceNumber"] for r in shard.records]
            position = sequences.index(arguments["SequenceNumber"]) + 1
        return {"ShardIterator": f"{shard.id}|{position}"}

    def get_records(self, *, ShardIterator: str, Limit: int) -> dict[str, Any]:
        self.calls.append(("get_records", {"ShardIterator": ShardIterator, "Limit": Limit}))
        if self.fail_next_get:
            raise self.fail_next_get.pop(0)
        shard_id, _, position_text = ShardIterator.partition("|")
        shard = self.shard(shard_id)
        position = int(position_text)
        records = shard.records[position : position + Limit]
        end = position + len(records)
        response: dict[str, Any] = {"Records": records}
        if not (shard.closed and end >= len(shard.records)):
            response["NextShardIterator"] = f"{shard_id}|{end}"
        return response


class FakeDynamoDB:
    def __init__(self, table: dict[str, Any] | Exception | None = None) -> None:
        self.table = table

    def describe_table(self, *, TableName: str) -> dict[str, Any]:
        if isinstance(self.table, Exception):
            raise self.table
        if self.table is not None:
            return {"Table": self.table}
        return {
            "Table": {
                "TableName": TableName,
                "LatestStreamArn": ARN,
                "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
            }
        }


def keys_seen(app: App) -> list[str]:
    seen: list[str] = []

    @app.on("INSERT", "MODIFY", "REMOVE")
    def keep(record: Record) -> None:
        seen.append(record.keys["pk"])

    return seen


def make_tail(
    app: App,
    streams: FakeStreams,
    *,
    sleep: Callable[[float], object] | None = None,
    dynamodb: FakeDynamoDB | None = None,
    out: io.StringIO | None = None,
    **options: Any,
) -> tuple[StreamTail, io.StringIO]:
    out = out or io.StringIO()
    follower = StreamTail(
        app,
        table="orders",
        dynamodb=dynamodb or FakeDynamoDB(),
        streams=streams,
        out=out,
        sleep=sleep or (lambda seconds: None),
        clock=itertools.count().__next__,
        **options,
    )
    return follower, out


class TestToLambdaRecord:
    def test_bytes_and_times(self) -> None:
        """B and BS become base64 text at any depth; the time becomes whole epoch seconds."""
        record = raw(
            "a",
            "101",
            NewImage={
                "b": {"B": b"\x00\xff"},
                "bs": {"BS": [b"a", b"b"]},
                "m": {"M": {"l": {"L": [{"B": b"\x01"}]}}},
            },
        )

        converted = to_lambda_record(record, ARN)

        image = converted["dynamodb"]["NewImage"]
        assert image["b"] == {"B": "AP8="}
        assert image["bs"] == {"BS": ["YQ==", "Yg=="]}
        assert image["m"] == {"M": {"l": {"L": [{"B": "AQ=="}]}}}
        assert converted["dynamodb"]["ApproximateCreationDateTime"] == 1714979289
        assert type(converted["dynamodb"]["ApproximateCreationDateTime"]) is int
        assert converted["eventSourceARN"] == ARN
        assert record["dynamodb"]["NewImage"]["b"] == {"B": b"\x00\xff"}

    def test_naive_time_is_utc_and_fractions_stay(self) -> None:
        """A naive datetime counts as UTC; a time with milliseconds stays a float."""
        record = raw("a", "1")
        record["dynamodb"]["ApproximateCreationDateTime"] = datetime(2024, 1, 1, 0, 0, 0, 500000)

        converted = to_lambda_record(record, ARN)

        assert converted["dynamodb"]["ApproximateCreationDateTime"] == 1704067200.5

    def test_user_identity_kept(self) -> None:
        """Fields Lambda passes through, such as a TTL delete's userIdentity, are kept."""
        record = raw("a", "1", event_name="REMOVE")
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
        app = App()
        expired: list[bool] = []
        app.on_remove(lambda r: expired.append(r.is_ttl_expiry))

        app.handler({"Records": [to_lambda_record(record, ARN)]}, None)

        assert expired == [True]

    @given(
        st.binary(max_size=64),
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2999, 12, 31)),
    )
    def test_any_binary_and_time(self, data: bytes, naive: datetime) -> None:
        """Any bytes decode back to themselves and any time to itself (within a millisecond)."""
        moment = naive.replace(tzinfo=timezone.utc)
        record = raw("a", "1", NewImage={"b": {"B": data}})
        record["dynamodb"]["ApproximateCreationDateTime"] = moment
        app = App()
        seen: list[Record] = []
        app.on_insert(seen.append)

        app.handler({"Records": [to_lambda_record(record, ARN)]}, None)

        assert seen[0].new == {"b": data}
        assert seen[0].approximate_creation_time is not None
        assert abs(seen[0].approximate_creation_time - moment) < timedelta(milliseconds=1)


class TestShards:
    def test_children_wait_for_their_parent(self) -> None:
        """A child shard is read only after its parent shard is read to its end."""
        parent = FakeShard("s-parent", closed=True)
        parent.records = [raw("p1", "101"), raw("p2", "102")]
        child = FakeShard("s-child", parent="s-parent")
        child.records = [raw("c1", "201")]
        # The child is listed first: order on the page must not matter.
        streams = FakeStreams(child, parent)
        app = App()
        seen = keys_seen(app)
        follower, _ = make_tail(app, streams, batch_size=1, max_records=3)

        assert follower.run() == 0

        assert seen == ["p1", "p2", "c1"]

    def test_shards_that_appear_later(self) -> None:
        """When a shard closes its children are discovered and read from their beginning."""
        first = FakeShard("s-1")
        first.records = [raw("a", "101")]
        streams = FakeStreams(first)

        def split(seconds: float) -> None:
            if first.closed:
                return
            first.closed = True
            child = FakeShard("s-2", parent="s-1")
            child.records = [raw("b", "201"), raw("c", "202")]
            streams.shards.append(child)

        app = App()
        seen = keys_seen(app)
        follower, _ = make_tail(app, streams, sleep=split, max_records=3)

        assert follower.run() == 0

        assert seen == ["a", "b", "c"]
        iterators = [args for name, args in streams.calls if name == "get_shard_iterator"]
        assert [i["ShardIteratorType"] for i in iterators] == ["TRIM_HORIZON", "TRIM_HORIZON"]

    def test_periodic_discovery(self) -> None:
        """A new shard is found by the periodic DescribeStream even while no shard closes."""
        first = FakeShard("s-1")
        streams = FakeStreams(first)

        def add_shard(seconds: float) -> None:
            if len(streams.shards) == 1:
                extra = FakeShard("s-new")
                extra.records = [raw("n", "301")]
                streams.shards.append(extra)

        app = App()
        seen = keys_seen(app)
        follower, _ = make_tail(app, streams, sleep=add_shard, max_records=1, start="latest")

        assert follower.run() == 0

        assert seen == ["n"]

    def test_latest_skips_closed_shards_and_old_records(self) -> None:
        """From latest, closed shards are skipped and open ones start after their last record."""
        closed = FakeShard("s-closed", closed=True)
        closed.records = [raw("old1", "101")]
        open_shard = FakeShard("s-open", parent="s-closed")
        open_shard.records = [raw("old2", "201")]
        streams = FakeStreams(closed, open_shard)

        def write(seconds: float) -> None:
            open_shard.records.append(raw("new", "202"))

        app = App()
        seen = keys_seen(app)
        follower, _ = make_tail(app, streams, sleep=write, max_records=1, start="latest")

        assert follower.run() == 0

        assert seen == ["new"]
        assert not any(
            args.get("ShardId") == "s-closed"
            for name, args in streams.calls
            if name == "get_shard_iterator"
        )

    def test_describe_stream_pages(self) -> None:
        """Every page of DescribeStream is read (ExclusiveStartShardId)."""
        shards = [FakeShard(f"s-{n}") for n in range(3)]
        for number, shard in enumerate(shards):
            shard.records = [raw(f"k{number}", f"{number}01")]
        streams = FakeStreams(*shards)
        app = App()
        seen = keys_seen(app)
        follower, _ = make_tail(app, streams, max_records=3)

        follower.run()

        assert sorted(seen) == ["k0", "k1", "k2"]
        pages = [args for name, args in streams.calls if name == "describe_stream"]
        assert pages[:3] == [
            {"StreamArn": ARN},
            {"StreamArn": ARN, "ExclusiveStartShardId": "s-0"},
            {"StreamArn": ARN, "ExclusiveStartShardId": "s-1"},
        ]


class TestIterators:
    def test_expired_iterator_resumes_after_the_last_record(self) -> None:
        """An expired iterator is replaced by one after the last record read; none repeats."""
        shard = FakeShard("s-1")
        shard.records = [raw("a", "101"), raw("b", "102")]
        streams = FakeStreams(shard)

        def expire(seconds: float) -> None:
            if len(shard.records) == 2:
                shard.records.append(raw("c", "103"))
                streams.fail_next_get.append(ClientError("ExpiredIteratorException"))

        app = App()
        seen = keys_seen(app)
        follower, _ = make_tail(app, streams, sleep=expire, max_records=3)

        assert follower.run() == 0

        assert seen == ["a", "b", "c"]
        renewed = [args for name, args in streams.calls if name == "get_shard_iterator"][-1]
        assert renewed["ShardIteratorType"] == "AFTER_SEQUENCE_NUMBER"
        assert renewed["SequenceNumber"] == "102"

    def test_other_errors_stop_the_tail(self) -> None:
        """Any other GetRecords error ends tail with a TailError naming the shard."""
        streams = FakeStreams(FakeShard("s-1"))
        streams.fail_next_get.append(ClientError("AccessDeniedException"))
        follower, _ = make_tail(App(), streams)

        with pytest.raises(TailError, match=r"GetRecords failed on shard s-1: .*AccessDenied"):
            follower.run()

    def test_idle_exit(self) -> None:
        """With idle_exit, tail stops once no record arrived for that long."""
        streams = FakeStreams(FakeShard("s-1"))
        sleeps: list[float] = []
        follower, out = make_tail(App(), streams, sleep=sleeps.append, idle_exit=3)

        assert follower.run() == 0

        assert sleeps
        assert set(sleeps) == {0.5}
        assert out.getvalue().endswith("no new records for 3s, stopping\n")

    def test_idle_exit_waits_for_a_running_batch(self) -> None:
        """A batch still running is not idleness: tail stops only once it is done."""
        busy = FakeShard("s-busy")
        busy.records = [raw("slow", "101")]
        quiet = FakeShard("s-quiet")  # its reader polls on, waking the main thread
        waiting = FakeShard("s-child", parent="s-busy")  # never started: its parent stays open
        app = App()

        @app.on_insert(name="slow")
        def slow(record: Record) -> None:
            time.sleep(0.1)

        follower, out = make_tail(
            app,
            FakeStreams(busy, quiet, waiting),
            sleep=lambda seconds: time.sleep(0.001),
            idle_exit=2,
        )

        assert follower.run() == 0

        lines = out.getvalue().splitlines()
        assert lines[-2].endswith("INSERT  pk='slow'  slow  ok")
        assert lines[-1] == "no new records for 2s, stopping"

    def test_limit_never_reads_past_max_records(self) -> None:
        """GetRecords asks for no more records than max_records still allows."""
        shard = FakeShard("s-1")
        shard.records = [raw(f"k{n}", f"{100 + n}") for n in range(10)]
        streams = FakeStreams(shard)
        app = App()
        seen = keys_seen(app)
        follower, _ = make_tail(app, streams, batch_size=4, max_records=6)

        follower.run()

        assert seen == [f"k{n}" for n in range(6)]
        limits = [args["Limit"] for name, args in streams.calls if name == "get_records"]
        assert limits == [4, 2]


class TestOutput:
    def test_line_per_record(self) -> None:
        """Each record gets time, event, keys, routes and outcome on one line."""
        shard = FakeShard("s-1")
        shard.records = [
            raw("a", "101", NewImage={"pk": {"S": "a"}}),
            raw("b", "102", event_name="REMOVE"),
        ]
        app = App()
        app.on_insert(name="welcome")(lambda record: None)
        follower, out = make_tail(app, FakeStreams(shard), max_records=2)

        follower.run()

        local = WHEN.astimezone().strftime("%H:%M:%S")
        lines = out.getvalue().splitlines()
        assert lines[0].startswith("tailing orders (1 shard, from trim-horizon), stream arn:")
        assert lines[1:] == [
            f"{local}  INSERT  pk='a'  welcome  ok",
            f"{local}  REMOVE  pk='b'  (no route)  ok",
        ]

    def test_unreadable_keys_and_time(self) -> None:
        """A record whose keys or time cannot be decoded shows raw keys and dashes."""
        record = raw("a", "101")
        record["dynamodb"]["Keys"] = {"pk": {"X": "?"}}
        record["dynamodb"]["ApproximateCreationDateTime"] = "yesterday"
        app = App(report_batch_item_failures=True)
        app.on_insert(lambda r: r.keys)
        shard = FakeShard("s-1")
        shard.records = [record]
        follower, out = make_tail(app, FakeStreams(shard), max_retries=0, idle_exit=1)

        assert follower.run() == 1

        line = out.getvalue().splitlines()[1]
        assert line.startswith("--:--:--  INSERT  {'pk': {'X': '?'}}  ")
        assert "<lambda>  FAILED  DecodeError: Keys.pk: unknown type tag 'X'" in line
        assert "giving up on 1 record(s) after 0 retries" in out.getvalue()

    def test_malformed_record(self) -> None:
        """A record that is not readable at all is reported by its sequence number."""
        shard = FakeShard("s-1")
        shard.records = [raw("a", "101", event_name="UPSERT")]
        follower, out = make_tail(App(), FakeStreams(shard), max_retries=0, idle_exit=1)

        assert follower.run() == 1

        assert "?  record 101  FAILED  RecordError: unknown eventName 'UPSERT'" in out.getvalue()

    @pytest.mark.parametrize("where", [0, 1])
    def test_records_of_another_source(self, where: int) -> None:
        """A batch that starts with a record of another source is refused before any record
        runs, as Lambda's handler would; such a record later in the batch ends tail there."""
        foreign = {"eventSource": "aws:sqs", "messageId": "m-1", "body": "{}"}
        shard = FakeShard("s-1")
        shard.records = [raw("a", "101"), raw("b", "102")]
        shard.records.insert(where, foreign)
        app = App()
        seen = keys_seen(app)
        follower, _ = make_tail(app, FakeStreams(shard), idle_exit=1)

        with pytest.raises(TailError, match=r"cannot run the app .*records come from 'aws:sqs'"):
            follower.run()

        assert seen == ["a"][:where]

    def test_unusable_batch(self) -> None:
        """A batch a reporting app cannot read (no sequence number) ends tail with a TailError."""
        record = raw("a", "101")
        del record["dynamodb"]["SequenceNumber"]
        shard = FakeShard("s-1")
        shard.records = [record]
        app = App(report_batch_item_failures=True)
        follower, _ = make_tail(app, FakeStreams(shard), idle_exit=1)

        with pytest.raises(TailError, match="cannot run the app on the stream's records"):
            follower.run()


class TestSetup:
    def test_bad_options(self) -> None:
        """An unknown start position or batch size is refused with the valid choices."""
        with pytest.raises(TailError, match="trim-horizon, latest"):
            make_tail(App(), FakeStreams(), start="oldest")
        with pytest.raises(TailError, match="between 1 and 1000"):
            make_tail(App(), FakeStreams(), batch_size=0)

    def test_table_without_stream(self) -> None:
        """A table whose stream is off is refused with the command that turns it on."""
        dynamodb = FakeDynamoDB({"TableName": "orders", "StreamSpecification": {}})
        follower, _ = make_tail(App(), FakeStreams(), dynamodb=dynamodb)

        with pytest.raises(TailError, match=r"has no stream\. Turn it on"):
            follower.run()

    def test_describe_table_errors(self) -> None:
        """A missing table, other DescribeTable errors and a dead endpoint become TailErrors."""
        missing, _ = make_tail(
            App(), FakeStreams(), dynamodb=FakeDynamoDB(ClientError("ResourceNotFoundException"))
        )
        with pytest.raises(TailError, match="no table named 'orders'"):
            missing.run()
        denied, _ = make_tail(
            App(), FakeStreams(), dynamodb=FakeDynamoDB(ClientError("AccessDeniedException"))
        )
        with pytest.raises(TailError, match=r"describe_table failed: .*AccessDenied"):
            denied.run()
        down, _ = make_tail(
            App(), FakeStreams(), dynamodb=FakeDynamoDB(ConnectionError("endpoint is down"))
        )
        with pytest.raises(TailError, match="describe_table failed: endpoint is down"):
            down.run()

    def test_boto3_missing(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without boto3, tail says which extra to install."""
        monkeypatch.setitem(sys.modules, "boto3", None)

        with pytest.raises(TailError, match=r"pip install 'ddbstream\[aws\]'"):
            _clients(None, None)

    def test_local_endpoint_defaults(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """With an endpoint and no AWS configuration, tail uses placeholders and us-east-1."""
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
        monkeypatch.delenv("AWS_REGION", raising=False)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

        dynamodb, streams = _clients("http://127.0.0.1:1", None)

        assert dynamodb.meta.region_name == streams.meta.region_name == "us-east-1"
        assert dynamodb.meta.endpoint_url == "http://127.0.0.1:1"
        credentials = streams._request_signer._credentials
        assert credentials.access_key == "local"
        with pytest.raises(TailError, match="no AWS region configured"):
            _clients(None, None)


class TestFailureOutput:
    def test_traceback_goes_to_standard_error(self) -> None:
        """Each failed attempt's traceback is written to err, the lines to out."""
        app = App(report_batch_item_failures=True)

        @app.on_insert
        def refuse(record: Record) -> None:
            raise ValueError(f"no {record.keys['pk']}")

        shard = FakeShard("s-1")
        shard.records = [raw("a", "101")]
        err = io.StringIO()
        follower, out = make_tail(app, FakeStreams(shard), max_retries=1, idle_exit=1, err=err)

        assert follower.run() == 1

        assert err.getvalue().count("Traceback (most recent call last)") == 2
        assert "ValueError: no a" in err.getvalue()
        assert "Traceback" not in out.getvalue()

    def test_each_retry_shows_when_it_runs(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Retry lines are numbered and carry their own time, so attempts are told apart."""
        app = App()
        app.on_insert(lambda record: 1 / 0)
        shard = FakeShard("s-1")
        shard.records = [raw("a", "101")]
        moments = iter(
            [datetime(2026, 1, 1, 12, 0, 0, 100_000), datetime(2026, 1, 1, 12, 0, 0, 600_000)]
        )

        class Clock(datetime):
            @classmethod
            def now(cls, tz: Any = None) -> Any:
                return next(moments)

        monkeypatch.setattr("ddbstream.tail.datetime", Clock)
        follower, out = make_tail(
            app, FakeStreams(shard), max_retries=2, idle_exit=1, err=io.StringIO()
        )

        assert follower.run() == 1

        retries = [line for line in out.getvalue().splitlines() if line.startswith("retry ")]
        assert retries == [
            "retry 1 of 2 at 12:00:00.600 (in 0.5s): the whole batch of 1 record(s) "
            "(report_batch_item_failures is off)",
            "retry 2 of 2 at 12:00:01.100 (in 0.5s): the whole batch of 1 record(s) "
            "(report_batch_item_failures is off)",
        ]

    def test_retry_without_a_limit(self) -> None:
        """Without max_retries the retry line has no total."""
        app = App()
        calls: list[int] = []

        @app.on_insert
        def flaky(record: Record) -> None:
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("once")

        shard = FakeShard("s-1")
        shard.records = [raw("a", "101")]
        follower, out = make_tail(app, FakeStreams(shard), idle_exit=1, err=io.StringIO())

        assert follower.run() == 0
        assert "\nretry 1 at " in out.getvalue()


def readers_left() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("tail ")]


class TestLinesAsRecordsRun:
    def test_a_line_is_printed_before_the_next_record_runs(self) -> None:
        """Each record's line is out before the next record of the same batch starts."""
        shard = FakeShard("s-1")
        shard.records = [raw("a", "101"), raw("b", "102"), raw("c", "103")]
        streams = FakeStreams(shard)
        app = App()
        printed_before: dict[str, list[str]] = {}
        follower, out = make_tail(app, streams, max_records=3)

        @app.on_insert
        def look(record: Record) -> None:
            lines = out.getvalue().splitlines()[1:]
            printed_before[record.keys["pk"]] = [line.split("  ")[2] for line in lines]

        assert follower.run() == 0

        batches = [args["Limit"] for name, args in streams.calls if name == "get_records"]
        assert batches == [3]  # one batch of three, yet each line came out as its record ran
        assert printed_before == {"a": [], "b": ["pk='a'"], "c": ["pk='a'", "pk='b'"]}

    @pytest.mark.parametrize("report", [True, False])
    def test_retries_follow_lambda(self, report: bool) -> None:
        """A failure stops the batch; the retry starts at the failed record in report mode, at
        the first record without it, and records are counted once they are done for good."""
        shard = FakeShard("s-1")
        shard.records = [raw("a", "101"), raw("b", "102"), raw("c", "103")]
        app = App(report_batch_item_failures=report)
        failures = iter([True])

        @app.on_insert(name="once")
        def once(record: Record) -> None:
            if record.keys["pk"] == "b" and next(failures, False):
                raise RuntimeError("b failed")

        follower, out = make_tail(app, FakeStreams(shard), max_records=3, err=io.StringIO())

        assert follower.run() == 0

        lines = [line.split("  ", 1)[-1] for line in out.getvalue().splitlines()[1:]]
        retry = [line.split("): ")[1] for line in lines if line.startswith("retry 1 at ")]
        records = [line for line in lines if not line.startswith("retry ")]
        again = [] if report else ["INSERT  pk='a'  once  ok"]
        assert records == [
            "INSERT  pk='a'  once  ok",
            "INSERT  pk='b'  once  FAILED  RuntimeError: b failed",
            *again,
            "INSERT  pk='b'  once  ok",
            "INSERT  pk='c'  once  ok",
        ]
        if report:
            assert retry == ["from record 102 (2 record(s))"]
        else:
            assert retry == ["the whole batch of 3 record(s) (report_batch_item_failures is off)"]
        assert follower.processed == 3

    def test_traceback_names_the_place_in_the_batch(self) -> None:
        """The failure's note gives the record's place in its batch of the stream."""
        shard = FakeShard("s-1")
        shard.records = [raw("a", "101"), raw("b", "102"), raw("c", "103")]
        app = App(report_batch_item_failures=True)

        @app.on_insert
        def refuse(record: Record) -> None:
            if record.keys["pk"] == "b":
                error = ValueError("no b")
                error.__notes__ = ["a note of the handler's"]  # type: ignore[attr-defined]
                raise error

        err = io.StringIO()
        follower, _ = make_tail(app, FakeStreams(shard), max_retries=0, idle_exit=1, err=err)

        assert follower.run() == 1

        if sys.version_info >= (3, 11):  # tracebacks show notes from 3.11 on
            assert "ddbstream: record 2 of 3 failed, eventID 'id-b'" in err.getvalue()
            assert "a note of the handler's" in err.getvalue()
        assert "record 1 of 1" not in err.getvalue()
        assert follower.given_up == 2
        assert follower.processed == 1


class SlowOut(io.StringIO):
    """Writes one character at a time, letting other threads run in between."""

    def write(self, text: str) -> int:
        for character in text:
            super().write(character)
            time.sleep(0)
        return len(text)


LINE = re.compile(
    r"tailing .*|\d\d:\d\d:\d\d  INSERT  pk='\w+'  \w+  (ok|FAILED  RuntimeError: no)"
    r"|retry \d+ of 1000 at \d\d:\d\d:\d\d\.\d{3} \(in 0\.5s\): from record 101 \(1 record\(s\)\)"
)


class TestShardsAtOnce:
    def test_a_failing_shard_does_not_hold_the_others(self) -> None:
        """While one shard's batch fails again and again, another shard's records run; the
        lines of both come out whole."""
        stuck = FakeShard("s-stuck")
        stuck.records = [raw("a1", "101")]
        moving = FakeShard("s-moving")
        streams = FakeStreams(stuck, moving)
        app = App(report_batch_item_failures=True)
        total = 5
        handled = [threading.Event() for _ in range(total)]
        timed_out: list[int] = []
        seen: list[str] = []

        @app.on_insert(name="run")
        def run(record: Record) -> None:
            key = record.keys["pk"]
            if key == "a1":
                raise RuntimeError("no")
            seen.append(key)
            handled[int(key[1:])].set()

        def sleep(seconds: float) -> None:
            written = len(moving.records)
            if threading.current_thread().name != "tail s-stuck" or written == total:
                time.sleep(0.001)
                return
            # The stuck shard waits for its retry: a change arrives on the other shard, and
            # must run before the retry comes (not after the stuck batch is given up).
            moving.records.append(raw(f"b{written}", f"{200 + written}"))
            if not handled[written].wait(2):
                timed_out.append(written)

        follower, out = make_tail(
            app,
            streams,
            sleep=sleep,
            max_records=total,
            max_retries=1000,  # ends the test, should the stuck shard hold the other one
            out=SlowOut(),
            err=io.StringIO(),
        )

        assert follower.run() == 0

        assert timed_out == []
        assert seen == [f"b{n}" for n in range(total)]
        lines = out.getvalue().splitlines()
        assert [line for line in lines if not LINE.fullmatch(line)] == []
        failed = [n for n, line in enumerate(lines) if "pk='a1'  run  FAILED" in line]
        done = [n for n, line in enumerate(lines) if line.endswith("  run  ok")]
        assert len(failed) >= total
        assert len(done) == total
        assert failed[0] < done[0]
        assert follower.given_up == 0
        assert readers_left() == []

    def test_lines_never_mix(self) -> None:
        """Lines written by several readers at once come out whole, one after the other."""
        shards = [FakeShard(f"s-{n}") for n in range(3)]
        for number, shard in enumerate(shards):
            shard.records = [raw(f"k{number}", f"{number}01")]
        app = App(report_batch_item_failures=True)

        @app.on_insert(name="refuse")
        def refuse(record: Record) -> None:
            raise RuntimeError("no")

        follower, out = make_tail(
            app,
            FakeStreams(*shards),
            sleep=lambda seconds: time.sleep(0.0005),
            max_retries=10,
            idle_exit=1,
            out=SlowOut(),
            err=io.StringIO(),
        )

        assert follower.run() == 1

        line = re.compile(
            r"\d\d:\d\d:\d\d  INSERT  pk='k\d'  refuse  FAILED  RuntimeError: no"
            r"|retry \d+ of 10 at \d\d:\d\d:\d\d\.\d{3} \(in 0\.5s\): "
            r"from record \d01 \(1 record\(s\)\)"
            r"|giving up on 1 record\(s\) after 10 retries, as Lambda does once .*"
        )
        lines = out.getvalue().splitlines()[1:-1]  # without the first and the last (idle) line
        assert [text for text in lines if not line.fullmatch(text)] == []
        assert len(lines) == 3 * (11 + 10 + 1)
        assert follower.given_up == 3

    def test_ctrl_c_stops_every_reader(self) -> None:
        """Ctrl-C in the main thread ends tail once every reader has stopped; a record that
        is running then finishes (its line is printed), and no other starts."""
        first = FakeShard("s-1")
        first.records = [raw("a", "101")]
        second = FakeShard("s-2")
        second.records = [raw("b", "201"), raw("c", "202")]
        streams = FakeStreams(first, second)
        app = App()
        seen: list[str] = []

        @app.on_insert(name="keep")
        def keep(record: Record) -> None:
            key = record.keys["pk"]
            if key == "b":
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
                time.sleep(0.05)  # still running when the main thread is interrupted
            seen.append(key)

        follower, out = make_tail(app, streams, sleep=lambda seconds: time.sleep(0.001))

        with pytest.raises(KeyboardInterrupt):
            follower.run()

        assert readers_left() == []
        calls = len(streams.calls)
        time.sleep(0.05)
        assert len(streams.calls) == calls  # nothing reads on after run() returned
        assert "c" not in seen
        assert "b" in seen
        assert out.getvalue().endswith("INSERT  pk='b'  keep  ok\n")

    def test_an_error_in_one_reader_stops_all(self) -> None:
        """A shard whose reads fail ends tail with its TailError; the other readers stop."""
        healthy = FakeShard("s-healthy")
        broken = FakeShard("s-broken")
        streams = FakeStreams(healthy, broken)
        original = streams.get_records

        def get_records(*, ShardIterator: str, Limit: int) -> dict[str, Any]:
            if ShardIterator.startswith("s-broken"):
                raise ClientError("AccessDeniedException")
            return original(ShardIterator=ShardIterator, Limit=Limit)

        streams.get_records = get_records  # type: ignore[method-assign]
        follower, _ = make_tail(App(), streams, sleep=lambda seconds: time.sleep(0.001))

        with pytest.raises(TailError, match="GetRecords failed on shard s-broken"):
            follower.run()

        assert readers_left() == []
