"""Checked by mypy and pyright (strict), never run: each line marked ``# rejected`` must be an
error for both, and no other line may be (tests/test_typing.py)."""

# pyright: strict

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ddbstream import App, Attr, Insert, Modify, Record, Remove

app = App()


def on_remove(record: Remove) -> None:
    print(record.old["sku"])


def on_insert(record: Insert) -> None:
    print(record.old["sku"])  # rejected: an INSERT has no old image


def on_modify(record: Modify) -> None:
    print(record.new["sku"])


app.on_insert(on_remove)  # rejected: a Remove handler for inserts
app.on_remove(on_modify)  # rejected: a Modify handler for removes
app.on_modify(where=42)(on_modify)  # rejected: 42 is no condition
app.on_modify(new=Attr("sku").eq("x"), changed=7)(on_modify)  # rejected: changed= takes names
app.on_insert(lambda record: record.old["sku"])  # rejected: no old image on an INSERT
app.on_remove(lambda record: record.new["sku"])  # rejected: no new image on a REMOVE
app.on_insert(lambda record, context, extra: None)  # rejected: three parameters
app.on_insert(idempotent="yes")(lambda record: None)  # rejected: True, False or "transaction"


def park_needs_a_sink(record: Record, error: Exception) -> None:
    from ddbstream.failures import park

    park(record, error, 42)  # rejected: a queue URL or an object with send()


@dataclass
class Order:
    total: Decimal


@dataclass
class Invoice:
    number: str


def on_invoice(record: Modify[Invoice]) -> None:
    print(record.new.number)


app.on_modify(model=Order)(on_invoice)  # rejected: the handler takes another model
app.on_modify(model=Order)(on_modify)  # rejected: the handler takes dicts, the route gives Orders
app.on_modify(model=Order)(lambda record: record.new["total"])  # rejected: an Order is no dict
app.on_insert(model=Order)(lambda record: record.new.number)  # rejected: Order has no number
