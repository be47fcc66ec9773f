"""DynamoDB JSON -> plain Python values.

Two decoders share one mapping. The fast one is a single recursive closure that trusts the
input and lets Python raise on anything odd; when it raises (or recursion runs out on absurdly
deep nesting) the careful one runs instead: iterative, so depth never matters, and precise, so
the error names the JSON path of the bad value. Valid input never pays for the careful one.
"""

from __future__ import annotations

import binascii
import sys
from collections.abc import Mapping
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation

from .errors import DecodeError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ._typing import NumberParser

__all__ = [
    "EXACT_DECODER",
    "TYPE_TAGS",
    "Decoder",
    "deserialize",
    "deserialize_image",
    "exact_decimal",
    "same_value",
    "strict_base64",
]

# Unlimited precision and exponent: create_decimal never rounds, so every valid number is kept
# exactly (boto3's 38-digit context raises Rounded/Inexact on some). It also refuses the
# whitespace and underscores the Decimal constructor would accept.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation])
_create_decimal = _EXACT.create_decimal
exact_decimal = _create_decimal
"""A number's text as the decoder makes it: exact, never rounded; NaN and infinities pass
(the decoder refuses them by ``is_finite()``, non-ASCII digits by ``isascii()``)."""

if sys.version_info >= (3, 11):

    def strict_base64(text: str) -> bytes:
        """Decode base64 text, refusing any character outside the alphabet."""
        return binascii.a2b_base64(text, strict_mode=True)

else:  # pragma: no cover - exercised by the Python 3.10 CI job, not by coverage

    def strict_base64(text: str) -> bytes:
        import base64

        return base64.b64decode(text, validate=True)


TYPE_TAGS = frozenset({"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"})
"""Every DynamoDB type tag (also the letters of ``attribute_type``)."""


class _UnexpectedValue(Exception):
    """Raised by the fast decoder where Python itself would not complain."""


def _build_fast(
    parse_number: NumberParser | None,
) -> tuple[Callable[[Any], Any], Callable[[Any], dict[str, Any]]]:
    """Return decoders of one tagged value and of a whole map, as fast as plain Python gets.

    Membership tests (``"S" in tagged``) beat unpacking ``tagged.items()`` by a fifth, and
    testing the common tags first matters; every branch still makes sure the value has exactly
    one tag and the data its tag needs, so nothing the careful decoder refuses gets through.
    """
    create_decimal = _create_decimal
    base64 = strict_base64
    len_ = len
    str_ = str
    list_ = list
    bool_ = bool

    def value(tagged: Any) -> Any:
        # Tests in order of how often each type occurs in real items.
        if "S" in tagged:
            raw = tagged["S"]
            if raw.__class__ is str_ and len_(tagged) == 1:
                return raw
            raise _UnexpectedValue
        if "N" in tagged:
            raw = tagged["N"]
            number = create_decimal(raw)
            if number.is_finite() and raw.isascii() and len_(tagged) == 1:
                return number if parse_number is None else parse_number(raw)
            raise _UnexpectedValue
        if len_(tagged) != 1:
            raise _UnexpectedValue
        if "M" in tagged:
            return image(tagged["M"])
        if "L" in tagged:
            raw = tagged["L"]
            if raw.__class__ is not list_:
                raise _UnexpectedValue
            return [value(item) for item in raw]
        if "BOOL" in tagged:
            raw = tagged["BOOL"]
            if raw.__class__ is not bool_:
                raise _UnexpectedValue
            return raw
        if "NULL" in tagged:
            if tagged["NULL"] is not True:
                raise _UnexpectedValue
            return None
        if "B" in tagged:
            raw = tagged["B"]
            if raw.__class__ is not str_:
                raise _UnexpectedValue
            return base64(raw)
        if "SS" in tagged:
            raw = tagged["SS"]
            if raw.__class__ is not list_:
                raise _UnexpectedValue
            for member in raw:
                if member.__class__ is not str_:
                    raise _UnexpectedValue
            return set(raw)
        if "NS" in tagged:
            raw = tagged["NS"]
            if raw.__class__ is not list_:
                raise _UnexpectedValue
            numbers = set()
            for text in raw:
                number = create_decimal(text)
                if not (number.is_finite() and text.isascii()):
                    raise _UnexpectedValue
                numbers.add(number if parse_number is None else parse_number(text))
            return numbers
        if "BS" in tagged:
            raw = tagged["BS"]
            if raw.__class__ is not list_:
                raise _UnexpectedValue
            blobs = set()
            for text in raw:
                if text.__class__ is not str_:
                    raise _UnexpectedValue
                blobs.add(base64(text))
            return blobs
        raise _UnexpectedValue

    def image(attributes: Any) -> dict[str, Any]:
        # A loop rather than a comprehension calling value(): the commonest types (strings,
        # numbers, booleans, maps) are decoded inline, which saves a call per attribute;
        # anything else, or anything odd, goes to value().
        decoded: dict[str, Any] = {}
        for name, tagged in attributes.items():
            if "S" in tagged and (text := tagged["S"]).__class__ is str_ and len_(tagged) == 1:
                decoded[name] = text
            elif "N" in tagged:
                raw = tagged["N"]
                number = create_decimal(raw)
                if not (number.is_finite() and raw.isascii() and len_(tagged) == 1):
                    raise _UnexpectedValue
                decoded[name] = number if parse_number is None else parse_number(raw)
            elif "BOOL" in tagged and tagged["BOOL"].__class__ is bool_ and len_(tagged) == 1:
                decoded[name] = tagged["BOOL"]
            elif "M" in tagged and len_(tagged) == 1:
                decoded[name] = image(tagged["M"])
            else:
                decoded[name] = value(tagged)
        return decoded

    return value, image


class Decoder:
    """Decodes DynamoDB JSON with one choice of number type.

    Args:
        parse_number: called with the text of every ``N`` value once it is known to be a finite
            number; ``None`` (the default) gives an exact :class:`decimal.Decimal`.
    """

    __slots__ = ("fast_image", "fast_value", "parse_number")

    def __init__(self, parse_number: NumberParser | None = None) -> None:
        self.parse_number = parse_number
        self.fast_value, self.fast_image = _build_fast(parse_number)
        """``value`` and ``image`` for valid input: they raise some exception on bad input
        (or on nesting deeper than the recursion limit), without naming where; hot paths
        call them first and :meth:`careful_image` only when they raise."""

    def value(self, tagged: Any, path: str = "value") -> Any:
        """Decode one tagged value such as ``{"N": "1.5"}``; errors name *path*."""
        try:
            return self.fast_value(tagged)
        except Exception:  # malformed or too deep: the careful decoder says which
            pass
        return _careful_value(tagged, path, self.parse_number)

    def image(self, image: Any, path: str = "image") -> dict[str, Any]:
        """Decode a map of attribute names to tagged values; errors name *path*."""
        try:
            return self.fast_image(image)
        except Exception:  # malformed or too deep: the careful decoder says which
            pass
        return self.careful_image(image, path)

    def careful_image(self, image: Any, path: str = "image") -> dict[str, Any]:
        """Decode like :meth:`image` without recursion, raising a DecodeError naming the path."""
        if not isinstance(image, Mapping):
            raise DecodeError(
                f"expected a map of attribute names to values, got {_kind(image)}", path=path
            ) from None
        try:
            return _careful_value({"M": image}, path, self.parse_number)  # type: ignore[no-any-return]
        except DecodeError as error:
            # Callers try the fast decoder first: what it raised is internal, not the context.
            if error.__cause__ is None:
                error.__suppress_context__ = True
            raise


EXACT_DECODER = Decoder()
"""Decodes numbers to exact Decimals; filters use it whatever the app's parse_number."""


def deserialize(value: Mapping[str, Any], *, parse_number: NumberParser | None = None) -> Any:
    """Decode one DynamoDB JSON value, e.g. ``{"N": "1.50"}`` -> ``Decimal("1.50")``.

    ``B`` and ``BS`` values are base64 text, as Lambda delivers them, and decode to ``bytes``.

    Raises:
        DecodeError: the value is not valid DynamoDB JSON.
    """
    decoder = EXACT_DECODER if parse_number is None else Decoder(parse_number)
    return decoder.value(value)


def deserialize_image(
    image: Mapping[str, Any], *, parse_number: NumberParser | None = None
) -> dict[str, Any]:
    """Decode a whole image (``NewImage``, ``OldImage`` or ``Keys``) into a plain ``dict``.

    Raises:
        DecodeError: some value is not valid DynamoDB JSON; the message names its path.
    """
    decoder = EXACT_DECODER if parse_number is None else Decoder(parse_number)
    return decoder.image(image)


# --- the careful decoder -------------------------------------------------------------------


def _careful_value(tagged: Any, path: str, parse_number: NumberParser | None) -> Any:
    """Decode like the fast decoder, without recursion, raising a DecodeError naming the path."""
    root: list[Any] = [None]
    # Each entry: the container to fill, the slot in it, the tagged value, its path.
    pending: list[tuple[Any, Any, Any, str]] = [(root, 0, tagged, path)]
    while pending:
        container, slot, tagged, path = pending.pop()
        tag, raw = _only_tag(tagged, path)
        if tag == "M":
            if not isinstance(raw, Mapping):
                raise DecodeError(f"M must hold a map, got {_kind(raw)}", path=path)
            decoded_map: dict[str, Any] = dict.fromkeys(raw)  # keeps the attribute order
            container[slot] = decoded_map
            pending.extend(
                (decoded_map, name, item, f"{path}.{name}")
                for name, item in reversed(list(raw.items()))
            )
        elif tag == "L":
            if not isinstance(raw, list):
                raise DecodeError(f"L must hold a list, got {_kind(raw)}", path=path)
            decoded_list: list[Any] = [None] * len(raw)
            container[slot] = decoded_list
            pending.extend(
                (decoded_list, index, raw[index], f"{path}[{index}]")
                for index in reversed(range(len(raw)))
            )
        else:
            container[slot] = _careful_scalar(tag, raw, path, parse_number)
    return root[0]


def _only_tag(tagged: Any, path: str) -> tuple[str, Any]:
    if not isinstance(tagged, Mapping):
        raise DecodeError(
            f"expected a type-tagged value such as {{'S': 'text'}}, got {_kind(tagged)}", path=path
        )
    if len(tagged) != 1:
        tags = ", ".join(sorted(map(str, tagged))) or "none"
        raise DecodeError(f"expected exactly one type tag, got {len(tagged)} ({tags})", path=path)
    ((tag, raw),) = tagged.items()
    if tag not in TYPE_TAGS:
        known = ", ".join(sorted(TYPE_TAGS))
        raise DecodeError(f"unknown type tag {tag!r} (known: {known})", path=path)
    return tag, raw


def _careful_scalar(tag: str, raw: Any, path: str, parse_number: NumberParser | None) -> Any:
    if tag == "S":
        if not isinstance(raw, str):
            raise DecodeError(f"S must hold a string, got {_kind(raw)}", path=path)
        return raw
    if tag == "N":
        return _careful_number(raw, path, parse_number)
    if tag == "B":
        return _careful_binary(raw, path)
    if tag == "BOOL":
        if not isinstance(raw, bool):
            raise DecodeError(f"BOOL must hold true or false, got {_kind(raw)}", path=path)
        return raw
    if tag == "NULL":
        if raw is not True:
            raise DecodeError(f"NULL must hold true, got {raw!r}", path=path)
        return None
    # SS, NS, BS: the only tags left after _only_tag.
    if not isinstance(raw, list):
        raise DecodeError(f"{tag} must hold a list, got {_kind(raw)}", path=path)
    if tag == "NS":
        return {
            _careful_number(text, f"{path}[{index}]", parse_number)
            for index, text in enumerate(raw)
        }
    if tag == "BS":
        return {_careful_binary(text, f"{path}[{index}]") for index, text in enumerate(raw)}
    for index, text in enumerate(raw):
        if not isinstance(text, str):
            raise DecodeError(
                f"SS members must be strings, got {_kind(text)}", path=f"{path}[{index}]"
            )
    return set(raw)


def _careful_number(raw: Any, path: str, parse_number: NumberParser | None) -> Any:
    if not isinstance(raw, str):
        raise DecodeError(f"a number must be sent as a string, got {_kind(raw)}", path=path)
    try:
        number = _create_decimal(raw)
    except ArithmeticError:
        raise DecodeError(f"not a number: {raw!r}", path=path) from None
    if not number.is_finite():
        raise DecodeError(f"DynamoDB numbers are finite, got {raw!r}", path=path)
    if not raw.isascii():
        raise DecodeError(f"not a number (non-ASCII digits): {raw!r}", path=path)
    if parse_number is None:
        return number
    try:
        return parse_number(raw)
    except Exception as error:
        raise DecodeError(
            f"parse_number failed on {raw!r}: {type(error).__name__}: {error}", path=path
        ) from error


def _careful_binary(raw: Any, path: str) -> bytes:
    if not isinstance(raw, str):
        raise DecodeError(f"binary must be sent as base64 text, got {_kind(raw)}", path=path)
    try:
        return strict_base64(raw)
    except (ValueError, TypeError) as error:
        raise DecodeError(f"invalid base64: {error}", path=path) from None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return type(value).__name__


# --- equality as DynamoDB means it -----------------------------------------------------------


_PLAIN_TYPES = frozenset({str, Decimal, int, float, bytes, type(None)})
"""Types whose values compare as DynamoDB compares them when both sides have that type."""


def same_value(a: Any, b: Any) -> bool:
    """Compare decoded values as DynamoDB does: ``True`` is not ``1``, ``1`` is ``1.0``."""
    kind = a.__class__
    if kind is b.__class__ and kind in _PLAIN_TYPES:  # the usual case, without _category
        return bool(a == b)
    if _category(a) is not _category(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(a[name], b[name]) for name in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same_value, a, b))
    return bool(a == b)


def _category(value: Any) -> type:
    """The DynamoDB type a decoded value came from, with every number type as one."""
    if value is True or value is False:
        return bool
    if isinstance(value, (int, float, Decimal)):
        return Decimal
    if isinstance(value, (set, frozenset)):
        return set
    if isinstance(value, (bytes, bytearray)):
        return bytes
    return type(value)
