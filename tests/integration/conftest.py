"""A real DynamoDB + DynamoDB Streams endpoint for the integration tests: moto's server.

The server runs in a child process (``moto.server.main``) on a free port of 127.0.0.1 for
the whole test session, so its state is separate from any in-process ``mock_aws`` and it
needs no network. boto3 talks to it with placeholder credentials set in the environment.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

REGION = "us-east-1"  # moto writes awsRegion us-east-1 into every record, whatever the table's
_START_TIMEOUT = 30.0

CreateTable = Callable[..., "StreamTable"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # it answered, with an error status: it is up
    except OSError:
        return False


# moto's server, stopping by itself when its standard input closes: if the test process is
# killed, the server goes too instead of living on.
_SERVER = """
import os, sys, threading
from moto.server import main

def exit_with_parent():
    sys.stdin.read()
    os._exit(0)

threading.Thread(target=exit_with_parent, daemon=True).start()
main(["-H", "127.0.0.1", "-p", sys.argv[1]])
"""


def _start_server(log: Any) -> tuple[subprocess.Popen[bytes], str]:
    for _attempt in range(3):  # another process may take the port between probe and bind
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVER, str(port)],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            if _answers(url):
                return process, url
            time.sleep(0.05)
        _stop(process)
    log.seek(0)
    raise RuntimeError(f"moto's server did not start:\n{log.read().decode(errors='replace')}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.stdin is not None:
        process.stdin.close()
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - only if the server hangs
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The URL of a moto server running DynamoDB and DynamoDB Streams for this session."""
    saved = {name: os.environ.get(name) for name in _FAKE_ENVIRONMENT}
    os.environ.update(_FAKE_ENVIRONMENT)  # boto3 must never reach a real account
    with tempfile.TemporaryFile() as log:
        process, url = _start_server(log)
        try:
            yield url
        finally:
            _stop(process)
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


_FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@pytest.fixture(scope="session")
def dynamodb(moto_endpoint: str) -> Any:
    """A boto3 ``dynamodb`` client for the moto server."""
    import boto3

    return boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=REGION)


@pytest.fixture(scope="session")
def streams(moto_endpoint: str) -> Any:
    """A boto3 ``dynamodbstreams`` client for the moto server."""
    import boto3

    return boto3.client("dynamodbstreams", endpoint_url=moto_endpoint, region_name=REGION)


class StreamTable:
    """A table with a stream on the moto server, and a way to read what the stream holds."""

    def __init__(self, name: str, stream_arn: str, streams: Any) -> None:
        self.name = name
        self.stream_arn = stream_arn
        self._streams = streams

    def raw_records(self) -> list[dict[str, Any]]:
        """Every record of every shard, from TRIM_HORIZON, as boto3's get_records returns them."""
        records: list[dict[str, Any]] = []
        description = self._streams.describe_stream(StreamArn=self.stream_arn)
        for shard in description["StreamDescription"]["Shards"]:
            iterator = self._streams.get_shard_iterator(
                StreamArn=self.stream_arn,
                ShardId=shard["ShardId"],
                ShardIteratorType="TRIM_HORIZON",
            )["ShardIterator"]
            while iterator:
                page = self._streams.get_records(ShardIterator=iterator, Limit=1000)
                records.extend(page["Records"])
                if not page["Records"]:
                    break  # an open shard: nothing more for now
                iterator = page.get("NextShardIterator")
        return records

    def event(self) -> dict[str, Any]:
        """The stream's records as the Lambda event that would deliver them."""
        from ddbstream.tail import to_lambda_record

        return {"Records": [to_lambda_record(r, self.stream_arn) for r in self.raw_records()]}


@pytest.fixture
def create_table(dynamodb: Any, streams: Any) -> CreateTable:
    """Create a uniquely named table with a stream; ``view`` is the StreamViewType."""

    def create(
        view: str = "NEW_AND_OLD_IMAGES", *, sort_key: str | None = None, stream: bool = True
    ) -> StreamTable:
        name = f"t-{uuid.uuid4().hex[:12]}"
        keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
        attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
        if sort_key is not None:
            keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
            attributes.append({"AttributeName": "sk", "AttributeType": sort_key})
        options: dict[str, Any] = {}
        if stream:
            options["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
        table = dynamodb.create_table(
            TableName=name,
            KeySchema=keys,
            AttributeDefinitions=attributes,
            BillingMode="PAY_PER_REQUEST",
            **options,
        )["TableDescription"]
        return StreamTable(name, table.get("LatestStreamArn", ""), streams)

    return create


def b64(data: bytes) -> str:
    """Base64 text, as Lambda's JSON carries B values."""
    return base64.b64encode(data).decode("ascii")
