"""The operators of conditions: their operands checked and normalized, and their tests.

Tests follow DynamoDB's rules on decoded values: numbers compare as numbers whatever their
Python type, values of unlike types never match (and never raise), ``True`` is not ``1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from ._codec import EXACT_DECODER, TYPE_TAGS, same_value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["TESTERS", "TYPE_LETTERS", "check_operands", "size_of"]

TYPE_LETTERS = TYPE_TAGS
"""DynamoDB's type letters, as ``attribute_type`` takes them."""

_ORDERED = frozenset({"lt", "lte", "gt", "gte", "between"})
_SIZE_OPERATORS = _ORDERED | {"eq", "ne", "is_in"}


def check_operands(
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


def size_of(tagged: Any, path: str) -> int | None:
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


TESTERS: dict[str, Callable[..., bool]] = {
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
_ARITY = {operator: 1 for operator in TESTERS} | {
    "between": 2,
    "exists": 0,
    "not_exists": 0,
}
