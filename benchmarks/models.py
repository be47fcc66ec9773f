"""The typical item of ``benchmarks.events`` as a model of each kind ``model=`` takes.

Imported only by the ``models`` part of ``benchmarks.run``; pydantic, msgspec and attrs are
imported by the functions that need them, so a run without them still times dataclasses.
"""

# No `from __future__ import annotations`: the models made inside functions need real ones.

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["Item", "attrs_item", "hand_written_item", "msgspec_item", "pydantic_item"]


@dataclass
class Geo:
    lat: Decimal
    lon: Decimal


@dataclass
class Address:
    street: str
    city: str
    zip: str
    geo: Geo


@dataclass
class Line:
    sku: str
    qty: int
    price: Decimal
    gift: bool


@dataclass
class Item:
    """The typical item (22 attributes): strings, money, big integers, sets, binary, nesting."""

    pk: str
    sk: str
    kind: str
    status: str
    email: str
    name: str
    created_at: str
    total: Decimal
    tax: Decimal
    quantity: int
    external_id: int
    version: int
    tags: set[str]
    scores: set[Decimal]
    checksum: bytes
    signatures: set[bytes]
    active: bool
    deleted_at: str | None
    address: Address
    lines: list[Line]
    notes: list[str]
    expires_at: int


def hand_written_item(item: dict[str, Any]) -> Item:
    """What a user would write by hand from a decoded dict: the reference for equality."""
    address = item["address"]
    return Item(
        **{
            **item,
            "quantity": int(item["quantity"]),
            "external_id": int(item["external_id"]),
            "version": int(item["version"]),
            "expires_at": int(item["expires_at"]),
            "address": Address(**{**address, "geo": Geo(**address["geo"])}),
            "lines": [Line(**{**line, "qty": int(line["qty"])}) for line in item["lines"]],
        }
    )


def pydantic_item() -> Any:
    """The item as a pydantic v2 model."""
    import pydantic

    class PydanticGeo(pydantic.BaseModel):
        lat: Decimal
        lon: Decimal

    class PydanticAddress(pydantic.BaseModel):
        street: str
        city: str
        zip: str
        geo: PydanticGeo

    class PydanticLine(pydantic.BaseModel):
        sku: str
        qty: int
        price: Decimal
        gift: bool

    class PydanticItem(pydantic.BaseModel):
        pk: str
        sk: str
        kind: str
        status: str
        email: str
        name: str
        created_at: str
        total: Decimal
        tax: Decimal
        quantity: int
        external_id: int
        version: int
        tags: set[str]
        scores: set[Decimal]
        checksum: bytes
        signatures: set[bytes]
        active: bool
        deleted_at: str | None
        address: PydanticAddress
        lines: list[PydanticLine]
        notes: list[str]
        expires_at: int

    return PydanticItem


def msgspec_item() -> Any:
    """The item as a msgspec Struct."""
    import msgspec

    class MsgspecGeo(msgspec.Struct):
        lat: Decimal
        lon: Decimal

    class MsgspecAddress(msgspec.Struct):
        street: str
        city: str
        zip: str
        geo: MsgspecGeo

    class MsgspecLine(msgspec.Struct):
        sku: str
        qty: int
        price: Decimal
        gift: bool

    class MsgspecItem(msgspec.Struct):
        pk: str
        sk: str
        kind: str
        status: str
        email: str
        name: str
        created_at: str
        total: Decimal
        tax: Decimal
        quantity: int
        external_id: int
        version: int
        tags: set[str]
        scores: set[Decimal]
        checksum: bytes
        signatures: set[bytes]
        active: bool
        deleted_at: str | None
        address: MsgspecAddress
        lines: list[MsgspecLine]
        notes: list[str]
        expires_at: int

    return MsgspecItem


def attrs_item() -> Any:
    """The item as an attrs class."""
    import attrs

    @attrs.define
    class AttrsGeo:
        lat: Decimal
        lon: Decimal

    @attrs.define
    class AttrsAddress:
        street: str
        city: str
        zip: str
        geo: AttrsGeo

    @attrs.define
    class AttrsLine:
        sku: str
        qty: int
        price: Decimal
        gift: bool

    @attrs.define
    class AttrsItem:
        pk: str
        sk: str
        kind: str
        status: str
        email: str
        name: str
        created_at: str
        total: Decimal
        tax: Decimal
        quantity: int
        external_id: int
        version: int
        tags: set[str]
        scores: set[Decimal]
        checksum: bytes
        signatures: set[bytes]
        active: bool
        deleted_at: str | None
        address: AttrsAddress
        lines: list[AttrsLine]
        notes: list[str]
        expires_at: int

    return AttrsItem
