"""JSON text for the values records hold: exact numbers, sets, bytes, times.

The standard library's ``json`` writes a ``Decimal`` only through ``float`` (losing digits) and
refuses sets and bytes, so the sinks write JSON themselves: ``to_json`` is the one place.
"""

from __future__ import annotations

import base64
import datetime as _datetime
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["to_json"]

_encode_string = json.encoder.encode_basestring  # the C version when there is one
# What SQS refuses in a message (it takes XML 1.0's characters): lone surrogates and the two
# non-characters. JSON may escape any character, so these are written as \uXXXX.
_REFUSED = re.compile("[\ud800-\udfff\ufffe\uffff]")
# DynamoDB numbers stay below 1E+126; an integral Decimal up to there is written out in full.
_LARGEST_WRITTEN_OUT = 126


def to_json(value: Any) -> str:
    """Encode *value* as compact JSON text, exactly, as the sinks send payloads.

    What each value becomes:

    - ``Decimal``: a JSON number with the same digits, never through ``float``. An integral
      number is written in full (``Decimal("1E+3")`` becomes ``1000``, so every JSON reader
      sees an integer); any other is written as ``str()`` writes it (``0.1``, ``1.50``,
      ``1E-7``). ``json.loads(text, parse_float=Decimal)`` gives the same number back.
    - ``int``: in full, however large; ``float``: as ``repr()`` writes it; ``bool``, ``None``:
      ``true``, ``false``, ``null``.
    - ``str``: a JSON string (non-ASCII kept as UTF-8; lone surrogates and U+FFFE/U+FFFF escaped,
      so SQS accepts the text).
    - ``bytes``, ``bytearray``, ``memoryview``: standard base64 text.
    - ``set``, ``frozenset``: a list, sorted when its members can be ordered (DynamoDB's string,
      number and binary sets can), so the same set gives the same text.
    - ``list``, ``tuple``: a list. Mappings with ``str`` keys: an object, keys in their order.
    - ``datetime``, ``date``, ``time``: ISO 8601 text (``isoformat()``).

    Args:
        value: A decoded image, a part of one, or any payload built from the values above.

    Returns:
        The JSON text, without spaces.

    Raises:
        TypeError: A value of another type, or a mapping key that is not a ``str``; the message
            names its path (``items[2].price``).
        ValueError: A NaN or infinite number, or a container that contains itself.
    """
    parts: list[str] = []
    _write(value, parts, "", set())
    text = "".join(parts)
    return _REFUSED.sub(_escape, text) if _REFUSED.search(text) else text


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match[0]):04x}"


def _write(value: Any, parts: list[str], path: str, open_containers: set[int]) -> None:
    # Exact types first: the values images usually hold are found by one identity test.
    kind = value.__class__
    if kind is str:
        parts.append(_encode_string(value))
    elif kind is Decimal:
        parts.append(_decimal(value, path))
    elif kind is dict or kind is list:
        _container(value, parts, path, open_containers)
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(int.__repr__(value))
    elif isinstance(value, str):
        parts.append(_encode_string(value))
    elif isinstance(value, Decimal):
        parts.append(_decimal(value, path))
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(
                f"Cannot encode {value!r} at {_named(path)} as JSON: JSON has no NaN or infinity."
            )
        parts.append(float.__repr__(value))
    elif isinstance(value, (bytes, bytearray, memoryview)):
        parts.append(f'"{base64.b64encode(value).decode("ascii")}"')
    elif isinstance(value, (Mapping, list, tuple, set, frozenset)):
        _container(value, parts, path, open_containers)
    elif isinstance(value, (_datetime.datetime, _datetime.date, _datetime.time)):
        parts.append(_encode_string(value.isoformat()))
    else:
        raise TypeError(
            f"Cannot encode a value of type {kind.__qualname__!r} at {_named(path)} as JSON. "
            "Convert it to "
            "str, int, Decimal, bytes, a datetime, a list, a set or a dict with str keys."
        )


def _container(value: Any, parts: list[str], path: str, open_containers: set[int]) -> None:
    identity = id(value)
    if identity in open_containers:
        raise ValueError(f"Cannot encode {_named(path)} as JSON: it contains itself.")
    open_containers.add(identity)
    if isinstance(value, Mapping):
        parts.append("{")
        first = True
        for key, member in value.items():
            if key.__class__ is not str and not isinstance(key, str):
                raise TypeError(
                    f"Cannot encode the key {key!r} of {_named(path)} as JSON: object keys "
                    "must be str. Convert the keys to str first."
                )
            if not first:
                parts.append(",")
            first = False
            parts.append(_encode_string(key))
            parts.append(":")
            _write(member, parts, f"{path}.{key}" if path else key, open_containers)
        parts.append("}")
    else:
        members = value
        if isinstance(value, (set, frozenset)):
            try:
                members = sorted(value)
            except TypeError:  # members of kinds that do not order: keep the set's own order
                members = list(value)
        parts.append("[")
        for index, member in enumerate(members):
            if index:
                parts.append(",")
            _write(member, parts, f"{path}[{index}]", open_containers)
        parts.append("]")
    open_containers.discard(identity)


def _decimal(value: Decimal, path: str) -> str:
    if not value.is_finite():
        raise ValueError(
            f"Cannot encode {value!r} at {_named(path)} as JSON: JSON has no NaN or infinity."
        )
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if exponent > 0 and value.adjusted() < _LARGEST_WRITTEN_OUT:
        return format(value, "f")  # 1E+3 -> 1000: an integer to every reader
    return str(value)


def _named(path: str) -> str:
    return repr(path) if path else "the top level"
