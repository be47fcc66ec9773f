"""model=: handlers read their images as dataclasses, TypedDicts, pydantic, msgspec, attrs
models or what a function makes of the dict, exactly, with ModelError for what does not fit."""

from __future__ import annotations

import asyncio
import enum
import json
import pickle
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, make_dataclass
from decimal import Decimal
from typing import (
    Annotated,
    Any,
    ClassVar,
    Generic,
    Literal,
    NewType,
    Optional,
    TypeGuard,
    TypeVar,
    Union,
)

import attrs
import msgspec
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typing_extensions import NotRequired, Required, TypedDict

from ddbstream import App, Insert, Modify, Record, Remove, Router
from ddbstream._models import (
    Model,
    Rejected,
    _type_converter,
    describe_rejection,
    item_of,
    kind_of,
)
from ddbstream.errors import MissingImageError, ModelError, RecordError, SetupError
from ddbstream.testing import event, insert, modify, remove, run, serialize, serialize_image

# --- the models of the tests: one order, in every kind ------------------------------------------


@dataclass
class Line:
    sku: str
    qty: int
    price: Decimal


@dataclass
class Order:
    pk: str
    total: Decimal
    quantity: int
    weight: float
    paid: bool
    checksum: bytes
    tags: set[str]
    lines: list[Line]
    note: str | None = None
    scores: frozenset[Decimal] = frozenset()


@attrs.define
class AttrsLine:
    sku: str
    qty: int
    price: Decimal


@attrs.define
class AttrsOrder:
    pk: str
    total: Decimal
    quantity: int
    weight: float
    paid: bool
    checksum: bytes
    tags: set[str]
    lines: list[AttrsLine]
    note: Optional[str] = None  # noqa: UP045 - the typing spelling must work too
    scores: frozenset[Decimal] = attrs.field(factory=frozenset)


class PydanticLine(pydantic.BaseModel):
    sku: str
    qty: int
    price: Decimal


class PydanticOrder(pydantic.BaseModel):
    pk: str
    total: Decimal
    quantity: int
    weight: float
    paid: bool
    checksum: bytes
    tags: set[str]
    lines: list[PydanticLine]
    note: str | None = None
    scores: frozenset[Decimal] = frozenset()


class MsgspecLine(msgspec.Struct):
    sku: str
    qty: int
    price: Decimal


class MsgspecOrder(msgspec.Struct):
    pk: str
    total: Decimal
    quantity: int
    weight: float
    paid: bool
    checksum: bytes
    tags: set[str]
    lines: list[MsgspecLine]
    note: str | None = None
    scores: frozenset[Decimal] = frozenset()


class LineDict(TypedDict):
    sku: str
    qty: int
    price: Decimal


class OrderDict(TypedDict):
    pk: str
    total: Decimal
    quantity: int
    weight: float
    paid: bool
    checksum: bytes
    tags: set[str]
    lines: list[LineDict]
    note: NotRequired[str | None]


def order_of(item: dict[str, Any]) -> tuple[str, Decimal]:
    """A model that is a function of the dict."""
    return (item["pk"], item["total"])


# --- strategies: values DynamoDB keeps exactly -------------------------------------------------

texts = st.text(max_size=8)
integers = st.integers(-(10**30), 10**30)
decimals = st.builds(
    lambda digits, exponent: Decimal(digits).scaleb(exponent),
    st.integers(-(10**20), 10**20),
    st.integers(-20, 20),
)
floats = st.floats(-1e100, 1e100, allow_nan=False).filter(lambda x: x == 0 or abs(x) > 1e-100)


def orders(order: Any, line: Any) -> st.SearchStrategy[Any]:
    return st.builds(
        order,
        pk=texts.map(lambda text: "order#" + text),
        total=decimals,
        quantity=integers,
        weight=floats,
        paid=st.booleans(),
        checksum=st.binary(max_size=8),
        tags=st.sets(texts, min_size=1, max_size=3),
        lines=st.lists(st.builds(line, sku=texts, qty=integers, price=decimals), max_size=3),
        note=st.none() | texts,
        scores=st.frozensets(decimals, min_size=1, max_size=3),
    )


def dict_orders() -> st.SearchStrategy[dict[str, Any]]:
    line = st.fixed_dictionaries({"sku": texts, "qty": integers, "price": decimals})
    return st.fixed_dictionaries(
        {
            "pk": texts.map(lambda text: "order#" + text),
            "total": decimals,
            "quantity": integers,
            "weight": floats,
            "paid": st.booleans(),
            "checksum": st.binary(max_size=8),
            "tags": st.sets(texts, min_size=1, max_size=3),
            "lines": st.lists(line, max_size=3),
        },
        optional={"note": st.none() | texts},
    )


def seen_by(model: Any, *records: dict[str, Any], **options: Any) -> list[tuple[Any, Any]]:
    """Run an app with one route of *model* on every event; return the (new, old) it saw."""
    app = App()
    seen: list[tuple[Any, Any]] = []

    @app.on("INSERT", "MODIFY", "REMOVE", model=model, **options)
    def handle(record: Record[Any]) -> None:
        seen.append((record.new, record.old))

    result = run(app, *records)
    assert result.error is None, result.error
    return seen


KINDS = [
    (Order, Line),
    (AttrsOrder, AttrsLine),
    (PydanticOrder, PydanticLine),
    (MsgspecOrder, MsgspecLine),
]


class TestRoundTrip:
    @pytest.mark.parametrize(("order", "line"), KINDS, ids=lambda kind: kind.__name__)
    @settings(max_examples=40, deadline=None)
    @given(data=st.data())
    def test_builder_event_app_gives_the_model_back(self, order: Any, line: Any, data: Any) -> None:
        """A model instance built into an event comes back equal, as new and as old."""
        old = data.draw(orders(order, line))
        new = data.draw(orders(order, line))
        if isinstance(new, pydantic.BaseModel):
            new = new.model_copy(update={"pk": old.pk})
        elif isinstance(new, msgspec.Struct):
            new = msgspec.structs.replace(new, pk=old.pk)
        elif attrs.has(type(new)):
            new = attrs.evolve(new, pk=old.pk)
        else:
            new.pk = old.pk

        seen = seen_by(order, insert(new), modify(old, new), remove(old))

        assert seen == [(new, None), (new, old), (None, old)]
        assert type(seen[1][0].quantity) is int
        assert type(seen[1][0].total) is Decimal

    @settings(max_examples=40, deadline=None)
    @given(item=dict_orders())
    def test_typeddict_gets_the_item_with_its_ints(self, item: dict[str, Any]) -> None:
        """A TypedDict item equals the original dict, its int fields ints."""
        ((new, _),) = seen_by(OrderDict, insert(item))

        assert new == item
        assert type(new["quantity"]) is int
        assert all(type(line["qty"]) is int for line in new["lines"])

    @settings(max_examples=20, deadline=None)
    @given(item=dict_orders())
    def test_a_function_gets_the_decoded_dict(self, item: dict[str, Any]) -> None:
        """A callable model is called with the decoded dict; its result is what handlers get."""
        ((new, _),) = seen_by(order_of, insert(item))

        assert new == (item["pk"], item["total"])


class TestNumbers:
    RAW: ClassVar[dict[str, Any]] = {
        "pk": {"S": "order#1"},
        "total": {"N": "19.90"},
        "quantity": {"N": "3"},
        "weight": {"N": "0.1"},
        "paid": {"BOOL": True},
        "checksum": {"B": "AAE="},
        "tags": {"SS": ["a"]},
        "lines": {"L": [{"M": {"sku": {"S": "x"}, "qty": {"N": "2.000"}, "price": {"N": "1.50"}}}]},
    }

    def record(self) -> dict[str, Any]:
        record = insert({"pk": "order#1"})
        record["dynamodb"]["NewImage"] = self.RAW
        return record

    @pytest.mark.parametrize("order", [Order, AttrsOrder, PydanticOrder, MsgspecOrder])
    def test_exact_numbers_in_every_kind(self, order: Any) -> None:
        """Decimal fields keep the stream's digits, int fields get ints, float fields floats."""
        ((new, _),) = seen_by(order, self.record())

        assert str(new.total) == "19.90"
        assert new.quantity == 3
        assert type(new.quantity) is int
        assert new.weight == 0.1
        assert new.checksum == b"\x00\x01"
        assert type(new.lines[0].qty) is int
        assert str(new.lines[0].price) == "1.50"

    def test_typeddict_numbers(self) -> None:
        """A TypedDict's int fields become ints, its Decimal fields keep their digits."""
        ((new, _),) = seen_by(OrderDict, self.record())

        assert type(new["quantity"]) is int
        assert str(new["total"]) == "19.90"
        assert new["weight"] == 0.1
        assert type(new["lines"][0]["qty"]) is int

    def test_parse_number_int_reaches_the_model(self) -> None:
        """With App(parse_number=int) the decoded ints go into int fields unchanged."""
        app = App(parse_number=int)
        seen: list[Any] = []
        app.on_insert(model=Item)(lambda record: seen.append(record.new))
        app.on_insert(model=Counts)(lambda record: seen.append(record.new))

        run(app, insert({"pk": "a", "status": "NEW", "counts": [1, 2]}))

        assert seen == [Item("a", "NEW"), Counts([1, 2])]


# --- views: per record and model -------------------------------------------------------------


@dataclass
class Item:
    pk: str
    status: str


@dataclass
class Key:
    pk: str


@dataclass
class Counts:
    counts: list[int]


class TestViews:
    def test_two_models_on_one_record_each_see_their_own(self) -> None:
        """Routes with different models see their own; a route without one sees dicts."""
        app = App()
        seen: dict[str, Any] = {}
        app.on_modify(model=Item, name="item")(lambda record: seen.update(item=record.new))
        app.on_modify(model=Key, name="key")(lambda record: seen.update(key=record.new))
        app.on_modify(name="plain")(lambda record: seen.update(plain=record.new))

        run(app, modify({"pk": "a", "status": "NEW"}, {"pk": "a", "status": "PAID"}))

        assert seen == {
            "item": Item("a", "PAID"),
            "key": Key("a"),
            "plain": {"pk": "a", "status": "PAID"},
        }

    def test_one_model_is_converted_once_per_record(self) -> None:
        """Two routes of one model share the converted item; the next record gets its own."""
        calls: list[dict[str, Any]] = []

        def model(item: dict[str, Any]) -> Item:
            calls.append(item)
            return Item(**item)

        app = App()
        seen: list[Any] = []
        app.on_insert(model=model, name="first")(lambda record: seen.append(record.new))
        app.on_insert(model=model, name="second")(lambda record: seen.append(record.new))

        run(app, insert({"pk": "a", "status": "NEW"}), insert({"pk": "b", "status": "NEW"}))

        assert seen[0] is seen[1]
        assert seen[2] is seen[3]
        assert seen[0] != seen[2]
        assert len(calls) == 2

    def test_view_is_the_record_for_everything_but_images(self) -> None:
        """A typed record is an Insert/Modify/Remove with the record's metadata, keys, diff."""
        app = App()
        seen: list[Any] = []
        app.on("INSERT", "MODIFY", "REMOVE", model=Item)(seen.append)
        app.on("INSERT", "MODIFY", "REMOVE")(seen.append)
        old, new = {"pk": "a", "status": "NEW"}, {"pk": "a", "status": "PAID"}

        run(app, insert(old), modify(old, new), remove(new, ttl=True))

        typed, plain = seen[0::2], seen[1::2]
        assert [type(record).__mro__[2] for record in typed] == [Insert, Modify, Remove]
        for view, record in zip(typed, plain, strict=True):
            assert isinstance(view, type(record))
            assert repr(view) == repr(record)
            assert view.keys is record.keys
            assert view.event_id == record.event_id
            assert view.sequence_number == record.sequence_number
            assert view.is_ttl_expiry == record.is_ttl_expiry
            assert view.table_name == record.table_name
            assert view.raw is record.raw
        assert typed[1].diff == plain[1].diff
        assert typed[1].diff.changed == {"status": ("NEW", "PAID")}
        assert typed[0].item == typed[0].new == Item("a", "NEW")
        assert typed[2].item == typed[2].old == Item("a", "PAID")
        assert typed[2].new is None
        assert typed[0].old is None

    def test_images_are_converted_once(self) -> None:
        """Reading new and old twice gives the same objects: converted on first access."""
        app = App()
        seen: list[Any] = []

        @app.on_modify(model=Item)
        def handle(record: Modify[Item]) -> None:
            seen.extend((record.new, record.new, record.old, record.old))

        run(app, modify({"pk": "a", "status": "NEW"}, {"pk": "a", "status": "PAID"}))

        assert seen[0] is seen[1]
        assert seen[2] is seen[3]
        assert seen[0] == Item("a", "PAID")

    def test_keys_only_stream(self) -> None:
        """On KEYS_ONLY, item is the keys as the model; new raises MissingImageError."""
        app = App(report_batch_item_failures=True)
        seen: list[Any] = []

        @app.on_insert(model=Key)
        def handle(record: Insert[Key]) -> None:
            seen.append(record.item)
            seen.append(record.item)
            seen.append(record.new)

        result = run(app, insert({"pk": "a"}, view_type="KEYS_ONLY"))

        assert seen == [Key("a"), Key("a")]
        assert isinstance(result.error, MissingImageError)

    def test_context_and_async_handlers_get_views(self) -> None:
        """(record, context) handlers and async handlers get the typed record too."""
        app = App()
        seen: list[Any] = []

        @app.on_insert(model=Item)
        def with_context(record: Insert[Item], context: Any) -> None:
            seen.append((record.new, context))

        @app.on_insert(model=Item)
        async def later(record: Insert[Item]) -> None:
            await asyncio.sleep(0)
            seen.append(record.new)

        run(app, insert({"pk": "a", "status": "NEW"}))

        assert seen == [(Item("a", "NEW"), None), Item("a", "NEW")]

    def test_router_routes_take_models(self) -> None:
        """Router registrations take model= and keep it when included."""
        router = Router()
        seen: list[Any] = []
        router.on_remove(model=Item)(lambda record: seen.append(record.old))
        app = App()
        app.include_router(router)

        run(app, remove({"pk": "a", "status": "GONE"}))

        assert seen == [Item("a", "GONE")]
        assert repr(app.routes[0]).endswith("model=Item)")

    def test_filters_read_the_json_and_filter_criteria_holds(self) -> None:
        """where= still reads the item's JSON, and filter_criteria() is what it is without model."""
        with_model, without = App(), App()
        seen: list[Any] = []
        with_model.on_insert(where={"type": "ORDER"}, model=Item)(lambda r: seen.append(r.new))
        without.on_insert(where={"type": "ORDER"})(lambda record: None)

        run(
            with_model,
            insert({"pk": "a", "status": "NEW", "type": "ORDER"}),
            insert({"pk": "b", "type": "CUSTOMER"}),
        )

        assert seen == [Item("a", "NEW")]
        assert with_model.filter_criteria() == without.filter_criteria()


# --- failures ---------------------------------------------------------------------------------


class TestModelError:
    def fail(self, model: Any, *records: dict[str, Any], report: bool = True) -> ModelError:
        app = App(report_batch_item_failures=report)

        @app.on("INSERT", "MODIFY", model=model, name="orders")
        def handle(record: Record[Any]) -> None:
            record.new  # noqa: B018 - reading converts
            record.old  # noqa: B018

        result = run(app, *records)
        assert isinstance(result.error, ModelError), result.error
        assert result.failures == [{"itemIdentifier": records[-1]["dynamodb"]["SequenceNumber"]}]
        return result.error

    def test_message_names_route_image_path_record(self) -> None:
        """The message says which route, image and field, and which record."""
        record = insert(
            {
                "pk": "a",
                "total": "12",
                "quantity": 1,
                "weight": 1,
                "paid": True,
                "checksum": b"",
                "tags": {"x"},
                "lines": [],
            }
        )

        error = self.fail(Order, record)

        assert error.route == "orders"
        assert error.image == "NewImage"
        assert error.path == "NewImage.total"
        assert error.model == "Order"
        assert error.event_id == record["eventID"]
        assert error.sequence_number == record["dynamodb"]["SequenceNumber"]
        assert isinstance(error, RecordError)
        assert isinstance(error.__cause__, Rejected)
        assert str(error) == (
            "route 'orders': NewImage.total does not fit the model Order: expected a number, "
            "got '12'. Change the model, or filter out such items with where= (eventID "
            f"{record['eventID']!r}, SequenceNumber {record['dynamodb']['SequenceNumber']!r})"
        )

    @pytest.mark.parametrize(
        ("model", "path", "reason"),
        [
            (Order, "OldImage.lines[0].qty", "expected an integer, got Decimal('1.5')"),
            (AttrsOrder, "OldImage.lines[0].qty", "expected an integer, got Decimal('1.5')"),
            (PydanticOrder, "OldImage.lines[0].qty", "Input should be a valid integer"),
            (MsgspecOrder, "OldImage.lines[0].qty", "Expected `int`, got `decimal`"),
            (OrderDict, "OldImage.lines[0].qty", "expected an integer, got Decimal('1.5')"),
        ],
    )
    def test_nested_path_in_every_kind(self, model: Any, path: str, reason: str) -> None:
        """A value deep in the item is named by its path, whatever library rejected it."""
        good = {
            "pk": "a",
            "total": 1,
            "quantity": 1,
            "weight": 1,
            "paid": True,
            "checksum": b"",
            "tags": {"x"},
            "lines": [{"sku": "s", "qty": 1, "price": 2}],
        }
        bad = dict(good, lines=[{"sku": "s", "qty": Decimal("1.5"), "price": 2}])

        error = self.fail(model, modify(bad, good))

        assert error.path == path
        assert error.image == "OldImage"
        assert reason in str(error)
        if model is PydanticOrder:
            assert isinstance(error.__cause__, pydantic.ValidationError)
        if model is MsgspecOrder:
            assert isinstance(error.__cause__, msgspec.ValidationError)

    def test_missing_field(self) -> None:
        """A required field the item lacks is named; fields with defaults may be missing."""
        error = self.fail(Item, insert({"pk": "a"}))

        assert error.path == "NewImage.status"
        assert "missing" in str(error)

    def test_callable_that_raises(self) -> None:
        """A function model that raises fails the record with its error as the cause."""
        error = self.fail(lambda item: item["absent"], insert({"pk": "a"}))

        assert error.path == "NewImage"
        assert "KeyError: 'absent'" in str(error)
        assert isinstance(error.__cause__, KeyError)

    def test_post_init_that_raises(self) -> None:
        """A dataclass whose __post_init__ raises: the class and the error are named."""

        @dataclass
        class Positive:
            pk: str
            amount: int

            def __post_init__(self) -> None:
                if self.amount < 0:
                    raise ValueError("amount must be positive")

        error = self.fail(Positive, insert({"pk": "a", "amount": -1}))

        assert "Positive() raised ValueError: amount must be positive" in str(error)

    def test_raise_mode_and_error_hooks(self) -> None:
        """Without reporting the ModelError is raised; an error hook may handle it."""
        app = App()
        app.on_insert(model=Item)(lambda record: record.new)
        with pytest.raises(ModelError, match=r"NewImage\.status"):
            app.handler(event(insert({"pk": "a"})), None)

        handled: list[Exception] = []
        app = App()
        app.on_insert(model=Item)(lambda record: record.new)
        app.on_error(ModelError)(lambda record, error: handled.append(error))
        result = run(app, insert({"pk": "a"}))
        assert result.error is None
        assert len(handled) == 1

    def test_pickles_with_its_attributes(self) -> None:
        """A ModelError survives pickling (multiprocessing, Lambda extensions)."""
        error = ModelError("bad", route="r", model="M", image="NewImage", path="NewImage.a")
        copy = pickle.loads(pickle.dumps(error))

        assert (copy.route, copy.model, copy.image, copy.path) == (
            "r",
            "M",
            "NewImage",
            "NewImage.a",
        )


class TestSetup:
    def test_not_a_model(self) -> None:
        """model=42 is refused at registration, naming the route."""
        app = App()
        with pytest.raises(
            SetupError, match=r"route '.*handle' \(.*test_models.py:\d+\): model= takes a dataclass"
        ):

            @app.on_insert(model=42)  # type: ignore[call-overload, untyped-decorator]
            def handle(record: Insert) -> None:
                pass

    def test_unresolvable_annotation_fails_at_start(self) -> None:
        """A model whose annotations name an unknown class fails when the app starts."""

        @dataclass
        class Broken:
            pk: Unknown  # type: ignore[name-defined]  # noqa: F821

        app = App()
        app.on_insert(model=Broken)(lambda record: None)
        with pytest.raises(SetupError, match=r"model=.*Broken.*cannot read the annotations"):
            app.handler(event(), None)


# --- converters ---------------------------------------------------------------------------------

UserId = NewType("UserId", int)
T = TypeVar("T")


@dataclass
class Box(Generic[T]):
    content: T
    computed: int = field(init=False, default=0)


class Small(int):
    """An int subclass, as an IntEnum member is."""


class Color(enum.Enum):
    RED = "red"
    ONE = 1


@dataclass
class Node:
    name: str
    children: list[Node] = field(default_factory=list)


class Partial(TypedDict, total=False):
    pk: Required[str]
    count: Annotated[int, "meta"]


class Loose(TypedDict):
    count: int
    anything: Any


class Inner(pydantic.BaseModel):
    n: int


class InnerStruct(msgspec.Struct):
    n: int


class Tree(msgspec.Struct):
    value: int | None
    counts: dict[str, int]
    amount: float | int = 0
    children: list[Tree] = []
    plain: str = ""


@dataclass
class Everything:
    any: Any
    obj: object
    user: UserId
    color: Color
    literal: Literal["a", 1, True]
    annotated: Annotated[int, "meta"]
    pair: tuple[int, str]
    many: tuple[int, ...]
    mapping: dict[str, int]
    abstract: Mapping[str, Any]
    sequence: Sequence[int]
    union: Union[int, str]  # noqa: UP007 - the typing spelling must work too
    nullable_union: int | str | None
    any_union: int | Any
    node: Node
    inner: Inner
    struct: InnerStruct
    none: None
    raw_dict: dict  # type: ignore[type-arg]
    plain_list: list  # type: ignore[type-arg]
    frozen: frozenset[int]
    anys: list[Any]
    number: int | Decimal
    flag: Literal[True]
    box: Box[int]
    small: int


EVERYTHING = {
    "any": {1, 2},
    "obj": "x",
    "user": Decimal(7),
    "color": Decimal(1),
    "literal": Decimal(1),
    "annotated": Decimal(2),
    "pair": [Decimal(1), "b"],
    "many": [1, 2],
    "mapping": {"a": Decimal(1)},
    "abstract": {"a": Decimal("1.5")},
    "sequence": {Decimal(3)},
    "union": "text",
    "nullable_union": None,
    "any_union": Decimal("1.5"),
    "node": {"name": "root", "children": [{"name": "leaf"}]},
    "inner": {"n": Decimal(4)},
    "struct": {"n": Decimal(5)},
    "none": None,
    "raw_dict": {"k": Decimal(1)},
    "plain_list": [Decimal(1)],
    "frozen": [Decimal(1)],
    "anys": (1, "a"),
    "number": Decimal("1.5"),
    "flag": True,
    "box": {"content": {"x"}},
    "small": Small(3),
}


def convert(model: Any, item: dict[str, Any]) -> Any:
    return Model(model).convert(item)


def rejected(model: Any, item: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(Exception) as caught:  # noqa: PT011 - each library raises its own
        convert(model, item)
    return describe_rejection(caught.value)


class TestConverters:
    def test_every_annotation_kind(self) -> None:
        """Unions, literals, enums, NewType, Annotated, tuples, maps, nested models convert."""
        got = convert(Everything, EVERYTHING)

        assert got.any == {1, 2}
        assert got.user == 7
        assert type(got.user) is int
        assert got.color is Color.ONE
        assert got.literal == 1
        assert type(got.literal) is int
        assert got.annotated == 2
        assert got.pair == (1, "b")
        assert got.many == (1, 2)
        assert got.mapping == {"a": 1}
        assert type(got.mapping["a"]) is int
        assert got.abstract == {"a": Decimal("1.5")}
        assert got.sequence == [3]
        assert got.union == "text"
        assert got.nullable_union is None
        assert got.any_union == Decimal("1.5")
        assert got.node == Node("root", [Node("leaf")])
        assert got.inner == Inner(n=4)
        assert got.struct == InnerStruct(n=5)
        assert got.raw_dict == {"k": 1}
        assert got.frozen == frozenset({1})
        assert got.anys == [1, "a"]
        assert got.number == Decimal("1.5")
        assert got.flag is True
        assert got.box == Box({"x"})
        assert type(got.small) is int

    @pytest.mark.parametrize(
        ("change", "path", "reason"),
        [
            ({"user": "x"}, ".user", "expected an integer, got 'x'"),
            ({"user": True}, ".user", "expected an integer, got True"),
            ({"user": float("inf")}, ".user", "expected an integer, got inf"),
            ({"color": "blue"}, ".color", "expected one of 'red', 1, got 'blue'"),
            ({"literal": "b"}, ".literal", "expected one of 'a', 1, True, got 'b'"),
            ({"literal": False}, ".literal", "got False"),
            ({"pair": [1]}, ".pair", "expected a list of 2 values"),
            ({"many": "12"}, ".many", "expected a tuple, got '12'"),
            ({"mapping": []}, ".mapping", "expected a map"),
            ({"mapping": {"a": "x"}}, ".mapping.a", "expected an integer"),
            ({"sequence": [Decimal("0.5")]}, ".sequence[0]", "expected an integer"),
            ({"frozen": {Decimal("0.5")}}, ".frozen[Decimal('0.5')]", "expected an integer"),
            ({"union": b"x"}, ".union", "expected int | str, got b'x'"),
            ({"nullable_union": b"x"}, ".nullable_union", "expected int | str | NoneType"),
            ({"node": {"name": 1}}, ".node.name", "expected a string, got 1"),
            ({"node": "x"}, ".node", "expected a map, got 'x'"),
            ({"inner": {"n": "x"}}, ".inner.n", "Input should be a valid integer"),
            ({"struct": {"n": "x"}}, ".struct.n", "Expected `int`, got `str`"),
            ({"none": 1}, ".none", "expected null, got 1"),
        ],
    )
    def test_rejections_name_the_path(self, change: dict[str, Any], path: str, reason: str) -> None:
        """Each value a field cannot take is named by its path and what was expected."""
        where, why = rejected(Everything, {**EVERYTHING, **change})

        assert where == path
        assert reason in why

    @pytest.mark.parametrize(
        ("annotation", "value", "expected"),
        [
            (float, Decimal("0.1"), 0.1),
            (float, 3, 3.0),
            (Decimal, 0.1, Decimal("0.1")),
            (Decimal, 3, Decimal(3)),
            (int, 3.0, 3),
            (int, 7, 7),
            (bytes, bytearray(b"x"), b"x"),
            (str, "x", "x"),
            (bool, False, False),
        ],
    )
    def test_scalars(self, annotation: Any, value: Any, expected: Any) -> None:
        """Scalars convert without loss (never through float unless the field is float)."""

        One = make_dataclass("One", [("value", annotation)])

        got = convert(One, {"value": value}).value

        assert got == expected
        assert type(got) is type(expected)

    @pytest.mark.parametrize(
        ("annotation", "value"),
        [
            (float, "1"),
            (float, True),
            (Decimal, "1"),
            (Decimal, False),
            (bytes, "x"),
            (str, 1),
            (bool, 1),
            (int, 1.5),
        ],
    )
    def test_scalar_rejections(self, annotation: Any, value: Any) -> None:
        """A value of the wrong kind is refused, never coerced from text or a bool."""

        One = make_dataclass("One", [("value", annotation)])

        where, _ = rejected(One, {"value": value})

        assert where == ".value"

    def test_extra_attributes_are_ignored_and_defaults_used(self) -> None:
        """Attributes the model does not name are left out; missing defaults are defaults."""
        got = convert(
            Order,
            {
                "pk": "a",
                "total": 1,
                "quantity": 1,
                "weight": 1,
                "paid": True,
                "checksum": b"",
                "tags": {"x"},
                "lines": [],
                "type": "ORDER",
            },
        )

        assert got.note is None
        assert got.scores == frozenset()

    def test_not_a_map(self) -> None:
        """An image that is not a map is refused (a model of a nested value, say)."""
        assert rejected(Item, [])[0] == ""  # type: ignore[arg-type]
        assert rejected(OrderDict, [])[0] == ""  # type: ignore[arg-type]

    def test_typeddict_required_keys_and_annotations(self) -> None:
        """Required and NotRequired decide what may be missing; Annotated and Any convert."""
        item = {"pk": "a", "count": Decimal(2)}

        assert convert(Partial, item) == {"pk": "a", "count": 2}
        assert rejected(Partial, {"count": 1}) == (".pk", "missing")
        assert convert(Loose, {"count": Decimal(2), "anything": {1}}) == {
            "count": 2,
            "anything": {1},
        }

    def test_typeddict_without_conversions_is_the_dict_itself(self) -> None:
        """A TypedDict whose values already fit is the decoded dict, not a copy."""

        class Plain(TypedDict):
            pk: str
            total: Decimal

        item = {"pk": "a", "total": Decimal(1), "extra": 1}

        assert convert(Plain, item) is item

    def test_attrs_alias_and_untyped_fields(self) -> None:
        """attrs fields are passed by their alias; a field typed by attr.ib(type=) converts."""
        import attr

        @attr.s
        class Legacy:
            _secret = attr.ib(type=int)
            loose: Any = attr.ib(default=None)
            derived = attr.ib(init=False, default=0)

        got = convert(Legacy, {"_secret": Decimal(3), "loose": {1}})

        assert got._secret == 3
        assert got.loose == {1}
        assert got.derived == 0

    def test_special_forms_take_any_value(self) -> None:
        """An annotation that is no class (TypeGuard, a TypeVar) takes the value as it is."""
        assert _type_converter(TypeGuard[int], {}) is None
        assert _type_converter(T, {}) is None

    def test_msgspec_unions_dicts_and_recursion(self) -> None:
        """msgspec: ints inside dicts, optional ints and recursive structs are made exact."""

        got = convert(
            Tree,
            {
                "value": Decimal(1),
                "counts": {"a": Decimal(2)},
                "amount": Decimal("1.5"),
                "children": [{"value": None, "counts": {}, "children": []}],
            },
        )

        assert got == Tree(1, {"a": 2}, 1.5, [Tree(None, {})])
        assert rejected(Tree, {"value": Decimal("1.5"), "counts": {}}) == (
            ".value",
            "Expected `int | null`, got `decimal`",
        )

    def test_msgspec_without_ints_is_convert_itself(self) -> None:
        """A Struct with no int anywhere goes to msgspec.convert untouched."""

        class Text(msgspec.Struct):
            name: str
            tags: list[str]
            pairs: dict[str, str]
            either: str | None = None

        assert convert(Text, {"name": "a", "tags": ["b"], "pairs": {}}) == Text("a", ["b"], {})
        assert convert(Text, {"name": "a", "tags": [], "pairs": {}, "either": "x"}).either == "x"

    def test_msgspec_error_without_path(self) -> None:
        """A msgspec error about the whole value has no path below the image."""
        where, reason = rejected(InnerStruct, [])  # type: ignore[arg-type]

        assert where == ""
        assert "Expected `object`" in reason

    def test_pydantic_reports_how_many_more(self) -> None:
        """Several pydantic errors: the first is named, the count of the others given."""
        where, reason = rejected(PydanticLine, {"sku": 1, "qty": "x", "price": "y"})

        assert where == ".sku"
        assert reason.endswith("(and 2 more)")

    def test_kinds(self) -> None:
        """Each kind is told without importing its library; other objects are refused."""
        assert [
            kind_of(model)
            for model in (Order, AttrsOrder, PydanticOrder, MsgspecOrder, OrderDict, order_of, dict)
        ] == [
            "dataclass",
            "attrs",
            "pydantic",
            "msgspec",
            "typeddict",
            "callable",
            "callable",
        ]
        with pytest.raises(TypeError, match="got 'Order'"):
            kind_of("Order")


class TestModelInstancesAsItems:
    @pytest.mark.parametrize(
        "instance",
        [
            Line("x", 1, Decimal("2.5")),
            AttrsLine("x", 1, Decimal("2.5")),
            PydanticLine(sku="x", qty=1, price=Decimal("2.5")),
            MsgspecLine("x", 1, Decimal("2.5")),
        ],
        ids=lambda instance: type(instance).__name__,
    )
    def test_instances_serialize_as_maps(self, instance: Any) -> None:
        """A model instance is stored as the map of its fields, nested or whole."""
        expected = {"sku": {"S": "x"}, "qty": {"N": "1"}, "price": {"N": "2.5"}}

        assert serialize_image(instance) == expected
        assert serialize([instance]) == {"L": [{"M": expected}]}
        assert item_of(instance) is not None

    def test_msgspec_renamed_fields_use_their_names_in_the_item(self) -> None:
        """A renamed msgspec field is stored under its encoded name, as convert reads it."""

        class Renamed(msgspec.Struct, rename="camel"):
            order_id: str

        assert serialize_image(Renamed("a")) == {"orderId": {"S": "a"}}
        assert convert(Renamed, {"orderId": "a"}) == Renamed("a")

    def test_other_objects_are_refused(self) -> None:
        """An object that is neither a dict nor a model instance is refused, naming it."""
        with pytest.raises(TypeError, match="new: expected a dict of attribute names"):
            insert(object())
        with pytest.raises(TypeError, match="cannot store a type"):
            serialize(Order)
        assert item_of(Order) is None


class TestLazyImports:
    def test_dataclass_models_import_no_model_library(self) -> None:
        """An app with dataclass and TypedDict models never imports pydantic, msgspec or attrs."""
        code = """
import sys
from dataclasses import dataclass
from decimal import Decimal
from typing import TypedDict
from ddbstream import App
from ddbstream.testing import insert, run

@dataclass
class Order:
    pk: str
    total: Decimal

class Customer(TypedDict):
    pk: str

app = App()
seen = []
app.on_insert(model=Order)(lambda record: seen.append(record.new))
app.on_insert(model=Customer)(lambda record: seen.append(record.new))
assert run(app, insert({"pk": "a", "total": 1})).error is None
assert seen == [Order("a", Decimal(1)), {"pk": "a", "total": Decimal(1)}], seen
print(sorted(name for name in ("pydantic", "msgspec", "attrs", "attr") if name in sys.modules))
"""
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )

        assert json.loads(result.stdout.replace("'", '"')) == []


class TestUnhashableModels:
    def test_an_unhashable_callable_is_a_model(self) -> None:
        """A callable object that cannot be hashed works as a model."""

        class Parser:
            __hash__ = None  # type: ignore[assignment]

            def __call__(self, item: dict[str, Any]) -> str:
                return str(item["pk"])

        app = App()
        seen: list[str] = []
        app.on_insert(model=Parser())(lambda record: seen.append(record.new))

        run(app, insert({"pk": "a"}))

        assert seen == ["a"]
