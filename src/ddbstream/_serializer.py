"""Python values -> DynamoDB JSON, the way DynamoDB stores and a stream delivers them.

The inverse of ``_codec``, for ``ddbstream.testing``: numbers as DynamoDB prints them (``1.50``
becomes ``"1.5"``), binary as base64 text, sets typed by their members; whatever DynamoDB would
refuse raises, naming the path. Also DynamoDB's item-size rules, for ``SizeBytes``. Not
imported by ``import ddbstream``.
"""

from __future__ import annotations

from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal

from ._models import item_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

__all__ = ["as_item", "image_size", "serialize", "serialize_image"]

_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


def serialize(value: Any, *, path: str = "value") -> dict[str, Any]:
    """Convert a plain Python value to DynamoDB JSON as a stream delivers it.

    ``str`` -> ``S``; ``bool`` -> ``BOOL``; ``None`` -> ``NULL``; ``int``, ``float`` and
    ``Decimal`` -> ``N`` (the text DynamoDB itself returns: ``1.50`` gives ``"1.5"``, ``1e3``
    gives ``"1000"``); ``bytes`` -> ``B`` as base64 text; a ``set`` of strings, numbers or bytes
    -> ``SS``, ``NS`` or ``BS`` (members sorted); ``list``/``tuple`` -> ``L``; ``dict`` -> ``M``;
    a model instance (dataclass, pydantic model, msgspec Struct, attrs class) -> ``M`` of its
    fields.

    Args:
        value: the value to convert.
        path: how error messages name the value.

    Raises:
        TypeError: a value (or a map key) has a type DynamoDB cannot store; the message names
            its path, as ``new.address.zip``.
        ValueError: a number DynamoDB refuses (NaN, infinity, more than 38 digits, out of
            range) or an empty or mixed set.
    """
    if isinstance(value, str):
        return {"S": value}
    if value is True or value is False:
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, (int, float, Decimal)):
        return {"N": _number(value, path)}
    if isinstance(value, (bytes, bytearray)):
        return {"B": _base64(value)}
    if isinstance(value, dict):
        return {"M": serialize_image(value, path=path)}
    if isinstance(value, (list, tuple)):
        return {"L": [serialize(item, path=f"{path}[{index}]") for index, item in enumerate(value)]}
    if isinstance(value, (set, frozenset)):
        return _set(value, path)
    fields = item_of(value)
    if fields is not None:
        return {"M": serialize_image(fields, path=path)}
    raise TypeError(
        f"{path}: cannot store a {type(value).__name__} in DynamoDB ({value!r}). Use str, int, "
        "float, Decimal, bool, None, bytes, a set, a list or a dict."
    )


def serialize_image(item: Mapping[str, Any] | object, *, path: str = "image") -> dict[str, Any]:
    """Convert a dict of attribute names to values (or a model instance) into an image.

    Raises:
        TypeError: *item* is not a dict with string keys, or a value cannot be stored.
        ValueError: a value DynamoDB refuses (see :func:`serialize`).
    """
    item = as_item(item, path=path)
    image: dict[str, Any] = {}
    for name, value in item.items():
        if not isinstance(name, str):
            raise TypeError(f"{path}: attribute names must be strings, got {name!r}")
        image[name] = serialize(value, path=f"{path}.{name}")
    return image


def as_item(item: Mapping[str, Any] | object, *, path: str = "image") -> dict[str, Any]:
    """*item* as a dict of attribute names to values: itself, or a model instance's fields.

    Raises:
        TypeError: *item* is neither a dict nor a model instance.
    """
    if isinstance(item, dict):
        return item
    fields = item_of(item)
    if fields is None:
        raise TypeError(
            f"{path}: expected a dict of attribute names to values or a model instance "
            f"(dataclass, pydantic, msgspec, attrs), got {item!r}"
        )
    return fields


def _number(value: int | float | Decimal, path: str) -> str:
    # repr gives the shortest text that reads back as the same float: 0.1 -> "0.1".
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{path}: DynamoDB numbers are finite, got {value!r}")
    if not number:
        return "0"
    number = _EXACT.normalize(number)
    digits = len(number.as_tuple().digits)
    if digits > 38:
        raise ValueError(
            f"{path}: DynamoDB keeps at most 38 significant digits, {value!r} has {digits}"
        )
    if not -130 <= number.adjusted() <= 125:
        raise ValueError(
            f"{path}: {value!r} is outside DynamoDB's number range (1E-130 to 9.9E+125)"
        )
    return format(number, "f")


def _base64(value: bytes | bytearray) -> str:
    import base64

    return base64.b64encode(value).decode("ascii")


def _set(value: set[Any] | frozenset[Any], path: str) -> dict[str, Any]:
    if not value:
        raise ValueError(f"{path}: DynamoDB has no empty sets; leave the attribute out instead")
    kinds = {_set_kind(member, path) for member in value}
    if len(kinds) > 1:
        raise ValueError(
            f"{path}: a set must hold only strings, only numbers or only bytes, got "
            f"{', '.join(sorted(kinds))}"
        )
    (kind,) = kinds
    if kind == "strings":
        return {"SS": sorted(value)}
    if kind == "bytes":
        return {"BS": [_base64(member) for member in sorted(value)]}
    # 1.0 and Decimal("1.00") are one DynamoDB number: keep it once.
    texts = {_number(member, f"{path}[{member!r}]") for member in value}
    return {"NS": sorted(texts, key=Decimal)}


def _set_kind(member: Any, path: str) -> str:
    if isinstance(member, str):
        return "strings"
    if isinstance(member, (bytes, bytearray)):
        return "bytes"
    if isinstance(member, (int, float, Decimal)) and not isinstance(member, bool):
        return "numbers"
    raise TypeError(
        f"{path}: set members must be strings, numbers or bytes, got {type(member).__name__} "
        f"({member!r})"
    )


def _size(value: Any) -> int:
    """DynamoDB's size in bytes of a DynamoDB JSON value (its item-size rules)."""
    ((tag, raw),) = value.items()
    if tag == "S":
        return len(raw.encode("utf-8"))
    if tag == "N":
        return _number_size(raw)
    if tag == "B":
        text: str = raw
        return len(text) * 3 // 4 - text.count("=", -2)
    if tag in ("BOOL", "NULL"):
        return 1
    if tag == "SS":
        return sum(len(member.encode("utf-8")) for member in raw)
    if tag == "NS":
        return sum(map(_number_size, raw))
    if tag == "BS":
        return sum(_size({"B": member}) for member in raw)
    if tag == "L":
        return 3 + sum(1 + _size(item) for item in raw)
    # M: 3 bytes, plus a byte, the name and the value for each entry.
    return 3 + sum(1 + len(name.encode("utf-8")) + _size(item) for name, item in raw.items())


def image_size(image: Mapping[str, Any]) -> int:
    """DynamoDB's size in bytes of an image in DynamoDB JSON: names plus values."""
    return sum(len(name.encode("utf-8")) + _size(item) for name, item in image.items())


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").strip("0") or "0"
    return (len(digits) + 1) // 2 + 1 + text.startswith("-")
