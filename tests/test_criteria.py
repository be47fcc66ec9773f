"""Tests of app.filter_criteria(): Lambda FilterCriteria that are sound, useful and in limits."""

from __future__ import annotations

import base64
import importlib
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr as Boto3Attr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import PAGE_EXAMPLES
from ddbstream import App, Attr, Record
from ddbstream._codec import EXACT_DECODER
from ddbstream._criteria import MAX_FILTERS, MAX_PATTERN_LENGTH, filter_criteria
from ddbstream._operators import TYPE_LETTERS
from ddbstream._record import make_record
from ddbstream._routing import Route
from ddbstream.cli import main
from ddbstream.conditions import And, Condition, Not, Or
from ddbstream.errors import SetupError

REGION = "eu-west-1"
ACCOUNT = "123456789012"
VIEWS = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


# --- an evaluator of Lambda's filter rules ---------------------------------------------------
#
# Lambda (like EventBridge) flattens the record into leaf paths; a list contributes each of its
# members at the same path. A pattern matches when every key matches; a list of matchers
# matches when one of them matches one value at that path.


def flatten(value: Any, path: tuple[str, ...] = (), out: dict[Any, list[Any]] | None = None) -> Any:
    """Leaf values of a JSON document by path, list members at their list's path."""
    out = {} if out is None else out
    if isinstance(value, dict):
        for name, member in value.items():
            flatten(member, (*path, name), out)
    elif isinstance(value, list):
        for member in value:
            flatten(member, path, out)
    else:
        out.setdefault(path, []).append(value)
    return out


def same_json(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, 1 is 1.0."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and bool(a == b)


def matcher_matches(matcher: Any, values: list[Any]) -> bool:
    """One matcher of a pattern's list against the values at its path."""
    if not isinstance(matcher, dict):
        return any(same_json(value, matcher) for value in values)
    ((operator, argument),) = matcher.items()
    if operator == "exists":
        assert isinstance(argument, bool)
        return bool(values) is argument
    if operator == "prefix":
        assert isinstance(argument, str)
        return any(isinstance(value, str) and value.startswith(argument) for value in values)
    if operator == "anything-but":
        excluded = argument if isinstance(argument, list) else [argument]
        return any(not any(same_json(value, other) for other in excluded) for value in values)
    if operator == "numeric":
        return any(_numeric(value, argument) for value in values)
    raise AssertionError(f"Lambda has no matcher {operator!r}")


def _numeric(value: Any, conditions: list[Any]) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False  # N values are strings: numeric never matches them
    checks = {"=": value.__eq__, "<": value.__lt__, "<=": value.__le__}
    checks |= {">": value.__gt__, ">=": value.__ge__}
    pairs = zip(conditions[::2], conditions[1::2], strict=True)
    return all(checks[operator](bound) for operator, bound in pairs)


def pattern_matches(pattern: dict[str, Any], flat: dict[Any, list[Any]], at: Any = ()) -> bool:
    """Whether a Lambda filter pattern matches a flattened record."""
    assert pattern, "Lambda rejects empty patterns"
    for key, rule in pattern.items():
        if key == "$or":
            assert isinstance(rule, list)
            assert len(rule) >= 2
            if not any(pattern_matches(option, flat, at) for option in rule):
                return False
        elif isinstance(rule, dict):
            if not pattern_matches(rule, flat, (*at, key)):
                return False
        else:
            assert isinstance(rule, list)
            assert rule, "Lambda rejects empty matcher lists"
            if {"exists": False} in rule:
                assert len(rule) == 1
            values = flat.get((*at, key), [])
            if not any(matcher_matches(matcher, values) for matcher in rule):
                return False
    return True


def passes(criteria: dict[str, Any], raw: dict[str, Any]) -> bool:
    """Whether Lambda would deliver the record *raw* under *criteria*."""
    filters = criteria["Filters"]
    if not filters:
        return True  # no FilterCriteria: Lambda delivers everything
    flat = flatten(raw)
    return any(pattern_matches(json.loads(item["Pattern"]), flat) for item in filters)


class TestEvaluator:
    def test_rules(self) -> None:
        """The test evaluator follows Lambda's documented rules on a sample record."""
        raw = {
            "eventName": "MODIFY",
            "dynamodb": {
                "NewImage": {"s": {"S": "SHIPPED"}, "n": {"N": "5"}, "t": {"SS": ["a", "b"]}},
            },
        }
        flat = flatten(raw)
        assert pattern_matches({"eventName": ["MODIFY", "INSERT"]}, flat)
        assert not pattern_matches({"eventName": ["REMOVE"]}, flat)
        assert pattern_matches({"dynamodb": {"NewImage": {"s": {"S": [{"prefix": "SH"}]}}}}, flat)
        assert not pattern_matches({"dynamodb": {"NewImage": {"n": {"N": [5]}}}}, flat)
        n_numeric = {"dynamodb": {"NewImage": {"n": {"N": [{"numeric": [">", 1]}]}}}}
        assert not pattern_matches(n_numeric, flat)
        assert pattern_matches({"dynamodb": {"NewImage": {"t": {"SS": ["b"]}}}}, flat)
        assert pattern_matches({"dynamodb": {"NewImage": {"x": {"S": [{"exists": False}]}}}}, flat)
        assert not pattern_matches(
            {"dynamodb": {"NewImage": {"s": {"S": [{"exists": False}]}}}}, flat
        )
        assert pattern_matches({"eventName": [{"anything-but": ["INSERT"]}]}, flat)
        assert not pattern_matches({"userIdentity": {"type": [{"anything-but": ["x"]}]}}, flat)
        either = {"$or": [{"eventName": ["INSERT"]}, {"eventName": ["MODIFY"]}]}
        assert pattern_matches(either, flat)


# --- records and routes ----------------------------------------------------------------------


def stream_record(
    event_name: str,
    *,
    keys: dict[str, Any],
    new: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    view: str = "NEW_AND_OLD_IMAGES",
    table: str = "Orders",
    region: str = REGION,
    identity: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A DynamoDB Streams record as Lambda delivers it (images in DynamoDB JSON)."""
    dynamodb: dict[str, Any] = {"Keys": keys, "SequenceNumber": "1", "StreamViewType": view}
    if new is not None:
        dynamodb["NewImage"] = new
    if old is not None:
        dynamodb["OldImage"] = old
    raw: dict[str, Any] = {
        "eventID": "e1",
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "eventSourceARN": (
            f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{table}/stream/2024-01-01T00:00:00.000"
        ),
        "dynamodb": dynamodb,
    }
    if identity is not None:
        raw["userIdentity"] = identity
    return raw


def wanted(routes: list[Route], raw: dict[str, Any]) -> bool:
    """Whether some route runs on the record, or fails on it."""
    record = make_record(raw, EXACT_DECODER)
    for route in routes:
        try:
            if route.matches(record):
                return True
        except Exception:
            return True
    return False


def handler(record: Record) -> None:
    """A route's handler (never run here)."""


def criteria_of(
    *routes: Route, fallback: bool = False, arn: bool = False, view: str | None = None
) -> dict[str, Any]:
    """filter_criteria for *routes*, with the table's region and account when *arn*, for a
    stream of view type *view* (None: any)."""
    if arn:
        return filter_criteria(
            routes, has_fallback=fallback, region=REGION, account=ACCOUNT, stream_view_type=view
        )
    return filter_criteria(routes, has_fallback=fallback, stream_view_type=view)


BOTH = "NEW_AND_OLD_IMAGES"


def patterns(criteria: dict[str, Any]) -> list[Any]:
    """The patterns of *criteria*, parsed."""
    return [json.loads(item["Pattern"]) for item in criteria["Filters"]]


# --- exact patterns --------------------------------------------------------------------------


class TestExactPatterns:
    def test_event_names(self) -> None:
        """A route without filters becomes an eventName pattern."""
        routes = [Route(handler, events={"INSERT"}), Route(handler, events={"REMOVE"})]
        assert patterns(criteria_of(*routes)) == [{"eventName": ["INSERT", "REMOVE"]}]

    def test_new_string_equality(self) -> None:
        """new={"status": "SHIPPED"} reads NewImage.status.S."""
        route = Route(handler, events={"MODIFY"}, new={"status": "SHIPPED"})
        assert patterns(criteria_of(route, view=BOTH)) == [
            {
                "dynamodb": {"NewImage": {"status": {"S": ["SHIPPED"]}}},
                "eventName": ["MODIFY"],
            }
        ]

    def test_changed_lets_undecidable_records_through(self) -> None:
        """With changed=, MODIFY records of view types lacking an image pass (they fail)."""
        route = Route(handler, events={"MODIFY"}, new={"status": "SHIPPED"}, changed="status")
        assert patterns(criteria_of(route)) == [
            {
                "dynamodb": {"NewImage": {"status": {"S": ["SHIPPED"]}}},
                "eventName": ["MODIFY"],
            },
            {
                "dynamodb": {"StreamViewType": ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE"]},
                "eventName": ["MODIFY"],
            },
        ]

    def test_pattern_text_is_compact_and_sorted(self) -> None:
        """The Pattern string is compact JSON with sorted keys, the same on every run."""
        route = Route(handler, events={"MODIFY"}, old={"b": True, "a": None})
        criteria = criteria_of(route, view=BOTH)
        assert criteria == {
            "Filters": [
                {
                    "Pattern": '{"dynamodb":{"OldImage":{"a":{"NULL":[true]},"b":{"BOOL":[true]}}},'
                    '"eventName":["MODIFY"]}'
                }
            ]
        }
        assert criteria_of(route, view=BOTH) == criteria

    def test_ttl_true(self) -> None:
        """ttl=True becomes DynamoDB's userIdentity of TTL deletes."""
        route = Route(handler, events={"REMOVE"}, ttl=True)
        assert patterns(criteria_of(route)) == [
            {
                "eventName": ["REMOVE"],
                "userIdentity": {"principalId": ["dynamodb.amazonaws.com"], "type": ["Service"]},
            }
        ]

    def test_ttl_false_lets_other_identities_through(self) -> None:
        """ttl=False passes deletes without userIdentity and with any other identity."""
        criteria = criteria_of(Route(handler, events={"REMOVE"}, ttl=False))
        keys = {"pk": {"S": "1"}}
        assert passes(criteria, stream_record("REMOVE", keys=keys))
        assert passes(criteria, stream_record("REMOVE", keys=keys, identity={"type": "User"}))
        assert not passes(criteria, stream_record("REMOVE", keys=keys, identity=TTL_IDENTITY))
        assert not passes(criteria, stream_record("INSERT", keys=keys))

    def test_where_follows_the_item_per_event(self) -> None:
        """where= on REMOVE reads OldImage, or Keys in views without an old image, where a
        record whose keys lack the attribute passes (it fails in the function)."""
        route = Route(handler, events={"REMOVE"}, where=Attr("type").begins_with("ORD"))
        assert patterns(criteria_of(route)) == [
            {
                "dynamodb": {
                    "Keys": {"type": {letter: [{"exists": False}] for letter in "BNS"}},
                    "StreamViewType": ["KEYS_ONLY", "NEW_IMAGE"],
                },
                "eventName": ["REMOVE"],
            },
            {
                "dynamodb": {
                    "Keys": {"type": {"S": [{"prefix": "ORD"}]}},
                    "StreamViewType": ["KEYS_ONLY", "NEW_IMAGE"],
                },
                "eventName": ["REMOVE"],
            },
            {
                "dynamodb": {"OldImage": {"type": {"S": [{"prefix": "ORD"}]}}},
                "eventName": ["REMOVE"],
            },
        ]

    def test_where_on_a_known_view_type(self) -> None:
        """With the view type known, where= reads the one image that view type gives."""
        route = Route(handler, events={"REMOVE"}, where=Attr("type").begins_with("ORD"))
        assert patterns(criteria_of(route, view=BOTH)) == [
            {
                "dynamodb": {"OldImage": {"type": {"S": [{"prefix": "ORD"}]}}},
                "eventName": ["REMOVE"],
            }
        ]
        assert patterns(criteria_of(route, view="KEYS_ONLY")) == [
            {
                "dynamodb": {"Keys": {"type": {letter: [{"exists": False}] for letter in "BNS"}}},
                "eventName": ["REMOVE"],
            },
            {"dynamodb": {"Keys": {"type": {"S": [{"prefix": "ORD"}]}}}, "eventName": ["REMOVE"]},
        ]

    def test_image_filters_let_streams_without_the_image_through(self) -> None:
        """new= on a MODIFY: records of view types without a new image pass (they fail)."""
        route = Route(handler, events={"MODIFY"}, new={"status": "SHIPPED"})
        assert patterns(criteria_of(route)) == [
            {"dynamodb": {"NewImage": {"status": {"S": ["SHIPPED"]}}}, "eventName": ["MODIFY"]},
            {"dynamodb": {"StreamViewType": ["KEYS_ONLY", "OLD_IMAGE"]}, "eventName": ["MODIFY"]},
        ]
        assert patterns(criteria_of(route, view="OLD_IMAGE")) == [{"eventName": ["MODIFY"]}]

    def test_an_unknown_view_type_is_refused(self, app: App) -> None:
        """filter_criteria(stream_view_type=...) takes the four view types only."""
        app.on_insert(handler)
        with pytest.raises(SetupError, match="unknown stream view type 'NEW'"):
            app.filter_criteria(stream_view_type="NEW")

    def test_is_in_of_mixed_types(self) -> None:
        """is_in() with strings, a boolean and None becomes one pattern per type letter."""
        route = Route(handler, events={"INSERT"}, new=Attr("a.b").is_in(["x", "y", True, None]))
        assert patterns(criteria_of(route, view=BOTH)) == [
            {
                "dynamodb": {"NewImage": {"a": {"M": {"b": {letter: values}}}}},
                "eventName": ["INSERT"],
            }
            for letter, values in (("BOOL", [True]), ("NULL", [True]), ("S", ["x", "y"]))
        ]

    def test_attribute_type_and_not_exists(self) -> None:
        """attribute_type() tests the letter; not_exists() tests that no leaf type is there."""
        route = Route(
            handler,
            events={"INSERT"},
            new=Attr("a").attribute_type("NS") & Attr("gone").not_exists(),
        )
        (pattern,) = patterns(criteria_of(route, view=BOTH))
        image = pattern["dynamodb"]["NewImage"]
        assert image["a"] == {"NS": [{"exists": True}]}
        assert image["gone"] == {
            letter: [{"exists": False}]
            for letter in ("B", "BOOL", "BS", "N", "NS", "NULL", "S", "SS")
        }

    def test_negated_exists_is_not_exists(self) -> None:
        """~Attr(x).exists() is expressed like Attr(x).not_exists()."""
        negated = criteria_of(Route(handler, events={"INSERT"}, new=~Attr("x").exists()))
        plain = criteria_of(Route(handler, events={"INSERT"}, new=Attr("x").not_exists()))
        assert negated == plain

    def test_boto3_conditions(self) -> None:
        """boto3's own conditions are exported like ours."""
        ours = Route(handler, events={"INSERT"}, new=Attr("s").eq("x") & Attr("t").begins_with("y"))
        theirs = Route(
            handler, events={"INSERT"}, new=Boto3Attr("s").eq("x") & Boto3Attr("t").begins_with("y")
        )
        assert criteria_of(theirs, view=BOTH) == criteria_of(ours, view=BOTH)
        assert patterns(criteria_of(ours, view=BOTH)) == [
            {
                "dynamodb": {
                    "NewImage": {"s": {"S": ["x"]}, "t": {"S": [{"prefix": "y"}]}},
                },
                "eventName": ["INSERT"],
            }
        ]

    def test_table_with_region_and_account(self) -> None:
        """table= becomes an eventSourceARN prefix when the region and account are known."""
        route = Route(handler, events={"INSERT"}, table=["Orders", "Users"])
        assert patterns(criteria_of(route, arn=True)) == [
            {
                "eventName": ["INSERT"],
                "eventSourceARN": [
                    {"prefix": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Orders/"},
                    {"prefix": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Users/"},
                ],
            }
        ]
        assert patterns(criteria_of(route)) == [{"eventName": ["INSERT"]}]

    @pytest.mark.parametrize(
        ("region", "partition"),
        [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"), ("us-east-1", "aws")],
    )
    def test_partition(self, region: str, partition: str) -> None:
        """The ARN prefix names the region's partition."""
        route = Route(handler, events={"INSERT"}, table="T")
        criteria = filter_criteria([route], has_fallback=False, region=region, account="1")
        (pattern,) = patterns(criteria)
        assert pattern["eventSourceARN"] == [
            {"prefix": f"arn:{partition}:dynamodb:{region}:1:table/T/"}
        ]


class TestWidening:
    @pytest.mark.parametrize(
        "condition",
        [
            Attr("n").eq(5),
            Attr("n").eq(Decimal("1.5")),
            Attr("s").ne("x"),
            Attr("s").lt("m"),
            Attr("n").between(1, 2),
            Attr("s").contains("x"),
            Attr("b").eq(b"x"),
            Attr("b").begins_with(b"x"),
            Attr("s").exists(),
            Attr("m").attribute_type("M"),
            Attr("l[0]").eq("x"),
            Attr("s").size().gt(1),
            Attr("s").is_in(["x", 1]),
            Attr("set").eq({"x"}),
            ~Attr("s").eq("x"),
            ~Attr("s").not_exists(),
        ],
        ids=repr,
    )
    def test_inexpressible_conditions_widen(self, condition: Condition) -> None:
        """Conditions a pattern cannot express leave only the event name."""
        route = Route(handler, events={"MODIFY"}, new=condition)
        assert patterns(criteria_of(route)) == [{"eventName": ["MODIFY"]}]

    def test_changed_widens(self) -> None:
        """changed= is never a pattern (a MODIFY without both images must reach the app)."""
        route = Route(handler, events={"MODIFY"}, changed="status")
        assert patterns(criteria_of(route)) == [{"eventName": ["MODIFY"]}]

    def test_function_widens(self) -> None:
        """A function of the image is not expressible."""
        route = Route(handler, events={"INSERT"}, where=lambda item: item["n"] > 3)
        assert patterns(criteria_of(route)) == [{"eventName": ["INSERT"]}]

    def test_or_with_inexpressible_branch_widens(self) -> None:
        """An OR with a branch that widens widens as a whole."""
        route = Route(handler, events={"INSERT"}, new=Attr("s").eq("x") | Attr("n").gt(1))
        assert patterns(criteria_of(route)) == [{"eventName": ["INSERT"]}]

    def test_and_keeps_what_it_can(self) -> None:
        """An AND keeps its expressible part."""
        route = Route(handler, events={"INSERT"}, new=Attr("s").eq("x") & Attr("n").gt(1))
        assert patterns(criteria_of(route, view=BOTH)) == [
            {"dynamodb": {"NewImage": {"s": {"S": ["x"]}}}, "eventName": ["INSERT"]}
        ]


class TestEverything:
    def test_fallback(self) -> None:
        """With an on_unmatched fallback every record is wanted: no filters."""
        route = Route(handler, events={"INSERT"}, new={"s": "x"})
        assert criteria_of(route, fallback=True) == {"Filters": []}

    def test_route_for_every_event(self) -> None:
        """A route without filters on every event name needs every record."""
        routes = [
            Route(handler, events={"INSERT", "MODIFY"}),
            Route(handler, events={"REMOVE"}),
            Route(handler, events={"INSERT"}, new={"s": "x"}),
        ]
        assert criteria_of(*routes) == {"Filters": []}

    def test_no_routes(self) -> None:
        """Without routes the criteria are empty (Lambda filters nothing)."""
        assert criteria_of() == {"Filters": []}

    def test_app_method(self, app: App) -> None:
        """app.filter_criteria() covers its routes and its fallback."""

        @app.on_insert(new={"s": "x"})
        def inserted(record: Record) -> None:
            """Handle inserts."""

        assert patterns(app.filter_criteria(stream_view_type=BOTH)) == [
            {"dynamodb": {"NewImage": {"s": {"S": ["x"]}}}, "eventName": ["INSERT"]}
        ]
        assert patterns(app.filter_criteria()) == [
            {"dynamodb": {"NewImage": {"s": {"S": ["x"]}}}, "eventName": ["INSERT"]},
            {"dynamodb": {"StreamViewType": ["KEYS_ONLY", "OLD_IMAGE"]}, "eventName": ["INSERT"]},
        ]

        @app.on_unmatched
        def other(record: Record) -> None:
            """Handle the rest."""

        assert app.filter_criteria() == {"Filters": []}


class TestLimits:
    def test_many_routes_share_five_patterns(self) -> None:
        """More alternatives than 5 filters are packed into at most 5 patterns, soundly."""
        routes = [
            Route(handler, events={"INSERT"}, new=Attr(f"a{i}").eq("x") & Attr("k").eq(str(i)))
            for i in range(12)
        ]
        criteria = criteria_of(*routes)
        assert 1 <= len(criteria["Filters"]) <= MAX_FILTERS
        for i in range(12):
            raw = stream_record(
                "INSERT",
                keys={"pk": {"S": "1"}},
                new={"pk": {"S": "1"}, f"a{i}": {"S": "x"}, "k": {"S": str(i)}},
            )
            assert passes(criteria, raw)
        miss = stream_record("INSERT", keys={"pk": {"S": "1"}}, new={"pk": {"S": "1"}})
        assert not passes(criteria, miss)

    def test_long_patterns_are_widened_to_fit(self) -> None:
        """Patterns longer than 4,096 characters are merged and widened until they fit."""
        routes = [
            Route(
                handler,
                events={"MODIFY"},
                new=Attr(f"attribute{i}").is_in([f"v{i}-{n}" * 5 for n in range(60)]),
            )
            for i in range(8)
        ]
        criteria = criteria_of(*routes)
        assert len(criteria["Filters"]) <= MAX_FILTERS
        assert all(len(item["Pattern"]) <= MAX_PATTERN_LENGTH for item in criteria["Filters"])
        raw = stream_record(
            "MODIFY",
            keys={"pk": {"S": "1"}},
            new={"pk": {"S": "1"}, "attribute7": {"S": "v7-59" * 5}},
            old={"pk": {"S": "1"}},
        )
        assert passes(criteria, raw)

    def test_one_huge_clause_is_cut_down(self) -> None:
        """A single condition too long for a pattern loses constraints until it fits."""
        route = Route(
            handler, events={"INSERT"}, new=Attr("s").is_in([f"{n:05}" * 40 for n in range(50)])
        )
        criteria = criteria_of(route, view=BOTH)
        assert patterns(criteria) == [{"eventName": ["INSERT"]}]


# --- soundness, as a property ----------------------------------------------------------------

NAMES = ("a", "b", "pk")
PATHS = (*NAMES, "m.a", "m.b", "l[0]", "l[1].a")
STRINGS = ("", "x", "xy", "y")
NUMBERS = ("1", "1.0", "1.5", "2")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


scalar_values = st.one_of(
    st.sampled_from(STRINGS).map(lambda text: {"S": text}),
    st.sampled_from(NUMBERS).map(lambda text: {"N": text}),
    st.sampled_from([b"x", b"xy"]).map(lambda data: {"B": _b64(data)}),
    st.booleans().map(lambda flag: {"BOOL": flag}),
    st.just({"NULL": True}),
    st.lists(st.sampled_from(STRINGS), min_size=1, max_size=3, unique=True).map(
        lambda m: {"SS": m}
    ),
    st.lists(st.sampled_from(("1", "2")), min_size=1, max_size=2, unique=True).map(
        lambda m: {"NS": m}
    ),
    st.just({"BS": [_b64(b"x")]}),
)
tagged_values = st.recursive(
    scalar_values,
    lambda children: st.one_of(
        st.dictionaries(st.sampled_from(NAMES), children, max_size=2).map(lambda m: {"M": m}),
        st.lists(children, max_size=2).map(lambda items: {"L": items}),
    ),
    max_leaves=4,
)
images = st.dictionaries(st.sampled_from(("a", "b", "m", "l")), tagged_values, max_size=4)
key_values = st.sampled_from(STRINGS[1:]).map(lambda text: {"S": text})


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    """Records of every event name and view type, with the images the view type carries.

    All come from tables of one region and account, as the records of one event source
    mapping do (Lambda reads streams in its own region and account).
    """
    event_name = draw(st.sampled_from(("INSERT", "MODIFY", "REMOVE")))
    view = draw(st.sampled_from(VIEWS))
    keys = {"pk": draw(key_values)}
    new = {**draw(images), **keys} if event_name != "REMOVE" and "NEW" in view else None
    old_view = view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
    old = {**draw(images), **keys} if event_name != "INSERT" and old_view else None
    identity = draw(
        st.sampled_from(
            [None, TTL_IDENTITY, {"type": "Service", "principalId": "x"}, {"type": "User"}]
        )
    )
    return stream_record(
        event_name,
        keys=keys,
        new=new,
        old=old,
        view=view,
        table=draw(st.sampled_from(("Orders", "Users"))),
        identity=identity,
    )


operands = st.one_of(
    st.sampled_from(STRINGS),
    st.sampled_from([1, 1.5, Decimal("2"), True, False, None, b"x"]),
    st.just({"x"}),
    st.just(["x", 1]),
    st.just({"a": "x"}),
)
ordered_operands = st.one_of(st.sampled_from(STRINGS), st.sampled_from([1, 1.5, 2]), st.just(b"x"))


@st.composite
def comparisons(draw: st.DrawFn) -> Condition:
    """One comparison of any operator on any path."""
    attribute = Attr(draw(st.sampled_from(PATHS)))
    operator = draw(
        st.sampled_from(
            [
                "eq",
                "ne",
                "lt",
                "lte",
                "gt",
                "gte",
                "between",
                "begins_with",
                "contains",
                "is_in",
                "exists",
                "not_exists",
                "attribute_type",
                "size",
            ]
        )
    )
    if operator in ("exists", "not_exists"):
        return getattr(attribute, operator)()  # type: ignore[no-any-return]
    if operator in ("lt", "lte", "gt", "gte"):
        return getattr(attribute, operator)(draw(ordered_operands))  # type: ignore[no-any-return]
    if operator == "between":
        low = draw(ordered_operands)
        high = draw(ordered_operands.filter(lambda value: type(value) is type(low)))
        return attribute.between(low, high)
    if operator == "begins_with":
        prefixes: list[str | bytes] = [*STRINGS, b"x"]
        return attribute.begins_with(draw(st.sampled_from(prefixes)))
    if operator == "is_in":
        return attribute.is_in(draw(st.lists(operands, max_size=3)))
    if operator == "attribute_type":
        return attribute.attribute_type(draw(st.sampled_from(sorted(TYPE_LETTERS))))
    if operator == "size":
        return attribute.size().gt(draw(st.integers(0, 2)))
    return getattr(attribute, operator)(draw(operands))  # type: ignore[no-any-return]


conditions: st.SearchStrategy[Any] = st.recursive(
    comparisons(),
    lambda children: st.one_of(
        st.tuples(children, children).map(lambda pair: And(*pair)),
        st.tuples(children, children).map(lambda pair: Or(*pair)),
        children.map(Not),
    ),
    max_leaves=4,
)
where_arguments = st.one_of(
    conditions,
    st.dictionaries(
        st.sampled_from(PATHS), st.sampled_from(["x", "y", True, None, 1]), min_size=1, max_size=2
    ),
    st.just(lambda image: "a" in image),
)


@st.composite
def routes(draw: st.DrawFn) -> Route:
    """Routes with random filters of every kind."""
    events = draw(st.sets(st.sampled_from(("INSERT", "MODIFY", "REMOVE")), min_size=1))
    filters: dict[str, Any] = {}
    for name in ("where", "new", "old"):
        if draw(st.booleans()):
            filters[name] = draw(where_arguments)
    if draw(st.booleans()):
        filters["changed"] = draw(st.lists(st.sampled_from(PATHS), min_size=1, max_size=2))
    if draw(st.booleans()):
        filters["table"] = draw(st.sampled_from(["Orders", ["Users", "Other"]]))
    if events == {"REMOVE"} and draw(st.booleans()):
        filters["ttl"] = draw(st.booleans())
    # new= never matches a REMOVE, old= never an INSERT: a route with no event left is refused.
    if "new" in filters and events == {"REMOVE"}:
        del filters["new"]
    if (
        "old" in filters
        and events <= {"INSERT", "REMOVE"}
        and ("new" in filters or events == {"INSERT"})
    ):
        del filters["old"]
    return Route(handler, events=events, **filters)


class TestSoundness:
    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.lists(routes(), min_size=1, max_size=4),
        st.lists(records(), min_size=1, max_size=6),
        st.booleans(),
    )
    def test_no_wanted_record_is_dropped(
        self, route_list: list[Route], raws: list[dict[str, Any]], arn: bool
    ) -> None:
        """Every record some route runs (or fails) on passes the criteria, within limits."""
        criteria = criteria_of(*route_list, arn=arn)
        assert len(criteria["Filters"]) <= MAX_FILTERS
        assert all(len(item["Pattern"]) <= MAX_PATTERN_LENGTH for item in criteria["Filters"])
        for raw in raws:
            if wanted(route_list, raw):
                assert passes(criteria, raw), (route_list, raw, criteria)

    @settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(routes(), min_size=6, max_size=14), st.lists(records(), min_size=1, max_size=6))
    def test_many_routes_within_limits(
        self, route_list: list[Route], raws: list[dict[str, Any]]
    ) -> None:
        """Many routes still give at most 5 patterns of at most 4,096 characters, soundly."""
        criteria = criteria_of(*route_list, arn=True)
        assert len(criteria["Filters"]) <= MAX_FILTERS
        assert all(len(item["Pattern"]) <= MAX_PATTERN_LENGTH for item in criteria["Filters"])
        for raw in raws:
            if wanted(route_list, raw):
                assert passes(criteria, raw)

    def test_criteria_are_useful(self) -> None:
        """Records no route wants are dropped when the routes are expressible."""
        route = Route(handler, events={"MODIFY"}, new={"status": "SHIPPED"})
        criteria = criteria_of(route)
        keys = {"pk": {"S": "1"}}
        shipped = stream_record(
            "MODIFY", keys=keys, new={"status": {"S": "SHIPPED"}, **keys}, old=keys
        )
        pending = stream_record(
            "MODIFY", keys=keys, new={"status": {"S": "PENDING"}, **keys}, old=keys
        )
        assert passes(criteria, shipped)
        assert not passes(criteria, pending)
        assert not passes(
            criteria, stream_record("INSERT", keys=keys, new={"status": {"S": "SHIPPED"}})
        )


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def handler_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A Lambda handler module in a temporary directory, the current one."""
    (tmp_path / "orders_function.py").write_text(
        "from ddbstream import App\n"
        "app = App()\n"
        "@app.on_modify(new={'status': \"it's\"})\n"
        "def shipped(record): pass\n"
        "@app.on_remove(ttl=True)\n"
        "def expired(record): pass\n"
        "handler = app.handler\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "orders_function", raising=False)
    return "orders_function.handler"


class TestCommand:
    def test_json(self, handler_module: str, capsys: pytest.CaptureFixture[str]) -> None:
        """filter-criteria prints the FilterCriteria JSON by default."""
        assert main(["filter-criteria", handler_module, "--stream-view-type", BOTH]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert [json.loads(item["Pattern"]) for item in printed["Filters"]] == [
            {"dynamodb": {"NewImage": {"status": {"S": ["it's"]}}}, "eventName": ["MODIFY"]},
            {
                "eventName": ["REMOVE"],
                "userIdentity": {"principalId": ["dynamodb.amazonaws.com"], "type": ["Service"]},
            },
        ]

    def test_json_for_any_view_type(
        self, handler_module: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without --stream-view-type, MODIFY records without a new image pass too."""
        assert main(["filter-criteria", handler_module]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert {
            "dynamodb": {"StreamViewType": ["KEYS_ONLY", "OLD_IMAGE"]},
            "eventName": ["MODIFY"],
        } in [json.loads(item["Pattern"]) for item in printed["Filters"]]

    def test_cloudformation(self, handler_module: str, capsys: pytest.CaptureFixture[str]) -> None:
        """--format cloudformation prints a FilterCriteria block with quoted patterns."""
        arguments = ["--format", "cloudformation", "--stream-view-type", BOTH]
        assert main(["filter-criteria", handler_module, *arguments]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[:2] == ["FilterCriteria:", "  Filters:"]
        assert lines[2] == (
            """    - Pattern: '{"dynamodb":{"NewImage":{"status":{"S":["it''s"]}}},"""
            """"eventName":["MODIFY"]}'"""
        )
        assert len(lines) == 4

    def test_cloudformation_yaml_parses(
        self, handler_module: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The CloudFormation block is YAML whose patterns are the JSON patterns."""
        yaml = importlib.import_module("yaml")  # PyYAML comes with the docs tooling
        assert main(["filter-criteria", handler_module, "--format", "cloudformation"]) == 0
        parsed = yaml.safe_load(capsys.readouterr().out)
        assert main(["filter-criteria", handler_module]) == 0
        assert parsed == {"FilterCriteria": json.loads(capsys.readouterr().out)}

    def test_terraform(self, handler_module: str, capsys: pytest.CaptureFixture[str]) -> None:
        """--format terraform prints a filter_criteria block with jsonencode patterns."""
        arguments = ["--format", "terraform", "--stream-view-type", BOTH]
        assert main(["filter-criteria", handler_module, *arguments]) == 0
        out = capsys.readouterr().out
        assert out.startswith("filter_criteria {\n  filter {\n    pattern = jsonencode({")
        assert out.count("  filter {") == 2
        assert '"S" = ["it\'s"]' in out
        assert out.endswith("  }\n}\n")

    def test_terraform_escapes_templates(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Values holding ${ or %{ are escaped so Terraform does not read templates."""
        app_file = tmp_path / "app.py"
        app_file.write_text(
            "from ddbstream import App\napp = App()\n"
            "app.on_insert(new={'s': '${x}%{y}'})(lambda record: None)\n",
            encoding="utf-8",
        )
        assert main(["filter-criteria", f"{app_file}:app", "--format", "terraform"]) == 0
        assert '"$${x}%%{y}"' in capsys.readouterr().out

    @pytest.mark.parametrize("output", ["cloudformation", "terraform"])
    def test_everything_needed(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], output: str
    ) -> None:
        """When every record is needed the block formats say to leave the criteria out."""
        app_file = tmp_path / "app.py"
        app_file.write_text(
            "from ddbstream import App\napp = App()\napp.on('INSERT', 'MODIFY', 'REMOVE')(print)\n",
            encoding="utf-8",
        )
        assert main(["filter-criteria", f"{app_file}:app", "--format", output]) == 0
        out = capsys.readouterr().out
        assert out.startswith("# Every record is needed")
        assert all(line.startswith("#") for line in out.splitlines())

    def test_region_and_account(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """--region and --account turn table= into an ARN prefix."""
        app_file = tmp_path / "app.py"
        app_file.write_text(
            "from ddbstream import App\napp = App()\napp.on_insert(table='T')(print)\n",
            encoding="utf-8",
        )
        arguments = ["filter-criteria", f"{app_file}:app", "--region", "eu-west-1"]
        assert main([*arguments, "--account", "1"]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert "arn:aws:dynamodb:eu-west-1:1:table/T/" in printed["Filters"][0]["Pattern"]

    def test_region_without_account(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--region without --account is an error, not silently ignored."""
        assert main(["filter-criteria", "x.handler", "--region", "eu-west-1"]) == 2
        assert "--region and --account together" in capsys.readouterr().err

    def test_module_entry_point(self, handler_module: str) -> None:
        """python -m ddbstream filter-criteria works as a program."""
        result = subprocess.run(
            [sys.executable, "-m", "ddbstream", "filter-criteria", handler_module],
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(result.stdout)["Filters"]


EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


class TestDocsExamples:
    def test_criteria_json(self, load_example: Any) -> None:
        """The filters page shows what app.filter_criteria() returns for its example."""
        example = load_example("filters_criteria")
        shown = json.loads(EXAMPLES.joinpath("filters_criteria.txt").read_text("utf-8"))
        assert example.app.filter_criteria() == shown

    @pytest.mark.parametrize("output", ["cloudformation", "terraform"])
    def test_criteria_blocks(self, output: str, capsys: pytest.CaptureFixture[str]) -> None:
        """The filters page shows what the command prints in each block format."""
        handler = f"{PAGE_EXAMPLES / 'filters_criteria.py'}:app"
        assert main(["filter-criteria", handler, "--format", output]) == 0
        shown = EXAMPLES.joinpath(f"filters_criteria_{output}.txt").read_text("utf-8")
        assert capsys.readouterr().out == shown

    def test_orders_criteria_are_sound(self, load_example: Any) -> None:
        """The orders example's criteria let through every record of its sample event."""
        example = load_example("filters_orders")
        sample = json.loads(EXAMPLES.joinpath("filters_orders_event.json").read_text("utf-8"))
        criteria = example.app.filter_criteria(region=REGION, account=ACCOUNT)
        assert len(criteria["Filters"]) <= MAX_FILTERS
        for raw in sample["Records"]:
            assert passes(criteria, raw)


class TestGeneratorsOfNames:
    def test_table_names_from_a_generator_are_kept(self) -> None:
        """table= given as a generator still becomes the ARN prefix it names."""
        app = App()
        app.on_insert(table=(name for name in ["Orders"]))(lambda record: None)

        criteria = app.filter_criteria(region="eu-west-1", account="123456789012")

        (pattern,) = [json.loads(item["Pattern"]) for item in criteria["Filters"]]
        assert pattern["eventSourceARN"] == [
            {"prefix": "arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/"}
        ]
