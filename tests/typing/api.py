"""Checked by mypy, never run: the public API types what users write as they expect."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from typing_extensions import assert_type

from ddbstream import App, Attr, Outcome, Record, Route, Router, Window
from ddbstream._typing import BatchItemFailure
from ddbstream.conditions import Comparison

app = App(report_batch_item_failures=True, parse_number=int)
router = Router()


def handle(record: Record) -> None:
    assert_type(record.new, "dict[str, Any] | None")
    assert_type(record.keys, "dict[str, Any]")
    assert_type(record.event_name, str)


async def handle_async(record: Record) -> None:
    return None


def log(record: Record, error: Exception) -> None:
    return None


def on_end(window: Window) -> None:
    return None


# Every registration form gives back what it was given, with its type (not Any).
sync: Callable[[Record], None] = handle
coroutine: Callable[[Record], Coroutine[Any, Any, None]] = handle_async
hook: Callable[[Record, Exception], None] = log
window_hook: Callable[[Window], None] = on_end

assert_type(app.on_insert(sync), Callable[[Record], None])
assert_type(app.on_modify(changed="status")(sync), Callable[[Record], None])
assert_type(router.on_remove(ttl=True)(coroutine), Callable[[Record], Coroutine[Any, Any, None]])
assert_type(app.on("INSERT", "MODIFY")(sync), Callable[[Record], None])
assert_type(app.on_error(ValueError)(hook), Callable[[Record, Exception], None])
assert_type(app.on_error(hook), Callable[[Record, Exception], None])
assert_type(app.on_window_end(window_hook), Callable[[Window], None])
assert_type(app.add_handler(handle, events=["INSERT"]), Route)

assert_type(Attr("status").eq("SHIPPED"), Comparison)
assert_type(app.process({"Records": []}), Outcome)
assert_type(app.handler({"Records": []}, None)["batchItemFailures"], list[BatchItemFailure])
