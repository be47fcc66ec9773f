"""Conditions on an item's attributes, with the names of ``boto3.dynamodb.conditions``.

    Attr("status").eq("SHIPPED") & Attr("total").gte(100)
    Attr("address.city").begins_with("Ber") | ~Attr("items[0].sku").exists()

Conditions follow DynamoDB's rules on the decoded values: numbers compare as numbers whatever
their Python type, a missing attribute or values of unlike types never match (and never
raise), ``True`` is not ``1``. They are evaluated on the stream's DynamoDB JSON directly, so a
condition on ``status`` decodes ``status`` and nothing else of the image.

boto3's own condition objects (``from boto3.dynamodb.conditions import Attr``) are accepted
wherever a condition is, and so is a dict, ``{"type": "ORDER"}``, meaning equality on each key.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from ._codec import EXACT_DECODER, TYPE_TAGS, same_value
from .errors import DecodeError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, TypeAlias

    from ._typing import RawImage

    Path: TypeAlias = "tuple[str | int, ...]"
    ConditionLike: TypeAlias = "Condition | Mapping[str, Any] | Any"

__all__ = ["And", "Attr", "Comparison", "Condition", "Not", "Or", "Size", "to_condition"]

TYPE_LETTERS = TYPE_TAGS
"""DynamoDB's type letters, as ``attribute_type`` takes them."""


class Condition:
    """A test of an item; combine with ``&`` (and), ``|`` (or) and ``~`` (not).

    A dict on either side of ``&`` or ``|`` is read as equality on each key.
    """

    __slots__ = ()

    def __and__(self, other: ConditionLike) -> And:
        return And(self, to_condition(other))

    def __rand__(self, other: ConditionLike) -> And:
        return And(to_condition(other), self)

    def __or__(self, other: ConditionLike) -> Or:
        return Or(self, to_condition(other))

    def __ror__(self, other: ConditionLike) -> Or:
        return Or(to_condition(other), self)

    def __invert__(self) -> Not:
        return Not(self)

    def test(self, image: RawImage) -> bool:
        """Evaluate on an image in DynamoDB JSON (as the stream delivers it)."""
        raise NotImplementedError

    def walk(self) -> Iterator[Condition]:
        """This condition and every condition inside it, depth first."""
        yield self


class Comparison(Condition):
    """One test of one attribute, e.g. ``Attr("a").eq(1)`` or ``Attr("a").size().gt(2)``.

    Attributes:
        operator: one of ``eq ne lt lte gt gte between begins_with contains is_in exists
            not_exists attribute_type``.
        path: the attribute path as written, ``"address.city"``.
        values: the operands after the attribute, normalized (floats become ``Decimal``,
            sets ``frozenset``, ``is_in``'s options a tuple).
        size: whether the test is on the attribute's size (``Attr("a").size()``), not its
            value.
    """

    __slots__ = ("_problem", "_steps", "_text", "operator", "path", "size", "values")

    def __init__(self, operator: str, path: str, *values: Any, size: bool = False) -> None:
        self.operator = operator
        self.path = path
        self.values = values
        self.size = size
        self._steps: Path = ()
        # A bad operand is reported when the condition is given to a route, where the error
        # can name the route; until then the condition only remembers what is wrong.
        self._problem: Exception | None = None
        self._text: str | None = None  # the operand of eq on a string: tested on the raw JSON
        try:
            if operator not in _TESTERS:
                known = ", ".join(sorted(_TESTERS))
                raise ValueError(f"unknown operator {operator!r} (known: {known})")
            self._steps = parse_path(path)
            self.values = _check_operands(operator, path, values, size)
            if operator == "eq" and not size and self.values[0].__class__ is str:
                self._text = self.values[0]
        except (TypeError, ValueError) as problem:
            self._problem = problem

    def check(self) -> None:
        """Raise the TypeError or ValueError that makes this condition invalid, if any."""
        if self._problem is not None:
            raise self._problem

    @property
    def steps(self) -> Path:
        """The path split into names and list indexes: ``"a.b[0]"`` -> ``("a", "b", 0)``."""
        return self._steps

    def test(self, image: RawImage) -> bool:
        """Decode the one attribute this compares (if present) and compare it."""
        if self._problem is not None:
            raise self._problem
        tagged = find(image, self._steps)
        text = self._text
        if text is not None and tagged.__class__ is dict and len(tagged) == 1 and "S" in tagged:
            # What decoding and same_value would say, without either.
            return tagged["S"] == text  # type: ignore[no-any-return]
        operator = self.operator
        if operator == "exists":
            return tagged is not None
        if operator == "not_exists":
            return tagged is None
        if tagged is None:
            return False
        if operator == "attribute_type":
            return self.values[0] in tagged
        if self.size:
            size = _size(tagged, self.path)
            return size is not None and _TESTERS[operator](size, *self.values)
        return _TESTERS[operator](EXACT_DECODER.value(tagged, self.path), *self.values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Comparison):
            return NotImplemented
        return (self.operator, self.path, self.size, self.values) == (
            other.operator,
            other.path,
            other.size,
            other.values,
        )

    def __hash__(self) -> int:
        return hash((self.operator, self.path, self.size))

    def __repr__(self) -> str:
        operands = ", ".join(map(repr, self.values))
        size = ".size()" if self.size else ""
        return f"Attr({self.path!r}){size}.{self.operator}({operands})"


class _Combination(Condition):
    """Several conditions joined by one operator."""

    __slots__ = ("conditions",)
    _symbol = ""

    def __init__(self, *conditions: Condition) -> None:
        self.conditions = conditions

    def walk(self) -> Iterator[Condition]:
        """This condition and the conditions it joins, depth first."""
        yield self
        for condition in self.conditions:
            yield from condition.walk()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.conditions == self.conditions

    def __hash__(self) -> int:
        return hash((self._symbol, self.conditions))

    def __repr__(self) -> str:
        return "(" + f" {self._symbol} ".join(map(repr, self.conditions)) + ")"


class And(_Combination):
    """True when every one of ``conditions`` is."""

    __slots__ = ()
    _symbol = "&"

    def test(self, image: RawImage) -> bool:
        """True when every condition is, tested in order until one is not."""
        for condition in self.conditions:  # noqa: SIM110 - faster than all() on the hot path
            if not condition.test(image):
                return False
        return True


class Or(_Combination):
    """True when any one of ``conditions`` is."""

    __slots__ = ()
    _symbol = "|"

    def test(self, image: RawImage) -> bool:
        """True when any condition is, tested in order until one is."""
        return any(condition.test(image) for condition in self.conditions)


class Not(Condition):
    """True when ``condition`` is not (so true when its attribute is missing)."""

    __slots__ = ("condition",)

    def __init__(self, condition: Condition) -> None:
        self.condition = condition

    def test(self, image: RawImage) -> bool:
        """True when the condition is not (so when its attribute is missing, too)."""
        return not self.condition.test(image)

    def walk(self) -> Iterator[Condition]:
        """This condition and the one it negates."""
        yield self
        yield from self.condition.walk()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Not) and other.condition == self.condition

    def __hash__(self) -> int:
        return hash(("~", self.condition))

    def __repr__(self) -> str:
        return f"~{self.condition!r}"


class Attr:
    """An attribute of the item, by name or path (``"address.city"``, ``"items[0].sku"``)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name  # checked with the operands, when the condition reaches a route

    def eq(self, value: Any) -> Comparison:
        """The attribute equals *value* (same DynamoDB type; ``1 == Decimal("1.0")``)."""
        return Comparison("eq", self.name, value)

    def ne(self, value: Any) -> Comparison:
        """The attribute exists and does not equal *value*."""
        return Comparison("ne", self.name, value)

    def lt(self, value: Any) -> Comparison:
        """The attribute is less than *value* (numbers, strings or binary of one kind)."""
        return Comparison("lt", self.name, value)

    def lte(self, value: Any) -> Comparison:
        """The attribute is less than or equal to *value*."""
        return Comparison("lte", self.name, value)

    def gt(self, value: Any) -> Comparison:
        """The attribute is greater than *value*."""
        return Comparison("gt", self.name, value)

    def gte(self, value: Any) -> Comparison:
        """The attribute is greater than or equal to *value*."""
        return Comparison("gte", self.name, value)

    def between(self, low: Any, high: Any) -> Comparison:
        """``low <= attribute <= high``."""
        return Comparison("between", self.name, low, high)

    def begins_with(self, prefix: str | bytes) -> Comparison:
        """A string (or binary) attribute starts with *prefix*."""
        return Comparison("begins_with", self.name, prefix)

    def contains(self, value: Any) -> Comparison:
        """A string holds the substring *value*, or a set or list holds the member *value*."""
        return Comparison("contains", self.name, value)

    def is_in(self, values: Any) -> Comparison:
        """The attribute equals one of *values* (a list, tuple or set)."""
        return Comparison("is_in", self.name, values)

    def exists(self) -> Comparison:
        """The attribute is present (its value may be null)."""
        return Comparison("exists", self.name)

    def not_exists(self) -> Comparison:
        """The attribute is absent."""
        return Comparison("not_exists", self.name)

    def attribute_type(self, type_letter: str) -> Comparison:
        """The attribute has the DynamoDB type *type_letter*: ``S N B BOOL NULL M L SS NS BS``."""
        return Comparison("attribute_type", self.name, type_letter)

    def size(self) -> Size:
        """The attribute's size, as DynamoDB's ``size()`` counts it.

        The length in UTF-8 bytes of a string, in bytes of a binary, the number of members
        of a set, list or map; numbers, booleans and null have no size (no match).
        """
        return Size(self.name)

    def __repr__(self) -> str:
        return f"Attr({self.name!r})"


class Size:
    """``Attr("tags").size()``: compare an attribute's size with a number."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def eq(self, value: Any) -> Comparison:
        """The size equals *value*."""
        return Comparison("eq", self.name, value, size=True)

    def ne(self, value: Any) -> Comparison:
        """The attribute has a size, other than *value*."""
        return Comparison("ne", self.name, value, size=True)

    def lt(self, value: Any) -> Comparison:
        """The size is less than *value*."""
        return Comparison("lt", self.name, value, size=True)

    def lte(self, value: Any) -> Comparison:
        """The size is less than or equal to *value*."""
        return Comparison("lte", self.name, value, size=True)

    def gt(self, value: Any) -> Comparison:
        """The size is greater than *value*."""
        return Comparison("gt", self.name, value, size=True)

    def gte(self, value: Any) -> Comparison:
        """The size is greater than or equal to *value*."""
        return Comparison("gte", self.name, value, size=True)

    def between(self, low: Any, high: Any) -> Comparison:
        """``low <= size <= high``."""
        return Comparison("between", self.name, low, high, size=True)

    def is_in(self, values: Any) -> Comparison:
        """The size is one of *values*."""
        return Comparison("is_in", self.name, values, size=True)

    def __repr__(self) -> str:
        return f"Attr({self.name!r}).size()"


# --- accepting what users pass ---------------------------------------------------------------

# boto3's expression operators, mapped to ours.
_BOTO3_OPERATORS = {
    "=": "eq",
    "<>": "ne",
    "<": "lt",
    "<=": "lte",
    ">": "gt",
    ">=": "gte",
    "BETWEEN": "between",
    "begins_with": "begins_with",
    "contains": "contains",
    "IN": "is_in",
    "attribute_exists": "exists",
    "attribute_not_exists": "not_exists",
    "attribute_type": "attribute_type",
}


def to_condition(where: ConditionLike) -> Condition:
    """Turn what a user may pass as a condition into a :class:`Condition`.

    Accepts a Condition, a dict (equality on each key; keys may be paths) or a condition from
    ``boto3.dynamodb.conditions`` (duck-typed: boto3 is never imported here).

    Raises:
        TypeError: *where* is none of these.
        ValueError: it is one of them, but cannot be valid.
    """
    if isinstance(where, Condition):
        for condition in where.walk():
            if isinstance(condition, Comparison):
                condition.check()
        return where
    if isinstance(where, Mapping):
        if not where:
            raise ValueError("an empty dict would match every item; pass None for no filter")
        for name in where:
            if not isinstance(name, str):
                raise TypeError(f"attribute names must be strings, got {name!r}")
        equalities = [to_condition(Attr(name).eq(value)) for name, value in where.items()]
        return equalities[0] if len(equalities) == 1 else And(*equalities)
    operator = getattr(where, "expression_operator", None)
    get_expression = getattr(where, "get_expression", None)
    if isinstance(operator, str) and callable(get_expression):
        return _from_boto3(operator, tuple(get_expression()["values"]))
    raise TypeError(
        f"expected a condition such as Attr('status').eq('SHIPPED'), a dict or a boto3 "
        f"condition, got {type(where).__name__}: {where!r}"
    )


def _from_boto3(operator: str, values: tuple[Any, ...]) -> Condition:
    if operator == "AND":
        return And(*map(to_condition, values))
    if operator == "OR":
        return Or(*map(to_condition, values))
    if operator == "NOT":
        return Not(to_condition(values[0]))
    ours = _BOTO3_OPERATORS.get(operator)
    if ours is None:
        raise ValueError(f"the boto3 condition operator {operator!r} is not supported")
    if not values:
        raise ValueError(f"the boto3 condition {operator!r} names no attribute")
    attribute, *operands = values
    size = getattr(attribute, "expression_operator", None) == "size"
    if size:
        attribute = attribute.get_expression()["values"][0]
    name = getattr(attribute, "name", None)
    if not isinstance(name, str):
        raise ValueError(
            f"the boto3 condition {operator!r} must be on an attribute, Attr('name') or "
            f"Attr('name').size(), got {attribute!r}"
        )
    return to_condition(Comparison(ours, name, *operands, size=size))


# --- paths -----------------------------------------------------------------------------------


def parse_path(path: object) -> Path:
    """Split ``"a.b[0].c"`` into ``("a", "b", 0, "c")``.

    Raises:
        TypeError: *path* is not a string.
        ValueError: *path* is empty or malformed.
    """
    if not isinstance(path, str):
        raise TypeError(f"attribute names must be strings, got {type(path).__name__}: {path!r}")
    steps: list[str | int] = []
    for part in path.split("."):
        name, bracket, rest = part.partition("[")
        if not name or "]" in name:
            raise ValueError(f"invalid attribute path {path!r}: write it as 'a.b[0].c'")
        steps.append(name)
        while bracket:
            index, closed, rest = rest.partition("]")
            if not (closed and index.isascii() and index.isdigit()):
                raise ValueError(f"invalid list index in attribute path {path!r}")
            steps.append(int(index))
            bracket, rest = rest[:1], rest[1:]
            if bracket not in ("", "["):
                raise ValueError(f"invalid attribute path {path!r}: write it as 'a.b[0].c'")
    return tuple(steps)


def find(image: RawImage, steps: Path) -> Any:
    """The tagged value at *steps* in a DynamoDB JSON image, or None when it is absent.

    Only the containers on the way are looked into; nothing is decoded.
    """
    tagged: Any = image.get(steps[0])  # type: ignore[arg-type]  # always a name
    for depth, step in enumerate(steps[1:], start=1):
        if tagged is None:
            return None
        if not isinstance(tagged, dict):
            raise DecodeError(
                f"expected a type-tagged value, got {type(tagged).__name__}",
                path=format_path(steps[:depth]),
            )
        if isinstance(step, int):
            items = tagged.get("L")
            tagged = items[step] if isinstance(items, list) and step < len(items) else None
        else:
            attributes = tagged.get("M")
            tagged = attributes.get(step) if isinstance(attributes, dict) else None
    return tagged


def format_path(steps: Path) -> str:
    """``("a", "b", 0)`` -> ``"a.b[0]"``: the inverse of :func:`parse_path`."""
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else step
    return text


# --- operands and tests ----------------------------------------------------------------------

_ORDERED = frozenset({"lt", "lte", "gt", "gte", "between"})
_SIZE_OPERATORS = _ORDERED | {"eq", "ne", "is_in"}


def _check_operands(
    operator: str, path: str, values: tuple[Any, ...], size: bool
) -> tuple[Any, ...]:
    expected = _ARITY[operator]
    if len(values) != expected:
        raise ValueError(
            f"Attr({path!r}).{operator}() takes {expected} operand(s), got {len(values)}"
        )
    if size and operator not in _SIZE_OPERATORS:
        raise ValueError(f"Attr({path!r}).size() has no {operator}()")
    if operator == "attribute_type":
        if values[0] not in TYPE_LETTERS:
            letters = " ".join(sorted(TYPE_LETTERS))
            raise ValueError(f"attribute_type takes one of {letters}, got {values[0]!r}")
        return values
    if operator == "is_in":
        options = values[0]
        if isinstance(options, (str, bytes, Mapping)) or not hasattr(options, "__iter__"):
            raise TypeError(f"is_in takes a list, tuple or set of values, got {options!r}")
        normalized = tuple(_normalize(value) for value in options)
        if size:
            _require_numbers(path, operator, normalized)
        return (normalized,)
    if operator == "begins_with" and not isinstance(values[0], (str, bytes, bytearray)):
        raise TypeError(f"begins_with takes a str or bytes prefix, got {values[0]!r}")
    normalized = tuple(_normalize(value) for value in values)
    if size:
        _require_numbers(path, operator, normalized)
    elif operator in _ORDERED:
        kinds = {_ordered_kind(value) for value in normalized}
        if None in kinds or len(kinds) > 1:
            operands = ", ".join(map(repr, values))
            raise TypeError(
                f"Attr({path!r}).{operator}({operands}): DynamoDB orders numbers, strings and "
                f"binary, each only with its own kind"
            )
    return normalized


def _require_numbers(path: str, operator: str, values: tuple[Any, ...]) -> None:
    for value in values:
        if _ordered_kind(value) is not Decimal:
            raise TypeError(f"Attr({path!r}).size().{operator}() compares numbers, got {value!r}")


def _ordered_kind(value: Any) -> type | None:
    if isinstance(value, str):
        return str
    if isinstance(value, bytes):
        return bytes
    return Decimal if _is_number(value) else None


def _normalize(value: Any) -> Any:
    """Make an operand comparable with decoded values, or refuse it."""
    if value is None or isinstance(value, (str, bool, int, bytes)):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"DynamoDB numbers are finite, got {value!r}")
        return Decimal(repr(value))  # what the user wrote, not the binary fraction
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"DynamoDB numbers are finite, got {value!r}")
        return value
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, (set, frozenset)):
        members = frozenset(map(_normalize, value))
        kinds = {_ordered_kind(member) for member in members}
        if len(kinds) != 1 or None in kinds:
            raise TypeError(
                f"a DynamoDB set holds strings, numbers or binary, all of one kind, and at "
                f"least one; got {value!r}"
            )
        return members
    if isinstance(value, (list, tuple)):
        return [_normalize(item) for item in value]
    if isinstance(value, Mapping):
        for name in value:
            if not isinstance(name, str):
                raise TypeError(f"map keys must be strings, got {name!r} in {value!r}")
        return {name: _normalize(item) for name, item in value.items()}
    raise TypeError(
        f"unsupported value type {type(value).__name__}: {value!r} (use str, int, float, "
        f"Decimal, bytes, bool, None, a set, list or dict)"
    )


def _size(tagged: Any, path: str) -> int | None:
    """DynamoDB's ``size()`` of a tagged value; None for types that have none."""
    if not isinstance(tagged, dict) or len(tagged) != 1:
        EXACT_DECODER.value(tagged, path)  # raises the DecodeError that names the problem
    ((tag, raw),) = tagged.items()
    if tag == "S" and isinstance(raw, str):
        return len(raw.encode("utf-8", "surrogatepass"))
    if tag == "B":
        return len(EXACT_DECODER.value(tagged, path))
    if tag in ("SS", "NS", "BS", "L") and isinstance(raw, list):
        return len(raw)
    if tag == "M" and isinstance(raw, dict):
        return len(raw)
    EXACT_DECODER.value(tagged, path)  # malformed values raise; N, BOOL and NULL have no size
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _comparable(a: Any, b: Any) -> bool:
    """Whether ``<`` between *a* and *b* means what DynamoDB means."""
    kind = _ordered_kind(a)
    return kind is not None and kind is _ordered_kind(b)


def _lt(value: Any, operand: Any) -> bool:
    return _comparable(value, operand) and bool(value < operand)


def _lte(value: Any, operand: Any) -> bool:
    return _comparable(value, operand) and bool(value <= operand)


def _gt(value: Any, operand: Any) -> bool:
    return _comparable(value, operand) and bool(value > operand)


def _gte(value: Any, operand: Any) -> bool:
    return _comparable(value, operand) and bool(value >= operand)


def _between(value: Any, low: Any, high: Any) -> bool:
    return _gte(value, low) and _lte(value, high)


def _ne(value: Any, operand: Any) -> bool:
    return not same_value(value, operand)


def _begins_with(value: Any, prefix: Any) -> bool:
    return _comparable(value, prefix) and not _is_number(value) and value.startswith(prefix)


def _contains(value: Any, member: Any) -> bool:
    if isinstance(value, str):
        return isinstance(member, str) and member in value
    if isinstance(value, (set, frozenset, list)):
        return any(same_value(item, member) for item in value)
    return False


def _is_in(value: Any, options: tuple[Any, ...]) -> bool:
    return any(same_value(value, option) for option in options)


def _not_called(value: Any, *operands: Any) -> bool:  # pragma: no cover - handled in test()
    raise AssertionError("exists, not_exists and attribute_type never reach a value test")


_TESTERS: dict[str, Callable[..., bool]] = {
    "eq": same_value,
    "ne": _ne,
    "lt": _lt,
    "lte": _lte,
    "gt": _gt,
    "gte": _gte,
    "between": _between,
    "begins_with": _begins_with,
    "contains": _contains,
    "is_in": _is_in,
    "exists": _not_called,
    "not_exists": _not_called,
    "attribute_type": _not_called,
}
_ARITY = {operator: 1 for operator in _TESTERS} | {
    "between": 2,
    "exists": 0,
    "not_exists": 0,
}
