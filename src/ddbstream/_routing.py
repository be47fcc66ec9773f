"""Route and Router: which handler runs for which record.

A Route is a handler plus the filters a record must pass. A Router collects routes in
registration order and can include other routers, the way Flask blueprints and Starlette
routers do, so routes can live in several modules. Nothing here knows about Lambda.
"""

from __future__ import annotations

from ._filters import compile_filters
from ._record import EVENT_NAMES
from ._typing import overload
from .conditions import And, Comparison, to_condition
from .errors import SetupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Iterator
    from typing import Any, Protocol, TypeAlias, TypeVar

    from ._filters import Names, Where
    from ._record import Record

    Handler: TypeAlias = "Callable[[Record], object]"
    HandlerT = TypeVar("HandlerT", bound=Handler)

    class Decorator(Protocol):
        """What ``@router.on_modify(...)`` returns: registers a handler, returns it as is."""

        def __call__(self, func: HandlerT, /) -> HandlerT: ...


__all__ = ["Route", "RouteTable", "Router", "is_coroutine_function"]

_CO_COROUTINE = 0x80  # inspect.CO_COROUTINE, without importing inspect at start-up


class Route:
    """A handler and the filters a record must pass for it to run.

    Attributes:
        events: the event names it runs for.
        handler: the function, as registered.
        name: how messages and ``ddbstream routes`` name it.
        filters: the filter keyword arguments as given (``where``, ``changed``...).
        is_async: whether the handler is an ``async def``.
    """

    __slots__ = ("_tests", "events", "filters", "handler", "is_async", "name")

    def __init__(
        self,
        handler: Handler,
        *,
        events: Collection[str],
        name: str | None = None,
        where: Where | None = None,
        new: Where | None = None,
        old: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        ttl: bool | None = None,
    ) -> None:
        """Check everything a route can be checked for now; raise SetupError naming it."""
        if not callable(handler):
            raise SetupError(f"a handler must be callable, got {handler!r}")
        self.handler = handler
        self.name = name or _name_of(handler)
        # A generator of names would be used up by the first reader: keep what it gave.
        table = _materialized(table)
        changed = _materialized(changed)
        self.is_async = is_coroutine_function(handler)
        given = {
            "where": where,
            "new": new,
            "old": old,
            "changed": changed,
            "table": table,
            "ttl": ttl,
        }
        self.filters: dict[str, Any] = {
            key: value for key, value in given.items() if value is not None
        }
        try:
            self.events = _event_names(events)
            self._tests = compile_filters(
                self.events, where, new, old, changed, table, ttl, self.name
            )
        except (TypeError, ValueError) as problem:
            raise SetupError(f"{self._describe()}: {problem}") from None

    def matches(self, record: Record) -> bool:
        """Whether *record* passes every filter (its event name is checked by the router)."""
        for test in self._tests:  # noqa: SIM110 - a loop is faster than all() on the hot path
            if not test(record):
                return False
        return True

    def _describe(self) -> str:
        code = getattr(self.handler, "__code__", None)
        where = f" ({code.co_filename}:{code.co_firstlineno})" if code is not None else ""
        return f"route {self.name!r}{where}"

    def __repr__(self) -> str:
        filters = "".join(f", {key}={value!r}" for key, value in self.filters.items())
        return f"Route(events={sorted(self.events)!r}, name={self.name!r}{filters})"


class Router:
    """Routes in registration order; include one into an :class:`~ddbstream.App` or another Router.

    ``on_insert``, ``on_modify``, ``on_remove`` and ``on`` work bare (``@router.on_insert``),
    with filters (``@router.on_modify(changed="status")``) and as plain calls
    (``router.on_remove(lambda record: ...)``); each returns the function unchanged.
    """

    _includable = True  # an App is a Router too, but its hooks would not come along

    def __init__(self) -> None:
        self._entries: list[Route | Router] = []
        self._frozen_by: str | None = None

    # --- registration ---------------------------------------------------------------------

    @overload
    def on_insert(self, func: HandlerT, /) -> HandlerT: ...
    @overload
    def on_insert(
        self,
        func: None = None,
        /,
        *,
        where: Where | None = None,
        new: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        name: str | None = None,
    ) -> Decorator: ...

    def on_insert(
        self,
        func: HandlerT | None = None,
        /,
        *,
        where: Where | None = None,
        new: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        name: str | None = None,
    ) -> HandlerT | Decorator:
        """Register a handler for INSERT records (new items).

        Args:
            where: a condition on the new item.
            new: the same, spelled for symmetry with ``on_modify``.
            changed: attribute names or paths; on an INSERT every present attribute counts
                as changed.
            table: one or more table names the record must come from.
            name: the route's name in messages (default: the function's qualified name).
        """
        filters = {"where": where, "new": new, "changed": changed, "table": table, "name": name}
        register = self._decorator(("INSERT",), filters)
        return register if func is None else register(func)

    @overload
    def on_modify(self, func: HandlerT, /) -> HandlerT: ...
    @overload
    def on_modify(
        self,
        func: None = None,
        /,
        *,
        where: Where | None = None,
        new: Where | None = None,
        old: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        name: str | None = None,
    ) -> Decorator: ...

    def on_modify(
        self,
        func: HandlerT | None = None,
        /,
        *,
        where: Where | None = None,
        new: Where | None = None,
        old: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        name: str | None = None,
    ) -> HandlerT | Decorator:
        """Register a handler for MODIFY records (updated items).

        Args:
            where: a condition on the new image (else the old image, else the keys).
            new: a condition on the new image; no new image, no match.
            old: a condition on the old image; no old image, no match.
            changed: attribute names or paths, of which at least one must differ between the
                old and new image. Needs the NEW_AND_OLD_IMAGES view type: without it the
                record fails with a message saying so.
            table: one or more table names the record must come from.
            name: the route's name in messages (default: the function's qualified name).
        """
        filters = {"where": where, "new": new, "old": old, "changed": changed, "table": table}
        register = self._decorator(("MODIFY",), {**filters, "name": name})
        return register if func is None else register(func)

    @overload
    def on_remove(self, func: HandlerT, /) -> HandlerT: ...
    @overload
    def on_remove(
        self,
        func: None = None,
        /,
        *,
        where: Where | None = None,
        old: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        ttl: bool | None = None,
        name: str | None = None,
    ) -> Decorator: ...

    def on_remove(
        self,
        func: HandlerT | None = None,
        /,
        *,
        where: Where | None = None,
        old: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        ttl: bool | None = None,
        name: str | None = None,
    ) -> HandlerT | Decorator:
        """Register a handler for REMOVE records (deleted items).

        Args:
            where: a condition on the old item (else the keys).
            old: a condition on the old image; no old image, no match.
            changed: attribute names or paths; on a REMOVE every present attribute counts
                as changed.
            table: one or more table names the record must come from.
            ttl: ``True`` for Time to Live expiries only, ``False`` for deletes made by a
                client only, ``None`` (default) for both.
            name: the route's name in messages (default: the function's qualified name).
        """
        filters = {"where": where, "old": old, "changed": changed, "table": table, "ttl": ttl}
        register = self._decorator(("REMOVE",), {**filters, "name": name})
        return register if func is None else register(func)

    def on(
        self,
        *events: str,
        where: Where | None = None,
        new: Where | None = None,
        old: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        ttl: bool | None = None,
        name: str | None = None,
    ) -> Decorator:
        """Register a handler for the given event names (``"INSERT"``, ``"MODIFY"``, ``"REMOVE"``).

        ``@router.on("INSERT", "MODIFY", where=...)``; the filters are those of ``on_modify``
        plus ``ttl`` (only with ``"REMOVE"`` alone).
        """
        if events and callable(events[0]):  # @app.on without arguments: would drop the handler
            raise SetupError(
                f"on() takes event names, not the handler {_name_of(events[0])!r}: write "
                "@app.on('INSERT', 'MODIFY'), or use on_insert, on_modify or on_remove"
            )
        filters = {"where": where, "new": new, "old": old, "changed": changed, "table": table}
        return self._decorator(events, {**filters, "ttl": ttl, "name": name})

    def add_handler(
        self,
        func: Handler,
        *,
        events: Collection[str],
        where: Where | None = None,
        new: Where | None = None,
        old: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        ttl: bool | None = None,
        name: str | None = None,
    ) -> Route:
        """Register *func* for *events*; the ``on_*`` decorators are shortcuts for this.

        Raises:
            SetupError: the handler or a filter cannot be valid, or the app already started.
        """
        self._ensure_open("add_handler", name or _name_of(func))
        route = Route(
            func,
            events=events,
            where=where,
            new=new,
            old=old,
            changed=changed,
            table=table,
            ttl=ttl,
            name=name,
        )
        self._entries.append(route)
        return route

    def include_router(self, router: Router) -> None:
        """Add *router*'s routes here, at this point of the registration order.

        Routes registered on *router* later are included too, until the app starts.
        """
        self._ensure_open("include_router")
        if not isinstance(router, Router) or not router._includable:
            raise SetupError(f"include_router takes a Router, got {router!r}")
        if router is self or self in router._all_routers():
            raise SetupError("a router cannot include itself")
        if router in self._all_routers():
            raise SetupError(f"{router!r} is already included here; its routes would run twice")
        self._entries.append(router)

    @property
    def routes(self) -> tuple[Route, ...]:
        """Every route, included routers' too, in the order they run."""
        return tuple(self._iter_routes())

    # --- internals ------------------------------------------------------------------------

    def _decorator(self, events: Collection[str], options: dict[str, Any]) -> Decorator:
        def register(func: HandlerT) -> HandlerT:
            self.add_handler(func, events=events, **options)
            return func

        return register

    def _iter_routes(self) -> Iterator[Route]:
        seen: set[int] = set()  # a router included by two others still runs its routes once
        for route in self._walk_routes():
            if id(route) not in seen:
                seen.add(id(route))
                yield route

    def _walk_routes(self) -> Iterator[Route]:
        for entry in self._entries:
            if isinstance(entry, Router):
                yield from entry._walk_routes()
            else:
                yield entry

    def _all_routers(self) -> Iterator[Router]:
        yield self
        for entry in self._entries:
            if isinstance(entry, Router):
                yield from entry._all_routers()

    def _freeze(self, owner: str) -> None:
        for router in self._all_routers():
            router._frozen_by = owner

    def _ensure_open(self, method: str, subject: str | None = None) -> None:
        if self._frozen_by is not None:
            what = f"{method}() of {subject!r}" if subject is not None else f"{method}()"
            raise SetupError(
                f"{what} after {self._frozen_by} started handling events; register every "
                f"route at import time, before the first invocation"
            )


class RouteTable:
    """Routes by event name, built once when the app starts: O(1) lookup per record.

    Attributes:
        by_event: event name -> the routes for it, in order.
        fallbacks: the routes to run when no route matched.
        has_async: whether any route or fallback is an ``async def``.
        fixed: event name -> the handlers to run for every record of that event (its
            routes' when none has a filter, else the fallbacks' when it has no route), or
            None when filters must decide.
    """

    __slots__ = ("by_event", "fallbacks", "fixed", "has_async", "narrow")

    def __init__(self, routes: Iterable[Route], fallbacks: Iterable[Route] = ()) -> None:
        by_event: dict[str, list[Route]] = {event: [] for event in EVENT_NAMES}
        every_route = list(routes)
        for route in every_route:
            for event in route.events:
                by_event[event].append(route)
        self.by_event = {event: tuple(found) for event, found in by_event.items()}
        self.narrow = {event: _narrower(found) for event, found in self.by_event.items()}
        """event name -> None, or a function of a record giving the routes worth testing."""
        self.fallbacks = tuple(fallbacks)
        self.has_async = any(route.is_async for route in (*every_route, *self.fallbacks))
        self.fixed = {
            event: tuple(route.handler for route in found or self.fallbacks)
            if not any(route._tests for route in found)
            else None
            for event, found in self.by_event.items()
        }


def _narrower(routes: tuple[Route, ...]) -> Callable[[Record], tuple[Route, ...]] | None:
    """Index *routes* by the string their ``where=`` wants one attribute to equal, if any.

    With ten routes each on its own ``where={"kind": ...}``, a record is tested by the one
    route for its kind instead of all ten. Exact, not a heuristic: a route is indexed only
    when the first thing it tests that could fail is ``Attr(name).eq("some string")`` on
    ``record.item`` (``table=`` and ``ttl=`` come first but never raise; ``new=``, ``old=``
    and ``changed=`` come after, and ``&`` stops at the first false condition). A record whose
    attribute is a well-formed ``{"S": text}`` can only match routes indexed under ``text``;
    one without the attribute, none of them; anything else (malformed values, odd images) is
    tested by every route, which raises as it always did.
    """
    keys = [_index_key(route) for route in routes]
    counts: dict[str, int] = {}
    for key in keys:
        if key is not None:
            counts[key[0]] = counts.get(key[0], 0) + 1
    if not counts or max(counts.values()) < 2:
        return None  # nothing to gain over testing each route
    attribute = max(counts, key=counts.__getitem__)
    # Per route: the text it needs the attribute to equal, or None when it is not indexed.
    wanted = [key[1] if key is not None and key[0] == attribute else None for key in keys]
    others = tuple(route for route, text in zip(routes, wanted, strict=True) if text is None)
    by_text = {
        text: tuple(
            route for route, need in zip(routes, wanted, strict=True) if need in (None, text)
        )
        for text in wanted
        if text is not None
    }
    get = by_text.get
    dict_ = dict
    str_ = str

    def narrow(record: Record) -> tuple[Route, ...]:
        dynamodb = record.dynamodb
        # record.item, as the where= test finds it: the first non-empty image.
        image = dynamodb.get("NewImage") or dynamodb.get("OldImage") or dynamodb.get("Keys")
        if not image:
            return others
        if image.__class__ is not dict_:
            return routes
        tagged = image.get(attribute)
        if tagged is None:
            return others
        if tagged.__class__ is dict_ and len(tagged) == 1:
            text = tagged.get("S")
            if text.__class__ is str_:
                return get(text, others)
        return routes

    return narrow


def _index_key(route: Route) -> tuple[str, str] | None:
    """``(attribute, text)`` when *route* first tests ``Attr(attribute).eq(text)`` on the item."""
    where = route.filters.get("where")
    if where is None:
        return None
    try:
        condition = to_condition(where)
    except (TypeError, ValueError):  # a function of the image: not a condition
        return None
    while type(condition) is And and condition.conditions:
        condition = condition.conditions[0]
    if type(condition) is not Comparison:
        return None
    name, text = condition.steps[0], condition._text  # the operand of eq on a string, or None
    if text is None or len(condition.steps) != 1 or not isinstance(name, str):
        return None
    return name, text


def _materialized(names: Names | None) -> Names | None:
    if names is None or isinstance(names, (str, bytes, dict, list, tuple, set, frozenset)):
        return names
    return tuple(names) if hasattr(names, "__iter__") else names


def _name_of(handler: object) -> str:
    for candidate in (_unwrap_partial(handler), type(handler)):
        name = getattr(candidate, "__qualname__", None)
        if isinstance(name, str):
            return name
    return repr(handler)  # pragma: no cover - type(handler) always has a __qualname__


def _unwrap_partial(function: object) -> object:
    # By type name: importing functools for an isinstance check would cost a cold start.
    while type(function).__name__ == "partial" and type(function).__module__ == "functools":
        function = function.func  # type: ignore[attr-defined]
    return function


def is_coroutine_function(function: object) -> bool:
    """``inspect.iscoroutinefunction`` without importing inspect (a cold-start cost).

    Also sees through ``functools.partial`` and callable objects with an ``async def __call__``.
    """
    function = _unwrap_partial(function)
    code = getattr(function, "__code__", None)
    if code is None:
        call = getattr(type(function), "__call__", None)  # noqa: B004 - its code, not callability
        code = getattr(call, "__code__", None)
    return bool(getattr(code, "co_flags", 0) & _CO_COROUTINE)


def _event_names(events: Collection[str]) -> frozenset[str]:
    if isinstance(events, str):
        events = (events,)
    names = frozenset(events)
    if not names:
        raise ValueError("no event names given; use 'INSERT', 'MODIFY' and/or 'REMOVE'")
    unknown = sorted(names - EVENT_NAMES, key=repr)
    if unknown:
        import difflib  # only on this error path: it costs a cold start otherwise

        known = sorted(EVENT_NAMES)
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(str(name).upper(), known, n=1, cutoff=0.5)
            hints.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
        raise ValueError(
            f"unknown event name {', '.join(hints)}; use 'INSERT', 'MODIFY' or 'REMOVE'"
        )
    return names
