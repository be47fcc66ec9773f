"""Tests of route filters: where=, new=, old=, changed=, table=, ttl= on real records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr as Boto3Attr

from ddbstream import App, Attr, Record, Router
from ddbstream.conditions import Comparison
from ddbstream.errors import DecodeError, MissingImageError, SetupError

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
KEYS = {"pk": {"S": "order#1"}}


def stream_record(
    event_name: str,
    *,
    new: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    keys: dict[str, Any] | None = None,
    view: str = "NEW_AND_OLD_IMAGES",
    table: str = "Orders",
    identity: dict[str, Any] | None = None,
    sequence_number: str = "100",
) -> dict[str, Any]:
    """A DynamoDB Streams record as Lambda delivers it (images in DynamoDB JSON)."""
    dynamodb: dict[str, Any] = {
        "Keys": KEYS if keys is None else keys,
        "SequenceNumber": sequence_number,
        "StreamViewType": view,
    }
    if new is not None:
        dynamodb["NewImage"] = new
    if old is not None:
        dynamodb["OldImage"] = old
    raw: dict[str, Any] = {
        "eventID": f"id-{sequence_number}",
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "eventSourceARN": (
            f"arn:aws:dynamodb:eu-west-1:123456789012:table/{table}/stream/2024-01-01T00:00:00.000"
        ),
        "dynamodb": dynamodb,
    }
    if identity is not None:
        raw["userIdentity"] = identity
    return raw


def event(*records: dict[str, Any]) -> dict[str, Any]:
    """A Lambda event of *records*."""
    return {"Records": list(records)}


def run(app: App, *records: dict[str, Any]) -> list[str]:
    """Run *app* on *records*; return the names of the routes that ran, in order."""
    outcome = app.process(event(*records))
    if outcome.error is not None:
        raise outcome.error
    return [name.rsplit(".", 1)[-1] for _, name in outcome.ran]


def item(**values: Any) -> dict[str, Any]:
    """An image with the key and the given tagged values."""
    return {**KEYS, **values}


class TestWhere:
    def test_reads_new_image_else_old_else_keys(self, app: App) -> None:
        """where= tests the new image, else the old image, else the keys."""

        @app.on("INSERT", "MODIFY", "REMOVE", where={"pk": "order#1"})
        def by_key(record: Record) -> None:
            """Runs for order#1."""

        @app.on("MODIFY", "REMOVE", where={"status": "OLD"})
        def by_status(record: Record) -> None:
            """Runs while the item's status is OLD."""

        assert run(app, stream_record("INSERT", new=item(), view="KEYS_ONLY")) == ["by_key"]
        modify_old_only = stream_record("MODIFY", old=item(status={"S": "OLD"}), view="OLD_IMAGE")
        assert run(app, modify_old_only) == ["by_key", "by_status"]
        modify_both = stream_record(
            "MODIFY", old=item(status={"S": "OLD"}), new=item(status={"S": "NEW"})
        )
        assert run(app, modify_both) == ["by_key"]
        assert run(app, stream_record("REMOVE", old=item(status={"S": "OLD"}))) == [
            "by_key",
            "by_status",
        ]
        # On a KEYS_ONLY stream a where= that reads key attributes only is tested on the keys;
        # one that reads another attribute cannot be decided, and fails the record.
        only_keys = App()
        only_keys.on("INSERT", "MODIFY", "REMOVE", where={"pk": "order#1"})(by_key)
        other = stream_record("REMOVE", keys={"pk": {"S": "order#2"}}, view="KEYS_ONLY")
        assert run(only_keys, other) == []
        with pytest.raises(MissingImageError, match=r"route 'TestWhere.*by_status' \(where=\)"):
            run(app, other)

    def test_where_on_keys_only_names_the_fix(self, app: App) -> None:
        """where= on a non-key attribute of a KEYS_ONLY record says which image it needs."""
        app.on_insert(where={"status": "NEW"})(lambda record: None)
        keys_only = stream_record("INSERT", view="KEYS_ONLY")

        with pytest.raises(MissingImageError) as caught:
            app.handler(event(keys_only), None)

        message = str(caught.value)
        assert "needs the NewImage of this INSERT" in message
        assert "view type is KEYS_ONLY" in message
        assert "NEW_AND_OLD_IMAGES" in message
        assert caught.value.event_id == "id-100"

    def test_a_where_function_needs_an_image(self, app: App) -> None:
        """A function in where= may read any attribute: on the keys alone it fails the record."""
        app.on_insert(where=lambda image: image["pk"] == "order#1")(lambda record: None)
        keys_only = stream_record("INSERT", view="KEYS_ONLY")

        with pytest.raises(MissingImageError, match="needs the NewImage of this INSERT"):
            app.handler(event(keys_only), None)

    def test_function_of_the_item(self, app: App) -> None:
        """A function receives the decoded item."""

        @app.on_insert(where=lambda image: image["total"] > 100)
        def big(record: Record) -> None:
            """Runs for big orders."""

        assert run(app, stream_record("INSERT", new=item(total={"N": "150.5"}))) == ["big"]
        assert run(app, stream_record("INSERT", new=item(total={"N": "99"}))) == []

    def test_boto3_condition(self, app: App) -> None:
        """boto3 conditions filter like ours."""

        @app.on_insert(where=Boto3Attr("status").eq("NEW") & Boto3Attr("total").gte(10))
        def new_orders(record: Record) -> None:
            """Runs for new orders of 10 or more."""

        matching = stream_record("INSERT", new=item(status={"S": "NEW"}, total={"N": "10.0"}))
        assert run(app, matching) == ["new_orders"]
        assert run(app, stream_record("INSERT", new=item(status={"S": "NEW"}))) == []

    def test_filters_are_anded(self, app: App) -> None:
        """Several filters on one route must all pass."""

        @app.on_modify(
            new=Attr("status").eq("SHIPPED"),
            old=Attr("status").ne("SHIPPED"),
            changed="status",
            table="Orders",
        )
        def shipped(record: Record) -> None:
            """Runs when an order ships."""

        change: dict[str, Any] = {
            "old": item(status={"S": "PACKED"}),
            "new": item(status={"S": "SHIPPED"}),
        }
        assert run(app, stream_record("MODIFY", **change)) == ["shipped"]
        assert run(app, stream_record("MODIFY", table="Users", **change)) == []
        again: dict[str, Any] = {
            "old": item(status={"S": "SHIPPED"}),
            "new": item(status={"S": "SHIPPED"}),
        }
        assert run(app, stream_record("MODIFY", **again)) == []

    def test_new_and_old_need_their_image(self) -> None:
        """new= and old= on a record whose stream omits that image fail it, never skip it."""
        new_app, old_app = App(), App()

        @new_app.on_modify(new=Attr("x").not_exists())
        def new_lacks_x(record: Record) -> None:
            """Runs when the new image has no x."""

        @old_app.on_modify(old=Attr("x").not_exists())
        def old_lacks_x(record: Record) -> None:
            """Runs when the old image has no x."""

        assert run(new_app, stream_record("MODIFY", new=item(), view="NEW_IMAGE")) == [
            "new_lacks_x"
        ]
        assert run(old_app, stream_record("MODIFY", old=item(), view="OLD_IMAGE")) == [
            "old_lacks_x"
        ]
        without_new = stream_record("MODIFY", old=item(), view="OLD_IMAGE")
        without_old = stream_record("MODIFY", new=item(), view="NEW_IMAGE")
        keys_only = stream_record("MODIFY", view="KEYS_ONLY")
        for app, record in ((new_app, without_new), (old_app, without_old), (new_app, keys_only)):
            view = record["dynamodb"]["StreamViewType"]
            with pytest.raises(MissingImageError, match=f"view type is {view}"):
                run(app, record)

    def test_an_image_the_change_never_has_is_no_match(self, app: App) -> None:
        """new= never matches a REMOVE and old= never an INSERT: no error, no match."""

        @app.on("INSERT", "REMOVE", new={"x": "1"})
        def inserted_x(record: Record) -> None:
            """Runs for inserts of x=1 only."""

        @app.on("INSERT", "REMOVE", old={"x": "1"})
        def removed_x(record: Record) -> None:
            """Runs for removes of x=1 only."""

        assert run(app, stream_record("REMOVE", old=item(x={"S": "1"}), view="OLD_IMAGE")) == [
            "removed_x"
        ]
        assert run(app, stream_record("INSERT", new=item(x={"S": "1"}), view="NEW_IMAGE")) == [
            "inserted_x"
        ]

    @pytest.mark.parametrize(("events", "option"), [(("REMOVE",), "new"), (("INSERT",), "old")])
    def test_an_image_filter_that_can_never_match_is_refused(
        self, app: App, events: tuple[str, ...], option: str
    ) -> None:
        """on("REMOVE", new=...) can never run: refused when registered."""
        filters: dict[str, Any] = {option: {"x": "1"}}
        with pytest.raises(SetupError, match=f"{option}= can never match: {events[0]} records"):
            app.on(*events, **filters)(print)


class TestLazyDecoding:
    def test_only_the_filtered_attribute_is_decoded(self, app: App) -> None:
        """A filter on one attribute of a 200-attribute image decodes nothing else."""

        @app.on_modify(new={"status": "SHIPPED"}, changed="status", where=Attr("total").gt(5))
        def shipped(record: Record) -> None:
            """Runs without reading the images."""

        # Every other attribute is invalid DynamoDB JSON: decoding any of them would raise.
        junk = {f"attribute{i}": {"N": "not a number"} for i in range(197)}
        new = item(status={"S": "SHIPPED"}, total={"N": "10"}, **junk)
        old = item(status={"S": "PACKED"}, total={"N": "10"}, **junk)
        assert run(app, stream_record("MODIFY", new=new, old=old)) == ["shipped"]
        assert len(new) == 200

    def test_reading_the_image_still_decodes_it(self, app: App) -> None:
        """The handler reading the image is what decodes (and rejects) the rest."""

        @app.on_modify(new={"status": "SHIPPED"})
        def shipped(record: Record) -> None:
            """Reads the whole new image."""
            assert record.new is not None

        new = item(status={"S": "SHIPPED"}, bad={"N": "not a number"})
        with pytest.raises(DecodeError, match=r"NewImage\.bad"):
            run(app, stream_record("MODIFY", new=new, old=item()))


class TestChanged:
    def route(self, app: App, changed: Any) -> list[str]:
        """Register a MODIFY/INSERT/REMOVE route with *changed*; return where it records runs."""
        seen: list[str] = []

        @app.on("INSERT", "MODIFY", "REMOVE", changed=changed)
        def on_change(record: Record) -> None:
            """Records the event name."""
            seen.append(record.event_name)

        return seen

    @pytest.mark.parametrize(
        ("old", "new", "changed"),
        [
            ({"n": {"N": "1.0"}}, {"n": {"N": "1.00"}}, False),
            ({"n": {"N": "1"}}, {"n": {"N": "1E0"}}, False),
            ({"s": {"SS": ["a", "b"]}}, {"s": {"SS": ["b", "a"]}}, False),
            ({"s": {"NS": ["1", "2.0"]}}, {"s": {"NS": ["2", "1.00"]}}, False),
            (
                {"m": {"M": {"a": {"N": "1"}, "b": {"S": "x"}}}},
                {"m": {"M": {"b": {"S": "x"}, "a": {"N": "1.0"}}}},
                False,
            ),
            ({"n": {"N": "1"}}, {"n": {"N": "2"}}, True),
            ({"n": {"N": "1"}}, {"n": {"S": "1"}}, True),
            ({"n": {"N": "1"}}, {"n": {"BOOL": True}}, True),
            ({}, {"n": {"NULL": True}}, True),
            ({"n": {"NULL": True}}, {}, True),
            ({}, {}, False),
        ],
    )
    def test_top_level(
        self, app: App, old: dict[str, Any], new: dict[str, Any], changed: bool
    ) -> None:
        """Values equal in DynamoDB's sense, however spelled, are not changes; absence is."""
        seen = self.route(app, "n")
        seen_s = []

        @app.on_modify(changed=["s", "m"])
        def on_s(record: Record) -> None:
            """Records changes of s or m."""
            seen_s.append(record.event_name)

        run(app, stream_record("MODIFY", old=item(**old), new=item(**new)))
        assert (bool(seen) or bool(seen_s)) is changed

    def test_nested_paths(self, app: App) -> None:
        """changed= takes paths into maps and lists."""
        seen = self.route(app, ["address.city", "items[1]"])
        base = {"address": {"M": {"city": {"S": "Berlin"}, "zip": {"S": "1"}}}}
        items = {"items": {"L": [{"S": "a"}, {"S": "b"}]}}
        zip_changed = {"address": {"M": {"city": {"S": "Berlin"}, "zip": {"S": "2"}}}}
        run(
            app,
            stream_record("MODIFY", old=item(**base, **items), new=item(**zip_changed, **items)),
        )
        assert seen == []
        other_first = {"items": {"L": [{"S": "z"}, {"S": "b"}]}}
        run(
            app, stream_record("MODIFY", old=item(**base, **items), new=item(**base, **other_first))
        )
        assert seen == []
        other_second = {"items": {"L": [{"S": "a"}, {"S": "c"}]}}
        run(
            app,
            stream_record("MODIFY", old=item(**base, **items), new=item(**base, **other_second)),
        )
        assert seen == ["MODIFY"]

    def test_insert_and_remove_see_present_attributes_changed(self, app: App) -> None:
        """On INSERT and REMOVE an attribute present in the one image has changed."""
        seen = self.route(app, "status")
        run(app, stream_record("INSERT", new=item(status={"S": "NEW"}), view="NEW_IMAGE"))
        run(app, stream_record("INSERT", new=item(), view="NEW_IMAGE"))
        run(app, stream_record("REMOVE", old=item(status={"S": "NEW"}), view="OLD_IMAGE"))
        run(app, stream_record("REMOVE", old=item(), view="OLD_IMAGE"))
        assert seen == ["INSERT", "REMOVE"]

    @pytest.mark.parametrize("view", ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE"])
    def test_modify_without_both_images_raises(self, app: App, view: str) -> None:
        """A MODIFY lacking an image fails, naming the route and NEW_AND_OLD_IMAGES."""
        self.route(app, "status")
        images: dict[str, Any] = {"new": item()} if "NEW" in view else {}
        images |= {"old": item()} if view == "OLD_IMAGE" else {}
        with pytest.raises(MissingImageError) as caught:
            app.handler(event(stream_record("MODIFY", view=view, **images)), None)
        message = str(caught.value)
        assert "on_change" in message
        assert "NEW_AND_OLD_IMAGES" in message
        assert view in message
        assert caught.value.sequence_number == "100"

    def test_modify_without_both_images_is_reported(self) -> None:
        """With report_batch_item_failures the undecidable record is reported, not skipped."""
        app = App(report_batch_item_failures=True)
        seen: list[str] = []

        @app.on_modify(changed="status")
        def on_status(record: Record) -> None:
            """Records the sequence number."""
            seen.append(str(record.sequence_number))

        full = stream_record("MODIFY", old=item(status={"S": "A"}), new=item(status={"S": "B"}))
        partial = stream_record("MODIFY", new=item(), view="NEW_IMAGE", sequence_number="200")
        later = stream_record(
            "MODIFY", old=item(), new=item(status={"S": "B"}), sequence_number="300"
        )
        response = app.handler(event(full, partial, later), None)
        assert response == {"batchItemFailures": [{"itemIdentifier": "200"}]}
        assert seen == ["100"]

    def test_error_hook_sees_the_missing_image(self) -> None:
        """on_error hooks receive the MissingImageError of an undecidable record."""
        app = App()
        errors: list[Exception] = []
        app.on_modify(changed="status")(lambda record: None)
        app.on_error(MissingImageError)(lambda record, error: errors.append(error))
        app.handler(event(stream_record("MODIFY", view="KEYS_ONLY")), None)
        assert len(errors) == 1
        assert "NEW_AND_OLD_IMAGES" in str(errors[0])

    def test_malformed_value_names_its_image(self, app: App) -> None:
        """A malformed value that changed= must decode fails naming image and attribute."""
        self.route(app, "n")
        bad = stream_record("MODIFY", old=item(n={"N": "1"}), new=item(n={"N": "x"}))
        with pytest.raises(DecodeError, match=r"NewImage\.n") as caught:
            run(app, bad)
        assert caught.value.event_id == "id-100"
        nested = App()
        nested.on_modify(changed="n.x")(print)
        malformed = stream_record("MODIFY", old=item(n="plain"), new=item())
        with pytest.raises(DecodeError, match=r"OldImage\.n: expected a type-tagged value"):
            run(nested, malformed)

    def test_where_names_the_malformed_container(self) -> None:
        """where= on a nested path names the image and the part of the path that is wrong."""
        app = App()
        app.on_modify(where=Attr("n.x").eq(1))(print)
        malformed = stream_record("MODIFY", old=item(), new=item(n="plain"))
        with pytest.raises(DecodeError, match=r"NewImage\.n: expected a type-tagged value"):
            run(app, malformed)


class TestTableAndTtl:
    def test_record_without_any_image(self, app: App) -> None:
        """where= on a record with empty keys and no images cannot be decided: it fails."""
        app.on_remove(where={"status": "NEW"})(lambda record: None)
        bare = stream_record("REMOVE", keys={}, view="KEYS_ONLY")

        with pytest.raises(MissingImageError, match="needs the OldImage of this REMOVE"):
            run(app, bare)

    @pytest.mark.parametrize(
        "options",
        [{"changed": "status"}, {"where": {"status": "NEW"}}, {"new": {"status": "NEW"}}],
    )
    def test_image_that_is_no_map(self, app: App, options: dict[str, Any]) -> None:
        """A filter meeting an image that is not a map fails with a DecodeError naming it."""
        app.on_modify(**options)(lambda record: None)
        broken = stream_record("MODIFY", old=item(), new=item())
        broken["dynamodb"]["NewImage"] = "zzz"

        with pytest.raises(DecodeError, match="expected a map of attribute names") as caught:
            app.handler(event(broken), None)

        assert caught.value.path == "NewImage"

    def test_table(self, app: App) -> None:
        """table= takes one name or several, matched against the stream ARN's table."""
        app.on_insert(table="Orders", name="orders")(print)
        app.on_insert(table=["Users", "Carts"], name="users_or_carts")(print)
        assert run(app, stream_record("INSERT", new=item(), table="Orders")) == ["orders"]
        assert run(app, stream_record("INSERT", new=item(), table="Carts")) == ["users_or_carts"]
        assert run(app, stream_record("INSERT", new=item(), table="Other")) == []

    def test_ttl(self, app: App) -> None:
        """ttl=True runs for Time to Live deletes only, ttl=False for client deletes only."""
        app.on_remove(ttl=True, name="expired")(print)
        app.on_remove(ttl=False, name="deleted")(print)
        app.on_remove(name="both")(print)
        expiry = stream_record("REMOVE", old=item(), identity=TTL_IDENTITY)
        assert run(app, expiry) == ["expired", "both"]
        assert run(app, stream_record("REMOVE", old=item())) == ["deleted", "both"]

    def test_router(self) -> None:
        """Routers take the same filters."""
        router = Router()
        router.on_modify(new={"status": "SHIPPED"}, name="shipped")(print)
        app = App()
        app.include_router(router)
        shipped = stream_record("MODIFY", old=item(), new=item(status={"S": "SHIPPED"}))
        assert run(app, shipped) == ["shipped"]
        assert run(app, stream_record("MODIFY", old=item(), new=item())) == []


def defined_here(app: App, **filters: Any) -> None:
    """Register a handler with *filters* (for the errors that must name it)."""

    @app.on("INSERT", **filters)
    def misfiltered(record: Record) -> None:
        """Never runs."""


class TestSetupErrors:
    @pytest.mark.parametrize(
        ("filters", "message"),
        [
            ({"where": Comparison("like", "a", 1)}, "unknown operator 'like'"),
            ({"where": Comparison("eq", "a", 1, 2)}, r"takes 1 operand\(s\), got 2"),
            ({"where": Attr("a").eq(object())}, "unsupported value type object"),
            ({"new": Attr("a").eq(float("nan"))}, "finite"),
            ({"where": Attr(5).eq(1)}, "attribute names must be strings"),  # type: ignore[arg-type]
            ({"where": {7: "x"}}, "attribute names must be strings"),
            ({"where": Attr("a[x]").eq(1)}, "invalid list index"),
            ({"where": 5}, "got int: 5"),
            ({"where": {}}, "empty dict"),
            ({"changed": []}, "changed= is empty"),
            ({"changed": ""}, "invalid attribute path"),
            ({"changed": 5}, "changed= takes a name or a list of names"),
            ({"changed": [1]}, "changed= takes names as strings"),
            ({"table": []}, "table= is empty"),
            ({"table": b"Orders"}, "table= takes a name"),
            ({"ttl": True}, "ttl= applies to REMOVE routes only"),
            ({"ttl": "yes"}, "ttl= takes True, False or None"),
            ({"where": Boto3Attr("a").size()}, "'size' is not supported"),
        ],
        ids=repr,
    )
    def test_invalid_filter(self, app: App, filters: dict[str, Any], message: str) -> None:
        """An invalid filter raises SetupError at decoration, naming the function and its place."""
        with pytest.raises(SetupError, match=message) as caught:
            defined_here(app, **filters)
        text = str(caught.value)
        assert "'defined_here.<locals>.misfiltered'" in text
        assert "test_filters.py:" in text
        assert app.routes == ()

    def test_unknown_event_name(self, app: App) -> None:
        """An unknown event name is refused with the closest valid one."""
        with pytest.raises(SetupError, match=r"'INSRT' \(did you mean 'INSERT'\?\)") as caught:
            app.on("INSRT")(print)
        assert "print" in str(caught.value)
        with pytest.raises(SetupError, match=r"'insert' \(did you mean 'INSERT'\?\)"):
            app.on("insert")(print)
        with pytest.raises(SetupError, match="'DELETE'"):
            app.on("DELETE")(print)
        with pytest.raises(SetupError, match="no event names"):
            app.on()(print)

    def test_valid_filters_show_in_repr(self, app: App) -> None:
        """A route's repr shows its filters as given."""
        route = app.add_handler(print, events={"MODIFY"}, changed="status", new={"a": 1})
        assert (
            repr(route) == "Route(events=['MODIFY'], name='print', new={'a': 1}, changed='status')"
        )
        assert route.filters.given == {"new": {"a": 1}, "changed": "status"}


class TestPublicEvents:
    def test_sample_event(self, app: App, load_event: Any) -> None:
        """Filters work on AWS's own sample event."""
        sample = load_event("aws_lambda_docs_with_ddb_sample_event.json")
        names = {record["eventName"] for record in sample["Records"]}
        seen: list[str] = []
        app.on(*names, where=Attr("Id").exists())(lambda record: seen.append(record.event_name))
        app.handler(sample, None)
        assert seen
        assert json.dumps(seen)


class TestDocsExamples:
    def test_orders(
        self, load_example: Any, load_event: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The filters page's example routes the sample event as the page says."""
        example = load_example("filters_orders")
        sample = json.loads(EXAMPLES.joinpath("filters_orders_event.json").read_text("utf-8"))
        assert example.handler(sample, None) == {"batchItemFailures": []}
        assert capsys.readouterr().out.splitlines() == [
            "new order order#1",
            "shipped order#1 NEW -> SHIPPED",
            "big order order#1",
            "cart expired cart#7",
        ]

    def test_boto3(self, load_example: Any, capsys: pytest.CaptureFixture[str]) -> None:
        """The boto3 example routes by boto3's Key and size() conditions."""
        example = load_example("filters_boto3")
        items = {"L": [{"S": "a"}] * 4}
        large = stream_record("INSERT", new=item(items=items))
        small = stream_record("INSERT", new=item(items={"L": []}), sequence_number="200")
        example.handler(event(large, small), None)
        assert capsys.readouterr().out == "large order order#1\n"
