"""Record: every field SPEC.md lists, lazily decoded images, and diff."""

from __future__ import annotations

import copy
import typing
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from conftest import LoadEvent
from ddbstream import App, Diff, Insert, Modify, Record, Remove
from ddbstream._codec import EXACT_DECODER, Decoder
from ddbstream._record import make_record, table_from_arn
from ddbstream.errors import DecodeError, MissingImageError, RecordError

UTC = timezone.utc


def first_raw(load_event: LoadEvent, name: str) -> dict[str, Any]:
    """A deep copy of the first record of tests/events/NAME."""
    raw: dict[str, Any] = copy.deepcopy(load_event(name)["Records"][0])
    return raw


def make(raw: dict[str, Any], decoder: Decoder = EXACT_DECODER) -> Record:
    return make_record(raw, decoder)


class TestFields:
    def test_insert(self, load_event: LoadEvent) -> None:
        """An INSERT record exposes every metadata field SPEC.md lists."""
        raw = first_raw(load_event, "insert.json")

        record = make(raw)

        assert record.event_name == "INSERT"
        assert isinstance(record.event_name, str)
        assert record.event_id == "c81e728d9d4c2f636f067f89cc14862c"
        assert record.sequence_number == "4421584500000000017450439091"
        assert record.approximate_creation_time == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
        assert record.size_bytes == 241
        assert record.stream_view_type == "NEW_AND_OLD_IMAGES"
        assert record.event_source_arn == (
            "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2024-05-01T12:00:00.000"
        )
        assert record.table_name == "orders"
        assert record.region == "eu-west-1"
        assert record.is_ttl_expiry is False
        assert record.raw is raw

    def test_images_of_a_modify(self, load_event: LoadEvent) -> None:
        """keys, new and old are decoded to plain Python values."""
        record = make(first_raw(load_event, "modify.json"))

        assert record.keys == {"pk": "order#1", "sk": "v0"}
        assert record.new is not None
        assert record.old is not None
        assert record.new["status"] == "SHIPPED"
        assert record.old["status"] == "PACKED"
        assert record.old["total"] == Decimal("42.50")
        assert record.old["items"][1] == {"sku": "B-7", "qty": Decimal(1)}
        assert record.old["tags"] == {"gift", "express"}
        assert record.new["address"]["zip"] == "10115"

    def test_every_type(self, load_event: LoadEvent) -> None:
        """An image with every type decodes each attribute to its Python type."""
        record = make(first_raw(load_event, "all_types.json"))

        new = record.new
        assert new is not None
        assert new["binary"] == b"\xde\xad\xbe\xef"
        assert new["big"] == Decimal("12345678901234567890123456789012345678")
        assert new["tiny"] == Decimal("1E-130")
        assert str(new["decimal"]) == "1.50"
        assert new["binaries"] == {b"\x01\x02", b"\x03\x04"}
        assert new["nothing"] is None
        assert new["yes"] is True
        assert new["map"]["nested"]["deep"] == [Decimal(1), "x", None]
        assert new["list"] == ["a", Decimal(2), b"\x00", [], {}, {"z"}]

    def test_repr_names_the_record(self, load_event: LoadEvent) -> None:
        """repr shows the event name, eventID and sequence number."""
        record = make(first_raw(load_event, "insert.json"))

        assert repr(record) == (
            "Insert(event_name='INSERT', event_id='c81e728d9d4c2f636f067f89cc14862c', "
            "sequence_number='4421584500000000017450439091')"
        )

    def test_missing_metadata_is_none(self) -> None:
        """A bare record has None for the metadata it lacks."""
        record = make({"eventName": "INSERT", "dynamodb": {"Keys": {}}})

        assert record.event_id is None
        assert record.sequence_number is None
        assert record.approximate_creation_time is None
        assert record.size_bytes is None
        assert record.stream_view_type is None
        assert record.event_source_arn is None
        assert record.table_name is None
        assert record.region is None


class TestCreationTime:
    @pytest.mark.parametrize(
        ("stamp", "precision", "expected"),
        [
            (1428537600, None, datetime(2015, 4, 9, tzinfo=UTC)),
            (1714564800.0, None, datetime(2024, 5, 1, 12, tzinfo=UTC)),
            (1.635734407123456789e9, None, datetime(2021, 11, 1, 2, 40, 7, 123457, tzinfo=UTC)),
            (1635734407123, "MILLISECOND", datetime(2021, 11, 1, 2, 40, 7, 123000, tzinfo=UTC)),
            (1635734407123, None, datetime(2021, 11, 1, 2, 40, 7, 123000, tzinfo=UTC)),
            (1635734407123456, "MICROSECOND", datetime(2021, 11, 1, 2, 40, 7, 123456, tzinfo=UTC)),
            (1635734407123456, None, datetime(2021, 11, 1, 2, 40, 7, 123456, tzinfo=UTC)),
        ],
    )
    def test_epoch_forms(self, stamp: float, precision: str | None, expected: datetime) -> None:
        """Seconds, milliseconds and microseconds all become the same aware UTC datetime."""
        dynamodb: dict[str, Any] = {"Keys": {}, "ApproximateCreationDateTime": stamp}
        if precision is not None:
            dynamodb["ApproximateCreationDateTimePrecision"] = precision

        when = make({"eventName": "INSERT", "dynamodb": dynamodb}).approximate_creation_time

        assert when == expected
        assert when is not None
        assert when.utcoffset() == timedelta(0)

    def test_exponent_form_from_json(self, load_event: LoadEvent) -> None:
        """The ``1.635734407123456789E9`` JSON number of AWS's Java sample is read as seconds."""
        raws = load_event("aws_lambda_java_tests_dynamo_event.json")["Records"]
        times = [make(raw).approximate_creation_time for raw in raws]

        assert datetime(2021, 11, 1, 2, 40, 7, 123457, tzinfo=UTC) in times
        assert datetime(2015, 4, 9, tzinfo=UTC) in times


class TestTableName:
    @pytest.mark.parametrize(
        ("arn", "table"),
        [
            (
                "arn:aws:dynamodb:us-east-1:123456789012:table/Example-Table/stream/"
                "2016-12-01T00:00:00.000",
                "Example-Table",
            ),
            ("arn:aws-cn:dynamodb:cn-north-1:123456789012:table/t.1/stream/x", "t.1"),
            ("arn:aws:dynamodb:us-east-1:123456789012:table/BackupTable", "BackupTable"),
            ("stream-ARN", None),
            ("eventsource_arn", None),
            ("arn:aws:kinesis:us-east-1:123456789012:stream/orders", None),
            ("arn:aws:dynamodb:us-east-1:123456789012:global-table/x", None),
            ("arn:aws:dynamodb:us-east-1:123456789012:table", None),
            ("", None),
            (None, None),
            (42, None),
        ],
    )
    def test_from_arn(self, arn: Any, table: str | None) -> None:
        """The table name comes from a stream ARN; placeholder ARNs give None."""
        assert table_from_arn(arn) == table
        record = make({"eventName": "INSERT", "dynamodb": {}, "eventSourceARN": arn})
        assert record.table_name == table

    def test_table_name_field_wins(self) -> None:
        """A ``tableName`` field (Kinesis for DynamoDB carries one) is used as is."""
        record = make(
            {
                "eventName": "INSERT",
                "dynamodb": {},
                "tableName": "orders",
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:1:table/other/stream/x",
            }
        )

        assert record.table_name == "orders"


class TestTtl:
    def test_ttl_remove(self, load_event: LoadEvent) -> None:
        """A REMOVE by DynamoDB's service identity is a TTL expiry."""
        record = make(first_raw(load_event, "ttl_remove.json"))

        assert record.is_ttl_expiry is True
        assert record.old == {"pk": "session#9", "sk": "v0", "expiresAt": Decimal(1714564000)}

    def test_client_remove(self, load_event: LoadEvent) -> None:
        """A REMOVE without the service identity is a delete by a client."""
        assert make(first_raw(load_event, "remove.json")).is_ttl_expiry is False

    def test_identity_on_insert_is_not_ttl(self, load_event: LoadEvent) -> None:
        """Only REMOVE records are TTL expiries, even when an INSERT carries the identity."""
        raw = first_raw(load_event, "aws_lambda_go_dynamodb_event.json")
        assert raw["eventName"] == "INSERT"
        assert raw["userIdentity"]["principalId"] == "dynamodb.amazonaws.com"

        assert make(raw).is_ttl_expiry is False

    @pytest.mark.parametrize(
        "identity",
        [
            {"type": "Service", "principalId": "someone.amazonaws.com"},
            {"type": "User", "principalId": "dynamodb.amazonaws.com"},
            "dynamodb.amazonaws.com",
            None,
        ],
    )
    def test_other_identities(self, load_event: LoadEvent, identity: Any) -> None:
        """Any other userIdentity is not a TTL expiry."""
        raw = first_raw(load_event, "ttl_remove.json")
        raw["userIdentity"] = identity

        assert make(raw).is_ttl_expiry is False


class TestLazyImages:
    def spoil(self, raw: dict[str, Any]) -> None:
        """Make every image of *raw* undecodable."""
        for image in ("Keys", "NewImage", "OldImage"):
            raw["dynamodb"][image] = {"bad": {"N": "not a number"}}

    def test_nothing_decoded_until_read(self, load_event: LoadEvent) -> None:
        """Making a record and reading its metadata decodes no image."""
        raw = first_raw(load_event, "modify.json")
        self.spoil(raw)

        record = make(raw)
        _ = (record.event_name, record.sequence_number, record.table_name, record.size_bytes)

        with pytest.raises(DecodeError):
            _ = record.new

    def test_each_image_decoded_once(self, load_event: LoadEvent) -> None:
        """Each image is decoded on first access and cached: later reads never decode again."""
        raw = first_raw(load_event, "modify.json")
        record = make(raw)
        first = (record.keys, record.new, record.old)

        self.spoil(raw)

        assert (record.keys, record.new, record.old) == first
        assert record.keys is first[0]
        assert record.new is first[1]
        assert record.old is first[2]
        assert record.item is first[1]
        assert record.diff.changed["status"] == ("PACKED", "SHIPPED")

    def test_missing_image_cached_as_none(self, load_event: LoadEvent) -> None:
        """An absent image is None, and stays None."""
        raw = first_raw(load_event, "insert.json")
        record = make(raw)

        assert record.old is None
        raw["dynamodb"]["OldImage"] = raw["dynamodb"]["NewImage"]
        assert record.old is None

    def test_failed_decoding_is_not_cached(self, load_event: LoadEvent) -> None:
        """A failed decode raises again on the next read rather than returning a stale value."""
        raw = first_raw(load_event, "modify.json")
        self.spoil(raw)
        record = make(raw)

        for _ in range(2):
            with pytest.raises(DecodeError):
                _ = record.old

    def test_decode_error_names_record_and_path(self, load_event: LoadEvent) -> None:
        """A bad value fails on access with the record and the attribute path named."""
        raw = first_raw(load_event, "modify.json")
        raw["dynamodb"]["NewImage"]["address"]["M"]["zip"] = {"N": "ten"}
        record = make(raw)

        with pytest.raises(DecodeError) as caught:
            _ = record.new

        error = caught.value
        assert error.path == "NewImage.address.zip"
        assert error.event_id == "eccbc87e4b5ce2fe28308fd9f2a7baf3"
        assert error.sequence_number == "4421584600000000017450439092"
        assert str(error) == (
            "NewImage.address.zip: not a number: 'ten' (eventID "
            "'eccbc87e4b5ce2fe28308fd9f2a7baf3', SequenceNumber '4421584600000000017450439092')"
        )

    @pytest.mark.parametrize("image", ["Keys", "NewImage", "OldImage"])
    def test_every_image_names_its_path(self, load_event: LoadEvent, image: str) -> None:
        """Keys, NewImage and OldImage errors each start their path with the image's name."""
        raw = first_raw(load_event, "modify.json")
        raw["dynamodb"][image]["pk"] = {"S": "a", "B": "AA=="}
        record = make(raw)

        with pytest.raises(DecodeError) as caught:
            _ = {"Keys": record.keys, "NewImage": record.new, "OldImage": record.old}

        assert caught.value.path == f"{image}.pk"
        assert caught.value.sequence_number == "4421584600000000017450439092"

    def test_image_that_is_not_a_map(self, load_event: LoadEvent) -> None:
        """An image that is not a JSON object is a DecodeError naming the image."""
        raw = first_raw(load_event, "modify.json")
        raw["dynamodb"]["OldImage"] = ["pk", "order#1"]

        with pytest.raises(DecodeError) as caught:
            _ = make(raw).old

        assert caught.value.path == "OldImage"

    def test_missing_keys(self) -> None:
        """A record without Keys fails when its keys are read."""
        record = make({"eventID": "x", "eventName": "INSERT", "dynamodb": {}})

        with pytest.raises(RecordError, match="no Keys") as caught:
            _ = record.keys
        assert caught.value.event_id == "x"


VIEW_TYPES = {
    "KEYS_ONLY": (),
    "NEW_IMAGE": ("NewImage",),
    "OLD_IMAGE": ("OldImage",),
    "NEW_AND_OLD_IMAGES": ("NewImage", "OldImage"),
}


def with_view_type(raw: dict[str, Any], view_type: str) -> dict[str, Any]:
    """The MODIFY *raw* as a stream of *view_type* would deliver it."""
    raw = copy.deepcopy(raw)
    dynamodb = raw["dynamodb"]
    for image in ("NewImage", "OldImage"):
        if image not in VIEW_TYPES[view_type]:
            del dynamodb[image]
    dynamodb["StreamViewType"] = view_type
    return raw


class TestViewTypes:
    @pytest.mark.parametrize("view_type", sorted(VIEW_TYPES))
    def test_images_per_view_type(self, load_event: LoadEvent, view_type: str) -> None:
        """A MODIFY's new and old are there when the view type carries them; reading one it
        does not carry raises MissingImageError naming the view type and the fix."""
        record = make(with_view_type(first_raw(load_event, "modify.json"), view_type))

        for name, image in (("new", "NewImage"), ("old", "OldImage")):
            if image in VIEW_TYPES[view_type]:
                assert isinstance(getattr(record, name), dict)
            else:
                with pytest.raises(MissingImageError) as caught:
                    getattr(record, name)
                assert str(caught.value).startswith(
                    f"record.{name} needs the {image} of this MODIFY, but the stream's view "
                    f"type is {view_type}; set StreamViewType to NEW_AND_OLD_IMAGES"
                )
                assert caught.value.event_id == record.event_id
                assert caught.value.sequence_number == record.sequence_number
        assert record.keys == {"pk": "order#1", "sk": "v0"}
        assert record.stream_view_type == view_type

    def test_keys_only_event(self, load_event: LoadEvent) -> None:
        """In a KEYS_ONLY stream every record has keys and no image: None where the change
        has no such image, an error where the stream omits it; item is the keys."""
        records = [make(raw) for raw in load_event("keys_only.json")["Records"]]

        assert [r.event_name for r in records] == ["INSERT", "MODIFY", "REMOVE"]
        insert, modify, remove = records
        assert insert.old is None
        assert remove.new is None
        for record, name in ((insert, "new"), (modify, "new"), (modify, "old"), (remove, "old")):
            with pytest.raises(MissingImageError, match="view type is KEYS_ONLY"):
                getattr(record, name)
        assert all(r.item == {"pk": "order#1", "sk": "v0"} for r in records)

    def test_records_are_typed_by_event(self, load_event: LoadEvent) -> None:
        """Records are Insert, Modify or Remove, subclasses of Record, by their eventName."""
        records = [make(raw) for raw in load_event("keys_only.json")["Records"]]

        assert [type(r) for r in records] == [Insert, Modify, Remove]
        assert all(isinstance(r, Record) for r in records)
        kinds = []
        for record in records:
            match record:
                case Insert():
                    kinds.append("insert")
                case Modify():
                    kinds.append("modify")
                case Remove():
                    kinds.append("remove")
        assert kinds == ["insert", "modify", "remove"]

    def test_record_classes_are_subscriptable(self) -> None:
        """Insert[Order] works at run time, as a type annotation evaluated by a library would."""
        alias = Modify[dict[str, int]]
        assert typing.get_origin(alias) is Modify
        assert typing.get_args(alias) == (dict[str, int],)
        assert typing.get_origin(Record[int]) is Record


class TestItem:
    def test_new_image_first(self, load_event: LoadEvent) -> None:
        """item is the new image when there is one."""
        record = make(first_raw(load_event, "modify.json"))

        assert record.item is record.new

    def test_old_image_on_remove(self, load_event: LoadEvent) -> None:
        """item is the old image of a REMOVE."""
        record = make(first_raw(load_event, "remove.json"))

        assert record.item is record.old

    def test_keys_when_no_image(self, load_event: LoadEvent) -> None:
        """item is the keys when the view type carries no image."""
        record = make(with_view_type(first_raw(load_event, "modify.json"), "KEYS_ONLY"))

        assert record.item is record.keys


class TestDiff:
    def test_modify(self, load_event: LoadEvent) -> None:
        """diff lists added, removed and changed top-level attributes with their values."""
        diff = make(first_raw(load_event, "modify.json")).diff

        assert diff.added == {"trackingId": "1Z999AA10123456784"}
        assert diff.removed == {"tags": {"gift", "express"}}
        assert diff.changed == {"status": ("PACKED", "SHIPPED")}
        assert diff.names == {"trackingId", "tags", "status"}
        assert "status" in diff
        assert "tags" in diff
        assert "trackingId" in diff
        assert "total" not in diff
        assert diff

    def test_insert_adds_everything(self, load_event: LoadEvent) -> None:
        """On an INSERT every attribute is added."""
        record = make(first_raw(load_event, "insert.json"))

        assert record.diff == Diff(added=record.new or {}, removed={}, changed={})

    def test_remove_removes_everything(self, load_event: LoadEvent) -> None:
        """On a REMOVE every attribute is removed."""
        record = make(first_raw(load_event, "remove.json"))

        assert record.diff == Diff(added={}, removed=record.old or {}, changed={})

    def modify(self, old: dict[str, Any], new: dict[str, Any]) -> Record:
        return make(
            {"eventName": "MODIFY", "dynamodb": {"Keys": {}, "OldImage": old, "NewImage": new}}
        )

    def test_true_is_not_one(self) -> None:
        """BOOL true replacing N 1 is a change, though ``True == 1`` in Python."""
        diff = self.modify({"a": {"N": "1"}}, {"a": {"BOOL": True}}).diff

        assert diff.changed == {"a": (Decimal(1), True)}

    def test_same_number_other_spelling_is_unchanged(self) -> None:
        """``1.0`` and ``1`` are the same DynamoDB number: no change."""
        diff = self.modify({"a": {"N": "1"}}, {"a": {"N": "1.0"}}).diff

        assert diff.changed == {}
        assert not diff

    def test_nested_change(self) -> None:
        """A change inside a map changes its top-level attribute."""
        diff = self.modify(
            {"m": {"M": {"x": {"L": [{"N": "1"}]}}}}, {"m": {"M": {"x": {"L": [{"N": "2"}]}}}}
        ).diff

        assert diff.changed == {"m": ({"x": [Decimal(1)]}, {"x": [Decimal(2)]})}

    @pytest.mark.parametrize("view_type", ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE"])
    def test_modify_without_both_images(self, load_event: LoadEvent, view_type: str) -> None:
        """A MODIFY lacking an image cannot be diffed; the error says to use both images."""
        raw = with_view_type(first_raw(load_event, "modify.json"), view_type)

        with pytest.raises(MissingImageError) as caught:
            _ = make(raw).diff

        message = str(caught.value)
        assert "record.diff" in message
        assert f"view type is {view_type}" in message
        assert "NEW_AND_OLD_IMAGES" in message
        assert caught.value.sequence_number == "4421584600000000017450439092"

    def test_insert_without_new_image(self, load_event: LoadEvent) -> None:
        """A KEYS_ONLY INSERT cannot be diffed either."""
        raw = load_event("keys_only.json")["Records"][0]

        with pytest.raises(MissingImageError, match="NewImage of this INSERT"):
            _ = make(raw).diff

    def test_unknown_view_type(self) -> None:
        """Without a StreamViewType the message says so."""
        record = make({"eventName": "MODIFY", "dynamodb": {"Keys": {}}})

        with pytest.raises(MissingImageError, match=r"NewImage and OldImage .* is unknown"):
            _ = record.diff


class TestDiffObject:
    def test_equality_and_repr(self) -> None:
        """Diffs compare by content, are unhashable, and show their parts."""
        diff = Diff({"a": 1}, {}, {"b": (1, 2)})

        assert diff == Diff({"a": 1}, {}, {"b": (1, 2)})
        assert diff != Diff({}, {}, {})
        assert diff != "diff"
        assert repr(diff) == "Diff(added={'a': 1}, removed={}, changed={'b': (1, 2)})"
        with pytest.raises(TypeError):
            hash(diff)

    def test_empty(self) -> None:
        """An empty diff is falsy and names nothing."""
        diff = Diff({}, {}, {})

        assert not diff
        assert diff.names == set()
        assert "a" not in diff


class TestMalformed:
    @pytest.mark.parametrize("dynamodb", [None, "x", [], 5])
    def test_no_dynamodb_block(self, dynamodb: Any) -> None:
        """A record without a dynamodb object is a RecordError naming the record."""
        raw: dict[str, Any] = {"eventID": "e1", "eventName": "INSERT"}
        if dynamodb is not None:
            raw["dynamodb"] = dynamodb

        with pytest.raises(RecordError, match="no 'dynamodb' object") as caught:
            make(raw)

        assert caught.value.event_id == "e1"

    @pytest.mark.parametrize("name", ["UPDATE", "insert", None, 1])
    def test_unknown_event_name(self, name: Any) -> None:
        """An eventName other than INSERT, MODIFY, REMOVE is a RecordError naming it."""
        raw = {"eventID": "e1", "eventName": name, "dynamodb": {"SequenceNumber": "7"}}

        with pytest.raises(RecordError) as caught:
            make(raw)

        assert f"unknown eventName {name!r}" in str(caught.value)
        assert caught.value.sequence_number == "7"
        assert "SequenceNumber '7'" in str(caught.value)


class TestOtherMappings:
    def test_a_record_that_is_not_a_dict_is_read_too(self, app: App) -> None:
        """A record given as another Mapping (a read-only proxy, say) works like a dict."""
        from types import MappingProxyType

        seen: list[Any] = []
        app.on_insert(lambda record: seen.append(record.new))
        raw = {
            "eventID": "1",
            "eventName": "INSERT",
            "dynamodb": {
                "Keys": {"pk": {"S": "a"}},
                "NewImage": {"pk": {"S": "a"}},
                "SequenceNumber": "1",
            },
        }

        app.handler({"Records": [MappingProxyType(raw)]}, None)

        assert seen == [{"pk": "a"}]


class TestTypedRecordsEverywhere:
    @pytest.mark.parametrize("source", ["streams", "kinesis", "pipes"])
    @pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
    def test_every_source_and_loop_delivers_typed_records(
        self, source: str, asynchronous: bool
    ) -> None:
        """Streams, Kinesis and Pipes, sync and async loops: Insert, Modify, Remove."""
        from ddbstream.testing import event, insert, kinesis_event, modify, pipes_event, remove

        app = App()
        seen: list[type[Record]] = []
        if asynchronous:

            async def collect(record: Record) -> None:
                seen.append(type(record))

            app.on("INSERT", "MODIFY", "REMOVE")(collect)
        else:
            app.on("INSERT", "MODIFY", "REMOVE")(lambda record: seen.append(type(record)))
        item = {"pk": "a", "n": 1}
        records = (insert(item), modify(item, {**item, "n": 2}), remove(item))
        wrap = {"streams": event, "kinesis": kinesis_event, "pipes": pipes_event}[source]

        app.handler(wrap(*records), None)

        assert seen == [Insert, Modify, Remove]
