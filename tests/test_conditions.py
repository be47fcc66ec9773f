"""Tests of ddbstream.conditions: Attr, &, |, ~, dict shorthand, boto3 conditions, semantics."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from boto3.dynamodb.conditions import Attr as Boto3Attr
from boto3.dynamodb.conditions import Key as Boto3Key
from hypothesis import given, settings
from hypothesis import strategies as st

from ddbstream import Attr
from ddbstream._operators import TYPE_LETTERS
from ddbstream._paths import find, format_path, parse_path
from ddbstream.conditions import (
    And,
    Comparison,
    Condition,
    Not,
    Or,
    to_condition,
)
from ddbstream.errors import DecodeError


def b64(data: bytes) -> str:
    """Base64 text, as Lambda delivers binary values."""
    return base64.b64encode(data).decode("ascii")


# One value of every DynamoDB type, as the stream delivers it.
VALUES: dict[str, dict[str, Any]] = {
    "S": {"S": "abc"},
    "N": {"N": "5.0"},
    "B": {"B": b64(b"ab")},
    "BOOL": {"BOOL": True},
    "NULL": {"NULL": True},
    "M": {"M": {"k": {"S": "v"}, "n": {"N": "1"}}},
    "L": {"L": [{"S": "a"}, {"N": "1"}]},
    "SS": {"SS": ["a", "b"]},
    "NS": {"NS": ["1", "2.50"]},
    "BS": {"BS": [b64(b"a"), b64(b"b")]},
}


def holds(condition: Any, tagged: dict[str, Any] | None) -> bool:
    """Evaluate *condition* on an image whose attribute ``x`` is *tagged* (None: absent)."""
    image = {"other": {"S": "z"}} if tagged is None else {"x": tagged, "other": {"S": "z"}}
    return to_condition(condition).test(image)


# Which type each (operator, operand) matches; every other type must not match.
CASES: list[tuple[Condition, set[str]]] = [
    (Attr("x").eq("abc"), {"S"}),
    (Attr("x").eq(5), {"N"}),
    (Attr("x").eq(5.0), {"N"}),
    (Attr("x").eq(Decimal("5.00")), {"N"}),
    (Attr("x").eq(b"ab"), {"B"}),
    (Attr("x").eq(True), {"BOOL"}),
    (Attr("x").eq(None), {"NULL"}),
    (Attr("x").eq({"k": "v", "n": 1}), {"M"}),
    (Attr("x").eq(["a", 1]), {"L"}),
    (Attr("x").eq({"b", "a"}), {"SS"}),
    (Attr("x").eq({1, Decimal("2.5")}), {"NS"}),
    (Attr("x").eq({b"a", b"b"}), {"BS"}),
    (Attr("x").ne("abc"), set(VALUES) - {"S"}),
    (Attr("x").ne(5), set(VALUES) - {"N"}),
    (Attr("x").lt("abd"), {"S"}),
    (Attr("x").lt(6), {"N"}),
    (Attr("x").lt(b"b"), {"B"}),
    (Attr("x").lte("abc"), {"S"}),
    (Attr("x").lte(5), {"N"}),
    (Attr("x").gt("ab"), {"S"}),
    (Attr("x").gt(4.9), {"N"}),
    (Attr("x").gt(b"a"), {"B"}),
    (Attr("x").gte(5), {"N"}),
    (Attr("x").gte("abc"), {"S"}),
    (Attr("x").between(5, 6), {"N"}),
    (Attr("x").between("a", "b"), {"S"}),
    (Attr("x").between(b"a", b"b"), {"B"}),
    (Attr("x").begins_with("ab"), {"S"}),
    (Attr("x").begins_with(b"a"), {"B"}),
    (Attr("x").contains("b"), {"S", "SS"}),
    (Attr("x").contains("a"), {"S", "L", "SS"}),
    (Attr("x").contains(1), {"L", "NS"}),
    (Attr("x").contains(2.5), {"NS"}),
    (Attr("x").contains(b"a"), {"BS"}),
    (Attr("x").is_in(["abc", 5, True]), {"S", "N", "BOOL"}),
    (Attr("x").is_in((None, b"ab")), {"NULL", "B"}),
    (Attr("x").exists(), set(VALUES)),
    (Attr("x").not_exists(), set()),
    (Attr("x").size().eq(3), {"S"}),
    (Attr("x").size().eq(2), {"B", "M", "L", "SS", "NS", "BS"}),
    (Attr("x").size().gt(2), {"S"}),
    (Attr("x").size().between(0, 10), {"S", "B", "M", "L", "SS", "NS", "BS"}),
    (Attr("x").size().ne(3), {"B", "M", "L", "SS", "NS", "BS"}),
    (Attr("x").size().is_in([3]), {"S"}),
]


class TestOperators:
    @pytest.mark.parametrize(("condition", "types"), CASES, ids=lambda case: repr(case))
    def test_every_type(self, condition: Condition, types: set[str]) -> None:
        """Each operator matches exactly the DynamoDB types it applies to."""
        matched = {letter for letter, tagged in VALUES.items() if holds(condition, tagged)}
        assert matched == types

    @pytest.mark.parametrize(("condition", "types"), CASES, ids=lambda case: repr(case))
    def test_missing_attribute(self, condition: Condition, types: set[str]) -> None:
        """A missing attribute matches nothing but not_exists (ne included)."""
        expected = condition.operator == "not_exists"  # type: ignore[attr-defined]
        assert holds(condition, None) is expected

    @pytest.mark.parametrize("letter", sorted(TYPE_LETTERS))
    def test_attribute_type(self, letter: str) -> None:
        """attribute_type() matches by DynamoDB type letter."""
        matched = {
            name
            for name, tagged in VALUES.items()
            if holds(Attr("x").attribute_type(letter), tagged)
        }
        assert matched == {letter}

    def test_true_is_not_one(self) -> None:
        """Booleans and numbers never equal each other, as in DynamoDB."""
        assert not holds(Attr("x").eq(1), {"BOOL": True})
        assert not holds(Attr("x").eq(True), {"N": "1"})
        assert not holds(Attr("x").is_in([1]), {"BOOL": True})
        assert not holds(Attr("x").contains(True), {"NS": ["1"]})

    def test_float_means_what_was_written(self) -> None:
        """0.1 is Decimal("0.1"), not the binary fraction."""
        assert holds(Attr("x").eq(0.1), {"N": "0.1"})
        assert holds(Attr("x").eq(0.1), {"N": "0.10"})
        assert not holds(Attr("x").gt(0.1), {"N": "0.1"})
        assert Attr("x").eq(0.1).values == (Decimal("0.1"),)

    def test_big_and_exact_numbers(self) -> None:
        """Numbers compare exactly, beyond float precision."""
        big = "12345678901234567890123456789012345678"
        assert holds(Attr("x").eq(int(big)), {"N": big})
        assert not holds(Attr("x").eq(int(big) + 1), {"N": big})
        assert holds(Attr("x").lt(Decimal("1E+126")), {"N": "9.9E+125"})

    def test_strings_compare_by_code_point(self) -> None:
        """String order is DynamoDB's UTF-8 byte order."""
        assert holds(Attr("x").lt("é"), {"S": "z"})
        assert holds(Attr("x").gt("Z"), {"S": "a"})

    def test_size_counts_utf8_bytes(self) -> None:
        """size() of a string is its length in UTF-8 bytes."""
        assert holds(Attr("x").size().eq(2), {"S": "é"})

    @given(st.integers(-(10**20), 10**20), st.integers(-(10**20), 10**20))
    def test_numbers_order_like_python(self, value: int, operand: int) -> None:
        """lt/gt on numbers agree with integer order, whatever the spelling."""
        tagged = {"N": f"{value}.000"}
        assert holds(Attr("x").lt(operand), tagged) is (value < operand)
        assert holds(Attr("x").gte(operand), tagged) is (value >= operand)
        assert holds(Attr("x").eq(Decimal(operand)), tagged) is (value == operand)


class TestPaths:
    IMAGE: ClassVar[dict[str, Any]] = {
        "address": {"M": {"city": {"S": "Berlin"}, "zip": {"N": "10115"}}},
        "items": {"L": [{"M": {"sku": {"S": "A-1"}}}, {"M": {"sku": {"S": "B-2"}}}]},
        "grid": {"L": [{"L": [{"N": "1"}]}, {"L": [{"N": "2"}, {"N": "3"}, {"S": "c"}]}]},
        "name": {"S": "n"},
    }

    @pytest.mark.parametrize(
        ("condition", "expected"),
        [
            (Attr("address.city").eq("Berlin"), True),
            (Attr("address.zip").gte(10000), True),
            (Attr("items[0].sku").eq("A-1"), True),
            (Attr("items[1].sku").begins_with("B"), True),
            (Attr("items[2].sku").exists(), False),
            (Attr("items[2].sku").not_exists(), True),
            (Attr("grid[1][2]").eq("c"), True),
            (Attr("grid[0][0]").eq(1), True),
            (Attr("grid[0][5]").exists(), False),
            (Attr("address.city.x").exists(), False),
            (Attr("name.x").exists(), False),
            (Attr("name[0]").exists(), False),
            (Attr("address[0]").exists(), False),
            (Attr("items.sku").exists(), False),
            (Attr("missing.deeper[3]").not_exists(), True),
        ],
        ids=repr,
    )
    def test_nested(self, condition: Condition, expected: bool) -> None:
        """Paths reach into maps and lists; a path through the wrong type finds nothing."""
        assert to_condition(condition).test(self.IMAGE) is expected

    @pytest.mark.parametrize(
        ("path", "steps"),
        [("a", ("a",)), ("a.b", ("a", "b")), ("a[0].b", ("a", 0, "b")), ("a[1][2]", ("a", 1, 2))],
    )
    def test_parse(self, path: str, steps: tuple[Any, ...]) -> None:
        """Paths split into names and indexes."""
        assert parse_path(path) == steps
        assert Attr(path).exists().steps == steps

    @pytest.mark.parametrize(
        "path", ["", "a.", ".a", "a..b", "a[", "a[x]", "a[-1]", "a[0]b", "a]", "[0]"]
    )
    def test_bad_paths(self, path: str) -> None:
        """Malformed paths are refused."""
        with pytest.raises(ValueError, match="path"):
            parse_path(path)

    def test_find_reads_only_the_way(self) -> None:
        """find() returns the tagged value and never decodes anything else."""
        image: dict[str, Any] = {"a": {"M": {"b": {"N": "1"}}}, "junk": {"N": "not a number"}}
        assert find(image, ("a", "b")) == {"N": "1"}

    def test_find_in_malformed_container(self) -> None:
        """A container that is not type-tagged JSON is a decode error."""
        with pytest.raises(DecodeError, match="type-tagged"):
            find({"a": "oops"}, ("a", "b"))  # type: ignore[dict-item]


class TestPathText:
    @pytest.mark.parametrize("text", ["a", "a.b", "a[0]", "a[0].b", "a.b[1][2].c"])
    def test_format_undoes_parse(self, text: str) -> None:
        """format_path writes a parsed path back as it was written."""
        assert format_path(parse_path(text)) == text


class TestCombinations:
    IMAGE: ClassVar[dict[str, Any]] = {"a": {"N": "1"}, "b": {"S": "x"}}

    def test_and_or_not(self) -> None:
        """&, | and ~ combine conditions."""
        a, b = Attr("a").eq(1), Attr("b").eq("y")
        assert not (a & b).test(self.IMAGE)
        assert (a | b).test(self.IMAGE)
        assert (a & ~b).test(self.IMAGE)
        assert (~Attr("c").exists()).test(self.IMAGE)
        assert not (~a).test(self.IMAGE)

    def test_dicts_combine_on_either_side(self) -> None:
        """A dict next to & or | is equality on each key."""
        assert ({"a": 1} & Attr("b").eq("x")).test(self.IMAGE)
        assert (Attr("b").eq("x") & {"a": 1}).test(self.IMAGE)
        assert ({"a": 2} | Attr("b").eq("x")).test(self.IMAGE)
        assert not (Attr("b").eq("y") | {"a": 2}).test(self.IMAGE)

    def test_dict_shorthand(self) -> None:
        """A dict means equality on each key, paths allowed."""
        condition = to_condition({"a": 1, "b": "x"})
        assert condition == And(Attr("a").eq(1), Attr("b").eq("x"))
        assert condition.test(self.IMAGE)
        assert not to_condition({"a": 1, "b": "y"}).test(self.IMAGE)
        assert to_condition({"m.k": "v"}).test({"m": {"M": {"k": {"S": "v"}}}})
        assert to_condition({"a": 1}) == Attr("a").eq(1)

    def test_walk(self) -> None:
        """walk() yields every condition inside, depth first."""
        a, b, c = Attr("a").eq(1), Attr("b").eq(2), Attr("c").exists()
        combined = (a & b) | ~c
        assert list(combined.walk()) == [combined, And(a, b), a, b, Not(c), c]

    def test_repr_and_equality(self) -> None:
        """Conditions show how they were written and compare by value."""
        condition = (Attr("a").eq(1) & Attr("b").size().gt(2)) | ~Attr("c").exists()
        assert (
            repr(condition) == "((Attr('a').eq(1) & Attr('b').size().gt(2)) | ~Attr('c').exists())"
        )
        assert condition == (Attr("a").eq(1) & Attr("b").size().gt(2)) | ~Attr("c").exists()
        assert hash(Attr("a").eq(1)) == hash(Attr("a").eq(1))
        assert And(Attr("a").eq(1)) != Or(Attr("a").eq(1))
        assert Attr("a").eq(1) != Attr("a").eq(2)
        assert len({Or(Attr("a").eq(1)), Or(Attr("a").eq(1)), Not(Attr("a").eq(1))}) == 2
        assert repr(Attr("a")) == "Attr('a')"
        assert repr(Attr("a").size()) == "Attr('a').size()"
        assert (Attr("a").eq(1) == "a") is False


class TestBoto3:
    IMAGE: ClassVar[dict[str, Any]] = {
        "pk": {"S": "order#1"},
        "n": {"N": "3"},
        "tags": {"SS": ["a", "b"]},
        "m": {"M": {"k": {"S": "v"}}},
    }

    @pytest.mark.parametrize(
        ("theirs", "ours"),
        [
            (Boto3Attr("n").eq(3), Attr("n").eq(3)),
            (Boto3Attr("n").ne(4), Attr("n").ne(4)),
            (Boto3Attr("n").lt(4), Attr("n").lt(4)),
            (Boto3Attr("n").lte(3), Attr("n").lte(3)),
            (Boto3Attr("n").gt(2.5), Attr("n").gt(2.5)),
            (Boto3Attr("n").gte(3), Attr("n").gte(3)),
            (Boto3Attr("n").between(1, 3), Attr("n").between(1, 3)),
            (Boto3Attr("pk").begins_with("order#"), Attr("pk").begins_with("order#")),
            (Boto3Attr("tags").contains("a"), Attr("tags").contains("a")),
            (Boto3Attr("n").is_in([1, 3]), Attr("n").is_in([1, 3])),
            (Boto3Attr("m.k").exists(), Attr("m.k").exists()),
            (Boto3Attr("x").not_exists(), Attr("x").not_exists()),
            (Boto3Attr("tags").attribute_type("SS"), Attr("tags").attribute_type("SS")),
            (Boto3Attr("tags").size().eq(2), Attr("tags").size().eq(2)),
            (Boto3Key("pk").eq("order#1"), Attr("pk").eq("order#1")),
            (
                Boto3Key("pk").eq("order#1") & Boto3Attr("n").gt(1),
                And(Attr("pk").eq("order#1"), Attr("n").gt(1)),
            ),
            (
                Boto3Attr("n").lt(1) | ~Boto3Attr("x").exists(),
                Or(Attr("n").lt(1), Not(Attr("x").exists())),
            ),
        ],
        ids=repr,
    )
    def test_translated(self, theirs: Any, ours: Condition) -> None:
        """boto3 conditions become the same condition of ours, with the same result."""
        assert to_condition(theirs) == ours
        assert to_condition(theirs).test(self.IMAGE) is True

    def test_comparing_two_attributes_is_refused(self) -> None:
        """A boto3 comparison of two attributes has no meaning on one image."""
        with pytest.raises(TypeError, match="unsupported value type"):
            to_condition(Boto3Attr("a").eq(Boto3Attr("b")))

    def test_combined_with_ours(self) -> None:
        """Our conditions combine with boto3's."""
        combined = Attr("n").eq(3) & Boto3Attr("pk").begins_with("order")
        assert combined.test(self.IMAGE)


class TestInvalid:
    @pytest.mark.parametrize(
        ("make", "error", "message"),
        [
            (lambda: Comparison("like", "a", 1), ValueError, "unknown operator 'like'"),
            (lambda: Comparison("eq", "a"), ValueError, r"takes 1 operand\(s\), got 0"),
            (lambda: Comparison("between", "a", 1), ValueError, "takes 2"),
            (lambda: Comparison("exists", "a", 1), ValueError, "takes 0"),
            (lambda: Attr("a").eq(object()), TypeError, "unsupported value type object"),
            (lambda: Attr("a").eq(datetime.now(timezone.utc)), TypeError, "datetime"),
            (lambda: Attr("a").eq(float("nan")), ValueError, "finite"),
            (lambda: Attr("a").gt(float("inf")), ValueError, "finite"),
            (lambda: Attr("a").eq(Decimal("NaN")), ValueError, "finite"),
            (lambda: Attr("a").eq({1: "x"}), TypeError, "map keys must be strings"),
            (lambda: Attr("a").eq({True}), TypeError, "set holds"),
            (lambda: Attr("a").eq({"a", 1}), TypeError, "set holds"),
            (lambda: Attr("a").eq(set()), TypeError, "set holds"),
            (lambda: Attr("a").lt(True), TypeError, "orders numbers, strings and binary"),
            (lambda: Attr("a").lt(None), TypeError, "orders"),
            (lambda: Attr("a").between(1, "z"), TypeError, "orders"),
            (lambda: Attr("a").begins_with(1), TypeError, "begins_with takes a str or bytes"),  # type: ignore[arg-type]
            (lambda: Attr("a").is_in("abc"), TypeError, "is_in takes a list"),
            (lambda: Attr("a").is_in(5), TypeError, "is_in takes a list"),
            (lambda: Attr("a").attribute_type("STRING"), ValueError, "attribute_type takes one of"),
            (lambda: Attr("a").size().gt("x"), TypeError, "compares numbers"),
            (lambda: Attr("a").size().is_in(["x"]), TypeError, "compares numbers"),
            (
                lambda: Comparison("begins_with", "a", "x", size=True),
                ValueError,
                "has no begins_with",
            ),
            (lambda: Attr(5).eq(1), TypeError, "attribute names must be strings"),  # type: ignore[arg-type]
            (lambda: Attr("a..b").eq(1), ValueError, "invalid attribute path"),
            (dict, ValueError, "empty dict"),
            (lambda: {1: "x"}, TypeError, "attribute names must be strings"),
            (lambda: {"a": object()}, TypeError, "unsupported value type"),
            (lambda: 5, TypeError, "got int: 5"),
            (lambda: "status", TypeError, "got str"),
            (lambda: Attr("a"), TypeError, "got Attr"),
            (lambda: Boto3Attr("a").size(), ValueError, "'size' is not supported"),
            (lambda: Attr("ok").eq(1) & Attr("a").eq(object()), TypeError, "unsupported"),
            (lambda: ~Attr("a").lt([1]), TypeError, "orders"),
        ],
    )
    def test_refused_when_used(self, make: Any, error: type[Exception], message: str) -> None:
        """An invalid condition raises when it is turned into a filter, saying what is wrong."""
        with pytest.raises(error, match=message):
            to_condition(make())

    def test_invalid_condition_raises_on_test(self) -> None:
        """An invalid condition used directly raises rather than answering."""
        with pytest.raises(TypeError, match="unsupported"):
            Attr("a").eq(object()).test({"a": {"S": "x"}})

    def test_malformed_value_is_a_decode_error(self) -> None:
        """A value that is not valid DynamoDB JSON fails with a DecodeError naming it."""
        with pytest.raises(DecodeError, match="x"):
            holds(Attr("x").eq(1), {"N": "one"})
        with pytest.raises(DecodeError):
            holds(Attr("x").size().eq(1), {"SS": "not a list"})
        with pytest.raises(DecodeError):
            holds(Attr("x").size().eq(1), {"S": "a", "N": "1"})


_TAGGED_LIKE = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["S", "BOOL", "N", "NULL", "X"]),
        st.one_of(st.text(max_size=3), st.booleans(), st.integers(-2, 2), st.none()),
        max_size=2,
    ),
    st.text(max_size=3),
)


class TestRawEquality:
    @settings(max_examples=500)
    @given(
        tagged=_TAGGED_LIKE,
        operand=st.one_of(st.text(max_size=3), st.booleans()),
        nested=st.booleans(),
    )
    def test_raw_shortcut_agrees_with_decoding(
        self, tagged: Any, operand: Any, nested: bool
    ) -> None:
        """eq on a string or boolean decided on the raw JSON says what decoding would say,
        and raises what decoding would raise, whatever the value looks like."""
        path = "a.b" if nested else "a"
        image: dict[str, Any] = {}
        if tagged is not None:
            image = {"a": {"M": {"b": tagged}}} if nested else {"a": tagged}
        fast = Comparison("eq", path, operand)
        slow = Comparison("eq", path, operand)
        slow._raw = slow._name = None  # no shortcut: decode and compare

        def outcome(condition: Comparison) -> Any:
            try:
                return condition.test(image)
            except Exception as error:  # the same error type and message, or the test fails
                return type(error), str(error)

        assert outcome(fast) == outcome(slow)
