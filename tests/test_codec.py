"""The decoder: DynamoDB JSON to plain Python values, exactly as SPEC.md's value table says."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import LoadEvent
from ddbstream import deserialize, deserialize_image
from ddbstream._codec import EXACT_DECODER, TYPE_TAGS, Decoder, _careful_value, same_value
from ddbstream.errors import DecodeError, RecordError
from strategies import attribute_values, canonical, images, number_texts, unwrap_boto3

BOTO3 = TypeDeserializer()


def nest(value: dict[str, Any], depth: int, tag: str = "L") -> dict[str, Any]:
    """Wrap *value* in *depth* lists (or single-attribute maps named ``a``)."""
    for _ in range(depth):
        value = {"L": [value]} if tag == "L" else {"M": {"a": value}}
    return value


class TestTypeTags:
    @pytest.mark.parametrize(
        ("tagged", "expected"),
        [
            pytest.param({"S": "héllo"}, "héllo", id="S"),
            pytest.param({"N": "42"}, Decimal("42"), id="N"),
            pytest.param({"B": "3q2+7w=="}, b"\xde\xad\xbe\xef", id="B"),
            pytest.param({"BOOL": True}, True, id="BOOL-true"),
            pytest.param({"BOOL": False}, False, id="BOOL-false"),
            pytest.param({"NULL": True}, None, id="NULL"),
            pytest.param(
                {"M": {"a": {"S": "x"}, "b": {"N": "1"}}}, {"a": "x", "b": Decimal(1)}, id="M"
            ),
            pytest.param({"L": [{"S": "x"}, {"N": "1"}]}, ["x", Decimal(1)], id="L"),
            pytest.param({"SS": ["a", "b"]}, {"a", "b"}, id="SS"),
            pytest.param({"NS": ["1", "2.5"]}, {Decimal(1), Decimal("2.5")}, id="NS"),
            pytest.param({"BS": ["AQI=", "AwQ="]}, {b"\x01\x02", b"\x03\x04"}, id="BS"),
        ],
    )
    def test_each_tag(self, tagged: dict[str, Any], expected: Any) -> None:
        """Each of the ten type tags decodes to its Python type from SPEC.md's table."""
        decoded = deserialize(tagged)

        assert canonical(decoded) == canonical(expected)

    def test_binary_is_bytes_not_boto3_binary(self) -> None:
        """B values are real ``bytes``, not boto3's ``Binary`` wrapper."""
        assert type(deserialize({"B": "AA=="})) is bytes

    def test_empty_binary(self) -> None:
        """An empty B value is empty bytes."""
        assert deserialize({"B": ""}) == b""

    def test_map_keeps_attribute_order(self) -> None:
        """A map's attributes keep the order they came in."""
        decoded = deserialize({"M": {"z": {"S": "1"}, "a": {"S": "2"}, "m": {"S": "3"}}})

        assert list(decoded) == ["z", "a", "m"]

    def test_empty_containers(self) -> None:
        """Empty maps and lists decode to empty dicts and lists."""
        assert deserialize({"M": {}}) == {}
        assert deserialize({"L": []}) == []


class TestAgainstBoto3:
    @settings(max_examples=200)
    @given(attribute_values)
    def test_values_equal_type_deserializer(self, pair: tuple[dict[str, Any], Any]) -> None:
        """Every generated value, nested at any depth, decodes as boto3 decodes it."""
        ours, theirs = pair

        expected = unwrap_boto3(BOTO3.deserialize(theirs))

        assert canonical(deserialize(ours)) == canonical(expected)

    @settings(max_examples=200)
    @given(images)
    def test_images_equal_type_deserializer(self, pair: tuple[dict[str, Any], Any]) -> None:
        """A whole image decodes as boto3 decodes each of its attributes."""
        ours, theirs = pair

        expected = {name: unwrap_boto3(BOTO3.deserialize(v)) for name, v in theirs.items()}

        assert canonical(deserialize_image(ours)) == canonical(expected)

    @settings(max_examples=200)
    @given(number_texts)
    @example("1.50")
    @example("-0")
    @example("1E+125")
    @example("1E-130")
    @example("12345678901234567890123456789012345678")
    def test_numbers_keep_their_exponent(self, text: str) -> None:
        """A number decodes to the very Decimal boto3 gives, exponent and sign included."""
        assert deserialize({"N": text}).as_tuple() == BOTO3.deserialize({"N": text}).as_tuple()


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-2, 2)
    | st.sampled_from(["", "x", "1", "1.50", "NaN", "\u0661", " 1", "AA==", "abc"])
)
TAGGED_JUNK = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from([*sorted(TYPE_TAGS), "Q"]), inner, max_size=2)
    ),
    max_leaves=8,
)
"""Values shaped like DynamoDB JSON, right or wrong in every way: doubled tags, wrong types."""


class TestCarefulDecoder:
    @settings(max_examples=200)
    @given(attribute_values)
    def test_same_values_as_the_fast_decoder(self, pair: tuple[dict[str, Any], Any]) -> None:
        """The decoder used for deep or bad input returns what the fast one returns."""
        fast = deserialize(pair[0])

        assert canonical(_careful_value(pair[0], "value", None)) == canonical(fast)

    @settings(max_examples=500)
    @given(st.dictionaries(st.sampled_from(["a", "b", "c"]), TAGGED_JUNK, max_size=4))
    def test_fast_decoder_refuses_what_it_refuses(self, image: dict[str, Any]) -> None:
        """On any input, even junk, the fast decoder accepts and refuses as the careful one."""
        try:
            fast: Any = ("value", canonical(EXACT_DECODER.fast_image(image)))
        except Exception:
            fast = "refused"
        try:
            careful: Any = ("value", canonical(EXACT_DECODER.careful_image(image)))
        except DecodeError:
            careful = "refused"

        assert fast == careful

    def test_deep_value_of_every_type(self, load_event: LoadEvent) -> None:
        """Every type decodes the same at depth 10,000 as at the top."""
        image = load_event("all_types.json")["Records"][0]["dynamodb"]["NewImage"]

        deep = deserialize(nest({"M": image}, 10_000))

        for _ in range(10_000):
            deep = deep[0]
        assert canonical(deep) == canonical(deserialize_image(image))


class TestNumbers:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            (
                "12345678901234567890123456789012345678",
                (0, tuple(int(digit) for digit in "12345678901234567890123456789012345678"), 0),
            ),
            ("1E+125", (0, (1,), 125)),
            ("-0", (1, (0,), 0)),
            ("1E-130", (0, (1,), -130)),
            ("1.50", (0, (1, 5, 0), -2)),
            ("100", (0, (1, 0, 0), 0)),
        ],
    )
    def test_edge_numbers(self, text: str, expected: tuple[int, tuple[int, ...], int]) -> None:
        """Edge numbers keep their digits and exponent exactly."""
        assert deserialize({"N": text}).as_tuple() == expected

    @pytest.mark.parametrize(
        "text",
        [
            "1234567890123456789012345678901234567890",  # 40 digits: boto3 says Rounded
            "0.1234567890123456789012345678901234567891",  # boto3 says Inexact
            "1.00000000000000000000000000000000000000000",
        ],
    )
    def test_numbers_boto3_rejects_are_exact(self, text: str) -> None:
        """Valid numbers boto3 refuses with Rounded or Inexact decode exactly here."""
        with pytest.raises(ArithmeticError):
            BOTO3.deserialize({"N": text})

        assert deserialize({"N": text}) == Decimal(text)
        assert str(deserialize({"N": text})) == text

    def test_numbers_in_a_set_are_exact(self) -> None:
        """NS members get the same exact decoding as N values."""
        text = "1234567890123456789012345678901234567890"

        assert deserialize({"NS": [text]}) == {Decimal(text)}


class TestParseNumber:
    def test_int(self) -> None:
        """``parse_number=int`` turns whole numbers into ints."""
        value = deserialize({"M": {"n": {"N": "42"}, "s": {"NS": ["1", "2"]}}}, parse_number=int)

        assert value == {"n": 42, "s": {1, 2}}
        assert type(value["n"]) is int

    def test_float(self) -> None:
        """``parse_number=float`` turns numbers into floats."""
        assert deserialize_image({"n": {"N": "1.5"}}, parse_number=float) == {"n": 1.5}
        assert type(deserialize({"N": "1E+125"}, parse_number=float)) is float

    @given(st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1))
    @settings(max_examples=100)
    def test_int_round_trips(self, number: int) -> None:
        """Every integer DynamoDB can hold comes back as the same int."""
        assert deserialize({"N": str(number)}, parse_number=int) == number

    def test_parser_failure_is_a_decode_error(self) -> None:
        """A parser that refuses a number fails as a DecodeError naming the value."""
        with pytest.raises(DecodeError) as caught:
            deserialize_image({"price": {"N": "1.5"}}, parse_number=int)

        assert caught.value.path == "image.price"
        assert "parse_number failed on '1.5'" in str(caught.value)
        assert isinstance(caught.value.__cause__, ValueError)

    def test_non_numbers_never_reach_the_parser(self) -> None:
        """Text that is no number is refused before the parser sees it."""
        seen: list[str] = []

        def parse(text: str) -> str:
            seen.append(text)
            return text

        with pytest.raises(DecodeError, match="not a number"):
            deserialize({"N": "1_000"}, parse_number=parse)
        assert seen == []

    def test_decoder_keeps_its_parser(self) -> None:
        """A Decoder remembers the parse_number it was made with."""
        assert Decoder(int).parse_number is int
        assert EXACT_DECODER.parse_number is None


class TestDeepNesting:
    @pytest.mark.parametrize("tag", ["L", "M"])
    def test_deep_valid_value(self, tag: str) -> None:
        """10,000 levels of nesting decode without RecursionError."""
        decoded = deserialize(nest({"S": "bottom"}, 10_000, tag))

        depth = 0
        while isinstance(decoded, (list, dict)):
            decoded = decoded[0] if isinstance(decoded, list) else decoded["a"]
            depth += 1
        assert (depth, decoded) == (10_000, "bottom")

    def test_deep_image(self) -> None:
        """A deep image decodes too."""
        decoded = deserialize_image({"x": nest({"N": "1"}, 10_000)})

        assert isinstance(decoded["x"], list)

    @pytest.mark.parametrize("tag", ["L", "M"])
    def test_deep_bad_value_names_its_path(self, tag: str) -> None:
        """A bad value at the bottom of 10,000 levels is a DecodeError with its full path."""
        with pytest.raises(DecodeError) as caught:
            deserialize_image({"x": nest({"N": "oops"}, 10_000, tag)})

        step = "[0]" if tag == "L" else ".a"
        assert caught.value.path == "image.x" + step * 10_000
        assert caught.value.reason == "not a number: 'oops'"


BAD_VALUES = [
    pytest.param({"Q": "1"}, "unknown type tag 'Q'", id="unknown-tag"),
    pytest.param({"Q": ["1"]}, "unknown type tag 'Q'", id="unknown-tag-list"),
    pytest.param({"S": "a", "N": "1"}, "exactly one type tag, got 2 (N, S)", id="two-tags"),
    pytest.param({}, "exactly one type tag, got 0 (none)", id="no-tag"),
    pytest.param("text", "type-tagged value", id="not-a-map"),
    pytest.param({"B": "abc"}, "invalid base64", id="bad-base64"),
    pytest.param({"B": "AA== "}, "invalid base64", id="base64-trailing-space"),
    pytest.param({"B": "é"}, "invalid base64", id="base64-non-ascii"),
    pytest.param({"B": 5}, "base64 text, got int", id="B-not-str"),
    pytest.param({"B": None}, "base64 text, got null", id="B-null"),
    pytest.param({"N": "NaN"}, "finite, got 'NaN'", id="NaN"),
    pytest.param({"N": "sNaN"}, "finite, got 'sNaN'", id="sNaN"),
    pytest.param({"N": "Infinity"}, "finite, got 'Infinity'", id="Infinity"),
    pytest.param({"N": "-inf"}, "finite, got '-inf'", id="minus-inf"),
    pytest.param({"N": "1_000"}, "not a number: '1_000'", id="underscore"),
    pytest.param({"N": " 1"}, "not a number: ' 1'", id="leading-space"),
    pytest.param({"N": "1 "}, "not a number: '1 '", id="trailing-space"),
    pytest.param({"N": ""}, "not a number: ''", id="empty"),
    pytest.param({"N": "0x10"}, "not a number: '0x10'", id="hex"),
    pytest.param({"N": "١٢"}, "non-ASCII digits", id="non-ascii-digits"),
    pytest.param({"N": 12}, "sent as a string, got int", id="N-json-number"),
    pytest.param({"N": 1.5}, "sent as a string, got float", id="N-json-float"),
    pytest.param({"SS": "x"}, "SS must hold a list, got str", id="SS-not-list"),
    pytest.param({"NS": "1"}, "NS must hold a list, got str", id="NS-not-list"),
    pytest.param({"BS": {}}, "BS must hold a list, got dict", id="BS-not-list"),
    pytest.param({"NULL": False}, "NULL must hold true, got False", id="NULL-false"),
    pytest.param({"NULL": "true"}, "NULL must hold true", id="NULL-text"),
    pytest.param({"BOOL": "true"}, "BOOL must hold true or false, got str", id="BOOL-text"),
    pytest.param({"BOOL": 1}, "BOOL must hold true or false, got int", id="BOOL-int"),
    pytest.param({"M": []}, "M must hold a map, got list", id="M-not-dict"),
    pytest.param({"L": {}}, "L must hold a list, got dict", id="L-not-list"),
    pytest.param({"L": "ab"}, "L must hold a list, got str", id="L-str"),
]


class TestDecodeErrors:
    @pytest.mark.parametrize(("bad", "message"), BAD_VALUES)
    def test_bad_value_at_the_top(self, bad: Any, message: str) -> None:
        """Every malformed value is a DecodeError saying what is wrong with it."""
        with pytest.raises(DecodeError) as caught:
            deserialize(bad)

        assert message in str(caught.value)
        assert caught.value.path == "value"

    @pytest.mark.parametrize(("bad", "message"), BAD_VALUES)
    def test_bad_value_in_a_map_names_its_path(self, bad: Any, message: str) -> None:
        """Inside an image, the error's path and message name the attribute."""
        image = {"address": {"M": {"city": {"S": "Berlin"}, "zip": bad}}}

        with pytest.raises(DecodeError) as caught:
            EXACT_DECODER.image(image, "NewImage")

        assert caught.value.path == "NewImage.address.zip"
        assert str(caught.value).startswith("NewImage.address.zip: ")
        assert message in str(caught.value)

    @pytest.mark.parametrize(("bad", "message"), BAD_VALUES)
    def test_bad_value_in_a_list_names_its_index(self, bad: Any, message: str) -> None:
        """In a list, the path names the index."""
        image = {"items": {"L": [{"S": "a"}, {"N": "1"}, bad]}}

        with pytest.raises(DecodeError) as caught:
            EXACT_DECODER.image(image, "NewImage")

        assert caught.value.path == "NewImage.items[2]"
        assert message in str(caught.value)

    @pytest.mark.parametrize(
        ("bad", "path"),
        [
            ({"NS": ["1", "x"]}, "value[1]"),
            ({"BS": ["AA==", "!"]}, "value[1]"),
            ({"SS": ["a", 3]}, "value[1]"),
            ({"NS": ["1", "NaN"]}, "value[1]"),
            ({"NS": ["1", "٣"]}, "value[1]"),
            ({"BS": ["AA==", 5]}, "value[1]"),
        ],
    )
    def test_bad_set_member_names_its_index(self, bad: dict[str, Any], path: str) -> None:
        """A bad member of a set is named by its index."""
        with pytest.raises(DecodeError) as caught:
            deserialize(bad)

        assert caught.value.path == path

    def test_unknown_tag_lists_the_known_ones(self) -> None:
        """An unknown tag's message lists every valid tag."""
        with pytest.raises(DecodeError, match=r"known: B, BOOL, BS, L, M, N, NS, NULL, S, SS"):
            deserialize({"X": "1"})

    def test_image_that_is_not_a_map(self) -> None:
        """An image that is not a map fails with the image's own path."""
        with pytest.raises(DecodeError) as caught:
            deserialize_image(["not", "a", "map"])  # type: ignore[arg-type]

        assert caught.value.path == "image"
        assert "map of attribute names to values, got list" in str(caught.value)

    def test_image_value_that_is_not_tagged(self) -> None:
        """An image attribute without a type tag is named."""
        with pytest.raises(DecodeError) as caught:
            deserialize_image({"a": "plain"})

        assert caught.value.path == "image.a"

    def test_decode_error_is_a_record_error(self) -> None:
        """DecodeError is a RecordError, so it fails the record like any malformed input."""
        with pytest.raises(RecordError):
            deserialize({"N": "x"})

    def test_no_error_from_valid_input_after_a_bad_one(self) -> None:
        """The decoder keeps no state: a failure does not affect the next value."""
        with pytest.raises(DecodeError):
            deserialize({"N": "x"})

        assert deserialize({"N": "1"}) == 1


class TestSameValue:
    @pytest.mark.parametrize(
        ("a", "b", "same"),
        [
            (True, Decimal(1), False),
            (Decimal("1.0"), Decimal("1"), True),
            (1, Decimal("1.0"), True),
            (False, 0, False),
            ({"a": [Decimal(1)]}, {"a": [Decimal("1.00")]}, True),
            ({"a": 1}, {"b": 1}, False),
            ([1, 2], [1], False),
            ([True], [1], False),
            ({1, 2}, {Decimal(1), Decimal(2)}, True),
            (b"x", b"x", True),
            (b"x", "x", False),
            (None, None, True),
            ("a", "b", False),
        ],
    )
    def test_dynamodb_equality(self, a: Any, b: Any, same: bool) -> None:
        """Values compare as DynamoDB compares them: numbers by value, True is not 1."""
        assert same_value(a, b) is same

    @given(attribute_values)
    @settings(max_examples=100)
    def test_every_value_is_the_same_as_itself(self, pair: tuple[dict[str, Any], Any]) -> None:
        """A decoded value is the same value as a second decoding of it."""
        assert same_value(deserialize(pair[0]), deserialize(pair[0]))


class TestBase64:
    @given(st.binary(max_size=64))
    @settings(max_examples=100)
    def test_round_trip(self, data: bytes) -> None:
        """Any bytes sent as base64 text come back unchanged."""
        assert deserialize({"B": base64.b64encode(data).decode()}) == data
