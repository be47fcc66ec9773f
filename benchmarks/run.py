"""Benchmark ddbstream against the other ways of consuming a DynamoDB stream, side by side.

    python -m benchmarks.run            # from the repository root: the full run (a few minutes)
    python -m benchmarks.run --quick    # a smoke run in seconds; numbers are noisy
    python -m benchmarks.run --check    # only check that every contender decodes alike

Contenders, each processing the same Lambda event with handlers on INSERT, MODIFY and REMOVE
that read the new and the old image of every record:

- ``minimal``: a hand-written converter loop (decode each image into plain dicts, dispatch on
  ``eventName``), the floor every ratio is measured against;
- ``ddbstream``: an ``App`` with one handler per event name reading ``record.new`` and
  ``record.old``;
- ``ddbstream reporting``: the same with ``report_batch_item_failures=True``, which reads
  every record's SequenceNumber before the first record runs;
- ``boto3``: ``boto3.dynamodb.types.TypeDeserializer`` over each image, with ``B`` values
  base64-decoded first as botocore does for API responses (a subclass whose ``_deserialize_b``
  decodes; the plain one fails on Lambda's base64 text);
- ``powertools``: AWS Lambda Powertools' ``DynamoDBStreamEvent`` (when installed).

All contenders run in one process, interleaved round by round, and must produce equal values
(checked before any timing). The table shows medians. Then: the selective case (ten routes
filtering on one or two attributes, one record in ten reaching a handler), typed items (the
same handlers with ``model=``: a dataclass, pydantic, msgspec, attrs, TypedDict), the memory
peak of a 10,000-record batch, and import times measured in fresh interpreters.
"""

from __future__ import annotations

import argparse
import base64
import functools
import gc
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ddbstream
from benchmarks.events import ESCALATED, KINDS, make_event

Sink = Callable[[str, Any, Any], None]
"""What every contender's handlers call with (event name, new image, old image)."""
Runner = Callable[[dict[str, Any]], Any]
"""Processes one Lambda event."""

DEFAULT_CASES = (
    ("typical", 100),
    ("typical", 1000),
    ("typical", 10_000),
    ("small", 1000),
    ("wide", 1000),
)
ATTRIBUTES = {"small": 6, "typical": 22, "wide": 200}


# --- contenders ------------------------------------------------------------------------------


def hand_written_loop(value: Callable[[Any], Any], sink: Sink) -> Runner:
    """The loop every team writes: decode both images with *value*, dispatch on eventName."""

    def image(raw: dict[str, Any] | None) -> dict[str, Any] | None:
        if raw is None:
            return None
        return {name: value(tagged) for name, tagged in raw.items()}

    def handler_for(event_name: str) -> Callable[[Any, Any], None]:
        def handle(new: Any, old: Any) -> None:
            sink(event_name, new, old)

        return handle

    handlers = {name: handler_for(name) for name in ("INSERT", "MODIFY", "REMOVE")}

    def run(event: dict[str, Any]) -> None:
        for record in event["Records"]:
            change = record["dynamodb"]
            handlers[record["eventName"]](
                image(change.get("NewImage")), image(change.get("OldImage"))
            )

    return run


def minimal_contender(sink: Sink) -> Runner:
    """The floor: a hand-written converter, no checks, dispatch on eventName."""
    b64decode = base64.b64decode

    def value(tagged: dict[str, Any]) -> Any:
        # Membership tests beat unpacking `tagged.items()`: the fastest plain Python we found.
        if "S" in tagged:
            return tagged["S"]
        if "N" in tagged:
            return Decimal(tagged["N"])
        if "M" in tagged:
            return {name: value(item) for name, item in tagged["M"].items()}
        if "L" in tagged:
            return [value(item) for item in tagged["L"]]
        if "BOOL" in tagged:
            return tagged["BOOL"]
        if "NULL" in tagged:
            return None
        if "B" in tagged:
            return b64decode(tagged["B"])
        if "SS" in tagged:
            return set(tagged["SS"])
        if "NS" in tagged:
            return {Decimal(text) for text in tagged["NS"]}
        if "BS" in tagged:
            return {b64decode(text) for text in tagged["BS"]}
        raise ValueError(f"unknown type tag in {tagged!r}")

    return hand_written_loop(value, sink)


def ddbstream_contender(sink: Sink, *, report: bool = False) -> Runner:
    """An App with one handler per event name, each reading record.new and record.old.

    With *report*, the app reports failures in batchItemFailures, which makes it read every
    record's SequenceNumber before the first record runs.
    """
    app = ddbstream.App(report_batch_item_failures=report)

    @app.on_insert
    def on_insert(record: ddbstream.Record) -> None:
        sink("INSERT", record.new, record.old)

    @app.on_modify
    def on_modify(record: ddbstream.Record) -> None:
        sink("MODIFY", record.new, record.old)

    @app.on_remove
    def on_remove(record: ddbstream.Record) -> None:
        sink("REMOVE", record.new, record.old)

    handler = app.handler
    return lambda event: handler(event, None)


def observability_contender(sink: Sink) -> Runner:
    """The ddbstream contender with ``LogContext()`` and ``EMFMetrics()`` in use.

    The EMF lines go to ``os.devnull`` (written, as Lambda's stdout would be, not kept).
    """
    from ddbstream.observability import EMFMetrics, LogContext

    app = ddbstream.App()
    app.use(EMFMetrics("Benchmark"))
    app.use(LogContext())

    @app.on_insert
    def on_insert(record: ddbstream.Record) -> None:
        sink("INSERT", record.new, record.old)

    @app.on_modify
    def on_modify(record: ddbstream.Record) -> None:
        sink("MODIFY", record.new, record.old)

    @app.on_remove
    def on_remove(record: ddbstream.Record) -> None:
        sink("REMOVE", record.new, record.old)

    handler = app.handler
    devnull = open(os.devnull, "w")  # noqa: SIM115 - open for the process's life

    def run(event: dict[str, Any]) -> None:
        stdout, sys.stdout = sys.stdout, devnull
        try:
            handler(event, None)
        finally:
            sys.stdout = stdout

    return run


def observability(count: int, options: argparse.Namespace) -> None:
    """LogContext and EMFMetrics on, against the minimal converter and the plain app."""
    event = make_event(count, seed=options.seed)
    factories: dict[str, Callable[[Sink], Runner]] = {
        "minimal": minimal_contender,
        "ddbstream": ddbstream_contender,
        "ddbstream + LogContext + EMFMetrics": observability_contender,
    }
    check(event, factories)
    runners = {name: factory(_ignore) for name, factory in factories.items()}
    rounds = _rounds("typical", count, options.quick, options.rounds)
    medians = time_interleaved(runners, event, rounds, options.clock)
    floor = medians["minimal"]
    print(f"\n## Observability: LogContext and EMFMetrics on, {count:,} typical records\n")
    rows = [
        [
            name,
            f"{seconds * 1000:.2f}",
            f"{seconds / count * 1e6:.2f}",
            f"{seconds / floor:.2f}x",
        ]
        for name, seconds in medians.items()
    ]
    print_table(["contender", "median ms", "µs/record", "vs minimal"], rows)


def reporting_contender(sink: Sink) -> Runner:
    """The ddbstream contender with ``report_batch_item_failures=True``."""
    return ddbstream_contender(sink, report=True)


def boto3_contender(sink: Sink) -> Runner:
    """boto3's TypeDeserializer over each image; B base64-decoded first, as botocore does."""
    from boto3.dynamodb.types import Binary, TypeDeserializer

    b64decode = base64.b64decode

    class LambdaTypeDeserializer(TypeDeserializer):  # type: ignore[misc]
        def _deserialize_b(self, value: str) -> Binary:
            return Binary(b64decode(value))

    return hand_written_loop(LambdaTypeDeserializer().deserialize, sink)


def powertools_contender(sink: Sink) -> Runner:
    """Powertools' DynamoDBStreamEvent, dispatching on record.event_name."""
    from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
        DynamoDBRecordEventName,
    )

    def on_insert(record: Any) -> None:
        stream = record.dynamodb  # a new wrapper on every access: read it once
        sink("INSERT", stream.new_image, stream.old_image)

    def on_modify(record: Any) -> None:
        stream = record.dynamodb
        sink("MODIFY", stream.new_image, stream.old_image)

    def on_remove(record: Any) -> None:
        stream = record.dynamodb
        sink("REMOVE", stream.new_image, stream.old_image)

    handlers = {
        DynamoDBRecordEventName.INSERT: on_insert,
        DynamoDBRecordEventName.MODIFY: on_modify,
        DynamoDBRecordEventName.REMOVE: on_remove,
    }

    def run(event: dict[str, Any]) -> None:
        for record in DynamoDBStreamEvent(event).records:
            handlers[record.event_name](record)  # type: ignore[index]  # never None here

    return run


def available_contenders() -> dict[str, Callable[[Sink], Runner]]:
    """Every contender whose library is installed, the floor first."""
    contenders: dict[str, Callable[[Sink], Runner]] = {
        "minimal": minimal_contender,
        "ddbstream": ddbstream_contender,
        "ddbstream reporting": reporting_contender,
    }
    for name, module, factory in (
        ("boto3", "boto3", boto3_contender),
        ("powertools", "aws_lambda_powertools", powertools_contender),
    ):
        try:
            __import__(module)
        except ImportError:
            print(f"({name} is not installed: skipped; pip install 'ddbstream[bench]')")
        else:
            contenders[name] = factory
    return contenders


# --- the selective case ----------------------------------------------------------------------


def selective_contender(sink: Sink) -> Runner:
    """Ten routes, each on one kind of item and one more attribute; ~1 record in 10 runs."""
    app = ddbstream.App()
    for kind in KINDS[:5]:
        app.add_handler(
            _selective_handler(sink, kind),
            events=("INSERT", "MODIFY", "REMOVE"),
            where={"kind": kind, "status": ESCALATED},
            name=f"escalated_{kind}",
        )
    for kind in KINDS[5:]:
        app.add_handler(
            _selective_handler(sink, kind),
            events=("MODIFY",),
            where={"kind": kind},
            changed="status",
            name=f"status_{kind}",
        )
    handler = app.handler
    return lambda event: handler(event, None)


def mixed_contender(sink: Sink) -> Runner:
    """Ten routes of every filter kind; about 14% of typical records reach a handler.

    String and boolean ``where=`` equalities, a numeric ``gt``, ``changed=`` alone and with
    ``new=``, ``ttl=`` both ways and a ``table=`` no record comes from.
    """
    app = ddbstream.App()
    routes: list[tuple[str, tuple[str, ...], dict[str, Any]]] = [
        ("new order", ("INSERT",), {"where": {"kind": "order"}}),
        (
            "inactive invoice",
            ("INSERT",),
            {"where": ddbstream.Attr("kind").eq("invoice") & ddbstream.Attr("active").eq(False)},
        ),
        (
            "big customer",
            ("MODIFY",),
            {"where": {"kind": "customer"}, "new": ddbstream.Attr("total").gt(900)},
        ),
        ("shipment status", ("MODIFY",), {"where": {"kind": "shipment"}, "changed": "status"}),
        (
            "escalated",
            ("MODIFY",),
            {"changed": "status", "new": ddbstream.Attr("status").eq(ESCALATED)},
        ),
        ("expired", ("REMOVE",), {"ttl": True}),
        ("refund deleted", ("REMOVE",), {"ttl": False, "where": {"kind": "refund"}}),
        ("review escalated", ("MODIFY",), {"where": {"kind": "review", "status": ESCALATED}}),
        ("archive", ("INSERT",), {"table": "archive"}),
        (
            "bulk coupon",
            ("INSERT",),
            {"where": ddbstream.Attr("kind").eq("coupon") & ddbstream.Attr("quantity").gt(18)},
        ),
    ]
    for name, events, filters in routes:
        app.add_handler(_selective_handler(sink, name), events=events, name=name, **filters)
    handler = app.handler
    return lambda event: handler(event, None)


def expected_mixed(event: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """What the mixed routes must see, worked out in plain Python on decoded images."""
    seen: list[tuple[str, Any, Any]] = []
    decoded: list[tuple[str, Any, Any]] = []
    minimal_contender(lambda name, new, old: decoded.append((name, new, old)))(event)
    for raw, (event_name, new, old) in zip(event["Records"], decoded, strict=True):
        item = new if new is not None else old
        kind = item.get("kind")  # small items have no kind: only the kind-less routes run
        ttl = "userIdentity" in raw
        changed = event_name == "MODIFY" and new["status"] != old["status"]
        wanted = {
            "new order": event_name == "INSERT" and kind == "order",
            "inactive invoice": event_name == "INSERT" and kind == "invoice" and not item["active"],
            "big customer": event_name == "MODIFY" and kind == "customer" and new["total"] > 900,
            "shipment status": changed and kind == "shipment",
            "escalated": changed and new["status"] == ESCALATED,
            "expired": event_name == "REMOVE" and ttl,
            "refund deleted": event_name == "REMOVE" and not ttl and kind == "refund",
            "review escalated": event_name == "MODIFY"
            and kind == "review"
            and new["status"] == ESCALATED,
            "archive": False,
            "bulk coupon": event_name == "INSERT" and kind == "coupon" and item["quantity"] > 18,
        }
        seen.extend((name, new, old) for name, wanted_here in wanted.items() if wanted_here)
    return seen


def _selective_handler(sink: Sink, kind: str) -> Callable[[ddbstream.Record], None]:
    def handle(record: ddbstream.Record) -> None:
        sink(kind, record.new, record.old)

    return handle


def expected_selective(event: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """What the selective routes must see, worked out in plain Python on decoded images."""
    seen: list[tuple[str, Any, Any]] = []
    decoded: list[tuple[str, Any, Any]] = []
    minimal_contender(lambda name, new, old: decoded.append((name, new, old)))(event)
    for event_name, new, old in decoded:
        item = new if new is not None else old
        kind = item.get("kind")
        escalated = kind in KINDS[:5] and item.get("status") == ESCALATED
        status_changed = (
            kind in KINDS[5:] and event_name == "MODIFY" and new["status"] != old["status"]
        )
        if escalated or status_changed:
            seen.append((kind, new, old))
    return seen


# --- typed items ------------------------------------------------------------------------------


def model_contender(sink: Sink, model: Any) -> Runner:
    """The ddbstream contender with ``model=`` on its three routes."""
    app = ddbstream.App()
    app.on_insert(model=model)(lambda record: sink("INSERT", record.new, record.old))
    app.on_modify(model=model)(lambda record: sink("MODIFY", record.new, record.old))
    app.on_remove(model=model)(lambda record: sink("REMOVE", record.new, record.old))
    handler = app.handler
    return lambda event: handler(event, None)


def validated_contender(sink: Sink, validate: Callable[[Any], Any]) -> Runner:
    """The minimal converter, then *validate* (a library's own call) on each image."""

    def validated(event_name: str, new: Any, old: Any) -> None:
        sink(
            event_name,
            None if new is None else validate(new),
            None if old is None else validate(old),
        )

    return minimal_contender(validated)


def model_contenders() -> dict[str, tuple[Callable[[Sink], Runner], str]]:
    """Each model kind installed: its contender, and the baseline it is held against."""
    from benchmarks import models

    contenders: dict[str, tuple[Callable[[Sink], Runner], str]] = {
        "minimal + hand-written dataclasses": (
            lambda sink: validated_contender(sink, models.hand_written_item),
            "minimal",
        ),
        "ddbstream, dataclass": (
            functools.partial(model_contender, model=models.Item),
            "minimal + hand-written dataclasses",
        ),
    }
    for name, make in (
        ("pydantic", models.pydantic_item),
        ("msgspec", models.msgspec_item),
        ("attrs", models.attrs_item),
    ):
        try:
            model = make()
        except ImportError:
            print(f"({name} is not installed: skipped; pip install 'ddbstream[{name}]')")
            continue
        if name == "pydantic":
            validate = model.model_validate
            contenders["minimal + pydantic model_validate"] = (
                functools.partial(validated_contender, validate=validate),
                "minimal",
            )
            baseline = "minimal + pydantic model_validate"
        else:
            baseline = "minimal + hand-written dataclasses" if name == "attrs" else "minimal"
        contenders[f"ddbstream, {name}"] = (
            functools.partial(model_contender, model=model),
            baseline,
        )
    return contenders


def check_models(
    event: dict[str, Any], contenders: dict[str, tuple[Callable[[Sink], Runner], str]]
) -> None:
    """Raise AssertionError unless each model contender saw what its reference saw."""
    reference = collect(contenders["minimal + hand-written dataclasses"][0], event)
    for name, (factory, _) in contenders.items():
        seen = collect(factory, event)
        if "dataclass" in name:
            expected: Any = reference
        elif "pydantic" in name:
            expected = collect(contenders["minimal + pydantic model_validate"][0], event)
        else:  # msgspec, attrs: field for field the same values as the dataclass
            seen = [(event_name, _fields(new), _fields(old)) for event_name, new, old in seen]
            expected = [
                (event_name, _fields(new), _fields(old)) for event_name, new, old in reference
            ]
        if seen != expected:
            raise AssertionError(f"{name} saw other items than its reference")


def _fields(model: Any) -> Any:
    """A model's fields as nested plain values, whatever its kind, for comparisons."""
    if model is None or isinstance(model, (str, bytes, Decimal, int, float, bool)):
        return model
    if isinstance(model, (list, tuple)):
        return [_fields(member) for member in model]
    if isinstance(model, (set, frozenset)):
        return model
    names = getattr(model, "__struct_fields__", None) or [
        name for name in getattr(model, "__dataclass_fields__", None) or model.__attrs_attrs__
    ]
    if not isinstance(names[0], str):  # attrs: Attribute objects
        names = [attribute.name for attribute in names]
    return {name: _fields(getattr(model, name)) for name in names}


def typed_items(count: int, options: argparse.Namespace) -> None:
    """``model=`` against the floor and against the floor plus the library's own validation."""
    event = make_event(count, seed=options.seed)
    contenders = model_contenders()
    check_models(event, contenders)
    runners = {"minimal": minimal_contender(_ignore)}
    runners.update({name: factory(_ignore) for name, (factory, _) in contenders.items()})
    rounds = _rounds("typical", count, options.quick, options.rounds)
    medians = time_interleaved(runners, event, rounds, options.clock)
    print(
        f"\n## Typed items: {count:,} typical records, handlers read record.new and record.old "
        "as models\n"
    )
    rows = []
    for name, seconds in medians.items():
        baseline = contenders[name][1] if name in contenders else "minimal"
        rows.append(
            [
                name,
                f"{seconds * 1000:.2f}",
                f"{seconds / count * 1e6:.2f}",
                f"{seconds / medians['minimal']:.2f}x",
                f"{seconds / medians[baseline]:.2f}x {baseline}" if baseline != "minimal" else "",
            ]
        )
    print_table(["contender", "median ms", "µs/record", "vs minimal", "vs its baseline"], rows)


# --- checking --------------------------------------------------------------------------------


def canonical(value: Any, *, binary_as_text: bool = False) -> Any:
    """A form of a decoded value in which equal means same type and same exact value."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return ("S", value)
    if isinstance(value, Decimal):
        return ("N", str(value))  # exact: "12.50" is not "12.5"
    if isinstance(value, (bytes, bytearray)) or type(value).__name__ == "Binary":
        data = bytes(value)
        return ("S", base64.b64encode(data).decode()) if binary_as_text else ("B", data)
    if isinstance(value, dict):
        return (
            "M",
            {name: canonical(item, binary_as_text=binary_as_text) for name, item in value.items()},
        )
    if isinstance(value, list):
        return ("L", [canonical(item, binary_as_text=binary_as_text) for item in value])
    if isinstance(value, (set, frozenset)):
        return ("SET", frozenset(canonical(item, binary_as_text=binary_as_text) for item in value))
    raise TypeError(f"unexpected decoded type {type(value).__name__}: {value!r}")


def collect(factory: Callable[[Sink], Runner], event: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Run a contender once and return what its handlers saw."""
    seen: list[tuple[str, Any, Any]] = []
    factory(lambda name, new, old: seen.append((name, new, old)))(event)
    return seen


def check(event: dict[str, Any], contenders: dict[str, Callable[[Sink], Runner]]) -> list[str]:
    """Raise AssertionError unless every contender's handlers saw the same values.

    Returns the names checked: the contenders, then ``selective`` (the ten routes of the
    selective case ran exactly for the records plain Python says they should).

    Powertools returns ``B`` values as their base64 text and a missing image as ``{}``; its
    values are compared with the reference adjusted for exactly that.
    """
    reference = collect(minimal_contender, event)
    if len(reference) != len(event["Records"]):
        raise AssertionError("the minimal converter did not see every record")
    for name, factory in contenders.items():
        seen = collect(factory, event)
        quirks = name == "powertools"
        expected = [
            (
                event_name,
                canonical({} if quirks and new is None else new, binary_as_text=quirks),
                canonical({} if quirks and old is None else old, binary_as_text=quirks),
            )
            for event_name, new, old in reference
        ]
        got = [
            (
                event_name,
                canonical(new, binary_as_text=quirks),
                canonical(old, binary_as_text=quirks),
            )
            for event_name, new, old in seen
        ]
        if got != expected:
            index = next(
                (
                    i
                    for i, pair in enumerate(zip(got, expected, strict=False))
                    if pair[0] != pair[1]
                ),
                min(len(got), len(expected)),
            )
            raise AssertionError(
                f"{name} differs from the minimal converter at record {index} "
                f"({len(got)} vs {len(expected)} records seen)"
            )
    selective = [
        (kind, canonical(new), canonical(old))
        for kind, new, old in collect(selective_contender, event)
    ]
    wanted = [
        (kind, canonical(new), canonical(old)) for kind, new, old in expected_selective(event)
    ]
    if selective != wanted:
        raise AssertionError(
            f"the selective routes ran {len(selective)} times; plain Python says {len(wanted)}"
        )
    mixed = [
        (name, canonical(new), canonical(old)) for name, new, old in collect(mixed_contender, event)
    ]
    wanted = [(name, canonical(new), canonical(old)) for name, new, old in expected_mixed(event)]
    if mixed != wanted:
        raise AssertionError(
            f"the mixed routes ran {len(mixed)} times; plain Python says {len(wanted)}"
        )
    return [*contenders, "selective", "mixed"]


# --- timing ----------------------------------------------------------------------------------


def _ignore(name: str, new: Any, old: Any) -> None:
    """The handlers' work in timed runs: nothing beyond reading both images."""


CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
"""``cpu`` (the default) counts only this process's time, so other load on the machine does
not skew the numbers; ``wall`` is what a stopwatch sees."""


def time_interleaved(
    runners: dict[str, Runner], event: dict[str, Any], rounds: int, clock: str = "cpu"
) -> dict[str, float]:
    """Median seconds per run of each runner, the runners taking turns round by round."""
    now = CLOCKS[clock]
    samples: dict[str, list[float]] = {name: [] for name in runners}
    names = list(runners)
    for runner in runners.values():  # warm up: first-call costs are not per-batch costs
        runner(event)
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:  # rotate who goes first
            gc.collect()
            start = now()
            runners[name](event)
            samples[name].append(now() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


def _rounds(shape: str, count: int, quick: bool, override: int | None) -> int:
    if override is not None:
        return override
    if quick:
        return 3
    work = ATTRIBUTES[shape] * count  # attributes decoded per image
    return max(7, min(101, 2_000_000 // work))


def _row(cells: list[str], widths: list[int]) -> str:
    return (
        "| "
        + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        + " |"
    )


def print_table(header: list[str], rows: list[list[str]]) -> None:
    """A Markdown table, so results paste straight into docs/performance.md."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print(_row(header, widths))
    print("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    for row in rows:
        print(_row(row, widths))


def full_decode(cases: list[tuple[str, int]], options: argparse.Namespace) -> None:
    """Time every contender on every (shape, count) case."""
    factories = available_contenders()
    rows: list[list[str]] = []
    for shape, count in cases:
        event = make_event(count, shape=shape, seed=options.seed)
        check(event, factories)
        runners = {name: factory(_ignore) for name, factory in factories.items()}
        rounds = _rounds(shape, count, options.quick, options.rounds)
        medians = time_interleaved(runners, event, rounds, options.clock)
        floor = medians["minimal"]
        for name, seconds in medians.items():
            rows.append(
                [
                    f"{shape} ({ATTRIBUTES[shape]} attrs)",
                    f"{count:,}",
                    name,
                    f"{seconds * 1000:.2f}",
                    f"{seconds / count * 1e6:.2f}",
                    f"{count / seconds:,.0f}",
                    f"{seconds / floor:.2f}x",
                ]
            )
    print("\n## Full decode: handlers read record.new and record.old of every record\n")
    header = ["items", "records", "contender", "median ms", "µs/record", "records/s", "vs minimal"]
    print_table(header, rows)


def selective(count: int, options: argparse.Namespace) -> None:
    """Ten filtered routes against the full-decode floor."""
    event = make_event(count, seed=options.seed)
    check(event, {})
    reached = len(expected_selective(event))
    runners = {
        "minimal (full decode)": minimal_contender(_ignore),
        "ddbstream, 10 routes": selective_contender(_ignore),
    }
    rounds = _rounds("typical", count, options.quick, options.rounds)
    medians = time_interleaved(runners, event, rounds, options.clock)
    floor = medians["minimal (full decode)"]
    print(
        f"\n## Selective: 10 routes (where= equality, changed=), {reached} of {count:,} records "
        "reach a handler\n"
    )
    rows = [
        [name, f"{seconds * 1000:.2f}", f"{count / seconds:,.0f}", f"{seconds / floor:.2f}x"]
        for name, seconds in medians.items()
    ]
    print_table(["contender", "median ms", "records/s", "vs minimal"], rows)
    mixed_reached = len({id(new or old) for _, new, old in expected_mixed(event)})
    runners = {
        "minimal (full decode)": minimal_contender(_ignore),
        "ddbstream, 10 mixed routes": mixed_contender(_ignore),
    }
    medians = time_interleaved(runners, event, rounds, options.clock)
    floor = medians["minimal (full decode)"]
    print(
        "\n## Selective, mixed: 10 routes (string, boolean and numeric where=, changed= alone "
        f"and with new=, ttl=, table=), {mixed_reached} of {count:,} records reach a handler\n"
    )
    rows = [
        [name, f"{seconds * 1000:.2f}", f"{count / seconds:,.0f}", f"{seconds / floor:.2f}x"]
        for name, seconds in medians.items()
    ]
    print_table(["contender", "median ms", "records/s", "vs minimal"], rows)


def memory(count: int, seed: int) -> None:
    """tracemalloc peak of one batch through ddbstream, beyond the event itself."""
    event = make_event(count, seed=seed)
    rows = []
    for label, reads in (("no-op handlers", False), ("handlers read new and old", True)):
        app = ddbstream.App()

        def handle(record: ddbstream.Record, reads: bool = reads) -> None:
            if reads:
                record.new  # noqa: B018 - reading decodes, which is what is measured
                record.old  # noqa: B018

        app.on("INSERT", "MODIFY", "REMOVE")(handle)
        app.handler(event, None)  # first call builds the route table: not a per-batch cost
        gc.collect()
        tracemalloc.start()
        app.handler(event, None)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append([label, f"{count:,}", f"{peak / 1024:.1f} KiB"])
    print("\n## Memory: tracemalloc peak of one batch, beyond the event\n")
    print_table(["handlers", "records", "peak"], rows)


# --- import time -----------------------------------------------------------------------------

_TIMED_IMPORT = """
import sys, time
{setup}
start = time.perf_counter()
{statement}
print((time.perf_counter() - start) * 1000)
"""


def import_ms(statement: str, *, setup: str = "", bare: bool = False, runs: int = 21) -> float:
    """Median milliseconds of *statement* in fresh interpreters, after *setup*."""
    python = [sys.executable, "-I", "-S"] if bare else [sys.executable, "-I"]
    if bare:  # no site-packages: only the standard library and ddbstream's own folder
        package_parent = Path(ddbstream.__file__).resolve().parent.parent
        setup = f"sys.path.insert(0, {str(package_parent)!r})\n{setup}"
    code = _TIMED_IMPORT.format(setup=setup, statement=statement)
    times = []
    for _ in range(runs):
        result = subprocess.run(
            [*python, "-c", code], capture_output=True, text=True, check=True, env=_clean_env()
        )
        times.append(float(result.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def _clean_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}


def imports(runs: int) -> None:
    """Import costs inside the Lambda runtime's process and on a bare interpreter."""
    runtime = "import awslambdaric.bootstrap"
    candidates = [
        ("ddbstream", "import ddbstream"),
        ("base64 + typing", "import base64, typing"),
        ("typing_extensions", "import typing_extensions"),
        ("boto3.dynamodb.types", "import boto3.dynamodb.types"),
        ("powertools data classes", "import aws_lambda_powertools.utilities.data_classes"),
        ("powertools batch", "import aws_lambda_powertools.utilities.batch"),
    ]
    rows = []
    try:
        __import__("awslambdaric.bootstrap")
        setup = runtime
        where = "after `import awslambdaric.bootstrap`"
    except ImportError:
        setup = ""
        where = "in a fresh interpreter (awslambdaric is not installed)"
    for label, statement in candidates:
        try:
            rows.append([label, f"{import_ms(statement, setup=setup, runs=runs):.2f}"])
        except subprocess.CalledProcessError:
            rows.append([label, "not installed"])
    print(f"\n## Import time {where}, median of {runs} fresh interpreters\n")
    print_table(["import", "ms"], rows)

    ours = import_ms("import ddbstream", bare=True, runs=runs)
    stdlib = import_ms("import decimal, base64", bare=True, runs=runs)
    print(f"\n## Import time on a bare interpreter (python -I -S), median of {runs}\n")
    print_table(
        ["import", "ms", "vs decimal + base64"],
        [
            ["decimal, base64", f"{stdlib:.2f}", "1.00x"],
            ["ddbstream", f"{ours:.2f}", f"{ours / stdlib:.2f}x"],
        ],
    )


# --- command line ----------------------------------------------------------------------------


def _cases(shapes: str | None, counts: str | None, quick: bool) -> list[tuple[str, int]]:
    if shapes is None and counts is None:
        return [("typical", 100), ("small", 100)] if quick else list(DEFAULT_CASES)
    shape_list = (shapes or "typical").split(",")
    count_list = [int(count) for count in (counts or "1000").split(",")]
    for shape in shape_list:
        if shape not in ATTRIBUTES:
            raise SystemExit(f"unknown shape {shape!r}; use small, typical or wide")
    return [(shape, count) for shape in shape_list for count in count_list]


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the chosen parts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small batches, few rounds")
    parser.add_argument("--check", action="store_true", help="only check equal values, no timing")
    parser.add_argument("--shapes", help="comma-separated: small,typical,wide")
    parser.add_argument("--counts", help="comma-separated record counts, e.g. 100,1000")
    parser.add_argument("--rounds", type=int, help="timed runs per contender (default: by size)")
    parser.add_argument("--import-runs", type=int, help="fresh interpreters per import (21)")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="cpu: process CPU time, immune to other load (default); wall: perf_counter",
    )
    parser.add_argument(
        "--only",
        default="full,selective,models,observability,memory,imports",
        help="comma-separated parts: full,selective,models,observability,memory,imports",
    )
    options = parser.parse_args(argv)
    cases = _cases(options.shapes, options.counts, options.quick)
    if options.check:
        contenders = available_contenders()
        for shape, count in cases:
            check(make_event(count, shape=shape, seed=options.seed), contenders)
        print(f"ok: {', '.join(contenders)} agree on {len(cases)} events")
        return
    parts = options.only.split(",")
    print(f"Python {sys.version.split()[0]} on {sys.platform}, ddbstream from {ddbstream.__file__}")
    if "full" in parts:
        full_decode(cases, options)
    if "selective" in parts:
        selective(100 if options.quick else 1000, options)
    if "models" in parts:
        typed_items(100 if options.quick else 1000, options)
    if "observability" in parts:
        observability(100 if options.quick else 1000, options)
    if "memory" in parts:
        memory(1000 if options.quick else 10_000, options.seed)
    if "imports" in parts:
        imports(options.import_runs or (3 if options.quick else 21))


if __name__ == "__main__":
    main()
