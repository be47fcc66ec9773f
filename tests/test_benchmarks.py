"""The benchmark cannot rot, and the fast paths it measures say what the careful ones say.

No timing is asserted here: the numbers live in docs/performance.md, measured by
``python -m benchmarks.run``.
"""

from __future__ import annotations

import base64
import copy
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ddbstream import App, Attr, Record
from ddbstream._codec import EXACT_DECODER
from ddbstream._record import make_record
from ddbstream._routing import Dispatch
from ddbstream.errors import RecordError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `benchmarks` is a folder of the repository, not installed

from benchmarks import run  # noqa: E402
from benchmarks.events import KINDS, SHAPES, make_event  # noqa: E402

QUICK = ["--rounds", "1", "--import-runs", "1", "--counts", "20"]
"""The smallest run that still goes through every part of the script."""


class TestEventGenerator:
    def test_same_seed_same_event(self) -> None:
        """The generator is seeded: the same seed gives the same event, another seed another."""
        assert make_event(30, seed=3) == make_event(30, seed=3)
        assert make_event(30, seed=3) != make_event(30, seed=4)

    @pytest.mark.parametrize(
        ("shape", "attributes"), [("small", 6), ("typical", 22), ("wide", 200)]
    )
    def test_item_shapes(self, shape: str, attributes: int) -> None:
        """Small, typical and wide items have 6, 22 and 200 attributes."""
        event = make_event(40, shape=shape)
        for record in event["Records"]:
            for image in ("NewImage", "OldImage"):
                if image in record["dynamodb"]:
                    assert len(record["dynamodb"][image]) == attributes

    def test_lambda_shape(self) -> None:
        """Records look as Lambda delivers them: every event name, TTL removes, base64 B."""
        records = make_event(300)["Records"]
        assert {record["eventName"] for record in records} == {"INSERT", "MODIFY", "REMOVE"}
        assert any("userIdentity" in record for record in records)
        sequence_numbers = [int(record["dynamodb"]["SequenceNumber"]) for record in records]
        assert sequence_numbers == sorted(set(sequence_numbers))
        first = records[0]
        assert first["eventSource"] == "aws:dynamodb"
        assert first["eventSourceARN"].startswith("arn:aws:dynamodb:")
        assert first["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        image = first["dynamodb"].get("NewImage") or first["dynamodb"]["OldImage"]
        assert isinstance(image["checksum"]["B"], str)
        assert len(base64.b64decode(image["checksum"]["B"], validate=True)) == 16
        assert image["total"]["N"].count(".") == 1  # money keeps its cents, trailing zeros too

    def test_selective_case_reaches_one_record_in_ten(self) -> None:
        """About one record in ten reaches a handler of the selective case."""
        event = make_event(1000)
        assert 60 <= len(run.expected_selective(event)) <= 140

    def test_mixed_case_reaches_one_record_in_seven(self) -> None:
        """About 14% of records reach a handler of the mixed case, every route kind used."""
        event = make_event(1000, seed=8)
        seen = run.expected_mixed(event)
        reached = {id(new if new is not None else old) for _, new, old in seen}
        assert 120 <= len(reached) <= 160
        assert {name for name, _, _ in seen} >= {"escalated", "expired", "big customer"}


class TestBenchmarkCheck:
    @pytest.mark.parametrize("shape", SHAPES)
    def test_contenders_agree(self, shape: str) -> None:
        """Every installed contender (boto3 and Powertools are here) decodes like the floor."""
        checked = run.check(make_event(40, shape=shape), run.available_contenders())
        assert checked == [
            "minimal",
            "ddbstream",
            "ddbstream reporting",
            "boto3",
            "powertools",
            "selective",
            "mixed",
        ]

    def test_ddbstream_values_equal_the_floor(self) -> None:
        """ddbstream's handlers see exactly the minimal converter's values, exponents included."""
        event = make_event(50)
        ours = run.collect(run.ddbstream_contender, event)
        floor = run.collect(run.minimal_contender, event)
        assert [run.canonical(list(seen)) for seen in ours] == [
            run.canonical(list(seen)) for seen in floor
        ]

    def test_check_catches_a_wrong_contender(self) -> None:
        """The check fails a contender that loses trailing zeros, so it can catch a bug."""

        def sloppy(sink: run.Sink) -> run.Runner:
            def lossy(name: str, new: Any, old: Any) -> None:
                sink(name, _normalized(new), _normalized(old))

            return run.minimal_contender(lossy)

        with pytest.raises(AssertionError, match="sloppy differs"):
            run.check(make_event(20), {"sloppy": sloppy})

    def test_canonical_tells_types_and_exponents_apart(self) -> None:
        """canonical() separates 1.0 from 1.00, True from 1 and bytes from text."""
        assert run.canonical(Decimal("1.0")) != run.canonical(Decimal("1.00"))
        assert run.canonical(True) != run.canonical(Decimal(1))
        assert run.canonical(b"a") != run.canonical("YQ==")
        assert run.canonical(b"a", binary_as_text=True) == run.canonical("YQ==")


class TestScript:
    def test_quick_mode_prints_every_table(self) -> None:
        """``python -m benchmarks.run --quick`` runs every part and prints its tables."""
        result = subprocess.run(
            [sys.executable, "-m", "benchmarks.run", "--quick", *QUICK],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        for heading in ("Full decode", "Selective", "Memory", "Import time"):
            assert f"## {heading}" in result.stdout
        for contender in ("minimal", "ddbstream", "ddbstream reporting", "boto3", "powertools"):
            assert f"| {contender} " in result.stdout

    def test_check_mode_as_a_script(self) -> None:
        """``python benchmarks/run.py --check`` works from anywhere and reports agreement."""
        result = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--check", "--counts", "20"],
            cwd=ROOT / "docs",
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        assert result.stdout.startswith("ok: minimal, ddbstream")


def _normalized(image: dict[str, Any] | None) -> dict[str, Any] | None:
    if image is None:
        return None
    return {
        name: value.normalize() if isinstance(value, Decimal) else value
        for name, value in image.items()
    }


# --- the fast paths the benchmark measures -----------------------------------------------------


def _raw(event_name: str = "MODIFY", **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = copy.deepcopy(
        next(r for r in make_event(20, seed=1)["Records"] if r["eventName"] == "MODIFY")
    )
    record["eventName"] = event_name
    record.update(changes)
    return record


class TestMakeRecord:
    def test_any_mapping_makes_the_same_record(self) -> None:
        """A dict takes the quick path, another Mapping the checked one: same Record."""
        for raw in make_event(30)["Records"]:
            fast = make_record(raw, EXACT_DECODER)
            slow = make_record(MappingProxyType(raw), EXACT_DECODER)
            for name in ("event_name", "sequence_number", "event_id", "change"):
                assert getattr(fast, name) == getattr(slow, name)
            assert (fast.keys, fast.new, fast.old) == (slow.keys, slow.new, slow.old)

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"eventName": "UPSERT"}, "unknown eventName 'UPSERT'"),
            ({"eventName": ["INSERT"]}, "unknown eventName ['INSERT']"),
            ({"dynamodb": None}, "record has no 'dynamodb' object"),
            ({"dynamodb": []}, "record has no 'dynamodb' object"),
        ],
    )
    def test_bad_records_raise_however_they_come(
        self, changes: dict[str, Any], message: str
    ) -> None:
        """A bad record is refused with the same message: a dict or another Mapping given to
        make_record(), or a dict met by the batch loop, which makes stream records itself."""
        raw = _raw(**changes)
        for attempt in (
            lambda: make_record(raw, EXACT_DECODER),
            lambda: make_record(MappingProxyType(raw), EXACT_DECODER),
            lambda: App().handler({"Records": [raw]}, None),
        ):
            with pytest.raises(RecordError) as caught:
                attempt()
            assert message in str(caught.value)
            assert caught.value.event_id == raw["eventID"]

    def test_the_batch_loop_makes_what_make_record_makes(self) -> None:
        """The batch loop writes make_record() out for stream records: the same Record."""
        event = make_event(30)
        seen: list[Record] = []
        app = App()
        app.on("INSERT", "MODIFY", "REMOVE")(seen.append)

        app.handler(event, None)

        assert len(seen) == 30
        for record, raw in zip(seen, event["Records"], strict=True):
            made = make_record(raw, app._decoder)
            for slot in Record.__slots__:
                assert getattr(record, slot) is getattr(made, slot) or (
                    getattr(record, slot) == getattr(made, slot)
                )

    def test_a_record_that_is_no_object(self) -> None:
        """A record that is not a JSON object says so."""
        with pytest.raises(RecordError, match="a record must be a JSON object, got list"):
            make_record([], EXACT_DECODER)

    def test_bad_image_names_its_path(self) -> None:
        """A malformed value met by the fast image decoder is reported by the careful one."""
        raw = _raw()
        raw["dynamodb"]["NewImage"]["address"]["M"]["zip"] = {"S": "1", "N": "1"}
        record = make_record(raw, EXACT_DECODER)
        with pytest.raises(RecordError, match=r"NewImage\.address\.zip") as caught:
            record.new  # noqa: B018 - reading decodes
        assert caught.value.sequence_number == raw["dynamodb"]["SequenceNumber"]


# Values the kind attribute can have in the narrowing tests: the routes' kinds, another
# string, other types, malformed values, and absent.
_KIND_VALUES = st.sampled_from(
    [
        {"S": "order"},
        {"S": "invoice"},
        {"S": "refund"},
        {"S": "other"},
        {"N": "1"},
        {"S": 5},
        {"S": "order", "N": "1"},
        {"X": "order"},
        "order",
        None,
    ]
)


def _route_table(app: App) -> Dispatch:
    """The dispatch *app* builds on its first event."""
    app.handler({"Records": []}, None)
    assert app._dispatch is not None
    return app._dispatch


def _routed_app(report: list[str]) -> App:
    """Routes on kind (indexable), one on status first (not indexable), one with no filter."""
    app = App()
    routes: list[tuple[str, dict[str, Any]]] = [
        ("order", {"where": {"kind": "order"}}),
        ("order_paid", {"where": Attr("kind").eq("order") & Attr("status").eq("PAID")}),
        ("invoice_changed", {"where": {"kind": "invoice"}, "changed": "status"}),
        ("status_first", {"where": Attr("status").eq("PAID") & Attr("kind").eq("refund")}),
        ("everything", {}),
        ("refund_modify", {"where": {"kind": "refund"}, "table": "orders"}),
    ]
    for name, filters in routes:
        app.add_handler(_reporter(report, name), events=("INSERT", "MODIFY", "REMOVE"), **filters)
    return app


def _reporter(report: list[str], name: str) -> Callable[[Record], None]:
    def handle(record: Record) -> None:
        report.append(name)

    return handle


def _outcome(run_one: Callable[[], object], report: list[str]) -> tuple[str, ...]:
    try:
        run_one()
    except Exception as error:
        return (*report, type(error).__name__)
    return tuple(report)


class TestNarrowing:
    @settings(max_examples=150, deadline=None)
    @given(
        kind=_KIND_VALUES,
        status=st.sampled_from([{"S": "PAID"}, {"S": "NEW"}, None]),
        event_name=st.sampled_from(["INSERT", "MODIFY", "REMOVE"]),
        view=st.sampled_from(["NEW_AND_OLD_IMAGES", "KEYS_ONLY", "NEW_IMAGE"]),
    )
    def test_same_routes_as_testing_every_route(
        self, kind: Any, status: Any, event_name: str, view: str
    ) -> None:
        """Indexing routes by kind runs exactly the routes (or error) testing each would."""
        raw = _raw(event_name)
        body = raw["dynamodb"]
        body["StreamViewType"] = view
        for image in ("NewImage", "OldImage"):
            for name, value in (("kind", kind), ("status", status)):
                if value is None:
                    body[image].pop(name, None)
                else:
                    body[image][name] = value
        if event_name == "INSERT" or view == "KEYS_ONLY":
            del body["OldImage"]
        if event_name == "REMOVE" or view == "KEYS_ONLY":
            del body["NewImage"]

        narrowed: list[str] = []
        app = _routed_app(narrowed)
        got = _outcome(lambda: app.handler({"Records": [raw]}, None), narrowed)

        every: list[str] = []
        plain = _routed_app(every)
        narrow = _route_table(plain).narrowers
        narrow.update(dict.fromkeys(narrow))  # no index: test every route
        expected = _outcome(lambda: plain.handler({"Records": [raw]}, None), every)

        assert got == expected

    def test_index_is_built_for_kind_routes(self) -> None:
        """Routes sharing an equality on one attribute get an index; others do not."""
        app = _routed_app([])
        assert all(narrow is not None for narrow in _route_table(app).narrowers.values())
        single = App()
        single.on_insert(where={"kind": "order"})(print)
        assert _route_table(single).narrowers["INSERT"] is None  # one route: nothing to gain

    def test_kinds_route_to_their_handler(self) -> None:
        """With one route per kind, each record reaches exactly the route for its kind."""
        seen: list[tuple[str, str]] = []
        app = App()

        def route_for(kind: str) -> Callable[[Record], None]:
            return lambda record: seen.append((kind, record.item["kind"]))

        for kind in KINDS:
            app.on("INSERT", "MODIFY", "REMOVE", where={"kind": kind})(route_for(kind))
        event = make_event(100)
        app.handler(event, None)
        assert len(seen) == 100
        assert all(route_kind == item_kind for route_kind, item_kind in seen)
