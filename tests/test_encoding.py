"""``ddbstream.sinks.to_json``: exact JSON for the values records hold."""

from __future__ import annotations

import base64
import datetime
import json
from collections import OrderedDict
from decimal import Decimal
from enum import IntEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import deserialize
from ddbstream.sinks import to_json
from strategies import attribute_values, number_texts


def parsed(text: str) -> Any:
    """The JSON text read back with every number exact."""
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def plain(value: Any) -> Any:
    """What *value* should read back as: sets as sorted lists, bytes as base64 text."""
    if isinstance(value, dict):
        return {key: plain(member) for key, member in value.items()}
    if isinstance(value, list):
        return [plain(member) for member in value]
    if isinstance(value, (set, frozenset)):
        return [plain(member) for member in sorted(value)]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


class Color(IntEnum):
    RED = 1


class Text(str):
    pass


class Number(Decimal):
    pass


class TestValues:
    @pytest.mark.parametrize(
        ("value", "text"),
        [
            (Decimal("0.1"), "0.1"),
            (Decimal("1.50"), "1.50"),
            (Decimal("1E+3"), "1000"),
            (Decimal("1.2E+5"), "120000"),
            (Decimal("-0"), "-0"),
            (Decimal("1E-7"), "1E-7"),
            (Decimal("1E+200"), "1E+200"),  # past DynamoDB's range: not written out in full
            (10**40, "1" + "0" * 40),
            (1.5, "1.5"),
            (True, "true"),
            (False, "false"),
            (None, "null"),
            (Color.RED, "1"),
            (Text("t"), '"t"'),
            (Number("2.50"), "2.50"),
            ("é\n", '"é\\n"'),
            ("\ud800\ufffe", '"\\ud800\\ufffe"'),  # refused by SQS as text: escaped
            (b"\x00\xff", '"AP8="'),
            (bytearray(b"a"), '"YQ=="'),
            ({"b", "a"}, '["a","b"]'),
            (frozenset({Decimal(2), Decimal("1.5")}), "[1.5,2]"),
            ({b"b", b"a"}, '["YQ==","Yg=="]'),
            ((1, "x"), '[1,"x"]'),
            (OrderedDict(b=1, a=2), '{"b":1,"a":2}'),
            ({"a": [{"b": None}]}, '{"a":[{"b":null}]}'),
            (
                datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
                '"2024-01-02T03:04:05+00:00"',
            ),
            (datetime.date(2024, 1, 2), '"2024-01-02"'),
            (datetime.time(3, 4), '"03:04:00"'),
        ],
    )
    def test_each_type(self, value: Any, text: str) -> None:
        """Each type of value becomes the JSON text documented for it."""
        assert to_json(value) == text

    def test_unordered_set_keeps_its_members(self) -> None:
        """A set whose members cannot be ordered is still written, in its own order."""
        assert sorted(json.loads(to_json({1, "a"})), key=str) == [1, "a"]


class TestRefused:
    def test_other_types_name_their_path(self) -> None:
        """A value of another type is a TypeError naming where it is."""
        with pytest.raises(
            TypeError, match=r"Cannot encode a value of type 'complex' at 'a\[1\]\.b'"
        ):
            to_json({"a": [1, {"b": 1j}]})

    def test_top_level(self) -> None:
        """The top-level value is named as such."""
        with pytest.raises(TypeError, match="at the top level"):
            to_json(object())

    def test_non_string_keys(self) -> None:
        """Mapping keys must be text."""
        with pytest.raises(TypeError, match=r"the key 1 of 'a'"):
            to_json({"a": {1: "x"}})

    @pytest.mark.parametrize(
        "value", [Decimal("NaN"), Decimal("-Infinity"), float("nan"), float("inf")]
    )
    def test_not_finite(self, value: Any) -> None:
        """JSON has no NaN or infinity."""
        with pytest.raises(ValueError, match="no NaN or infinity"):
            to_json({"n": [value]})

    def test_cycles(self) -> None:
        """A container that holds itself is refused, not recursed into forever."""
        loop: list[Any] = []
        loop.append({"again": loop})
        with pytest.raises(ValueError, match=r"'\[0\]\.again' as JSON: it contains itself"):
            to_json(loop)

    def test_a_container_twice_is_fine(self) -> None:
        """The same container in two places (not inside itself) is written twice."""
        shared = [1]
        assert to_json({"a": shared, "b": shared}) == '{"a":[1],"b":[1]}'


class TestRoundTrip:
    @given(st.lists(number_texts, max_size=5))
    def test_numbers_come_back_exactly(self, texts: list[str]) -> None:
        """Every DynamoDB number reads back equal with parse_float=Decimal."""
        numbers = [Decimal(text) for text in texts]
        back = parsed(to_json(numbers))
        assert back == numbers
        assert [str(n) for n in back if n != n.to_integral_value()] == [
            str(n) for n in numbers if n != n.to_integral_value()
        ]

    @given(st.integers())
    def test_integers_are_exact(self, number: int) -> None:
        """Integers of any size read back equal."""
        assert json.loads(to_json(number)) == number

    @given(attribute_values)
    def test_decoded_values(self, pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
        """Any decoded attribute value reads back as its plain form, numbers exact."""
        value = deserialize(pair[0])
        assert parsed(to_json({"v": value})) == {"v": plain(value)}

    @given(st.text())
    def test_text_is_valid_utf8_json(self, text: str) -> None:
        """Any text (even lone surrogates) gives JSON that encodes to UTF-8 and reads back."""
        encoded = to_json(text)
        encoded.encode("utf-8")
        assert json.loads(encoded) == text
