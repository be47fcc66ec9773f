"""ddbstream.failures against moto's server: replaying real ranges of DynamoDB and Kinesis
streams, the errors of ranges the stream does not hold, S3 objects, and park() to SQS."""

from __future__ import annotations

import base64
import json
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ddbstream import App, Record
from ddbstream.cli import main
from ddbstream.failures import ReplayError, park, parse, parse_parked, read_records
from ddbstream.testing import insert

from .conftest import REGION, StreamTable
from .test_streams_moto import to_dynamodb

CreateTable = Callable[..., StreamTable]
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"

APP = """
from ddbstream import App

app = App(report_batch_item_failures=True)


@app.on_insert
def show(record):
    if record.keys["pk"].startswith("bad"):
        raise ValueError(f"{record.keys['pk']} is poison")
    print("ran", record.keys["pk"])
"""


@pytest.fixture
def app_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(sys, "path", list(sys.path))
    path = tmp_path / "replay_app.py"
    path.write_text(textwrap.dedent(APP), encoding="utf-8")
    return f"{path}:app"


def message(
    stream_arn: str, shard_id: str, first: str, last: str, size: int, *, kinesis: bool = False
) -> str:
    """An on-failure record as Lambda sends it to SQS, for this range."""
    info = {
        "shardId": shard_id,
        "startSequenceNumber": first,
        "endSequenceNumber": last,
        "approximateArrivalOfFirstRecord": "2024-06-01T10:00:00Z",
        "approximateArrivalOfLastRecord": "2024-06-01T10:00:01Z",
        "batchSize": size,
        "streamArn": stream_arn,
    }
    return json.dumps(
        {
            "requestContext": {
                "requestId": "316aa6d0-8154-4b0b-9af7-85d5f4a6bc81",
                "functionArn": f"arn:aws:lambda:{REGION}:123456789012:function:orders",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": 3,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": "2024-06-01T10:00:05.123Z",
            "KinesisBatchInfo" if kinesis else "DDBStreamBatchInfo": info,
        }
    )


def written(dynamodb: Any, table: StreamTable, *keys: str) -> tuple[str, list[str]]:
    """Put *keys* into *table*; return its one shard and the sequence numbers, in order."""
    import boto3

    for key in keys:
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb({"pk": key}))
    streams = boto3.client("dynamodbstreams", endpoint_url=dynamodb.meta.endpoint_url)
    shards = streams.describe_stream(StreamArn=table.stream_arn)["StreamDescription"]["Shards"]
    assert len(shards) == 1
    return shards[0]["ShardId"], [r["dynamodb"]["SequenceNumber"] for r in table.raw_records()]


def replay(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, app_file: str, text: str, endpoint: str
) -> tuple[int, str, str]:
    path = tmp_path / "message.json"
    path.write_text(text, encoding="utf-8")
    status = main(["replay", app_file, str(path), "--endpoint-url", endpoint])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def ran(output: str) -> list[str]:
    return [line.split()[1] for line in output.splitlines() if line.startswith("ran ")]


class TestReplayDynamoDB:
    @pytest.mark.parametrize(
        ("first", "last", "expected"),
        [
            (1, 3, ["k1", "k2", "k3"]),  # inside: neither k0 nor k4
            (0, 0, ["k0"]),  # the shard's first record alone
            (4, 4, ["k4"]),  # its last record alone
            (0, 4, ["k0", "k1", "k2", "k3", "k4"]),
        ],
    )
    def test_runs_exactly_the_range(
        self,
        create_table: CreateTable,
        dynamodb: Any,
        moto_endpoint: str,
        app_file: str,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        first: int,
        last: int,
        expected: list[str],
    ) -> None:
        """replay runs the records from the first sequence number to the last, both included,
        in stream order."""
        table = create_table()
        shard, numbers = written(dynamodb, table, "k0", "k1", "k2", "k3", "k4")
        text = message(table.stream_arn, shard, numbers[first], numbers[last], last - first + 1)

        status, out, err = replay(capsys, tmp_path, app_file, text, moto_endpoint)

        assert status == 0, err
        assert ran(out) == expected
        assert f"{len(expected)} record(s) read from the stream" in out
        assert f"{len(expected)} of {len(expected)} records processed" in out
        rows = [line.split() for line in out.splitlines() if " INSERT " in line]
        assert [row[3] for row in rows] == numbers[first : last + 1]

    def test_stops_at_a_failure(
        self,
        create_table: CreateTable,
        dynamodb: Any,
        moto_endpoint: str,
        app_file: str,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """The first failure stops the replay: later records do not run; exit status 1."""
        table = create_table()
        shard, numbers = written(dynamodb, table, "k0", "bad1", "k2")
        text = message(table.stream_arn, shard, numbers[0], numbers[2], 3)

        status, out, err = replay(capsys, tmp_path, app_file, text, moto_endpoint)

        assert status == 1
        assert ran(out) == ["k0"]
        assert "FAILED" in out
        assert "not run" in out
        assert "1 of 3 records processed; record 2" in out
        assert "ValueError: bad1 is poison" in err

    def test_batch_size_differs(
        self,
        create_table: CreateTable,
        dynamodb: Any,
        moto_endpoint: str,
        app_file: str,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """A range holding more records than Lambda's batch (event filtering) is said so."""
        table = create_table()
        shard, numbers = written(dynamodb, table, "k0", "k1", "k2")
        text = message(table.stream_arn, shard, numbers[0], numbers[2], 2)

        status, out, _ = replay(capsys, tmp_path, app_file, text, moto_endpoint)

        assert status == 0
        assert "Lambda's batch had 2 (event filtering drops records" in out

    def test_truncated_payload_reads_the_stream(
        self,
        create_table: CreateTable,
        dynamodb: Any,
        moto_endpoint: str,
        app_file: str,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """An S3 object whose payload lacks records of the range is replayed from the stream."""
        table = create_table()
        shard, numbers = written(dynamodb, table, "k0", "k1", "k2")
        document = json.loads(message(table.stream_arn, shard, numbers[0], numbers[2], 3))
        document["payload"] = json.dumps({"Records": table.event()["Records"][:1]})

        status, out, err = replay(capsys, tmp_path, app_file, json.dumps(document), moto_endpoint)

        assert status == 0, err
        assert ran(out) == ["k0", "k1", "k2"]
        assert "read from the stream (the message's payload does not hold them all)" in out

    def test_stream_gone(
        self,
        create_table: CreateTable,
        dynamodb: Any,
        moto_endpoint: str,
        app_file: str,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """A deleted table's stream: one paragraph, exit 2, no traceback."""
        table = create_table()
        shard, numbers = written(dynamodb, table, "k0")
        dynamodb.delete_table(TableName=table.name)
        text = message(table.stream_arn, shard, numbers[0], numbers[0], 1)

        status, out, err = replay(capsys, tmp_path, app_file, text, moto_endpoint)

        assert status == 2
        assert "does not exist at this endpoint (any more)" in err
        assert "Traceback" not in err
        assert ran(out) == []

    def test_range_past_the_end(
        self,
        create_table: CreateTable,
        dynamodb: Any,
        moto_endpoint: str,
        app_file: str,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """A last sequence number the stream never reaches: a clear error, nothing run."""
        table = create_table()
        shard, numbers = written(dynamodb, table, "k0", "k1")
        beyond = str(int(numbers[1]) + 1000)
        text = message(table.stream_arn, shard, numbers[0], beyond, 3)

        status, out, err = replay(capsys, tmp_path, app_file, text, moto_endpoint)

        assert status == 2
        assert f"ends before sequence number {beyond}; the last record read is {numbers[1]}" in err
        assert ran(out) == []

    def test_trimmed_start(self, create_table: CreateTable, dynamodb: Any, streams: Any) -> None:
        """When the stream's first record is after the range's start (trimmed), the error says
        the records are gone rather than replaying part of the range."""
        table = create_table()
        shard, numbers = written(dynamodb, table, "k0", "k1", "k2")
        failure = parse(message(table.stream_arn, shard, numbers[0], numbers[2], 3))

        class Trimmed:
            """The real stream, its first record trimmed as after 24 hours."""

            def get_shard_iterator(self, **arguments: Any) -> Any:
                arguments["SequenceNumber"] = numbers[1]
                return streams.get_shard_iterator(**arguments)

            def get_records(self, **arguments: Any) -> Any:
                return streams.get_records(**arguments)

        with pytest.raises(ReplayError, match=f"first record it holds from there is {numbers[1]}"):
            read_records(failure, client=Trimmed())

    def test_trimmed_exception(self, create_table: CreateTable, dynamodb: Any) -> None:
        """TrimmedDataAccessException from botocore is read as records past retention."""
        from botocore.exceptions import ClientError

        table = create_table()
        shard, numbers = written(dynamodb, table, "k0")
        failure = parse(message(table.stream_arn, shard, numbers[0], numbers[0], 1))

        class Expired:
            def get_shard_iterator(self, **arguments: Any) -> Any:
                error = {"Error": {"Code": "TrimmedDataAccessException", "Message": "trimmed"}}
                raise ClientError(error, "GetShardIterator")

        with pytest.raises(ReplayError, match="no longer holds the records"):
            read_records(failure, client=Expired())


def kinesis_change(key: str) -> bytes:
    """A DynamoDB change as Kinesis Data Streams for DynamoDB carries it."""
    change = insert({"pk": key}, table="orders")
    return json.dumps(
        {
            "awsRegion": REGION,
            "eventID": change["eventID"],
            "eventName": "INSERT",
            "recordFormat": "application/json",
            "tableName": "orders",
            "dynamodb": change["dynamodb"],
            "eventSource": "aws:dynamodb",
        }
    ).encode()


class TestReplayKinesis:
    def test_runs_exactly_the_range(
        self,
        moto_endpoint: str,
        app_file: str,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """A Kinesis source's message reads its range from the Kinesis stream."""
        import uuid

        import boto3

        kinesis = boto3.client("kinesis", endpoint_url=moto_endpoint, region_name=REGION)
        name = f"s-{uuid.uuid4().hex[:12]}"
        kinesis.create_stream(StreamName=name, ShardCount=1)
        arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
            "StreamARN"
        ]
        numbers = [
            kinesis.put_record(StreamName=name, Data=kinesis_change(key), PartitionKey=key)[
                "SequenceNumber"
            ]
            for key in ("k0", "k1", "k2", "k3")
        ]
        shard = kinesis.list_shards(StreamName=name)["Shards"][0]["ShardId"]
        text = message(arn, shard, numbers[1], numbers[2], 2, kinesis=True)

        status, out, err = replay(capsys, tmp_path, app_file, text, moto_endpoint)

        assert status == 0, err
        assert ran(out) == ["k1", "k2"]
        assert "kinesis stream" in out
        records = read_records(parse(text), endpoint_url=moto_endpoint)
        assert [r["kinesis"]["sequenceNumber"] for r in records] == numbers[1:3]
        assert records[0]["eventID"] == f"{shard}:{numbers[1]}"
        assert records[0]["eventSourceARN"] == arn
        assert records[0]["awsRegion"] == REGION
        change = json.loads(base64.b64decode(records[1]["kinesis"]["data"]))
        assert change["dynamodb"]["Keys"] == {"pk": {"S": "k2"}}


class TestS3Destination:
    def test_object_replays_without_the_stream(
        self,
        moto_endpoint: str,
        app_file: str,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """The S3 object, read back from a bucket, holds its records: replay needs no stream."""
        import uuid

        import boto3

        s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION)
        bucket = f"b-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=bucket)
        records = [insert({"pk": key}) for key in ("k0", "k1")]
        numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
        gone = "arn:aws:dynamodb:us-east-1:123456789012:table/gone/stream/2024-06-01T00:00:00.000"
        document = json.loads(message(gone, "shardId-1", numbers[0], numbers[1], 2))
        document["payload"] = json.dumps({"Records": records})
        key = "aws/lambda/1f2e/shardId-1/2024/06/01/2024-06-01T10.00.05-abcd"
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(document).encode())

        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        failure = parse(body)
        assert failure.records is not None
        assert [r["dynamodb"]["SequenceNumber"] for r in failure.records] == numbers

        # The table is gone and no endpoint is given: the payload is all replay reads.
        path = tmp_path / "object.json"
        path.write_bytes(body)
        status = main(["replay", app_file, str(path)])
        out = capsys.readouterr().out
        assert status == 0
        assert ran(out) == ["k0", "k1"]


class TestParkToSqs:
    def test_docs_example(
        self,
        moto_endpoint: str,
        monkeypatch: pytest.MonkeyPatch,
        load_example: Any,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """The page's app parks pay#2, charges pay#1 and pay#3, and reports no failure."""
        import uuid

        import boto3

        sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)
        queue = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
        monkeypatch.setenv("PARKED_QUEUE_URL", queue)
        monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", moto_endpoint)
        example = load_example("failures_park")
        event = json.loads((EXAMPLES / "failures_event.json").read_text(encoding="utf-8"))

        assert example.handler(event, None) == {"batchItemFailures": []}

        assert capsys.readouterr().out == "charged pay#1 30\ncharged pay#3 12\n"
        received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
        parked = parse_parked(received[0]["Body"])
        assert len(received) == 1
        assert parked.record == event["Records"][1]
        assert parked.error_message == "cannot charge 0 for pay#2"

    def test_parks_and_replays(
        self,
        moto_endpoint: str,
        app_file: str,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """park() puts the raw record and the error on the queue and the batch goes on; the
        message, received from the queue, replays the record."""
        import uuid

        import boto3

        # park's own client (no client= given) must reach moto, never AWS.
        monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", moto_endpoint)
        sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)
        queue = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
        app = App(report_batch_item_failures=True)
        charged: list[str] = []

        @app.on_insert
        def charge(record: Record) -> None:
            if record.keys["pk"] == "bad1":
                raise ValueError("cannot charge bad1")
            charged.append(record.keys["pk"])

        @app.on_error(ValueError)
        def aside(record: Record, error: Exception) -> None:
            park(record, error, queue)

        event = {"Records": [insert({"pk": key}) for key in ("k0", "bad1", "k2")]}

        assert app.handler(event, None) == {"batchItemFailures": []}
        assert charged == ["k0", "k2"]

        received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
        assert len(received) == 1
        parked = parse_parked(received[0]["Body"])
        assert parked.record == event["Records"][1]
        assert parked.error_type == "ValueError"
        assert parked.sequence_number == event["Records"][1]["dynamodb"]["SequenceNumber"]

        # `aws sqs receive-message` output replays as it is.
        path = tmp_path / "parked.json"
        path.write_text(json.dumps({"Messages": received}), encoding="utf-8")
        status = main(["replay", app_file, str(path)])
        out = capsys.readouterr().out
        assert status == 1  # still poison for the app under test
        assert "replaying a parked record" in out
        assert "ValueError: cannot charge bad1" in out

    def test_given_client(self, moto_endpoint: str) -> None:
        """park() uses the SQS client it is given."""
        import uuid

        import boto3

        sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)
        queue = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
        app = App()
        seen: list[Record] = []
        app.on_insert(seen.append)
        app.handler({"Records": [insert({"pk": "p"})]}, None)

        sent = park(seen[0], KeyError("amount"), queue, client=sqs)

        body = sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"]
        assert json.loads(body) == sent
