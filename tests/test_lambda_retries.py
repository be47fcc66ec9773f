"""A simulator of Lambda's retry rules for one shard, driving an App through random failures.

Lambda reads the shard from a checkpoint, invokes the function with the next batch and:

- on a function error (the handler raised), retries the same batch with the same window state;
- on a response, with ``ReportBatchItemFailures``, moves the checkpoint to the lowest reported
  record (or past the batch when none is reported) and keeps the returned state; without it,
  moves past the batch.

Over random batches, failures (a handler raising, an async handler cancelled, a window-end
hook raising), sources (DynamoDB Streams, Kinesis, EventBridge Pipes), windows, the time guard,
and sync and async handlers, the simulator checks what ddbstream promises:

- no record is lost: every record completes at least once, in either mode;
- in report mode, a record that completed in an invocation that returned a response is never
  delivered again (async apps with several records at once excepted: records of other items
  that started past a failure are documented to run again);
- a tumbling window's state is, after every response, exactly the sum of the contributions of
  the records before the checkpoint, and the window-end hook publishes the exact total.
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ddbstream import App, Record, Window

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2026-01-01T00:00:00.000"


@dataclass
class Scenario:
    keys: list[str]
    values: list[int]
    failures: dict[int, tuple[int, str]]  # record -> (deliveries that fail, how)
    report: bool
    is_async: bool
    max_concurrency: int
    source: str
    window: bool
    batch_size: int
    hook_failures: int
    guard: bool


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    size = draw(st.integers(1, 10))
    is_async = draw(st.booleans())
    ways = ["first route", "second route"] + (["cancelled"] if is_async else [])
    source = draw(st.sampled_from(["streams", "kinesis", "pipes"]))
    window = source != "pipes" and draw(st.booleans())
    return Scenario(
        keys=draw(st.lists(st.sampled_from("abc"), min_size=size, max_size=size)),
        values=draw(st.lists(st.integers(1, 1000), min_size=size, max_size=size)),
        failures=draw(
            st.dictionaries(
                st.integers(0, size - 1), st.tuples(st.integers(1, 2), st.sampled_from(ways))
            )
        ),
        report=draw(st.booleans()),
        is_async=is_async,
        max_concurrency=draw(st.sampled_from([1, 4])),
        source=source,
        window=window,
        batch_size=draw(st.integers(1, 5)),
        hook_failures=draw(st.integers(0, 2)) if window else 0,
        guard=draw(st.booleans()),
    )


def stream_record(index: int, key: str, value: int) -> dict[str, Any]:
    return {
        "eventID": f"id-{index}",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "eventSourceARN": ARN,
        "dynamodb": {
            "Keys": {"pk": {"S": key}},
            "NewImage": {"pk": {"S": key}, "i": {"N": str(index)}, "v": {"N": str(value)}},
            "SequenceNumber": f"{1000 + index}",
            "StreamViewType": "NEW_IMAGE",
        },
    }


def delivered_as(source: str, index: int, key: str, value: int) -> dict[str, Any]:
    change = stream_record(index, key, value)
    if source != "kinesis":
        return change
    data = base64.b64encode(json.dumps(change).encode()).decode()
    return {
        "eventID": f"shardId-000:{index}",
        "eventSource": "aws:kinesis",
        "kinesis": {"data": data, "sequenceNumber": f"{5000 + index}", "partitionKey": key},
    }


def identifier_of(source: str, raw: dict[str, Any]) -> str:
    if source == "kinesis":
        return str(raw["kinesis"]["sequenceNumber"])
    if source == "pipes":
        return str(raw["eventID"])
    return str(raw["dynamodb"]["SequenceNumber"])


class Clock:
    """A Lambda context with too little time after two records, for the first invocations."""

    def __init__(self, short: bool) -> None:
        self.left = 2500 if short else 10**9

    def get_remaining_time_in_millis(self) -> int:
        self.left -= 1000
        return self.left


@dataclass
class Shard:
    """What happened, as the simulator saw it."""

    deliveries: dict[int, int] = field(default_factory=dict)
    completed_now: set[int] = field(default_factory=set)
    completed: set[int] = field(default_factory=set)
    hook_calls: int = 0
    published: list[int] = field(default_factory=list)


def build_app(scenario: Scenario, shard: Shard) -> App:
    app = App(report_batch_item_failures=scenario.report, max_concurrency=scenario.max_concurrency)

    def index_of(record: Record[Any]) -> int:
        assert record.new is not None
        return int(record.new["i"])

    def failing(index: int, way: str) -> bool:
        times, how = scenario.failures.get(index, (0, ""))
        return how == way and shard.deliveries[index] <= times

    def first(record: Record[Any]) -> None:
        index = index_of(record)
        shard.deliveries[index] = shard.deliveries.get(index, 0) + 1
        if failing(index, "first route"):
            raise ValueError(f"first route failed on {index}")
        if app.window is not None:
            state = app.window.state
            state["total"] = state.get("total", 0) + scenario.values[index]

    def second(record: Record[Any]) -> None:
        index = index_of(record)
        if failing(index, "second route"):
            raise ValueError(f"second route failed on {index}")
        shard.completed_now.add(index)

    if scenario.is_async:

        async def first_async(record: Record[Any]) -> None:
            await asyncio.sleep(0)
            first(record)

        async def second_async(record: Record[Any]) -> None:
            await asyncio.sleep(0)
            if failing(index_of(record), "cancelled"):
                raise asyncio.CancelledError
            second(record)

        app.on_insert(first_async)
        app.on_insert(second_async)
    else:
        app.on_insert(first)
        app.on_insert(second)

    @app.on_window_end
    def publish(window: Window) -> None:
        shard.hook_calls += 1
        if shard.hook_calls <= scenario.hook_failures:
            raise ConnectionError("cannot publish")
        shard.published.append(window.state.get("total", 0))

    return app


def simulate(scenario: Scenario) -> Shard:
    shard = Shard()
    app = build_app(scenario, shard)
    source = scenario.source
    raws = [
        delivered_as(source, index, key, value)
        for index, (key, value) in enumerate(zip(scenario.keys, scenario.values, strict=True))
    ]
    total = len(raws)
    checkpoint = 0
    state: dict[str, Any] = {}
    invocations = 0
    while checkpoint < total:
        invocations += 1
        assert invocations < 100, "the shard never made progress"
        batch = raws[checkpoint : checkpoint + scenario.batch_size]
        event: Any = batch if source == "pipes" else {"Records": batch}
        if scenario.window:
            event.update(
                window={"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:05:00Z"},
                state=json.loads(json.dumps(state)),  # as Lambda hands it back: JSON
                shardId="shard-1",
                isFinalInvokeForWindow=checkpoint + len(batch) == total,
                isWindowTerminatedEarly=False,
            )
        shard.completed_now = set()
        try:
            response = app.handler(event, Clock(scenario.guard and invocations <= 3))
        except Exception:
            shard.completed |= shard.completed_now
            continue  # a function error: the same batch again, with the same state
        shard.completed |= shard.completed_now
        failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        advanced = len(batch)
        if scenario.report and failed:
            identifiers = [identifier_of(source, raw) for raw in batch]
            assert failed <= set(identifiers), "a failure Lambda could not match"
            advanced = min(identifiers.index(identifier) for identifier in failed)
        if scenario.report and (scenario.max_concurrency == 1 or not scenario.is_async):
            redelivered = set(range(checkpoint + advanced, total))
            assert not shard.completed_now & redelivered, "a completed record comes again"
        checkpoint += advanced
        if scenario.window:
            state = response["state"]
            contributions = sum(scenario.values[index] for index in range(checkpoint))
            assert state.get("total", 0) == contributions, "the window's state is off"
    return shard


@settings(max_examples=400, deadline=None)
@given(scenario=scenarios())
def test_lambda_retries_lose_nothing_and_count_nothing_twice(scenario: Scenario) -> None:
    shard = simulate(scenario)

    assert shard.completed == set(range(len(scenario.values))), "a record was lost"
    if scenario.window:
        assert shard.published == [sum(scenario.values)]
