"""Middleware and extensions: what wraps a record's routes, one route, or a whole invocation.

This module is the one place where they are put together. ``@app.middleware`` registers a
function ``(record, call_next)``; ``app.use(extension)`` registers an :class:`Extension`, an
object whose ``invocation``, ``record`` and ``route`` hooks return context managers. Both go
into one list, in registration order, the first registered outermost:

- :func:`record_chain` turns that list into one function of a record, around the record's
  routes (``Dispatch`` puts it in place of the routes, so the batch loop is unchanged);
- :func:`route_wrapper` puts the extensions' ``route`` hooks around each route's handler;
- :func:`around_invocation` runs the batch inside the extensions' ``invocation`` hooks.

An app with none of them builds none of this: the batch loop costs what it always did.

Context managers rather than ``call_next`` for extensions: the same extension then works in
sync and async apps, where a ``call_next`` would have to be awaited.
"""

from __future__ import annotations

from ._signatures import is_coroutine_function, name_of
from .errors import SetupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from contextlib import AbstractContextManager
    from typing import Any, TypeAlias

    from ._batch import Outcome
    from ._record import Record
    from ._sources import Window
    from .types import LambdaContext

    Call: TypeAlias = "Callable[[Record[Any]], object]"
    Layer: TypeAlias = "Callable[[Record[Any], Call], object]"
    """A middleware as the chain calls it: ``(record, call_next)``."""
    RecordHook: TypeAlias = "Callable[[Record[Any]], AbstractContextManager[object]]"
    RouteHook: TypeAlias = "Callable[[Record[Any], str], AbstractContextManager[object]]"

__all__ = [
    "Extension",
    "Invocation",
    "Middleware",
    "around_invocation",
    "record_chain",
    "route_wrapper",
]


class Invocation:
    """One invocation of the app, as extensions see it (and ``app.window``/``app.context`` read).

    Attributes:
        event: the event Lambda passed to the handler.
        context: the Lambda context, or None.
        window: the tumbling window of the event, if it has one.
        size: how many records the event holds.
        outcome: the batch's :class:`~ddbstream.Outcome` once it ran to the end (failures
            reported, or none); None while it runs, and when the batch raised.
        duplicates: how many route calls the ledger skipped (``idempotent=`` routes).
        unmatched: how many records no route matched (counted only in apps that use
            middleware or extensions).
        handled: how many records failed and had the failure handled by an error hook.
    """

    __slots__ = (
        "_handled",
        "context",
        "duplicates",
        "event",
        "gathered",
        "outcome",
        "size",
        "unmatched",
        "window",
    )

    def __init__(
        self,
        window: Window | None,
        context: LambdaContext | None,
        event: Any = None,
        size: int = 0,
    ) -> None:
        self.event = event
        self.context = context
        self.window = window
        self.size = size
        self.outcome: Outcome | None = None
        self.duplicates = 0
        self.unmatched = 0
        self._handled: set[int] = set()
        self.gathered: Any = None  # the batch routes' records and the sinks used (_bulk)

    @property
    def handled(self) -> int:
        """How many records failed and had the failure handled by an error hook."""
        return len(self._handled)

    def count_handled(self, record: Record[Any]) -> None:
        """Count *record* as handled by an error hook (once, however many of its routes failed)."""
        self._handled.add(id(record.raw))  # the raw record lives as long as the invocation

    def __repr__(self) -> str:
        return f"<Invocation of {self.size} records>"


class Extension:
    """Base class of ready-made extensions, registered with ``app.use(extension)``.

    Override any of the three hooks; each returns a context manager that is entered before
    and exited after what it wraps, and sees the exception when that fails. Hooks not
    overridden cost nothing. Extensions and ``@app.middleware`` functions wrap records in
    the order they were registered, the first outermost; the ``route`` hooks wrap each
    route's handler (inside the ledger, so a route it skips is not wrapped), and the
    ``invocation`` hooks the whole batch.

    A ``record`` or ``route`` hook whose context manager suppresses the exception (its
    ``__exit__`` returns true) marks the record handled, as a middleware that catches it
    does. An ``invocation`` hook must not suppress exceptions.

    The same extension works in sync and async apps: in an async app the ``record`` and
    ``route`` context managers are entered and exited in the record's own task.
    """

    def invocation(self, invocation: Invocation) -> AbstractContextManager[object]:
        """Wrap one invocation: the whole batch, after the event was read."""
        return _NOTHING

    def record(self, record: Record[Any]) -> AbstractContextManager[object]:
        """Wrap one record: its routes' filters, handlers and error hooks."""
        return _NOTHING

    def route(self, record: Record[Any], route: str) -> AbstractContextManager[object]:
        """Wrap one route's handler for *record*; *route* is the route's name."""
        return _NOTHING

    def _uses(self, hook: str) -> bool:
        return getattr(type(self), hook) is not getattr(Extension, hook)


class _Nothing:
    """A context manager that does nothing (``contextlib.nullcontext`` without the import)."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None


_NOTHING = _Nothing()


class Middleware:
    """A function registered with ``@app.middleware``.

    Attributes:
        func: the function, as registered: ``(record, call_next)``.
        name: its qualified name, for messages.
        is_async: whether it is an ``async def``.
    """

    __slots__ = ("func", "is_async", "name")

    def __init__(self, func: Callable[..., object]) -> None:
        if not callable(func):
            raise SetupError(f"a middleware must be callable, got {func!r}")
        self.func = func
        self.name = name_of(func)
        self.is_async = is_coroutine_function(func)

    def __repr__(self) -> str:
        return f"Middleware({self.name!r})"


def record_chain(
    entries: Sequence[Middleware | Extension], *, is_async: bool
) -> Callable[[Call], Call] | None:
    """A function that wraps a record's routes in *entries*, or None when none wraps records.

    Raises:
        SetupError: a plain middleware in an async app (its ``call_next`` gives an awaitable
            it would not await).
    """
    layers: list[Layer] = []
    hooks: list[RecordHook] = []  # extensions' record hooks next to each other: one layer
    for entry in entries:
        if isinstance(entry, Extension):
            if entry._uses("record"):
                hooks.append(entry.record)
            continue
        layers += _hook_layers(hooks, is_async)
        hooks = []
        if entry.is_async or not is_async:
            layers.append(entry.func)
        else:
            raise SetupError(
                f"The middleware {entry.name!r} is a plain function, but the app runs async "
                "handlers or middleware, where call_next(record) gives an awaitable: write it "
                "as an async def that awaits call_next(record)."
            )
    layers += _hook_layers(hooks, is_async)
    if not layers:
        return None

    def chain(inner: Call) -> Call:
        call = inner
        for layer in reversed(layers):
            call = _bind(layer, call)
        return call

    return chain


def _bind(layer: Layer, call_next: Call) -> Call:
    def call(record: Record[Any]) -> object:
        return layer(record, call_next)

    return call


def _hook_layers(hooks: list[RecordHook], is_async: bool) -> list[Layer]:
    """Layers entering *hooks*' context managers, the first outermost: in a sync app one
    layer per two hooks (a layer is a call per record; two extensions are common)."""
    if not hooks:
        return []
    if is_async:
        return [_async_record_layer(hooks)]
    return [_record_layer(hooks[start : start + 2]) for start in range(0, len(hooks), 2)]


def _record_layer(hooks: list[RecordHook]) -> Layer:
    first = hooks[0]
    if len(hooks) == 1:

        def layer(record: Record[Any], call_next: Call) -> object:
            with first(record):
                return call_next(record)
            return None  # the hook suppressed the failure: the record is handled

        return layer
    second = hooks[1]

    def layer_of_two(record: Record[Any], call_next: Call) -> object:
        with first(record), second(record):
            return call_next(record)
        return None  # a hook suppressed the failure: the record is handled

    return layer_of_two


def _async_record_layer(hooks: list[RecordHook]) -> Layer:
    async def layer(record: Record[Any], call_next: Call) -> object:
        return await _enter_async(hooks, 0, record, call_next)

    return layer


async def _enter_async(
    hooks: list[RecordHook], index: int, record: Record[Any], call_next: Call
) -> object:
    if index == len(hooks):
        return await call_next(record)  # type: ignore[misc]  # async in async apps
    with hooks[index](record):
        return await _enter_async(hooks, index + 1, record, call_next)
    return None  # the hook suppressed the failure: the record is handled


def route_hooks(entries: Sequence[Middleware | Extension]) -> tuple[RouteHook, ...]:
    """The ``route`` hooks of the extensions in *entries*, outermost first."""
    return tuple(
        entry.route for entry in entries if isinstance(entry, Extension) and entry._uses("route")
    )


def route_wrapper(
    hooks: Sequence[RouteHook],
) -> Callable[[Call, str, bool], Call] | None:
    """A function that wraps one route's call in *hooks*, or None when there are none."""
    if not hooks:
        return None

    def wrap(call: Call, name: str, is_async: bool) -> Call:
        for hook in reversed(hooks):
            call = (
                _async_route_layer(hook, name, call) if is_async else _route_layer(hook, name, call)
            )
        return call

    return wrap


def _route_layer(hook: RouteHook, name: str, call: Call) -> Call:
    def wrapped(record: Record[Any]) -> object:
        with hook(record, name):
            return call(record)
        return None  # the hook suppressed the failure: handled

    return wrapped


def _async_route_layer(hook: RouteHook, name: str, call: Call) -> Call:
    async def wrapped(record: Record[Any]) -> object:
        with hook(record, name):
            return await call(record)  # type: ignore[misc]  # an async route's call
        return None  # the hook suppressed the failure: handled

    return wrapped


def invocation_hooks(
    entries: Sequence[Middleware | Extension],
) -> tuple[Callable[[Invocation], AbstractContextManager[object]], ...]:
    """The ``invocation`` hooks of the extensions in *entries*, outermost first."""
    return tuple(
        entry.invocation
        for entry in entries
        if isinstance(entry, Extension) and entry._uses("invocation")
    )


def around_invocation(
    hooks: Sequence[Callable[[Invocation], AbstractContextManager[object]]],
    invocation: Invocation,
    run: Callable[[], Outcome],
    index: int = 0,
) -> Outcome:
    """``run()`` inside every hook's context manager, the first outermost."""
    if index == len(hooks):
        outcome = run()
        invocation.outcome = outcome
        return outcome
    hook = hooks[index]
    with hook(invocation):
        return around_invocation(hooks, invocation, run, index + 1)
    raise RuntimeError(  # a `with` whose manager swallowed the exception ends up here
        f"The extension hook {name_of(hook)} suppressed the exception of an invocation; "
        "an invocation hook must let it through (Lambda needs it to retry the batch)."
    )
