"""Hypothesis strategies for DynamoDB attribute values, in the two forms the tests compare.

Every strategy here draws a pair ``(lambda_form, boto3_form)``: the first is what Lambda
delivers (``B`` and ``BS`` members as base64 text), the second what boto3's TypeDeserializer
takes (the same value with raw ``bytes`` for binaries). Everything else is identical.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary
from hypothesis import strategies as st

__all__ = [
    "attribute_values",
    "canonical",
    "images",
    "number_texts",
    "unwrap_boto3",
]

Pair = tuple[dict[str, Any], dict[str, Any]]

# What boto3's 38-digit context decodes without raising: up to 38 significant digits and an
# adjusted exponent well inside DynamoDB's range (1E-130 .. 9.99E+125).
_digits = st.integers(min_value=0, max_value=10**38 - 1)


@st.composite
def _scientific(draw: st.DrawFn) -> str:
    coefficient = draw(_digits)
    digit_count = len(str(coefficient))
    exponent = draw(st.integers(min_value=-120, max_value=120 - digit_count))
    sign = draw(st.sampled_from(["", "-"]))
    return f"{sign}{coefficient}E{exponent:+d}"


@st.composite
def _plain_decimal(draw: st.DrawFn) -> str:
    whole = draw(st.integers(min_value=0, max_value=10**18))
    fraction = draw(st.text(alphabet="0123456789", min_size=1, max_size=19))
    sign = draw(st.sampled_from(["", "-"]))
    return f"{sign}{whole}.{fraction}"


number_texts: st.SearchStrategy[str] = st.one_of(
    st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1).map(str),
    _plain_decimal(),
    _scientific(),
    st.sampled_from(["0", "-0", "1.50", "0.0", "1E+125", "1E-130", "-1E-130", "100"]),
)
"""Numbers as DynamoDB sends them (and boto3 accepts): integers, decimals, exponent forms."""


def _same(value: dict[str, Any]) -> Pair:
    return value, value


def _binary(data: bytes) -> Pair:
    return {"B": base64.b64encode(data).decode("ascii")}, {"B": data}


def _binary_set(members: list[bytes]) -> Pair:
    encoded = [base64.b64encode(data).decode("ascii") for data in members]
    return {"BS": encoded}, {"BS": members}


_scalars: st.SearchStrategy[Pair] = st.one_of(
    st.text().map(lambda text: _same({"S": text})),
    number_texts.map(lambda text: _same({"N": text})),
    st.binary(max_size=24).map(_binary),
    st.booleans().map(lambda flag: _same({"BOOL": flag})),
    st.just(_same({"NULL": True})),
    st.lists(st.text(), min_size=1, max_size=5, unique=True).map(lambda m: _same({"SS": m})),
    st.lists(number_texts, min_size=1, max_size=5, unique=True).map(lambda m: _same({"NS": m})),
    st.lists(st.binary(max_size=12), min_size=1, max_size=5, unique=True).map(_binary_set),
)


def _map(members: dict[str, Pair]) -> Pair:
    return (
        {"M": {name: pair[0] for name, pair in members.items()}},
        {"M": {name: pair[1] for name, pair in members.items()}},
    )


def _list(members: list[Pair]) -> Pair:
    return {"L": [pair[0] for pair in members]}, {"L": [pair[1] for pair in members]}


_names = st.text(min_size=1, max_size=12)

attribute_values: st.SearchStrategy[Pair] = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.dictionaries(_names, children, max_size=4).map(_map),
        st.lists(children, max_size=4).map(_list),
    ),
    max_leaves=20,
)
"""Any attribute value, nested maps and lists included, as a (Lambda, boto3) pair."""

images: st.SearchStrategy[tuple[dict[str, Any], dict[str, Any]]] = st.dictionaries(
    _names, attribute_values, max_size=8
).map(
    lambda members: (
        {name: pair[0] for name, pair in members.items()},
        {name: pair[1] for name, pair in members.items()},
    )
)
"""A whole image (attribute name -> value), as a (Lambda, boto3) pair."""


def unwrap_boto3(value: Any) -> Any:
    """Replace boto3's ``Binary`` wrappers by their bytes, at any depth."""
    if isinstance(value, Binary):
        return value.value
    if isinstance(value, dict):
        return {name: unwrap_boto3(member) for name, member in value.items()}
    if isinstance(value, list):
        return [unwrap_boto3(member) for member in value]
    if isinstance(value, set):
        return {unwrap_boto3(member) for member in value}
    return value


def canonical(value: Any) -> Any:
    """A hashable form that tells apart what ``==`` does not: ``True``/``1``, ``1.5``/``1.50``.

    Map order counts too, so two values with equal canonical forms are the same in every
    respect a handler could observe.
    """
    if value is None or isinstance(value, (bool, str, bytes)):
        return (type(value).__name__, value)
    if isinstance(value, Decimal):
        return ("Decimal", value.as_tuple())
    if isinstance(value, (int, float)):
        return (type(value).__name__, value)
    if isinstance(value, dict):
        return ("dict", tuple((name, canonical(member)) for name, member in value.items()))
    if isinstance(value, list):
        return ("list", tuple(canonical(member) for member in value))
    if isinstance(value, set):
        return ("set", frozenset(canonical(member) for member in value))
    raise TypeError(f"not a decoded DynamoDB value: {value!r}")
