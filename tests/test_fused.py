"""The fused path of model=: dataclass and attrs models made straight from the stream's JSON
give exactly what decoding then converting gives, values and errors alike."""

from __future__ import annotations

import base64
import enum
import math
import typing
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, make_dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal, NewType, Optional

import attrs
import pydantic
import pytest
from benchmarks.events import make_event
from benchmarks.models import Item, attrs_item
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typing_extensions import TypedDict

from ddbstream import App
from ddbstream._codec import EXACT_DECODER, Decoder
from ddbstream._fused import Unfit, fused_converter
from ddbstream._models import Model, _describe, _plain
from ddbstream._record import UNSET, make_record
from ddbstream.errors import DecodeError, ModelError

# --- models -------------------------------------------------------------------------------------

UserId = NewType("UserId", int)


class Color(enum.Enum):
    RED = "red"
    ONE = 1


@dataclass
class Point:
    x: Decimal
    y: int | None = None


@dataclass
class Rich:
    """Every annotation the fused path reads itself, and some it hands to the converter."""

    s: str
    i: int
    d: Decimal
    f: float
    b: bool
    raw: bytes
    none: None
    opt_s: str | None
    opt_i: Optional[int]  # noqa: UP045 - the typing spelling, as users write it
    opt_point: Point | None
    strings: list[str]
    ints: list[int]
    points: list[Point]
    seq: Sequence[Decimal]
    tup: tuple[int, ...]
    ss: set[str]
    ns: set[Decimal]
    ns_int: frozenset[int]
    ns_float: set[float]
    bs: set[bytes]
    mapping: dict[str, int]
    anything: Any
    untyped: dict[str, Any]
    literal: Literal["a", 1]
    color: Color
    pair: tuple[int, str]
    union: int | str
    user: UserId
    annotated: Annotated[int, "meta"]
    bare: typing.List  # type: ignore[type-arg]  # noqa: UP006 - unparametrized, on purpose
    points_later: list[Point] = field(default_factory=list)
    label: str = "x"


@dataclass
class Node:
    name: str
    children: list[Node] = field(default_factory=list)


@dataclass(slots=True)
class Slotted:
    """Made by calling it (slots), with and without defaults."""

    pk: str
    count: int
    tags: set[str] = field(default_factory=set)


@attrs.define
class AttrsPoint:
    x: Decimal
    y: int = 0


@attrs.define
class AttrsRich:
    pk: str
    count: int
    _secret: str  # alias "secret"
    points: list[AttrsPoint]
    untyped: Any = None
    note: str | None = None
    tags: set[str] = attrs.Factory(set)


MODELS: list[Any] = [Rich, Node, Slotted, AttrsRich, Item, attrs_item()]


# --- raw DynamoDB JSON for an annotation ----------------------------------------------------------

WHOLE_TEXTS = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.sampled_from(["0", "-0", "007", "+3", "1E+2", "1e2", "10E-1", "1.0", "-4.00", "0E+5"]),
)
DECIMAL_TEXTS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["12.50", "0.10", "1E+2", "-0.00", "1e-7", "5", "1.0", "1", "+2.5"]),
)
SCALAR_TAGGED = st.one_of(
    st.text().map(lambda text: {"S": text}),
    DECIMAL_TEXTS.map(lambda text: {"N": text}),
    st.booleans().map(lambda flag: {"BOOL": flag}),
    st.just({"NULL": True}),
    st.binary().map(lambda data: {"B": base64.b64encode(data).decode()}),
    st.lists(st.text(), max_size=3).map(lambda texts: {"SS": texts}),
    st.lists(DECIMAL_TEXTS, max_size=3).map(lambda texts: {"NS": texts}),
)
ANY_TAGGED = st.recursive(
    SCALAR_TAGGED,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: {"L": items}),
        st.dictionaries(st.text(max_size=5), inner, max_size=3).map(lambda m: {"M": m}),
    ),
    max_leaves=8,
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def tagged_for(annotation: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """DynamoDB JSON that a field annotated *annotation* takes."""
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if annotation is typing.List:  # noqa: UP006 - Rich.bare
        return st.just({"L": []})
    if annotation is Any or annotation is object:
        return ANY_TAGGED
    if getattr(annotation, "__supertype__", None) is not None:
        return tagged_for(annotation.__supertype__, depth)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: st.text().map(lambda text: {"S": text}),
        int: WHOLE_TEXTS.map(lambda text: {"N": text}),
        Decimal: DECIMAL_TEXTS.map(lambda text: {"N": text}),
        float: DECIMAL_TEXTS.map(lambda text: {"N": text}),
        bool: st.booleans().map(lambda flag: {"BOOL": flag}),
        bytes: st.binary(max_size=8).map(lambda data: {"B": b64(data)}),
        type(None): st.just({"NULL": True}),
        Color: st.sampled_from([{"S": "red"}, {"N": "1"}]),
    }
    if annotation in simple:
        return simple[annotation]
    if origin is Annotated:
        return tagged_for(arguments[0], depth)
    if origin is Literal:
        return st.sampled_from([{"S": "a"}, {"N": "1"}])
    if origin is typing.Union or type(annotation).__name__ == "UnionType":
        return st.one_of([tagged_for(option, depth) for option in arguments])
    if origin is tuple and arguments[-1] is not Ellipsis:
        return st.tuples(*(tagged_for(a, depth) for a in arguments)).map(lambda t: {"L": list(t)})
    if origin in (list, tuple, Sequence):
        return st.lists(tagged_for(arguments[0], depth + 1), max_size=3).map(lambda m: {"L": m})
    if origin in (set, frozenset):
        member = arguments[0]
        if member is str:
            return st.lists(st.text(max_size=5), max_size=4).map(lambda texts: {"SS": texts})
        if member is bytes:
            return st.lists(st.binary(max_size=4), max_size=3).map(
                lambda blobs: {"BS": [b64(blob) for blob in blobs]}
            )
        texts = WHOLE_TEXTS if member is int else DECIMAL_TEXTS
        return st.lists(texts, max_size=4).map(lambda texts: {"NS": texts})
    if origin is dict:
        return st.dictionaries(
            st.text(max_size=5), tagged_for(arguments[1], depth + 1), max_size=3
        ).map(lambda m: {"M": m})
    assert isinstance(annotation, type), annotation
    return image_for(annotation, depth + 1).map(lambda m: {"M": m})


def model_fields(cls: Any) -> list[tuple[str, Any, bool]]:
    """``(key in the item, annotation, has a default)`` of each field of *cls*."""
    hints = typing.get_type_hints(cls, include_extras=True)
    if is_dataclass(cls):
        return [
            (f.name, hints[f.name], not (f.default is f.default_factory is MISSING))
            for f in fields(cls)
        ]
    return [
        (a.name, hints.get(a.name, Any), a.default is not attrs.NOTHING) for a in attrs.fields(cls)
    ]


def image_for(cls: Any, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """The raw map of an item *cls* takes: defaults sometimes left out, other attributes added."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        image: dict[str, Any] = {}
        for key, annotation, optional in model_fields(cls):
            if optional and (depth > 2 or draw(st.booleans())):
                continue
            image[key] = draw(tagged_for(annotation, depth))
        others = draw(st.dictionaries(st.text(max_size=4), ANY_TAGGED, max_size=2))
        for key, value in others.items():
            image.setdefault(key, value)
        return image

    return build()


def exact(value: Any) -> Any:
    """A form in which equal means same types and same values, Decimal exponents included."""
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else value.hex())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [exact(member) for member in value])
    if isinstance(value, (set, frozenset)):
        return (type(value).__name__, sorted(map(repr, map(exact, value))))
    if isinstance(value, dict):
        return ("dict", {name: exact(member) for name, member in value.items()})
    if is_dataclass(value) or hasattr(type(value), "__attrs_attrs__"):
        names = (
            [f.name for f in fields(value)]
            if is_dataclass(value)
            else [a.name for a in type(value).__attrs_attrs__]
        )
        return (type(value).__qualname__, {name: exact(getattr(value, name)) for name in names})
    return (type(value).__name__, value)


# --- the two paths ------------------------------------------------------------------------------


def model_of(cls: Any, *, fused: bool = True) -> Model:
    model = Model(cls)
    model.convert  # noqa: B018 - built as the app builds it when it starts
    if not fused:
        model._fused = None
    return model


def outcome(cls: Any, raw: Any, *, fused: bool, model: Model | None = None) -> tuple[Any, ...]:
    """What a handler of *cls* reading ``record.new`` of an INSERT with *raw* gets, or raises."""
    change = {
        "eventID": "e-1",
        "eventName": "INSERT",
        "dynamodb": {"NewImage": raw, "SequenceNumber": "42", "Keys": {"pk": {"S": "k"}}},
    }
    record = make_record(change, Decoder())
    if model is None:
        model = MODELS_BY[id(cls), fused]
    view = model.view(record, "route")
    try:
        return ("value", exact(view.new))
    except Exception as error:
        return (
            "error",
            type(error),
            str(error),
            dict(vars(error)),
            type(error.__cause__),
            str(error.__cause__),
        )


def decoded_then_converted(cls: Any, raw: Any) -> Any:
    return MODELS_BY[id(cls), False].convert(EXACT_DECODER.image(raw))


MODELS_BY = {
    (id(cls), fused): model_of(cls, fused=fused) for cls in MODELS for fused in (True, False)
}


def fused_of(cls: Any) -> Callable[[Any], Any]:
    fused = MODELS_BY[id(cls), True]._fused
    assert fused is not None
    return fused


class TestEveryModelIsFused:
    @pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__qualname__)
    def test_fused(self, cls: Any) -> None:
        assert MODELS_BY[id(cls), True]._fused is not None


# --- valid items: the same values ---------------------------------------------------------------


@st.composite
def model_and_image(draw: st.DrawFn) -> tuple[Any, dict[str, Any]]:
    cls = draw(st.sampled_from(MODELS))
    return cls, draw(image_for(cls))


class TestSameValues:
    @settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
    @given(model_and_image())
    def test_fused_equals_decode_then_convert(self, case: tuple[Any, dict[str, Any]]) -> None:
        """Every item a model takes: the fused path makes it, exactly as the dict path does."""
        cls, raw = case
        expected = exact(decoded_then_converted(cls, raw))

        got = fused_of(cls)(raw)

        assert exact(got) == expected

    def test_benchmark_items(self) -> None:
        """The benchmark's event, every image, as a dataclass and as an attrs class."""
        records = make_event(300, seed=8)["Records"]
        images = [r["dynamodb"][name] for r in records for name in ("NewImage", "OldImage")
                  if name in r["dynamodb"]]  # fmt: skip
        for cls in (Item, MODELS[-1]):  # the same attrs class as elsewhere, not a new one
            fused = fused_of(cls)
            for raw in images:
                assert exact(fused(raw)) == exact(decoded_then_converted(cls, raw))

    @pytest.mark.parametrize(
        ("text", "expected"),
        [("1E+2", 100), ("10E-1", 1), ("1.0", 1), ("-0", 0), ("+3", 3), ("007", 7)],
    )
    def test_whole_numbers_into_int(self, text: str, expected: int) -> None:
        got = fused_of(Slotted)({"pk": {"S": "p"}, "count": {"N": text}})

        assert got.count == expected
        assert type(got.count) is int

    def test_recursive_model(self) -> None:
        raw = {"name": {"S": "a"}, "children": {"L": [{"M": {"name": {"S": "b"}}}]}}

        assert fused_of(Node)(raw) == Node("a", [Node("b")])


# --- anything else: the same errors -------------------------------------------------------------

JUNK: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(
        [
            {"N": "1.5"},
            {"N": "NaN"},
            {"N": "Infinity"},
            {"N": "-Infinity"},
            {"N": " 1"},
            {"N": "1_0"},
            {"N": "\u0661"},  # an Arabic-Indic one
            {"N": "\u00b2"},  # a superscript two
            {"N": ""},
            {"N": 5},
            {"N": "1E-2"},
            {"N": "9" * 5000},  # past int()'s digit limit: only the dict path makes it
            {"S": 1},
            {"S": None},
            {"BOOL": 1},
            {"NULL": False},
            {"B": "not base64!"},
            {"B": 1},
            {"SS": "a"},
            {"SS": [1]},
            {"NS": ["x"]},
            {"NS": "1"},
            {"BS": ["@@"]},
            {"BS": [1]},
            {"L": "x"},
            {"L": [{"X": 1}]},
            {"M": []},
            {"M": {"a": {}}},
            {"X": "unknown tag"},
            {},
            {"S": "a", "N": "1"},
            {"NULL": True, "S": "a"},
            "text",
            5,
            None,
            [],
        ]
    ),
    ANY_TAGGED,
)


def spots(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The paths of every tagged value and map in a raw image."""
    found = [path]
    if isinstance(value, dict):
        for key, member in value.items():
            found += spots(member, (*path, key))
    elif isinstance(value, list):
        for index, member in enumerate(value):
            found += spots(member, (*path, index))
    return found


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = replaced(copy[head], tuple(rest), new)
    return copy


def deleted(value: Any, path: tuple[Any, ...]) -> Any:
    head, *rest = path
    if rest:
        copy: Any = dict(value) if isinstance(value, dict) else list(value)
        copy[head] = deleted(copy[head], tuple(rest))
        return copy
    copy = dict(value) if isinstance(value, dict) else list(value)
    del copy[head]
    return copy


PAYLOAD_VALUES = [" 1", "1_0", "1.5", "1E-2", "NaN", "Infinity", "\u0661", "", "x", "QQ==", "@@",
                  1, 1.5, None, True, False, [], ["x"], [1], ["1", "x"], ["QQ==", "@"], {},
                  {"S": "x"}]  # fmt: skip
PAYLOADS = st.sampled_from(PAYLOAD_VALUES)
ANNOTATIONS: list[Any] = [
    str, int, Decimal, float, bool, bytes, None, str | None, Optional[int], Point | None,  # noqa: UP045
    list[str], list[int], list[Point], Sequence[Decimal], tuple[int, ...], set[str],
    set[Decimal], frozenset[int], set[float], set[bytes], dict[str, int], dict[str, Any], Any,
    Literal["a", 1], Color, tuple[int, str], int | str, UserId, Annotated[int, "meta"], Point,
    list[bool], bool | None, set[Literal["a"]], list[UserId],
]  # fmt: skip
TAG_NAMES = {"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}
TAGS = st.sampled_from(["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS", "X"])


def at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


@st.composite
def damaged(draw: st.DrawFn) -> tuple[Any, Any]:
    """A valid item of a model with one thing broken (or not: junk can be valid).

    Most damage is close to valid, where a reader that forgot a check would accept it: a
    payload the tag does not take, a second tag, another tag for the same payload.
    """
    cls, raw = draw(model_and_image())
    places = spots(raw)
    tagged = [
        place
        for place in places
        if place and isinstance(at(raw, place), dict) and len(at(raw, place)) == 1
        and next(iter(at(raw, place))) in TAG_NAMES
    ]  # fmt: skip
    how = draw(st.sampled_from(["payload", "second tag", "other tag", "replace", "delete"]))
    if tagged and how in ("payload", "second tag", "other tag"):
        place = draw(st.sampled_from(tagged))
        ((tag, payload),) = at(raw, place).items()
        if how == "payload":
            return cls, replaced(raw, place, {tag: draw(PAYLOADS)})
        if how == "second tag":
            return cls, replaced(raw, place, {tag: payload, draw(TAGS): draw(PAYLOADS)})
        return cls, replaced(raw, place, {draw(TAGS): payload})
    place = draw(st.sampled_from(places))
    if place and how == "delete":
        return cls, deleted(raw, place)
    return cls, replaced(raw, place, draw(JUNK))


class TestSameErrors:
    @settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
    @given(damaged())
    def test_handlers_see_the_same(self, case: tuple[Any, Any]) -> None:
        """A handler gets the same model, or the same error (type, message, attributes)."""
        cls, raw = case

        assert outcome(cls, raw, fused=True) == outcome(cls, raw, fused=False)

    @settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
    @given(damaged())
    def test_fused_raises_where_the_dict_path_raises(self, case: tuple[Any, Any]) -> None:
        """Where the fused function succeeds at all, the dict path gives the same."""
        cls, raw = case
        try:
            got = fused_of(cls)(raw)
        except Exception:
            return
        assert exact(got) == exact(decoded_then_converted(cls, raw))

    def test_every_tag_and_payload_into_every_annotation(self) -> None:
        """Each field annotation against every tag holding every payload, alone, in a list,
        in a map and with a second tag: the same model or the same error, each time."""
        payloads = [*PAYLOAD_VALUES, "1", "-2", "007", "1E+2", "12.50", "9" * 5000, ["a"],
                    ["1", "1.0"], ["1", "1E+0", "2"], ["1.5"], ["1E+2", "-0"],
                    {"k": {"N": "1"}}, [{"S": "a"}]]  # fmt: skip
        tags = ["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS", "X"]
        values: list[Any] = [{tag: payload} for tag in tags for payload in payloads]
        values += [{"L": [value]} for value in values] + [{"M": {"k": value}} for value in values]
        valid = {"S": "x", "N": "1", "B": "QQ==", "BOOL": True, "NULL": True, "M": {},
                 "L": [], "SS": ["a"], "NS": ["1"], "BS": ["QQ=="]}  # fmt: skip
        values += [{one: valid[one], other: valid[other]} for one in valid for other in valid
                   if one != other]  # fmt: skip
        values.append({})
        values += ["x", 1, None, [], [{"S": "x"}]]
        checked = 0
        for annotation in ANNOTATIONS:
            cls = make_dataclass("Field", [("v", annotation)])
            fused, plain = model_of(cls), model_of(cls, fused=False)
            assert fused._fused is not None, annotation
            for value in values:
                raw = {"v": value}
                got = outcome(cls, raw, fused=True, model=fused)
                assert got == outcome(cls, raw, fused=False, model=plain), (annotation, value)
                checked += got[0] == "value"
        assert checked > 300  # not only errors

    @pytest.mark.parametrize(
        ("raw", "error", "message"),
        [
            (
                {"pk": {"S": "p"}, "count": {"N": "1.5"}},
                ModelError,
                "route 'route': NewImage.count does not fit the model Slotted: expected an "
                "integer, got Decimal('1.5'). Change the model, or filter out such items with "
                "where=",
            ),
            (
                {"pk": {"S": "p"}, "count": {"N": "1"}, "other": {"N": "x"}},
                DecodeError,
                "NewImage.other: not a number: 'x'",
            ),
            (
                {"pk": {"S": "p"}},
                ModelError,
                "NewImage.count does not fit the model Slotted: missing",
            ),
        ],
    )
    def test_examples(self, raw: Any, error: type[Exception], message: str) -> None:
        for fused in (True, False):
            got = outcome(Slotted, raw, fused=fused)
            assert got[1] is error
            assert message in got[2]


# --- when the fused path runs -------------------------------------------------------------------


def counting(model: Model) -> list[Any]:
    """Make *model*'s fused function record each image it is given."""
    calls: list[Any] = []
    fused = model._fused
    assert fused is not None

    def spy(raw: Any) -> Any:
        calls.append(raw)
        return fused(raw)

    model._fused = spy
    return calls


RAW = {"pk": {"S": "p"}, "count": {"N": "3"}}
CHANGE: dict[str, Any] = {
    "eventID": "e-1",
    "eventName": "MODIFY",
    "dynamodb": {"NewImage": RAW, "OldImage": RAW, "Keys": {"pk": {"S": "p"}}},
}


class TestWhenFused:
    def test_an_undecoded_image_is_made_from_the_json(self) -> None:
        """The record's dict is never made; each image is converted once and cached."""
        model = model_of(Slotted)
        calls = counting(model)
        record = make_record(CHANGE, Decoder())
        view: Any = model.view(record, "route")

        assert view.new == view.item == Slotted("p", 3)
        assert view.old == Slotted("p", 3)
        assert view.new is view.item
        assert len(calls) == 2
        assert record._new is UNSET
        assert record._old is UNSET

    def test_a_decoded_image_is_converted(self) -> None:
        """Another route read the dict: the view converts it instead of reading the JSON."""
        model = model_of(Slotted)
        calls = counting(model)
        record = make_record(CHANGE, Decoder())
        assert record.new == {"pk": "p", "count": Decimal(3)}
        view: Any = model.view(record, "route")

        assert view.new == Slotted("p", 3)
        assert view.old == Slotted("p", 3)
        assert len(calls) == 1  # the old image only

    def test_parse_number_uses_the_dict_path(self) -> None:
        model = model_of(Slotted)
        calls = counting(model)
        record = make_record(CHANGE, Decoder(parse_number=int))
        view: Any = model.view(record, "route")

        assert view.new == Slotted("p", 3)
        assert calls == []

    def test_missing_image_is_the_same_error(self) -> None:
        change = {**CHANGE, "dynamodb": {"Keys": {"pk": {"S": "p"}}, "OldImage": RAW}}
        results = []
        for fused in (True, False):
            view: Any = model_of(Slotted, fused=fused).view(make_record(change, Decoder()), "r")
            with pytest.raises(Exception) as caught:  # noqa: PT011 - compared below
                view.new  # noqa: B018
            results.append((type(caught.value), str(caught.value)))

        assert results[0] == results[1]

    def test_through_an_app(self) -> None:
        seen: list[Any] = []
        app = App()
        app.on_modify(model=Slotted)(lambda record: seen.append((record.new, record.old)))

        record = {**CHANGE, "dynamodb": {**CHANGE["dynamodb"], "SequenceNumber": "1"}}
        app.handler({"Records": [record]}, None)

        assert seen == [(Slotted("p", 3), Slotted("p", 3))]


# --- which models are fused ---------------------------------------------------------------------


@dataclass
class WithPostInit:
    pk: str

    def __post_init__(self) -> None:
        self.pk = self.pk.upper()


@dataclass
class WithFactory:
    pk: str
    made: list[str] = field(default_factory=lambda: ["side effect"])


@dataclass
class HoldsPostInit:
    inner: list[WithPostInit]


@dataclass
class HoldsPydantic:
    inner: PydanticInner


class PydanticInner(pydantic.BaseModel):
    n: int


class InnerDict(TypedDict):
    n: int


@dataclass
class HoldsTypedDict:
    inner: InnerDict | int


@dataclass(init=False)
class OwnInit:
    pk: str

    def __init__(self, pk: str) -> None:
        self.pk = pk


@dataclass(init=False)
class NoInit:
    pk: str = ""


@dataclass
class OwnNew:
    pk: str

    def __new__(cls, *args: Any, **kwargs: Any) -> OwnNew:
        return super().__new__(cls)


@attrs.define
class WithValidator:
    pk: str = attrs.field(validator=attrs.validators.instance_of(str))


@attrs.define
class WithSelfFactory:
    pk: str
    copy: str = attrs.Factory(lambda self: self.pk, takes_self=True)


@attrs.define
class WithAttrsHook:
    pk: str

    def __attrs_post_init__(self) -> None:
        pass


@dataclass
class Fine:
    """Not fused classes in its fields are fine when converting them runs no user code."""

    color: Color
    literal: Literal["a"]
    small: list[Literal["a"]] = field(default_factory=list[Literal["a"]])


class TestWhichModels:
    @pytest.mark.parametrize(
        "cls",
        [
            WithPostInit,
            WithFactory,
            HoldsPostInit,
            HoldsPydantic,
            HoldsTypedDict,
            OwnInit,
            NoInit,
            OwnNew,
            WithValidator,
            WithSelfFactory,
            WithAttrsHook,
        ],
    )
    def test_models_whose_making_runs_user_code_are_not_fused(self, cls: Any) -> None:
        """Giving up half way would run it twice; these take the dict path, as before."""
        assert model_of(cls)._fused is None

    def test_plain_classes_are_composed(self) -> None:
        fused = model_of(Fine)._fused
        assert fused is not None

        assert fused({"color": {"S": "red"}, "literal": {"S": "a"}}) == Fine(Color.RED, "a")

    def test_fused_converter_of_a_class_that_is_no_model(self) -> None:
        assert fused_converter(Color, _describe, _plain) is None
        assert _describe(PydanticInner) == "foreign"
        assert _describe(Color) == "plain"

    def test_unfit_is_what_the_fused_path_raises(self) -> None:
        fused = model_of(Slotted)._fused
        assert fused is not None
        with pytest.raises(Unfit):
            fused({"pk": {"S": 1}, "count": {"N": "1"}})  # S holding a number
