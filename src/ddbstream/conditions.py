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

from ._codec import EXACT_DECODER
from ._operators import TESTERS, check_operands, size_of
from ._paths import find, parse_path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any, TypeAlias

    from ._paths import Path
    from ._typing import RawImage

    ConditionLike: TypeAlias = "Condition | Mapping[str, Any] | Any"

__all__ = ["And", "Attr", "Comparison", "Condition", "Not", "Or", "Size", "to_condition"]


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

    __slots__ = (
        "_name",
        "_problem",
        "_raw",
        "_steps",
        "operator",
        "path",
        "size",
        "values",
    )

    def __init__(self, operator: str, path: str, *values: Any, size: bool = False) -> None:
        self.operator = operator
        self.path = path
        self.values = values
        self.size = size
        self._steps: Path = ()
        # A bad operand is reported when the condition is given to a route, where the error
        # can name the route; until then the condition only remembers what is wrong.
        self._problem: Exception | None = None
        self._raw: tuple[str, str | bool] | None = None  # (tag, operand) of eq on a str or bool
        self._name: str | None = None  # the attribute, when the path is just one name
        try:
            if operator not in TESTERS:
                known = ", ".join(sorted(TESTERS))
                raise ValueError(f"unknown operator {operator!r} (known: {known})")
            self._steps = parse_path(path)
            self.values = check_operands(operator, path, values, size)
            if operator == "eq" and not size and self.values[0].__class__ in (str, bool):
                self._raw = ("S" if self.values[0].__class__ is str else "BOOL", self.values[0])
            if len(self._steps) == 1 and isinstance(self._steps[0], str):
                self._name = self._steps[0]
        except (TypeError, ValueError) as problem:
            self._problem = problem

    def check(self) -> None:
        """Raise the TypeError or ValueError that makes this condition invalid, if any."""
        if self._problem is not None:
            raise self._problem

    @property
    def text(self) -> str | None:
        """The string ``eq`` compares with (tested on the raw JSON directly), else None."""
        raw = self._raw
        return raw[1] if raw is not None and raw[1].__class__ is str else None

    @property
    def steps(self) -> Path:
        """The path split into names and list indexes: ``"a.b[0]"`` -> ``("a", "b", 0)``."""
        return self._steps

    def test(self, image: RawImage) -> bool:
        """Decode the one attribute this compares (if present) and compare it."""
        if self._problem is not None:
            raise self._problem
        name = self._name
        if name is not None and image.__class__ is dict:
            tagged = image.get(name)  # find()'s usual case, without the call
        else:
            tagged = find(image, self._steps)
        raw = self._raw
        if raw is not None and tagged.__class__ is dict and len(tagged) == 1:
            # eq on a string or a boolean: what decoding and same_value would say, without
            # either, when the value is well-formed ({"S": 5} goes on to the decoder's error).
            found = tagged.get(raw[0])
            if found.__class__ is raw[1].__class__:
                return found == raw[1]
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
            size = size_of(tagged, self.path)
            return size is not None and TESTERS[operator](size, *self.values)
        return TESTERS[operator](EXACT_DECODER.value(tagged, self.path), *self.values)

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
