"""What a real DynamoDB stream emits, fed to ``app.handler``: moto's server, boto3 writes.

Each test creates a table with a stream on moto's server (see conftest.py), writes with boto3,
reads the stream with the low-level ``dynamodbstreams`` API (DescribeStream, GetShardIterator
TRIM_HORIZON, GetRecords), turns the records into Lambda's JSON with
:func:`ddbstream.tail.to_lambda_record`, and checks what the handlers saw.

Where moto (5.x) differs from DynamoDB Streams, the tests assert what moto does:

- A write that changes nothing (a PutItem of an identical item) emits a MODIFY whose images
  are equal; DynamoDB writes no stream record for a write that changes no data.
- An UpdateItem that creates an item emits two INSERTs, the first with only the key
  attributes; DynamoDB emits one INSERT with the whole item.
- ``Keys`` of a binary key attribute hold the base64 text of the value as its bytes (encoded
  twice), while the images hold the right bytes; DynamoDB sends the bytes in both.
- ``awsRegion`` is always ``us-east-1``, whatever the table's region.
- ``ApproximateCreationDateTime`` has milliseconds; DynamoDB Streams rounds it down to the
  second (so Lambda's JSON has a whole number).
- ``SizeBytes`` is the length of the record's JSON, an overestimate of DynamoDB's figure.
- Sequence numbers are consecutive integers counting from 1100000000017454423009, and every
  table's single shard has the same shard ID; DynamoDB's numbers only increase (with gaps)
  and shard IDs are unique.
- A stream has one shard that never closes or splits: no ``EndingSequenceNumber``, no
  ``ParentShardId``, no child shards (tests/test_tail.py covers those with a fake client).
- Time to Live never deletes anything, so there are no TTL REMOVE records (with their
  ``userIdentity``); records are never trimmed after 24 hours; ``eventVersion`` is "1.0"
  (Lambda's samples say "1.1").
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from ddbstream import App, Attr, Record
from ddbstream.errors import MissingImageError
from ddbstream.tail import to_lambda_record

CreateTable = Callable[..., Any]
VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
BIG_NUMBER = Decimal("12345678901234567890123456789012345678")  # 38 digits, DynamoDB's most

_serializer = TypeSerializer()


def to_dynamodb(item: dict[str, Any]) -> dict[str, Any]:
    """A Python item as DynamoDB JSON for the low-level client (bytes stay bytes)."""
    return {name: _serializer.serialize(value) for name, value in item.items()}


def every_type() -> dict[str, Any]:
    """An item with every attribute type and the awkward values of each."""
    return {
        "pk": "every-type",
        "string": "plain",
        "unicode": "Zürich · 東京 · emoji 🎉 · combining e\u0301 · \u0000 nul",
        "empty_string": "",
        "big": BIG_NUMBER,
        "negative_big": -BIG_NUMBER,
        "tiny": Decimal("1E-130"),
        "huge": Decimal("9.9999999999999999999999999999999999999E+125"),
        "fraction": Decimal("0.1"),
        "zero": Decimal(0),
        "binary": b"\x00\x01\xfe\xff binary",
        "empty_binary": b"",
        "true": True,
        "false": False,
        "null": None,
        "map": {"address": {"city": "Paris", "zip": "75001"}, "empty": {}},
        "list": ["a", Decimal(1), b"\x02", None, True, ["nested"], {"k": "v"}],
        "empty_list": [],
        "strings": {"a", "b", "ü"},
        "numbers": {Decimal(1), Decimal("2.5"), BIG_NUMBER},
        "binaries": {b"\x00", b"\xff", b"abc"},
    }


def collect(app: App) -> list[Record]:
    """Register a handler on every event that keeps the records it sees."""
    seen: list[Record] = []
    app.on("INSERT", "MODIFY", "REMOVE")(seen.append)
    return seen


class TestLambdaShape:
    def test_fields_are_lambdas(self, create_table: CreateTable, dynamodb: Any) -> None:
        """A converted record has Lambda's fields, the stream ARN, and is plain JSON."""
        table = create_table("NEW_AND_OLD_IMAGES")
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb({"pk": "a", "b": b"\x00"}))

        raw = table.raw_records()
        record = to_lambda_record(raw[0], table.stream_arn)

        assert list(record) == [
            "eventID",
            "eventName",
            "eventVersion",
            "eventSource",
            "awsRegion",
            "dynamodb",
            "eventSourceARN",
        ]
        assert record["eventSourceARN"] == table.stream_arn
        assert record["eventSource"] == "aws:dynamodb"
        assert record["dynamodb"]["NewImage"]["b"] == {"B": "AA=="}
        assert json.loads(json.dumps(record)) == record
        assert raw[0]["dynamodb"]["NewImage"]["b"] == {"B": b"\x00"}  # the input is untouched

    def test_creation_time_is_epoch_seconds(self, create_table: CreateTable, dynamodb: Any) -> None:
        """ApproximateCreationDateTime becomes a number of seconds (moto adds milliseconds)."""
        table = create_table()
        before = time.time()
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb({"pk": "a"}))
        app = App()
        seen = collect(app)

        app.handler(table.event(), None)

        stamp = table.event()["Records"][0]["dynamodb"]["ApproximateCreationDateTime"]
        assert isinstance(stamp, float)
        assert before - 1 <= stamp <= time.time() + 1
        moment = seen[0].approximate_creation_time
        assert moment is not None
        assert moment.timestamp() == pytest.approx(stamp)

    def test_moto_metadata(self, create_table: CreateTable, dynamodb: Any) -> None:
        """Sequence numbers, region, size and table name are what moto documents above."""
        table = create_table("NEW_IMAGE")
        for number in range(3):
            dynamodb.put_item(TableName=table.name, Item=to_dynamodb({"pk": f"k{number}"}))
        app = App()
        seen = collect(app)

        app.handler(table.event(), None)

        numbers = [int(record.sequence_number or "0") for record in seen]
        assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
        assert numbers[0] == 1100000000017454423009
        assert {record.region for record in seen} == {"us-east-1"}
        assert {record.table_name for record in seen} == {table.name}
        assert all((record.size_bytes or 0) > 0 for record in seen)
        assert {record.stream_view_type for record in seen} == {"NEW_IMAGE"}
        assert [record.event_id for record in seen] == [
            record["eventID"] for record in table.event()["Records"]
        ]


class TestValues:
    def test_every_type_round_trips(self, create_table: CreateTable, dynamodb: Any) -> None:
        """Handlers see exactly the item written, with every attribute type."""
        table = create_table()
        item = every_type()
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb(item))
        app = App()
        seen = collect(app)

        app.handler(table.event(), None)

        assert len(seen) == 1
        assert seen[0].new == item
        assert seen[0].keys == {"pk": "every-type"}
        assert seen[0].old is None

    def test_numbers_keep_every_digit(self, create_table: CreateTable, dynamodb: Any) -> None:
        """38-digit numbers arrive as exact Decimals with every digit, as text and as value."""
        table = create_table()
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb(every_type()))
        app = App()
        seen = collect(app)

        app.handler(table.event(), None)

        new = seen[0].new
        assert new is not None
        assert str(new["big"]) == "12345678901234567890123456789012345678"
        assert new["negative_big"] == -BIG_NUMBER
        assert new["huge"] == Decimal("9.9999999999999999999999999999999999999E+125")
        assert new["tiny"] == Decimal("1E-130")
        assert BIG_NUMBER in new["numbers"]

    def test_parse_number_applies(self, create_table: CreateTable, dynamodb: Any) -> None:
        """App(parse_number=int) turns the stream's N values into ints."""
        table = create_table()
        dynamodb.put_item(
            TableName=table.name,
            Item=to_dynamodb({"pk": "n", "count": Decimal(7), "big": BIG_NUMBER}),
        )
        app = App(parse_number=int)
        seen = collect(app)

        app.handler(table.event(), None)

        assert seen[0].new == {"pk": "n", "count": 7, "big": int(BIG_NUMBER)}
        assert type(seen[0].new["count"]) is int

    def test_deep_nesting(self, create_table: CreateTable, dynamodb: Any) -> None:
        """A map nested 31 levels deep (DynamoDB allows 32) arrives whole."""
        table = create_table()
        nested: dict[str, Any] = {"leaf": "bottom"}
        for level in range(30):
            nested = {f"level{level}": nested}
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb({"pk": "deep", "m": nested}))
        app = App()
        seen = collect(app)

        app.handler(table.event(), None)

        assert seen[0].new == {"pk": "deep", "m": nested}

    def test_item_near_400_kb(self, create_table: CreateTable, dynamodb: Any) -> None:
        """An item of almost 400 KB (DynamoDB's limit) arrives whole, in both images."""
        table = create_table()
        text = "x" * 250_000
        blob = bytes(range(256)) * 550  # 140,800 bytes, 187,734 as base64
        first = {"pk": "big", "text": text, "blob": blob}
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb(first))
        second = {**first, "text": text.upper()}
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb(second))
        app = App()
        seen = collect(app)

        app.handler(table.event(), None)

        assert [record.event_name for record in seen] == ["INSERT", "MODIFY"]
        assert seen[1].old == first
        assert seen[1].new == second
        assert seen[1].diff.names == {"text"}
        assert (seen[0].size_bytes or 0) > 390_000

    def test_binary_sort_key(self, create_table: CreateTable, dynamodb: Any) -> None:
        """A composite key with a binary sort key: images exact, Keys as moto encodes them."""
        table = create_table(sort_key="B")
        sort_key = b"\x00\xffkey"
        item = {"pk": "composite", "sk": sort_key, "value": "v"}
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb(item))
        dynamodb.delete_item(
            TableName=table.name, Key=to_dynamodb({"pk": "composite", "sk": sort_key})
        )
        app = App()
        seen = collect(app)

        app.handler(table.event(), None)

        assert [record.event_name for record in seen] == ["INSERT", "REMOVE"]
        assert seen[0].new == item
        assert seen[1].old == item
        # moto encodes binary keys twice (DynamoDB would give sort_key itself).
        assert seen[0].keys == {"pk": "composite", "sk": base64.b64encode(sort_key)}


class TestViewTypes:
    @pytest.mark.parametrize("view", VIEW_TYPES)
    def test_images_per_view_type(
        self, view: str, create_table: CreateTable, dynamodb: Any
    ) -> None:
        """Each StreamViewType carries the images it promises and no others."""
        table = create_table(view)
        first = {"pk": "item", "status": "NEW", "n": Decimal(1)}
        second = {"pk": "item", "status": "SHIPPED", "n": Decimal(2)}
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb(first))
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb(second))
        dynamodb.delete_item(TableName=table.name, Key=to_dynamodb({"pk": "item"}))
        app = App()
        seen = collect(app)

        app.handler(table.event(), None)

        has_new = view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
        has_old = view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
        missing = "MissingImageError"  # the change has the image, the stream omits it
        assert [record.event_name for record in seen] == ["INSERT", "MODIFY", "REMOVE"]
        assert [record.keys for record in seen] == [{"pk": "item"}] * 3
        assert [_image(record, "new") for record in seen] == [
            first if has_new else missing,
            second if has_new else missing,
            None,
        ]
        assert [_image(record, "old") for record in seen] == [
            None,
            first if has_old else missing,
            second if has_old else missing,
        ]
        assert {record.stream_view_type for record in seen} == {view}

    @pytest.mark.parametrize("view", VIEW_TYPES)
    def test_the_shipped_route_never_skips_silently(
        self, view: str, create_table: CreateTable, dynamodb: Any
    ) -> None:
        """changed= with new= runs on NEW_AND_OLD_IMAGES and fails the MODIFY on any other
        view type, naming the fix; it never counts the record as unmatched."""
        table = create_table(view)
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb({"pk": "o", "status": "NEW"}))
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb({"pk": "o", "status": "SHIPPED"}))
        app = App(report_batch_item_failures=True)
        shipped: list[Any] = []
        app.on_modify(changed="status", new=Attr("status").eq("SHIPPED"))(
            lambda record: shipped.append(record.keys["pk"])
        )

        outcome = app.process(table.event())

        if view == "NEW_AND_OLD_IMAGES":
            assert (shipped, outcome.failures) == (["o"], [])
        else:
            assert shipped == []
            assert isinstance(outcome.error, MissingImageError)
            assert f"view type is {view}" in str(outcome.error)
            assert outcome.failures == [
                {"itemIdentifier": table.event()["Records"][1]["dynamodb"]["SequenceNumber"]}
            ]

    def test_keys_only_item_is_the_keys(self, create_table: CreateTable, dynamodb: Any) -> None:
        """On KEYS_ONLY, record.item falls back to the keys and where= filters read them."""
        table = create_table("KEYS_ONLY")
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb({"pk": "a", "x": "1"}))
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb({"pk": "b", "x": "2"}))
        app = App()
        seen: list[Any] = []
        app.on_insert(where=Attr("pk").eq("b"))(lambda record: seen.append(record.item))

        app.handler(table.event(), None)

        assert seen == [{"pk": "b"}]

    def test_changed_needs_both_images(self, create_table: CreateTable, dynamodb: Any) -> None:
        """A changed= route fails a real NEW_IMAGE MODIFY, saying NEW_AND_OLD_IMAGES is needed."""
        table = create_table("NEW_IMAGE")
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb({"pk": "a", "s": "1"}))
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb({"pk": "a", "s": "2"}))
        app = App(report_batch_item_failures=True)
        app.on_modify(changed="s")(lambda record: None)

        outcome = app.process(table.event())

        assert outcome.processed == 1
        assert "NEW_AND_OLD_IMAGES" in str(outcome.error)


class TestWrites:
    def test_update_set_remove_add(self, create_table: CreateTable, dynamodb: Any) -> None:
        """UpdateItem SET / REMOVE / ADD shows up as a MODIFY with the right images and diff."""
        table = create_table()
        before = {"pk": "u", "status": "NEW", "count": Decimal(1), "tags": {"a"}, "note": "x"}
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb(before))
        dynamodb.update_item(
            TableName=table.name,
            Key=to_dynamodb({"pk": "u"}),
            UpdateExpression="SET #s = :s, address = :a REMOVE note ADD #n :one, tags :t",
            ExpressionAttributeNames={"#s": "status", "#n": "count"},
            ExpressionAttributeValues=to_dynamodb(
                {":s": "SHIPPED", ":one": Decimal(1), ":t": {"b"}, ":a": {"city": "Oslo"}}
            ),
        )
        app = App()
        seen = collect(app)

        app.handler(table.event(), None)

        after = {
            "pk": "u",
            "status": "SHIPPED",
            "count": Decimal(2),
            "tags": {"a", "b"},
            "address": {"city": "Oslo"},
        }
        modify = seen[1]
        assert modify.event_name == "MODIFY"
        assert modify.old == before
        assert modify.new == after
        assert modify.diff.added == {"address": {"city": "Oslo"}}
        assert modify.diff.removed == {"note": "x"}
        assert modify.diff.changed == {
            "status": ("NEW", "SHIPPED"),
            "count": (Decimal(1), Decimal(2)),
            "tags": ({"a"}, {"a", "b"}),
        }

    def test_update_creating_an_item(self, create_table: CreateTable, dynamodb: Any) -> None:
        """An UpdateItem that creates the item emits two INSERTs on moto (DynamoDB: one)."""
        table = create_table()
        dynamodb.update_item(
            TableName=table.name,
            Key=to_dynamodb({"pk": "fresh"}),
            UpdateExpression="SET v = :v",
            ExpressionAttributeValues=to_dynamodb({":v": "value"}),
        )
        app = App()
        seen = collect(app)

        app.handler(table.event(), None)

        assert [record.event_name for record in seen] == ["INSERT", "INSERT"]
        assert [record.new for record in seen] == [{"pk": "fresh"}, {"pk": "fresh", "v": "value"}]

    def test_identical_overwrite(self, create_table: CreateTable, dynamodb: Any) -> None:
        """Rewriting an identical item emits a MODIFY on moto, which changed= routes skip."""
        table = create_table()
        item = {"pk": "same", "status": "NEW"}
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb(item))
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb(item))
        app = App()
        seen = collect(app)
        changed: list[Record] = []
        app.on_modify(changed="status")(changed.append)

        app.handler(table.event(), None)

        assert [record.event_name for record in seen] == ["INSERT", "MODIFY"]
        assert seen[1].old == seen[1].new == item
        assert not seen[1].diff
        assert changed == []

    def test_batch_write(self, create_table: CreateTable, dynamodb: Any) -> None:
        """BatchWriteItem puts and deletes each produce their own record."""
        table = create_table()
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb({"pk": "gone", "v": "old"}))
        requests = [
            {"PutRequest": {"Item": to_dynamodb({"pk": f"b{n}", "n": n})}} for n in range(3)
        ]
        requests.append({"DeleteRequest": {"Key": to_dynamodb({"pk": "gone"})}})
        dynamodb.batch_write_item(RequestItems={table.name: requests})
        app = App()
        seen = collect(app)

        app.handler(table.event(), None)

        assert sorted((r.event_name, r.keys["pk"]) for r in seen[1:]) == [
            ("INSERT", "b0"),
            ("INSERT", "b1"),
            ("INSERT", "b2"),
            ("REMOVE", "gone"),
        ]
        removed = next(record for record in seen[1:] if record.event_name == "REMOVE")
        assert removed.old == {"pk": "gone", "v": "old"}

    def test_transact_write(self, create_table: CreateTable, dynamodb: Any) -> None:
        """TransactWriteItems Put / Update / Delete emit a record each; ConditionCheck none."""
        table = create_table()
        for key in ("to-update", "to-delete", "checked"):
            dynamodb.put_item(TableName=table.name, Item=to_dynamodb({"pk": key, "v": "1"}))
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table.name, "Item": to_dynamodb({"pk": "put", "v": "1"})}},
                {
                    "Update": {
                        "TableName": table.name,
                        "Key": to_dynamodb({"pk": "to-update"}),
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": to_dynamodb({":v": "2"}),
                    }
                },
                {"Delete": {"TableName": table.name, "Key": to_dynamodb({"pk": "to-delete"})}},
                {
                    "ConditionCheck": {
                        "TableName": table.name,
                        "Key": to_dynamodb({"pk": "checked"}),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
        app = App()
        seen = collect(app)

        app.handler(table.event(), None)

        changes = {record.keys["pk"]: record for record in seen[3:]}
        assert sorted((r.event_name, key) for key, r in changes.items()) == [
            ("INSERT", "put"),
            ("MODIFY", "to-update"),
            ("REMOVE", "to-delete"),
        ]
        assert changes["to-update"].diff.changed == {"v": ("1", "2")}

    def test_writes_that_change_nothing(self, create_table: CreateTable, dynamodb: Any) -> None:
        """A failed conditional write and the delete of a missing item emit no record."""
        table = create_table()
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb({"pk": "a", "v": "1"}))
        with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
            dynamodb.put_item(
                TableName=table.name,
                Item=to_dynamodb({"pk": "a", "v": "2"}),
                ConditionExpression="attribute_not_exists(pk)",
            )
        dynamodb.delete_item(TableName=table.name, Key=to_dynamodb({"pk": "missing"}))

        records = table.event()["Records"]

        assert [record["eventName"] for record in records] == ["INSERT"]


class TestRouting:
    def test_changed_routes_on_real_modifies(
        self, create_table: CreateTable, dynamodb: Any
    ) -> None:
        """changed= and new= routes run only on the real MODIFYs that match them."""
        table = create_table()
        dynamodb.put_item(
            TableName=table.name,
            Item=to_dynamodb({"pk": "o", "status": "NEW", "address": {"city": "Paris"}}),
        )
        values = {":shipped": "SHIPPED", ":oslo": "Oslo", ":x": "x"}
        for update in ("SET #s = :shipped", "SET address.city = :oslo", "SET note = :x"):
            name = update.split()[-1]
            dynamodb.update_item(
                TableName=table.name,
                Key=to_dynamodb({"pk": "o"}),
                UpdateExpression=update,
                ExpressionAttributeValues=to_dynamodb({name: values[name]}),
                **({"ExpressionAttributeNames": {"#s": "status"}} if "#s" in update else {}),
            )
        app = App()
        runs: list[tuple[str, Any]] = []
        app.on_modify(changed="status", new=Attr("status").eq("SHIPPED"))(
            lambda record: runs.append(("shipped", record.new["status"]))
        )
        app.on_modify(changed="address.city")(
            lambda record: runs.append(("moved", record.new["address"]["city"]))
        )
        app.on_modify(lambda record: runs.append(("any", sorted(record.diff.names))))

        app.handler(table.event(), None)

        assert runs == [
            ("shipped", "SHIPPED"),
            ("any", ["status"]),
            ("moved", "Oslo"),
            ("any", ["address"]),
            ("any", ["note"]),
        ]

    def test_table_filter_uses_the_stream_arn(
        self, create_table: CreateTable, dynamodb: Any
    ) -> None:
        """table= routes match the table named by the real stream ARN."""
        table = create_table()
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb({"pk": "a"}))
        app = App()
        mine: list[str] = []
        app.on_insert(table=table.name)(lambda record: mine.append(record.keys["pk"]))
        app.on_insert(table="someone-else")(lambda record: mine.append("wrong"))

        app.handler(table.event(), None)

        assert mine == ["a"]


class TestFailures:
    def _write(self, dynamodb: Any, table: Any) -> None:
        for key in ("k1", "k2", "k3", "k4"):
            dynamodb.put_item(TableName=table.name, Item=to_dynamodb({"pk": key}))

    def test_report_mode_names_the_failed_record(
        self, create_table: CreateTable, dynamodb: Any
    ) -> None:
        """Report mode returns the SequenceNumber GetRecords gave the failed record."""
        table = create_table()
        self._write(dynamodb, table)
        app = App(report_batch_item_failures=True)
        ran: list[str] = []

        @app.on_insert
        def fail_on_k3(record: Record) -> None:
            if record.keys["pk"] == "k3":
                raise RuntimeError("k3 is broken")
            ran.append(record.keys["pk"])

        raw = table.raw_records()
        response = app.handler(table.event(), None)

        assert response == {
            "batchItemFailures": [{"itemIdentifier": raw[2]["dynamodb"]["SequenceNumber"]}]
        }
        assert ran == ["k1", "k2"]

    def test_default_mode_raises(self, create_table: CreateTable, dynamodb: Any) -> None:
        """Without report mode the handler's exception propagates after the earlier records."""
        table = create_table()
        self._write(dynamodb, table)
        app = App()
        ran: list[str] = []

        @app.on_insert
        def fail_on_k2(record: Record) -> None:
            if record.keys["pk"] == "k2":
                raise RuntimeError("k2 is broken")
            ran.append(record.keys["pk"])

        with pytest.raises(RuntimeError, match="k2 is broken"):
            app.handler(table.event(), None)
        assert ran == ["k1"]


def _image(record: Any, name: str) -> Any:
    """``record.new`` or ``record.old``, or the name of the error reading it raises."""
    try:
        return getattr(record, name)
    except MissingImageError as error:
        return type(error).__name__
