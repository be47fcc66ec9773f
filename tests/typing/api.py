"""Checked by mypy and pyright (strict), never run: the public API types what users write."""

# pyright: strict

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import attrs
import msgspec
import pydantic
from typing_extensions import TypedDict, assert_type

from ddbstream import (
    App,
    Attr,
    Extension,
    Insert,
    Invocation,
    Modify,
    Outcome,
    Record,
    RecordsFailed,
    Remove,
    Route,
    Router,
    Window,
)
from ddbstream.conditions import Comparison
from ddbstream.idempotency import Ledger
from ddbstream.observability import EMFMetrics, LogContext, Tracing
from ddbstream.types import AsyncCallNext, BatchItemFailure, CallNext, Handler, LambdaContext

app = App(report_batch_item_failures=True, parse_number=int)
router = Router()


def on_insert(record: Insert) -> None:
    assert_type(record.new, "dict[str, Any]")
    assert_type(record.old, None)
    assert_type(record.keys, "dict[str, Any]")
    assert_type(record.item, "dict[str, Any]")
    assert_type(record.event_name, str)


def on_modify(record: Modify) -> None:
    assert_type(record.new, "dict[str, Any]")
    assert_type(record.old, "dict[str, Any]")


def on_remove(record: Remove, context: LambdaContext) -> None:
    assert_type(record.new, None)
    assert_type(record.old, "dict[str, Any]")
    assert_type(context.aws_request_id, str)


def on_any(record: Record) -> None:
    assert_type(record.new, "dict[str, Any] | None")
    assert_type(record.old, "dict[str, Any] | None")


async def on_modify_async(record: Modify) -> None:
    return None


def log(record: Record, error: Exception) -> None:
    return None


def on_end(window: Window) -> None:
    return None


def hooks(
    coroutine: Callable[[Modify], Coroutine[Any, Any, None]],
    hook: Callable[[Record, Exception], None],
    window_hook: Callable[[Window], None],
) -> None:
    """Parameters of Callable types: mypy and pyright spell a def's own type differently."""
    assert_type(app.on_modify(coroutine), Callable[[Modify], Coroutine[Any, Any, None]])
    assert_type(app.on_error(ValueError)(hook), Callable[[Record, Exception], None])
    assert_type(app.on_error(hook), Callable[[Record, Exception], None])
    assert_type(app.on_window_end(window_hook), Callable[[Window], None])


hooks(on_modify_async, log, on_end)

# Registration forms give back the handler, typed for the record class the route delivers.
assert_type(app.on_insert(on_insert), Callable[[Insert], None])
assert_type(app.on_modify(changed="status")(on_modify), Callable[[Modify], None])
assert_type(router.on_remove(ttl=True)(on_remove), Callable[[Remove, Any], None])
assert_type(app.on("INSERT", "MODIFY")(on_any), Callable[[Record], None])
assert_type(app.on_unmatched(on_any), Callable[[Record], None])
# A handler of any record may serve one event.
assert_type(app.on_insert(on_any), Callable[[Insert], None])
assert_type(app.add_handler(on_modify, events=["MODIFY"]), Route)

# Plain calls type a lambda's parameters.
app.on_insert(lambda record: print(record.new["total"]))
app.on_remove(lambda record: print(record.old["total"]))
app.on_modify(where={"type": "ORDER"})(lambda record, context: print(record.new, context))

handler: Handler[Insert] = on_insert
assert_type(Attr("status").eq("SHIPPED"), Comparison)
assert_type(app.process({"Records": []}), Outcome)
assert_type(app.handler({"Records": []}, None)["batchItemFailures"], list[BatchItemFailure])
assert_type(app({"Records": []}, None)["batchItemFailures"], list[BatchItemFailure])
assert_type(app.context, "LambdaContext | None")

# The ledger: idempotent= on every registration, transact_item's Put, duplicates counted.
ledger_app = App(ledger=Ledger("orders-ledger"), idempotent=True)
assert_type(ledger_app.on_insert(idempotent=False)(on_insert), Callable[[Insert], None])
assert_type(
    router.on_modify(name="charge", idempotent="transaction")(on_modify), Callable[[Modify], None]
)
assert_type(ledger_app.ledger, Ledger)
assert_type(ledger_app.ledger.transact_item(Insert()), dict[str, Any])
assert_type(ledger_app.process({"Records": []}).duplicates, int)


# After the retries: parse an on-failure message, park a record to a queue or a sink.
def on_failure_queue(event: dict[str, Any]) -> None:
    from datetime import datetime

    from ddbstream.failures import FailureMessage, parse

    failure = parse(event["Records"][0])
    assert_type(failure, FailureMessage)
    assert_type(failure.first_sequence_number, str)
    assert_type(failure.batch_size, int)
    assert_type(failure.first_arrival, datetime | None)
    assert_type(failure.records, "tuple[dict[str, Any], ...] | None")


class ListSink:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, record: Record[Any], payload: Any, /) -> None:
        self.sent.append(payload)


@app.on_error(ValueError)
def set_aside(record: Record, error: Exception) -> None:
    from ddbstream.failures import park

    assert_type(
        park(record, error, "https://sqs.eu-west-1.amazonaws.com/1/parked"), "dict[str, Any]"
    )
    park(record, error, ListSink())


# Typed items: model= makes the record generic in the model, for every model kind.
@dataclass
class Order:
    total: Decimal
    quantity: int


class Invoice(TypedDict):
    number: str


class Payment(pydantic.BaseModel):
    amount: Decimal


class Shipment(msgspec.Struct):
    carrier: str


@attrs.define
class Refund:
    amount: Decimal


def parse_order(item: dict[str, Any]) -> Order:
    return Order(item["total"], int(item["quantity"]))


def on_order(record: Modify[Order]) -> None:
    assert_type(record.new, Order)
    assert_type(record.old, Order)
    assert_type(record.new.total, Decimal)
    assert_type(record.item, Order)
    assert_type(record.keys, "dict[str, Any]")


def on_new_order(record: Insert[Order], context: LambdaContext) -> None:
    assert_type(record.new.quantity, int)


def on_invoice(record: Insert[Invoice]) -> None:
    assert_type(record.new["number"], str)


def on_payment(record: Remove[Payment]) -> None:
    assert_type(record.old.amount, Decimal)


def on_shipment(record: Modify[Shipment]) -> None:
    assert_type(record.new.carrier, str)


def on_refund(record: Record[Refund]) -> None:
    assert_type(record.new, "Refund | None")


assert_type(app.on_modify(model=Order)(on_order), Callable[[Modify[Order]], None])
assert_type(
    app.on_insert(where={"type": "ORDER"}, model=Order)(on_new_order),
    Callable[[Insert[Order], Any], None],
)
assert_type(app.on_modify(model=parse_order)(on_order), Callable[[Modify[Order]], None])
assert_type(app.on_insert(model=Invoice)(on_invoice), Callable[[Insert[Invoice]], None])
assert_type(router.on_remove(model=Payment)(on_payment), Callable[[Remove[Payment]], None])
assert_type(app.on_modify(model=Shipment)(on_shipment), Callable[[Modify[Shipment]], None])
assert_type(app.on("INSERT", "REMOVE", model=Refund)(on_refund), Callable[[Record[Refund]], None])
app.on_modify(model=Order)(lambda record: print(record.new.total - record.old.total))
assert_type(app.add_handler(on_order, events=["MODIFY"], model=Order), Route)


# --- middleware and extensions (#14) -------------------------------------------------------


def timing(record: Record, call_next: CallNext) -> None:
    call_next(record)


async def timing_async(record: Record, call_next: AsyncCallNext) -> None:
    await call_next(record)


registered: Callable[[Record, CallNext], None] = app.middleware(timing)
registered_async: Callable[[Record, AsyncCallNext], Coroutine[Any, Any, None]] = app.middleware(
    timing_async
)
assert_type(app.use(LogContext()), LogContext)
assert_type(app.use(EMFMetrics("Orders", dimensions={"Service": "orders"})), EMFMetrics)
assert_type(app.use(Tracing()), Tracing)


class Audit(Extension):
    def record(self, record: Record) -> AbstractContextManager[object]:
        return nullcontext()

    def invocation(self, invocation: Invocation) -> AbstractContextManager[object]:
        assert_type(invocation.outcome, "Outcome | None")
        assert_type(invocation.handled, int)
        return nullcontext()


assert_type(app.use(Audit()), Audit)


# --- batch routes (#15) ----------------------------------------------------------------------


def bulk_orders(records: list[Modify[Order]]) -> None:
    assert_type(records[0].new.total, Decimal)


def bulk_any(records: Sequence[Record], context: LambdaContext) -> int:
    return len(records)  # Sequence[Record] takes the list of any batch route


def bulk_inserts(records: list[Insert]) -> None:
    assert_type(records[0].old, None)


assert_type(
    app.on_batch("MODIFY", model=Order, size=100)(bulk_orders),
    Callable[[list[Modify[Order]]], None],
)
assert_type(
    app.on_batch("INSERT", "MODIFY", where={"type": "ORDER"})(bulk_any),
    Callable[[list[Record], Any], int],
)
assert_type(router.on_batch("INSERT")(bulk_inserts), Callable[[list[Insert]], None])
assert_type(RecordsFailed([Record()]).records, list[object])
