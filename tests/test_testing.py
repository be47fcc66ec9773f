"""ddbstream.testing: the serializer, the record and event builders, and run()."""

from __future__ import annotations

import base64
import json
import math
import re
import sys
from datetime import datetime, timedelta, timezone
from decimal import Context, Decimal
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbstream import App, Record, deserialize, deserialize_image
from ddbstream.errors import MissingImageError, OutOfTimeError
from ddbstream.testing import (
    RunResult,
    event,
    insert,
    kinesis_event,
    modify,
    pipes_event,
    remove,
    run,
    serialize,
    serialize_image,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import LoadEvent, LoadExample

# --- strategies: every plain Python value the builders accept --------------------------------


_WIDE = Context(prec=1000)


def _fits_dynamodb(number: Decimal) -> bool:
    if not number.is_finite():
        return False
    if not number:
        return True
    normal = number.normalize(_WIDE)
    return len(normal.as_tuple().digits) <= 38 and -130 <= normal.adjusted() <= 125


_ints = st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1)
_floats = st.floats(allow_nan=False, allow_infinity=False).filter(
    lambda x: _fits_dynamodb(Decimal(repr(x)))
)
_decimals = st.decimals(allow_nan=False, allow_infinity=False).filter(_fits_dynamodb)
_numbers = st.one_of(_ints, _floats, _decimals)
_binaries = st.one_of(st.binary(), st.binary().map(bytearray))
_scalars = st.one_of(st.text(), st.booleans(), st.none(), _numbers, _binaries)
_sets = st.one_of(
    st.sets(st.text(), min_size=1),
    st.frozensets(_numbers, min_size=1),
    st.sets(st.binary(), min_size=1),
)
_names = st.text(max_size=10)
values = st.recursive(
    st.one_of(_scalars, _sets),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(_names, children, max_size=4),
    ),
    max_leaves=20,
)
items = st.dictionaries(_names, values, max_size=6)


def expected(value: Any) -> Any:
    """What the decoder must give back for a value the serializer took."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, (set, frozenset)):
        return {expected(member) for member in value}
    if isinstance(value, dict):
        return {name: expected(member) for name, member in value.items()}
    return [expected(member) for member in value]


def assert_same(decoded: Any, wanted: Any) -> None:
    """Equal, and of the same type all the way down (so True is not 1, Decimal not int)."""
    assert type(decoded) is type(wanted), (decoded, wanted)
    if isinstance(wanted, dict):
        assert decoded.keys() == wanted.keys()
        for name in wanted:
            assert_same(decoded[name], wanted[name])
    elif isinstance(wanted, list):
        assert len(decoded) == len(wanted)
        for left, right in zip(decoded, wanted, strict=True):
            assert_same(left, right)
    else:
        assert decoded == wanted


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for level in range(depth):
        value = {"m": value} if level % 2 else [value]
    return value


# --- the serializer --------------------------------------------------------------------------


class TestSerialize:
    @pytest.mark.parametrize(
        ("value", "tagged"),
        [
            ("text", {"S": "text"}),
            ("", {"S": ""}),
            (True, {"BOOL": True}),
            (False, {"BOOL": False}),
            (None, {"NULL": True}),
            (7, {"N": "7"}),
            (-7, {"N": "-7"}),
            (0.1, {"N": "0.1"}),
            (Decimal("1.50"), {"N": "1.5"}),
            (Decimal("1E+3"), {"N": "1000"}),
            (1e-5, {"N": "0.00001"}),
            (Decimal("-0"), {"N": "0"}),
            (-0.0, {"N": "0"}),
            (Decimal("0E+5"), {"N": "0"}),
            (Decimal("00042.000"), {"N": "42"}),
            (b"\x00\xff", {"B": "AP8="}),
            (bytearray(b"hi"), {"B": "aGk="}),
            (b"", {"B": ""}),
            ({"b", "a"}, {"SS": ["a", "b"]}),
            (frozenset({3, Decimal("1.0"), 2.5}), {"NS": ["1", "2.5", "3"]}),
            ({b"b", b"a"}, {"BS": ["YQ==", "Yg=="]}),
            ([1, "a"], {"L": [{"N": "1"}, {"S": "a"}]}),
            ((1, None), {"L": [{"N": "1"}, {"NULL": True}]}),
            ({"a": {"b": []}}, {"M": {"a": {"M": {"b": {"L": []}}}}}),
        ],
    )
    def test_each_type(self, value: Any, tagged: dict[str, Any]) -> None:
        """Each Python type becomes the DynamoDB JSON a stream delivers for it."""
        assert serialize(value) == tagged

    def test_equal_numbers_in_a_set_are_kept_once(self) -> None:
        """Numbers Python sees as different but DynamoDB as equal are one NS member."""
        assert serialize({0.1, Decimal("0.1"), Decimal("0.10")}) == {"NS": ["0.1"]}

    def test_number_range_limits_are_accepted(self) -> None:
        """The smallest and largest magnitudes DynamoDB stores serialize in plain notation."""
        assert serialize(Decimal("1E-130")) == {"N": "0." + "0" * 129 + "1"}
        assert serialize(Decimal("9" * 38 + "E+88")) == {"N": "9" * 38 + "0" * 88}

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (math.nan, "finite"),
            (math.inf, "finite"),
            (Decimal("NaN"), "finite"),
            (Decimal("-Infinity"), "finite"),
            (Decimal("1" * 39), "38 significant digits"),
            (Decimal("1E+126"), "number range"),
            (Decimal("1E-131"), "number range"),
            (1e300, "number range"),
            (set(), "no empty sets"),
            ({"a", 1}, "only strings, only numbers or only bytes"),
        ],
    )
    def test_values_dynamodb_refuses(self, value: Any, message: str) -> None:
        """A value DynamoDB would refuse is a ValueError that says why and where."""
        with pytest.raises(ValueError, match=message) as caught:
            serialize({"x": [value]}, path="new")
        assert str(caught.value).startswith("new.x[0]")

    @pytest.mark.parametrize(
        ("value", "path"),
        [
            ({"address": {"zip": object()}}, "new.address.zip"),
            ({"tags": [1, datetime(2026, 1, 1)]}, "new.tags[1]"),
            ({"flags": {True}}, "new.flags"),
            ({"c": 1j}, "new.c"),
            ({"m": memoryview(b"x")}, "new.m"),
        ],
    )
    def test_unsupported_types_name_their_path(self, value: Any, path: str) -> None:
        """A value of a type DynamoDB cannot store is a TypeError naming its path."""
        with pytest.raises(TypeError, match=re.escape(path) + ": .*cannot store|set members"):
            serialize_image(value, path="new")

    def test_map_keys_must_be_strings(self) -> None:
        """A dict with a non-string key is a TypeError naming the dict's path."""
        with pytest.raises(TypeError, match=r"new\.m: attribute names must be strings, got 1"):
            serialize_image({"m": {1: "a"}}, path="new")

    def test_image_must_be_a_dict(self) -> None:
        """serialize_image refuses anything but a dict."""
        with pytest.raises(TypeError, match="expected a dict"):
            serialize_image([("a", 1)])

    def test_deep_nesting(self) -> None:
        """Values nested as deep as DynamoDB allows (32 levels) round-trip."""
        value = nested(32)
        assert deserialize(serialize(value)) == value

    @given(values)
    def test_round_trip(self, value: Any) -> None:
        """Every value the serializer takes decodes back to an equal value of the right type."""
        tagged = serialize(value)
        assert json.loads(json.dumps(tagged)) == tagged  # JSON-safe, as Lambda's event is
        assert_same(deserialize(tagged), expected(value))

    @given(items)
    def test_image_round_trip(self, item: dict[str, Any]) -> None:
        """A whole item round-trips through serialize_image and deserialize_image."""
        assert_same(deserialize_image(serialize_image(item)), expected(item))


# --- differential: boto3's TypeSerializer ----------------------------------------------------


def _for_boto3(value: Any) -> Any:
    """The same value in the types boto3 takes (it refuses floats)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, (set, frozenset)):
        return {_for_boto3(member) for member in value}
    if isinstance(value, dict):
        return {name: _for_boto3(member) for name, member in value.items()}
    if isinstance(value, (list, tuple)):
        return [_for_boto3(member) for member in value]
    return value


def _comparable(tagged: Any) -> Any:
    """DynamoDB JSON with N by value, B as base64 text and sets unordered."""
    from boto3.dynamodb.types import Binary

    ((tag, raw),) = tagged.items()
    if tag == "N":
        return (tag, Decimal(raw))
    if tag == "B":
        if isinstance(raw, Binary):  # boto3 wraps bytearray, keeps bytes as they are
            raw = raw.value
        text = base64.b64encode(raw).decode() if isinstance(raw, bytes) else raw
        return (tag, text)
    if tag == "NS":
        return (tag, frozenset(map(Decimal, raw)))
    if tag == "BS":
        return (tag, frozenset(_comparable({"B": member})[1] for member in raw))
    if tag == "SS":
        return (tag, frozenset(raw))
    if tag == "L":
        return (tag, [_comparable(member) for member in raw])
    if tag == "M":
        return (tag, {name: _comparable(member) for name, member in raw.items()})
    return (tag, raw)


_boto3_numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e30, max_value=1e30).filter(
        lambda x: x == 0 or abs(x) > 1e-30
    ),
    st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-(10**20)).filter(
        lambda d: d < 10**20
    ),
)
_boto3_values = st.recursive(
    st.one_of(
        st.text(),
        st.booleans(),
        st.none(),
        _boto3_numbers,
        st.binary(),
        st.sets(st.text(), min_size=1),
        st.sets(_boto3_numbers, min_size=1),
        st.sets(st.binary(), min_size=1),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_names, children, max_size=4)
    ),
    max_leaves=20,
)


class TestAgainstBoto3:
    @given(_boto3_values)
    def test_same_as_type_serializer(self, value: Any) -> None:
        """On the values boto3 takes, the result equals TypeSerializer's (B as base64 text)."""
        from boto3.dynamodb.types import TypeSerializer

        theirs = TypeSerializer().serialize(_for_boto3(value))
        if "NS" in theirs:  # boto3 keeps 1.0 and 1.00 apart; DynamoDB (and we) keep one
            theirs = {"NS": sorted(set(map(Decimal, theirs["NS"])))}
        assert _comparable(serialize(value)) == _comparable(theirs)


# --- records -----------------------------------------------------------------------------------

WHEN = datetime(2026, 3, 1, 12, 30, 15, tzinfo=timezone.utc)
ITEM = {"pk": "order#1", "status": "NEW", "total": Decimal("25.50")}


class TestInsert:
    def test_full_shape(self) -> None:
        """An INSERT has every field Lambda delivers, with AWS's names and value types."""
        record = insert(ITEM, table="Orders", region="eu-west-1", approximate_creation_time=WHEN)

        body = record["dynamodb"]
        assert re.fullmatch(r"[0-9a-f]{32}", record["eventID"])
        assert re.fullmatch(r"[0-9]{28}", body["SequenceNumber"])
        assert record == {
            "eventID": record["eventID"],
            "eventName": "INSERT",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "eu-west-1",
            "dynamodb": {
                "ApproximateCreationDateTime": WHEN.timestamp(),
                "Keys": {"pk": {"S": "order#1"}},
                "NewImage": {
                    "pk": {"S": "order#1"},
                    "status": {"S": "NEW"},
                    "total": {"N": "25.5"},
                },
                "SequenceNumber": body["SequenceNumber"],
                "SizeBytes": body["SizeBytes"],
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            },
            "eventSourceARN": (
                "arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/"
                "2026-01-01T00:00:00.000"
            ),
        }

    def test_is_json(self) -> None:
        """The record survives JSON unchanged, as Lambda's own event does."""
        record = insert({"pk": "a", "blob": b"\x01", "tags": {1, 2}, "nested": [{"x": None}]})
        assert json.loads(json.dumps(record)) == record

    def test_time_defaults_to_now_in_whole_seconds(self) -> None:
        """Without approximate_creation_time the record is stamped now, to the second."""
        before = datetime.now(timezone.utc).timestamp()
        stamp = insert(ITEM)["dynamodb"]["ApproximateCreationDateTime"]
        assert isinstance(stamp, float)
        assert stamp == int(stamp)
        assert before - 1 <= stamp <= datetime.now(timezone.utc).timestamp()

    def test_other_time_zones(self) -> None:
        """An aware time in any zone gives the same epoch seconds."""
        local = WHEN.astimezone(timezone(timedelta(hours=-5)))
        stamp = insert(ITEM, approximate_creation_time=local)["dynamodb"]
        assert stamp["ApproximateCreationDateTime"] == WHEN.timestamp()

    def test_naive_time_is_refused(self) -> None:
        """A naive datetime is ambiguous and refused."""
        with pytest.raises(ValueError, match="aware datetime"):
            insert(ITEM, approximate_creation_time=datetime(2026, 1, 1))

    def test_record_reads_back(self, app: App) -> None:
        """An App decodes the record to the values and metadata it was built from."""
        record = _only_record(
            app,
            insert(ITEM, table="Orders", region="eu-west-1", approximate_creation_time=WHEN),
        )
        assert record.event_name == "INSERT"
        assert record.new == ITEM
        assert record.old is None
        assert record.keys == {"pk": "order#1"}
        assert record.table_name == "Orders"
        assert record.region == "eu-west-1"
        assert record.approximate_creation_time == WHEN
        assert record.is_ttl_expiry is False


class TestKeys:
    def test_default_partition_key(self) -> None:
        """Without key_names the key is pk."""
        assert insert({"pk": 1, "a": 2})["dynamodb"]["Keys"] == {"pk": {"N": "1"}}

    def test_default_sort_key_when_present(self) -> None:
        """Without key_names the key is pk and sk when the item has sk."""
        keys = insert({"pk": "a", "sk": b"\x01", "x": 1})["dynamodb"]["Keys"]
        assert keys == {"pk": {"S": "a"}, "sk": {"B": "AQ=="}}

    @pytest.mark.parametrize(
        ("key_names", "keys"),
        [
            ("orderId", {"orderId": {"S": "o-1"}}),
            (("orderId",), {"orderId": {"S": "o-1"}}),
            (["customer", "orderId"], {"customer": {"N": "7"}, "orderId": {"S": "o-1"}}),
        ],
    )
    def test_given_key_names(self, key_names: Any, keys: dict[str, Any]) -> None:
        """key_names takes one name or a (partition, sort) pair."""
        item = {"orderId": "o-1", "customer": 7, "pk": "ignored"}
        assert insert(item, key_names=key_names)["dynamodb"]["Keys"] == keys

    def test_missing_default_key(self) -> None:
        """An item without pk is refused with a hint about key_names."""
        with pytest.raises(ValueError, match=r"new has no key attribute 'pk'.*key_names="):
            insert({"orderId": "o-1"})

    def test_missing_given_key(self) -> None:
        """An item without a named key attribute is refused, naming it and the attributes."""
        with pytest.raises(ValueError, match=r"old has no key attribute 'sk'; .*'pk'"):
            remove({"pk": "a"}, key_names=("pk", "sk"))

    @pytest.mark.parametrize("key_names", [(), ("a", "b", "c")])
    def test_wrong_number_of_key_names(self, key_names: tuple[str, ...]) -> None:
        """A table has one or two key attributes."""
        with pytest.raises(ValueError, match="one or two"):
            insert({"a": "1", "b": "2", "c": "3"}, key_names=key_names)

    @pytest.mark.parametrize("value", [True, None, ["a"], {"a": 1}, {"a"}])
    def test_key_types(self, value: Any) -> None:
        """A key attribute must be a string, number or bytes."""
        with pytest.raises(ValueError, match=r"new\.pk: a key attribute must be"):
            insert({"pk": value})

    def test_modify_keys_must_match(self) -> None:
        """A MODIFY of one item to an item with another key is refused."""
        with pytest.raises(ValueError, match="keys differ"):
            modify({"pk": "a"}, {"pk": "b"})

    def test_modify_old_needs_the_key_too(self) -> None:
        """A MODIFY whose old item lacks the key is refused, naming old."""
        with pytest.raises(ValueError, match="old has no key attribute 'pk'"):
            modify({"x": 1}, {"pk": "a"})


class TestViewTypes:
    @pytest.mark.parametrize(
        ("view_type", "images"),
        [
            ("KEYS_ONLY", set()),
            ("NEW_IMAGE", {"NewImage"}),
            ("OLD_IMAGE", {"OldImage"}),
            ("NEW_AND_OLD_IMAGES", {"NewImage", "OldImage"}),
        ],
    )
    def test_modify_images(self, view_type: str, images: set[str]) -> None:
        """A MODIFY carries exactly the images its view type includes."""
        body = modify(ITEM, {**ITEM, "status": "PAID"}, view_type=view_type)["dynamodb"]
        assert (
            set(body)
            - {
                "ApproximateCreationDateTime",
                "Keys",
                "SequenceNumber",
                "SizeBytes",
                "StreamViewType",
            }
            == images
        )
        assert body["StreamViewType"] == view_type

    @pytest.mark.parametrize(
        ("builder", "view_type", "images"),
        [
            (lambda v: insert(ITEM, view_type=v), "OLD_IMAGE", set()),
            (lambda v: insert(ITEM, view_type=v), "NEW_IMAGE", {"NewImage"}),
            (lambda v: remove(ITEM, view_type=v), "NEW_IMAGE", set()),
            (lambda v: remove(ITEM, view_type=v), "OLD_IMAGE", {"OldImage"}),
            (lambda v: remove(ITEM, view_type=v), "NEW_AND_OLD_IMAGES", {"OldImage"}),
        ],
    )
    def test_insert_and_remove_images(
        self, builder: Callable[[str], dict[str, Any]], view_type: str, images: set[str]
    ) -> None:
        """An INSERT has no old image and a REMOVE no new one, whatever the view type."""
        body = builder(view_type)["dynamodb"]
        assert {"NewImage", "OldImage"} & set(body) == images

    def test_keys_only_sizes_count_keys_only(self) -> None:
        """SizeBytes counts only the images the record carries."""
        full = modify(ITEM, ITEM)["dynamodb"]["SizeBytes"]
        keys_only = modify(ITEM, ITEM, view_type="KEYS_ONLY")["dynamodb"]["SizeBytes"]
        assert keys_only == len("pk") + len("order#1")
        assert full > keys_only

    def test_unknown_view_type(self) -> None:
        """A view type that does not exist is refused, listing the real ones."""
        with pytest.raises(ValueError, match=r"unknown view_type 'NEW'.*NEW_AND_OLD_IMAGES"):
            insert(ITEM, view_type="NEW")

    def test_missing_images_reach_the_record(self, app: App) -> None:
        """A KEYS_ONLY MODIFY gives handlers keys, and reading an image says it is missing."""
        record = _only_record(app, modify(ITEM, ITEM, view_type="KEYS_ONLY"))
        assert record.keys == {"pk": "order#1"}
        assert "NewImage" not in record.dynamodb
        assert "OldImage" not in record.dynamodb
        with pytest.raises(MissingImageError, match="view type is KEYS_ONLY"):
            record.new  # noqa: B018 - reading it is the test


class TestModifyAndRemove:
    def test_modify_reads_back(self, app: App) -> None:
        """A MODIFY carries both images and its diff."""
        record = _only_record(app, modify(ITEM, {**ITEM, "status": "PAID"}))
        assert record.event_name == "MODIFY"
        assert record.old == ITEM
        assert record.new == {**ITEM, "status": "PAID"}
        assert record.diff.changed == {"status": ("NEW", "PAID")}

    def test_remove_is_a_client_delete_by_default(self, app: App) -> None:
        """remove() without ttl has no userIdentity: a delete by a client."""
        raw = remove(ITEM)
        assert "userIdentity" not in raw
        record = _only_record(app, raw)
        assert (record.event_name, record.old, record.new) == ("REMOVE", ITEM, None)
        assert record.is_ttl_expiry is False

    def test_ttl_remove(self, app: App) -> None:
        """remove(ttl=True) carries DynamoDB's service identity, so it is a TTL expiry."""
        raw = remove(ITEM, ttl=True)
        assert raw["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
        assert _only_record(app, raw).is_ttl_expiry is True

    def test_sizes_match_aws_sample(self, load_event: LoadEvent) -> None:
        """SizeBytes is what DynamoDB reported in AWS's published sample records."""
        sample = load_event("aws_lambda_docs_with_ddb_sample_event.json")["Records"]
        first = {"Id": 101, "Message": "New item!"}
        second = {"Id": 101, "Message": "This item has changed"}
        built = [insert(first, key_names="Id"), modify(first, second, key_names="Id")]
        for ours, theirs in zip(built, sample, strict=True):
            for field in ("Keys", "NewImage", "OldImage", "SizeBytes", "StreamViewType"):
                assert ours["dynamodb"].get(field) == theirs["dynamodb"].get(field)
            assert ours["eventName"] == theirs["eventName"]
        assert remove(second, key_names="Id")["dynamodb"]["SizeBytes"] == 38

    def test_size_of_every_type(self) -> None:
        """SizeBytes follows DynamoDB's item size rules for every type."""
        item = {
            "pk": "ab",  # 2 + 2
            "n": Decimal("-123.45"),  # 1 + (5 digits -> 3) + 1 + 1 for the sign
            "b": b"abcd",  # 1 + 4
            "t": True,  # 1 + 1
            "z": None,  # 1 + 1
            "ss": {"a", "bc"},  # 2 + 3
            "ns": {1, 22},  # 2 + 2 + 2
            "bs": {b"x"},  # 2 + 1
            "l": [1, "x"],  # 1 + 3 + (1 + 2) + (1 + 1)
            "m": {"k": "v"},  # 1 + 3 + (1 + 1 + 1)
        }
        expected_item = 4 + 6 + 5 + 2 + 2 + 5 + 6 + 3 + 9 + 7
        assert insert(item)["dynamodb"]["SizeBytes"] == 4 + expected_item


def _only_record(app: App, raw: dict[str, Any]) -> Record:
    records: list[Record] = []
    app.on("INSERT", "MODIFY", "REMOVE")(records.append)
    app.handler(event(raw), None)
    (record,) = records
    return record


# --- events ----------------------------------------------------------------------------------


def _sequence_numbers(records: list[dict[str, Any]]) -> list[int]:
    return [int(record["dynamodb"]["SequenceNumber"]) for record in records]


class TestEvent:
    def test_wraps_records(self) -> None:
        """event() puts the records, as given, under Records."""
        first, second = insert({"pk": "a"}), remove({"pk": "a"})
        assert event(first, second) == {"Records": [first, second]}

    def test_empty(self) -> None:
        """event() with no records is the empty batch."""
        assert event() == {"Records": []}

    def test_sequence_numbers_rise_in_build_order(self) -> None:
        """Records built one after another get rising sequence numbers of one width."""
        records = [insert({"pk": str(n)}) for n in range(5)]
        numbers = _sequence_numbers(records)
        assert numbers == sorted(set(numbers))
        assert len({len(r["dynamodb"]["SequenceNumber"]) for r in records}) == 1

    def test_out_of_order_records_are_renumbered(self) -> None:
        """From the first record out of order on, event() uses renumbered copies."""
        first, second, third = (insert({"pk": str(n)}) for n in range(3))
        kept = first["dynamodb"]["SequenceNumber"]

        records = event(first, third, second, third)["Records"]

        numbers = _sequence_numbers(records)
        assert numbers == sorted(set(numbers))
        assert records[0] == first
        assert records[1] == third
        assert [r["eventID"] for r in records] == [
            first["eventID"],
            third["eventID"],
            second["eventID"],
            third["eventID"],
        ]
        assert first["dynamodb"]["SequenceNumber"] == kept  # the inputs are not changed
        assert records[2]["dynamodb"] is not second["dynamodb"]

    @pytest.mark.parametrize("bad", [{"pk": "a"}, {"dynamodb": {}}, "record", None])
    def test_refuses_non_records(self, bad: Any) -> None:
        """Anything but a record made by the builders is a TypeError."""
        with pytest.raises(TypeError, match=r"made by insert\(\), modify\(\) or remove\(\)"):
            event(bad)

    def test_pipes_event_is_a_bare_list(self, app: App) -> None:
        """pipes_event() is the bare list EventBridge Pipes delivers, in rising order."""
        second = insert({"pk": "b"})
        first = insert({"pk": "a"})
        batch = pipes_event(second, first)
        assert isinstance(batch, list)
        assert [r["eventID"] for r in batch] == [second["eventID"], first["eventID"]]
        assert _sequence_numbers(batch) == sorted(_sequence_numbers(batch))
        assert run(app, batch).ok


class TestKinesisEvent:
    def test_shape(self) -> None:
        """Each record is a Kinesis record whose data is the base64 JSON of the change."""
        record = remove(ITEM, ttl=True, table="Orders", approximate_creation_time=WHEN)

        (wrapped,) = kinesis_event(record, stream="orders")["Records"]

        kinesis = wrapped["kinesis"]
        assert wrapped["eventSource"] == "aws:kinesis"
        assert wrapped["eventName"] == "aws:kinesis:record"
        assert wrapped["eventSourceARN"] == "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
        assert wrapped["eventID"] == "shardId-000000000000:" + kinesis["sequenceNumber"]
        assert re.fullmatch(r"[0-9A-F]{32}", kinesis["partitionKey"])
        assert kinesis["approximateArrivalTimestamp"] == WHEN.timestamp() + 0.25
        change = json.loads(base64.b64decode(kinesis["data"]))
        assert change == {
            "awsRegion": "us-east-1",
            "eventID": change["eventID"],
            "eventName": "REMOVE",
            "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
            "recordFormat": "application/json",
            "tableName": "Orders",
            "dynamodb": {
                "ApproximateCreationDateTime": int(WHEN.timestamp() * 1000),
                "Keys": record["dynamodb"]["Keys"],
                "OldImage": record["dynamodb"]["OldImage"],
                "SizeBytes": record["dynamodb"]["SizeBytes"],
            },
            "eventSource": "aws:dynamodb",
        }

    def test_app_reads_it(self, app: App) -> None:
        """An App reads the Kinesis event, with Kinesis sequence numbers as identifiers."""
        seen: list[Record] = []
        app.on_modify(seen.append)
        records = [
            insert(ITEM, approximate_creation_time=WHEN),
            modify(ITEM, {**ITEM, "status": "PAID"}, table="Orders"),
        ]
        batch = kinesis_event(*records)

        result = run(app, batch)

        (record,) = seen
        assert result.ok
        assert record.new == {**ITEM, "status": "PAID"}
        assert record.table_name == "Orders"
        assert record.sequence_number == batch["Records"][1]["kinesis"]["sequenceNumber"]
        numbers = [int(r["kinesis"]["sequenceNumber"]) for r in batch["Records"]]
        assert numbers == sorted(set(numbers))

    def test_record_without_time(self) -> None:
        """A record whose time was removed by hand is wrapped without a creation time."""
        record = insert(ITEM)
        del record["dynamodb"]["ApproximateCreationDateTime"]
        (wrapped,) = kinesis_event(record)["Records"]
        change = json.loads(base64.b64decode(wrapped["kinesis"]["data"]))
        assert "ApproximateCreationDateTime" not in change["dynamodb"]
        assert wrapped["kinesis"]["approximateArrivalTimestamp"] > WHEN.timestamp()

    def test_refuses_non_records(self) -> None:
        """Only records made by the builders can be wrapped."""
        with pytest.raises(TypeError, match="expected a stream record"):
            kinesis_event({"Records": []})


# --- run() -------------------------------------------------------------------------------------


def welcome(record: Record) -> None:
    """Greet a new customer."""


def vip(record: Record) -> None:
    """Greet a VIP."""


def charge(record: Record) -> None:
    """Charge the card, which may be declined."""
    if record.new and record.new.get("card") == "declined":
        raise RuntimeError("card declined")


def log(record: Record) -> None:
    """Log what no route wanted."""


@pytest.fixture
def orders() -> App:
    """An app with two insert routes, a modify route that can fail, and a fallback."""
    app = App()
    app.on_insert(welcome)
    app.on_insert(where={"vip": True})(vip)
    app.on_modify(charge)
    app.on_unmatched(log)
    return app


class TestRun:
    def test_passing(self, orders: App) -> None:
        """Routes that ran are listed in order, overall and per record."""
        result = run(orders, insert({"pk": "a", "vip": True}), modify(ITEM, ITEM), remove(ITEM))

        assert isinstance(result, RunResult)
        assert result.ok
        assert result.ran == ["welcome", "vip", "charge", "log"]
        assert result.ran_per_record == [["welcome", "vip"], ["charge"], ["log"]]
        assert [r.event_name for r in result.records] == ["INSERT", "MODIFY", "REMOVE"]
        assert result.processed == 3
        assert result.failures == []
        assert result.error is None
        assert result.response == {"batchItemFailures": []}

    def test_failing_raises_without_report_batch_item_failures(self, orders: App) -> None:
        """By default the response raises the handler's error, as app.handler would."""
        first = insert(ITEM)
        bad = modify(ITEM, {**ITEM, "card": "declined"})
        result = run(orders, first, bad, insert(ITEM))

        assert not result.ok
        assert result.ran_per_record == [["welcome"], ["charge"]]
        assert result.processed == 1
        assert result.failures == [{"itemIdentifier": bad["dynamodb"]["SequenceNumber"]}]
        assert isinstance(result.error, RuntimeError)
        with pytest.raises(RuntimeError, match="card declined"):
            result.response  # noqa: B018

    def test_failing_reports_with_report_batch_item_failures(self) -> None:
        """With report_batch_item_failures the response names the failed record."""
        app = App(report_batch_item_failures=True)

        @app.on_insert(name="boom")
        def boom(record: Record) -> None:
            raise KeyError(record.keys["pk"])

        first = insert({"pk": "a"})
        result = run(app, first, insert({"pk": "b"}))

        assert result.ran == ["boom"]
        assert isinstance(result.error, KeyError)
        assert result.response == {
            "batchItemFailures": [{"itemIdentifier": first["dynamodb"]["SequenceNumber"]}]
        }

    def test_response_equals_the_handler(self, orders: App) -> None:
        """The response is exactly what app.handler returns for the same event."""
        whole = event(insert(ITEM), remove(ITEM))
        assert run(orders, whole).response == orders.handler(whole, None)

    def test_error_hook_keeps_the_batch_going(self, orders: App) -> None:
        """A failure an on_error hook handles is no failure."""
        app = App()
        handled: list[str] = []
        app.on_modify(lambda record: 1 / 0)
        app.on_error(lambda record, error: handled.append(type(error).__name__))

        result = run(app, modify(ITEM, ITEM), modify(ITEM, ITEM))

        assert result.ok
        assert handled == ["ZeroDivisionError", "ZeroDivisionError"]

    @pytest.mark.parametrize("report", [False, True])
    def test_out_of_time(self, report: bool) -> None:
        """With too little time left no record after the first starts; the response reports
        or raises it."""
        app = App(report_batch_item_failures=report)
        app.on_insert(name="noop")(lambda record: None)

        class Context:
            def get_remaining_time_in_millis(self) -> int:
                return 10

        records = [insert({"pk": "a"}), insert({"pk": "b"}), insert({"pk": "c"})]
        result = run(app, *records, context=Context())

        assert result.ran == ["noop"]
        assert result.error is None
        assert result.failures == [
            {"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in records[1:]
        ]
        if report:
            assert result.response == {"batchItemFailures": result.failures}
        else:
            with pytest.raises(OutOfTimeError, match="2 records to go"):
                result.response  # noqa: B018

    def test_window_state_is_returned(self, load_event: LoadEvent) -> None:
        """For a tumbling window event the response carries the state, as the handler's does."""
        app = App()

        @app.on_insert
        def count(record: Record) -> None:
            assert app.window is not None
            app.window.state["count"] = app.window.state.get("count", 0) + 1

        whole = {**event(insert(ITEM)), "window": {"start": "a", "end": "b"}, "state": {}}
        assert dict(run(app, whole).response) == {"batchItemFailures": [], "state": {"count": 1}}

    @pytest.mark.parametrize(("is_final", "ended"), [(False, []), (True, ["a"])])
    def test_window_end_hooks(self, is_final: bool, ended: list[str]) -> None:
        """Window-end hooks run after a window's final batch, as with app.handler."""
        app = App()
        seen: list[str] = []
        app.on_window_end(lambda window: seen.append(window.start or ""))
        whole = {
            **event(insert(ITEM)),
            "window": {"start": "a", "end": "b"},
            "isFinalInvokeForWindow": is_final,
        }
        assert run(app, whole).ok
        assert seen == ended

    def test_repr(self, orders: App) -> None:
        """The repr shows what ran and what failed."""
        assert repr(run(orders, insert(ITEM))) == (
            "RunResult(ran=['welcome'], failures=[], error=None)"
        )


# --- the docs' examples ------------------------------------------------------------------------


class TestDocsExamples:
    def test_builders_example(self, load_example: LoadExample) -> None:
        """The builders example runs and its assertions about the output hold."""
        example = load_example("testing_builders")
        assert example.record["eventName"] == "INSERT"

    def test_orders_tests(self, load_example: LoadExample, monkeypatch: pytest.MonkeyPatch) -> None:
        """The example test module passes against the example app."""
        orders_module = load_example("testing_orders")
        monkeypatch.setitem(sys.modules, "orders", orders_module)
        tests = load_example("testing_test_orders")

        def outbox() -> list[tuple[str, str]]:
            sent: list[tuple[str, str]] = []
            monkeypatch.setattr(
                orders_module, "send_mail", lambda to, text: sent.append((to, text))
            )
            return sent

        tests.test_new_order_gets_a_welcome_mail(outbox())
        tests.test_only_shipping_sends_a_mail(outbox())
        tests.test_expired_carts_are_told_deleted_orders_are_not(outbox())
        tests.test_a_failed_mail_is_retried_from_that_record(monkeypatch)
        assert {name for name in vars(tests) if name.startswith("test_")} == {
            "test_new_order_gets_a_welcome_mail",
            "test_only_shipping_sends_a_mail",
            "test_expired_carts_are_told_deleted_orders_are_not",
            "test_a_failed_mail_is_retried_from_that_record",
        }

    def test_failure_modes(self, load_example: LoadExample) -> None:
        """The failure-mode examples pass, and are the only tests in their module."""
        tests = load_example("testing_failure_modes")
        tests.test_by_default_the_handler_raises()
        tests.test_with_reporting_the_handler_names_the_failed_record()
        assert sorted(name for name in vars(tests) if name.startswith("test_")) == [
            "test_by_default_the_handler_raises",
            "test_with_reporting_the_handler_names_the_failed_record",
        ]

    def test_example_app_needs_a_mail_service(self, load_example: LoadExample) -> None:
        """Unpatched, the example app's mail function refuses, so the tests must replace it."""
        orders_module = load_example("testing_orders")
        result = run(orders_module.app, insert({"orderId": "o", "email": "e"}, key_names="orderId"))
        assert isinstance(result.error, NotImplementedError)
