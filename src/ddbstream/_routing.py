"""Route, Router and Dispatch: which handler runs for which record.

A Route is a handler plus the compiled filters a record must pass. A Router collects routes in
registration order and can include other routers, the way Flask blueprints and Starlette
routers do, so routes can live in several modules. A Dispatch, built once when the app starts,
is the one place that decides which handlers run for a record. Nothing here knows about
Lambda beyond the context a handler may ask for.
"""

from __future__ import annotations

from ._filters import Filters
from ._record import EVENT_NAMES, IMAGES_OF_EVENT, RECORD_CLASSES
from ._signatures import is_coroutine_function, module_of, name_of, takes_context
from ._typing import overload
from .errors import SetupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
    from typing import Any, Literal, Protocol, TypeAlias, TypeVar

    from ._models import Model
    from ._record import Insert, Modify, Record, Remove
    from .types import Handler, Idempotent, Names, Where

    M = TypeVar("M")
    R = TypeVar("R")
    RecordT = TypeVar("RecordT", bound="Record[Any]")
    Call: TypeAlias = "Callable[[Record[Any]], object]"
    """A handler as the batch loop calls it: with the record alone."""
    Test: TypeAlias = "Callable[[Record[Any]], bool]"
    """A route's filters as one test of a record."""
    Narrow: TypeAlias = "Callable[[Record[Any]], tuple[tuple[Route, Test, Call], ...]]"
    """Gives the routes worth testing for a record: fewer than all, by an index."""
    Guard: TypeAlias = "Callable[[Route, Call], Call]"
    """Wraps an idempotent route's call in the ledger (the app makes it)."""
    Wrap: TypeAlias = "Callable[[Call, str, bool], Call]"
    """Wraps a route's call in the extensions' route hooks: ``(call, name, is_async)``."""
    Chain: TypeAlias = "Callable[[Call], Call]"
    """Wraps the function that runs a record's routes in the middleware."""
    ModelOf: TypeAlias = "type[M] | Callable[[dict[str, Any]], M]"
    """What ``model=`` takes: a class (dataclass, TypedDict, pydantic, msgspec, attrs) or a
    function of the item's dict; the handler's record holds ``M``."""

    class Registrar(Protocol[RecordT]):
        """What ``@router.on_modify(...)`` returns: registers a handler, returns it as is.

        The handler takes the record (``Modify`` here) or the record and the Lambda context.
        """

        @overload
        def __call__(self, func: Callable[[RecordT], R], /) -> Callable[[RecordT], R]: ...
        @overload
        def __call__(self, func: Callable[[RecordT, Any], R], /) -> Callable[[RecordT, Any], R]: ...

    class BatchRegistrar(Protocol[RecordT]):
        """What ``@router.on_batch(...)`` returns: registers a batch handler, returns it as is.

        The handler takes the list of records (``list[Modify]`` for ``on_batch("MODIFY")``)
        or the list and the Lambda context.
        """

        @overload
        def __call__(
            self, func: Callable[[list[RecordT]], R], /
        ) -> Callable[[list[RecordT]], R]: ...
        @overload
        def __call__(
            self, func: Callable[[list[RecordT], Any], R], /
        ) -> Callable[[list[RecordT], Any], R]: ...


__all__ = ["Dispatch", "Route", "Router"]


class Route:
    """A handler and the filters a record must pass for it to run.

    Attributes:
        handler: the function, as registered.
        name: how messages and ``ddbstream routes`` name it.
        filters: the compiled :class:`~ddbstream._filters.Filters` (``filters.given`` has
            the keyword arguments as written).
        events: the event names it runs for.
        is_async: whether the handler is an ``async def``.
        takes_context: whether it is called as ``handler(record, context)``.
        idempotent: ``True`` or ``"transaction"`` to run it through the app's ledger,
            ``False`` not to, ``None`` (default) as the app's ``idempotent=`` says.
        stable_name: the route's name in the ledger's keys: ``name=`` when given, else the
            handler's ``module:qualname``, which stays the same across deployments.
        model: the :class:`~ddbstream._models.Model` its handler's images become, or None
            for dicts.
        batch: for an ``on_batch`` route, the most records one call gets (0: all of the
            invocation's); None for a route called per record.
    """

    __slots__ = (
        "batch",
        "events",
        "filters",
        "handler",
        "idempotent",
        "is_async",
        "model",
        "name",
        "stable_name",
        "takes_context",
    )

    def __init__(
        self,
        handler: Handler[Any],
        *,
        events: Collection[str],
        name: str | None = None,
        model: Any = None,
        where: Where | None = None,
        new: Where | None = None,
        old: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        ttl: bool | None = None,
        idempotent: Idempotent = None,
        batch: int | None = None,
    ) -> None:
        """Check everything a route can be checked for now; raise SetupError naming it."""
        if not callable(handler):
            raise SetupError(f"a handler must be callable, got {handler!r}")
        self.handler = handler
        self.batch = batch
        self.name = name or name_of(handler)
        self.stable_name = name or f"{module_of(handler)}:{self.name}"
        if idempotent not in (None, True, False, "transaction"):
            raise SetupError(
                f"{self._describe()}: idempotent must be True, False or 'transaction', "
                f"got {idempotent!r}"
            )
        if batch is not None and idempotent == "transaction":
            raise SetupError(
                f"{self._describe()}: on_batch takes idempotent=True or False; 'transaction' "
                "commits one record's mark with the handler's own writes"
            )
        self.idempotent = idempotent
        self.is_async = is_coroutine_function(handler)
        try:
            self.takes_context = takes_context(handler)
            self.model = None if model is None else _model(model)
            self.filters = Filters(
                _event_names(events),
                route_name=self.name,
                where=where,
                new=new,
                old=old,
                changed=changed,
                table=table,
                ttl=ttl,
            )
        except (TypeError, ValueError) as problem:
            raise SetupError(f"{self._describe()}: {problem}") from None
        self.events = self.filters.events

    def matches(self, record: Record[Any]) -> bool:
        """Whether *record* is of an event this route runs for and passes every filter.

        Raises:
            MissingImageError: a filter needs an image the record's stream does not carry.
        """
        return record.event_name in self.filters.runs_for and self.filters.matches(record)

    def _describe(self) -> str:
        code = getattr(self.handler, "__code__", None)
        where = f" ({code.co_filename}:{code.co_firstlineno})" if code is not None else ""
        return f"route {self.name!r}{where}"

    def __repr__(self) -> str:
        filters = self.filters.describe()
        filters = f", {filters}" if filters else ""
        model = f", model={self.model!r}" if self.model is not None else ""
        batch = "" if self.batch is None else f", batch={self.batch or None!r}"
        return f"Route(events={sorted(self.events)!r}, name={self.name!r}{filters}{model}{batch})"


class Router:
    """Routes in registration order; include one into an :class:`~ddbstream.App` or another Router.

    ``on_insert``, ``on_modify``, ``on_remove`` and ``on`` work bare (``@router.on_insert``),
    with filters (``@router.on_modify(changed="status")``) and as plain calls
    (``router.on_remove(lambda record: ...)``); each returns the function unchanged. A
    handler takes ``(record)`` or ``(record, context)``; ``on_insert`` handlers receive an
    :class:`~ddbstream.Insert`, ``on_modify`` a :class:`~ddbstream.Modify`, ``on_remove`` a
    :class:`~ddbstream.Remove` and ``on`` a :class:`~ddbstream.Record`.
    """

    _includable = True  # an App is a Router too, but its hooks would not come along

    def __init__(self) -> None:
        self._entries: list[Route | Router] = []
        self._frozen_by: str | None = None

    # --- registration ---------------------------------------------------------------------

    @overload
    def on_insert(self, func: Callable[[Insert], R], /) -> Callable[[Insert], R]: ...
    @overload
    def on_insert(self, func: Callable[[Insert, Any], R], /) -> Callable[[Insert, Any], R]: ...
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
        idempotent: Idempotent = None,
        model: ModelOf[M],
    ) -> Registrar[Insert[M]]: ...
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
        idempotent: Idempotent = None,
        model: None = None,
    ) -> Registrar[Insert]: ...

    def on_insert(
        self,
        func: Handler[Any] | None = None,
        /,
        *,
        where: Where | None = None,
        new: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        name: str | None = None,
        idempotent: Idempotent = None,
        model: Any = None,
    ) -> Any:
        """Register a handler for INSERT records (new items); it receives an ``Insert``.

        Args:
            where: a condition on the new item.
            new: the same, spelled for symmetry with ``on_modify``.
            changed: attribute names or paths; on an INSERT every present attribute counts
                as changed.
            table: one or more table names the record must come from.
            name: the route's name in messages (default: the function's qualified name).
            idempotent: ``True`` to run the handler once per record through the app's
                :class:`~ddbstream.idempotency.Ledger`, ``"transaction"`` when the handler
                commits the ledger's mark itself, ``False`` to opt out of the app's default.
            model: what the handler's images become (``record.new`` is an ``Order``): a
                dataclass, TypedDict, pydantic model, msgspec Struct, attrs class or a
                function of the item's dict; see the "Typed items" page. Default: dicts.
        """
        filters = {"where": where, "new": new, "changed": changed, "table": table, "name": name}
        register = self._registrar(
            ("INSERT",), {**filters, "idempotent": idempotent, "model": model}
        )
        return register if func is None else register(func)

    @overload
    def on_modify(self, func: Callable[[Modify], R], /) -> Callable[[Modify], R]: ...
    @overload
    def on_modify(self, func: Callable[[Modify, Any], R], /) -> Callable[[Modify, Any], R]: ...
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
        idempotent: Idempotent = None,
        model: ModelOf[M],
    ) -> Registrar[Modify[M]]: ...
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
        idempotent: Idempotent = None,
        model: None = None,
    ) -> Registrar[Modify]: ...

    def on_modify(
        self,
        func: Handler[Any] | None = None,
        /,
        *,
        where: Where | None = None,
        new: Where | None = None,
        old: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        name: str | None = None,
        idempotent: Idempotent = None,
        model: Any = None,
    ) -> Any:
        """Register a handler for MODIFY records (updated items); it receives a ``Modify``.

        Args:
            where: a condition on the new image (else the old image, else the keys).
            new: a condition on the new image.
            old: a condition on the old image.
            changed: attribute names or paths, of which at least one must differ between the
                old and new image.
            table: one or more table names the record must come from.
            name: the route's name in messages (default: the function's qualified name).
            idempotent: as for ``on_insert``.
            model: what the handler's images become (``record.new`` is an ``Order``): a
                dataclass, TypedDict, pydantic model, msgspec Struct, attrs class or a
                function of the item's dict; see the "Typed items" page. Default: dicts.

        A filter that needs an image the stream's view type omits (``new=`` on a KEYS_ONLY
        stream, ``changed=`` without NEW_AND_OLD_IMAGES) fails the record with
        :class:`~ddbstream.errors.MissingImageError` rather than skip the route.
        """
        filters = {"where": where, "new": new, "old": old, "changed": changed, "table": table}
        options = {"name": name, "idempotent": idempotent, "model": model}
        register = self._registrar(("MODIFY",), {**filters, **options})
        return register if func is None else register(func)

    @overload
    def on_remove(self, func: Callable[[Remove], R], /) -> Callable[[Remove], R]: ...
    @overload
    def on_remove(self, func: Callable[[Remove, Any], R], /) -> Callable[[Remove, Any], R]: ...
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
        idempotent: Idempotent = None,
        model: ModelOf[M],
    ) -> Registrar[Remove[M]]: ...
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
        idempotent: Idempotent = None,
        model: None = None,
    ) -> Registrar[Remove]: ...

    def on_remove(
        self,
        func: Handler[Any] | None = None,
        /,
        *,
        where: Where | None = None,
        old: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        ttl: bool | None = None,
        name: str | None = None,
        idempotent: Idempotent = None,
        model: Any = None,
    ) -> Any:
        """Register a handler for REMOVE records (deleted items); it receives a ``Remove``.

        Args:
            where: a condition on the old item (else the keys).
            old: a condition on the old image.
            changed: attribute names or paths; on a REMOVE every present attribute counts
                as changed.
            table: one or more table names the record must come from.
            ttl: ``True`` for Time to Live expiries only, ``False`` for deletes made by a
                client only, ``None`` (default) for both.
            name: the route's name in messages (default: the function's qualified name).
            idempotent: as for ``on_insert``.
            model: what the handler's images become (``record.new`` is an ``Order``): a
                dataclass, TypedDict, pydantic model, msgspec Struct, attrs class or a
                function of the item's dict; see the "Typed items" page. Default: dicts.
        """
        filters = {"where": where, "old": old, "changed": changed, "table": table, "ttl": ttl}
        options = {"name": name, "idempotent": idempotent, "model": model}
        register = self._registrar(("REMOVE",), {**filters, **options})
        return register if func is None else register(func)

    @overload
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
        idempotent: Idempotent = None,
        model: ModelOf[M],
    ) -> Registrar[Record[M]]: ...
    @overload
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
        idempotent: Idempotent = None,
        model: None = None,
    ) -> Registrar[Record]: ...

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
        idempotent: Idempotent = None,
        model: Any = None,
    ) -> Any:
        """Register a handler for the given event names (``"INSERT"``, ``"MODIFY"``, ``"REMOVE"``).

        ``@router.on("INSERT", "MODIFY", where=...)``; the handler receives a ``Record``
        (an ``Insert`` or a ``Modify`` here). The filters are those of ``on_modify`` plus
        ``ttl`` (only with ``"REMOVE"`` alone); ``new=`` never matches a REMOVE and ``old=``
        never an INSERT, which have no such image. ``name=``, ``idempotent=`` and ``model=``
        are as for ``on_insert``.
        """
        if events and callable(events[0]):  # @app.on without arguments: would drop the handler
            raise SetupError(
                f"on() takes event names, not the handler {name_of(events[0])!r}: write "
                "@app.on('INSERT', 'MODIFY'), or use on_insert, on_modify or on_remove"
            )
        filters = {"where": where, "new": new, "old": old, "changed": changed, "table": table}
        options = {"ttl": ttl, "name": name, "idempotent": idempotent, "model": model}
        return self._registrar(events, {**filters, **options})

    @overload
    def on_batch(
        self,
        event: Literal["INSERT"],
        /,
        *,
        size: int | None = None,
        where: Where | None = None,
        new: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        name: str | None = None,
        idempotent: bool | None = None,
        model: ModelOf[M],
    ) -> BatchRegistrar[Insert[M]]: ...
    @overload
    def on_batch(
        self,
        event: Literal["INSERT"],
        /,
        *,
        size: int | None = None,
        where: Where | None = None,
        new: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        name: str | None = None,
        idempotent: bool | None = None,
        model: None = None,
    ) -> BatchRegistrar[Insert]: ...
    @overload
    def on_batch(
        self,
        event: Literal["MODIFY"],
        /,
        *,
        size: int | None = None,
        where: Where | None = None,
        new: Where | None = None,
        old: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        name: str | None = None,
        idempotent: bool | None = None,
        model: ModelOf[M],
    ) -> BatchRegistrar[Modify[M]]: ...
    @overload
    def on_batch(
        self,
        event: Literal["MODIFY"],
        /,
        *,
        size: int | None = None,
        where: Where | None = None,
        new: Where | None = None,
        old: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        name: str | None = None,
        idempotent: bool | None = None,
        model: None = None,
    ) -> BatchRegistrar[Modify]: ...
    @overload
    def on_batch(
        self,
        event: Literal["REMOVE"],
        /,
        *,
        size: int | None = None,
        where: Where | None = None,
        old: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        ttl: bool | None = None,
        name: str | None = None,
        idempotent: bool | None = None,
        model: ModelOf[M],
    ) -> BatchRegistrar[Remove[M]]: ...
    @overload
    def on_batch(
        self,
        event: Literal["REMOVE"],
        /,
        *,
        size: int | None = None,
        where: Where | None = None,
        old: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        ttl: bool | None = None,
        name: str | None = None,
        idempotent: bool | None = None,
        model: None = None,
    ) -> BatchRegistrar[Remove]: ...
    @overload
    def on_batch(
        self,
        *events: str,
        size: int | None = None,
        where: Where | None = None,
        new: Where | None = None,
        old: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        ttl: bool | None = None,
        name: str | None = None,
        idempotent: bool | None = None,
        model: ModelOf[M],
    ) -> BatchRegistrar[Record[M]]: ...
    @overload
    def on_batch(
        self,
        *events: str,
        size: int | None = None,
        where: Where | None = None,
        new: Where | None = None,
        old: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        ttl: bool | None = None,
        name: str | None = None,
        idempotent: bool | None = None,
        model: None = None,
    ) -> BatchRegistrar[Record]: ...

    def on_batch(
        self,
        *events: str,
        size: int | None = None,
        where: Where | None = None,
        new: Where | None = None,
        old: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        ttl: bool | None = None,
        name: str | None = None,
        idempotent: bool | None = None,
        model: Any = None,
    ) -> Any:
        """Register a handler called with a ``list`` of the matching records, in stream order.

        ``@router.on_batch("INSERT", "MODIFY", size=500, where=...)``: the filters,
        ``name=``, ``idempotent=`` and ``model=`` are those of :meth:`on`. The handler runs
        at the end of the invocation (after every record's own routes, and before the time
        guard stops a batch), once with all the records that matched, or once per *size*
        of them. It takes ``(records)`` or ``(records, context)``; it may be an ``async def``.

        If it raises, its first record is the failure point; raising
        :class:`~ddbstream.errors.RecordsFailed` names the records that failed, and the
        earliest of them is. The records before the failure point are done; it and every
        record after it are retried, so the routes of those records that already ran run
        again on the retry, unless they are idempotent. See the "Bulk writes" page.

        Args:
            size: the most records one call gets; default all the invocation's.
            idempotent: ``True`` to give the handler only records it has not completed
                (the app's ledger marks each record of a call that returned).

        Raises:
            SetupError: a size that is not a whole number of at least 1, a filter that
                cannot be valid, or the app already started.
        """
        if events and callable(events[0]):  # @app.on_batch without arguments
            raise SetupError(
                f"on_batch() takes event names, not the handler {name_of(events[0])!r}: write "
                "@app.on_batch('INSERT', 'MODIFY')"
            )
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            raise SetupError(f"on_batch(size=...) takes a whole number of at least 1: {size!r}")
        filters = {"where": where, "new": new, "old": old, "changed": changed, "table": table}
        options = {"ttl": ttl, "name": name, "idempotent": idempotent, "model": model}
        return self._registrar(events or EVENT_NAMES, {**filters, **options, "batch": size or 0})

    def add_handler(
        self,
        func: Handler[Any],
        *,
        events: Collection[str],
        where: Where | None = None,
        new: Where | None = None,
        old: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        ttl: bool | None = None,
        name: str | None = None,
        idempotent: Idempotent = None,
        model: ModelOf[Any] | None = None,
        batch: int | None = None,
    ) -> Route:
        """Register *func* for *events*; the ``on_*`` decorators are shortcuts for this.

        *model* makes the handler's images that model (see ``on_modify``); *batch* makes it
        a batch route (see ``on_batch``: 0 for all the invocation's records, else the size).

        Raises:
            SetupError: the handler or a filter cannot be valid, or the app already started.
        """
        self._ensure_open("add_handler", name or name_of(func))
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
            idempotent=idempotent,
            model=model,
            batch=batch,
        )
        self._entries.append(route)
        self._added(route)
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

    def _registrar(self, events: Collection[str], options: dict[str, Any]) -> Any:
        def register(func: Handler[Any]) -> Handler[Any]:
            self.add_handler(func, events=events, **options)
            return func

        return register

    def _added(self, route: Route) -> None:
        """Told of every route registered here; an App checks it has what the route needs."""

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


class Dispatch:
    """Which handlers run for a record: built once when the app starts, O(1) per record.

    A record runs the handler of every route for its event name whose filters it passes, in
    registration order; when none matched, the fallbacks' (``on_unmatched``). All filters are
    tested before any handler runs, so a filter that fails fails the record before any of its
    handlers has run; a route whose filter failed (and an error hook handled it) may have
    wanted the record, so the fallbacks do not run then.

    Attributes:
        plan: event name -> ``(record class, handlers)``, the handlers every record of that
            event runs (when no route for it has a filter), or None when filters decide.
        on_failure: called with ``(record, error)`` when a filter or handler fails: the error
            hooks handle it and return, or it raises and the record fails.
        has_async: whether any route or fallback is an ``async def`` (or the app says it
            runs async, for its middleware).
        chain: with middleware (or extensions' record hooks), wraps the function that runs
            a record's routes; the async loop applies it, the sync loop finds it in the plan.
        narrowers: event name -> a function giving the routes worth testing for a record
            (by an index of ``where=`` equalities), or None to test every route.
    """

    __slots__ = ("chain", "has_async", "narrowers", "on_failure", "plan", "select")

    def __init__(
        self,
        routes: Iterable[Route],
        fallbacks: Iterable[Route],
        *,
        on_failure: Callable[[Record[Any], Exception], None],
        context: Callable[[], object],
        trace: Callable[[Record[Any], str | None], None] | None = None,
        guard: Guard | None = None,
        wrap: Wrap | None = None,
        chain: Chain | None = None,
        on_unmatched: Callable[[Record[Any]], None] | None = None,
        settle: Callable[[Any], None] | None = None,
        is_async: bool = False,
        collect: Callable[[Route, Record[Any]], None] | None = None,
    ) -> None:
        """Index *routes* by event name.

        Args:
            routes: the app's routes, in order.
            fallbacks: the routes to run when no route matched.
            on_failure: see the attribute.
            context: gives the Lambda context of the invocation in progress, for handlers
                that take ``(record, context)``.
            trace: told of every record selected (with None) and every handler started
                (with the route's name): ``App.process`` lists them.
            guard: wraps each route's call (the app's ledger, for idempotent routes); it
                returns the call unchanged for the others, which then cost nothing more.
            wrap: wraps each route's call, inside the guard (extensions' route hooks).
            chain: see the attribute. In a sync app, the plan then holds one call per
                event, the chain around a function that runs the record's routes (calling
                *on_failure* for each failed route, and *settle* for an awaitable a sync
                handler returned); ``on_failure`` re-raises what escapes the chain.
            on_unmatched: told of each record no route matched (before its fallbacks run).
            settle: runs an awaitable to completion, for *chain* in a sync app.
            is_async: run the async loop even with no async route (async middleware).
            collect: called with ``(route, record)`` in place of a batch route's handler
                (``on_batch``): the app gathers the records and calls the handler later.
        """
        every_route = list(routes)
        fallbacks = tuple(fallbacks)
        # Routes of one model share its views and conversions. By id: a model need not be
        # hashable, and its route keeps it alive as long as this dispatch.
        models: dict[int, Model] = {}
        call_of = {
            route: _call(route, context, trace, guard, models, wrap, collect)
            for route in (*every_route, *fallbacks)
        }
        by_event: dict[str, tuple[tuple[Route, Test, Call], ...]] = {
            event: tuple(
                (route, _test(route.filters.tests), call_of[route])
                for route in every_route
                if event in route.filters.runs_for
            )
            for event in EVENT_NAMES
        }
        fallback_calls = tuple(call_of[route] for route in fallbacks)
        self.on_failure = on_failure
        # A batch route's handler runs after the loop: it does not make the loop async.
        self.has_async = is_async or any(
            route.is_async and route.batch is None for route in call_of
        )
        # With a trace, every record goes through select(), which tells the trace about it;
        # with on_unmatched, so does every record of an event no route runs for.
        self.plan: dict[str, tuple[type[Record[Any]], Sequence[Call] | None]] = {
            event: (
                RECORD_CLASSES[event],
                None
                if trace is not None
                or (on_unmatched is not None and not found)
                or any(route.filters.tests for route, _, _ in found)
                else tuple(call for _, _, call in found) or fallback_calls,
            )
            for event, found in by_event.items()
        }
        self.narrowers = {event: _narrower(event, found) for event, found in by_event.items()}
        self.select = _selector(
            by_event, self.narrowers, fallback_calls, on_failure, trace, on_unmatched
        )
        """The handlers to run for a record: every match's, in order, else the fallbacks'."""
        self.chain = chain
        if chain is not None and not self.has_async:
            # The loop runs one call per record, the chain; it runs the routes inside.
            assert settle is not None, "a chain in a sync app needs settle="
            around = chain(_routes_runner(self.plan, self.select, on_failure, settle))
            self.plan = {event: (kind, (around,)) for event, (kind, _) in self.plan.items()}
            self.on_failure = _reraise


def _routes_runner(
    plan: dict[str, tuple[type[Record[Any]], Sequence[Call] | None]],
    select: Callable[[Record[Any]], Sequence[Call]],
    on_failure: Callable[[Record[Any], Exception], None],
    settle: Callable[[Any], None],
) -> Call:
    """What ``call_next`` runs in a sync app: the batch loop's body for one record."""

    def run_routes(record: Record[Any]) -> None:
        handlers = plan[record.event_name][1]
        if handlers is None:
            handlers = select(record)
        for handler in handlers:
            try:
                result = handler(record)
                if result is not None and hasattr(result, "__await__"):
                    settle(result)  # an async handler that did not look async
            except Exception as error:
                on_failure(record, error)

    return run_routes


def _reraise(record: Record[Any], error: Exception) -> None:
    """The loop's on_failure behind a chain: the error hooks ran inside it already."""
    raise error


def _selector(
    by_event: dict[str, tuple[tuple[Route, Test, Call], ...]],
    narrowers: dict[str, Narrow | None],
    fallbacks: tuple[Call, ...],
    on_failure: Callable[[Record[Any], Exception], None],
    trace: Callable[[Record[Any], str | None], None] | None,
    on_unmatched: Callable[[Record[Any]], None] | None = None,
) -> Callable[[Record[Any]], Sequence[Call]]:
    """``Dispatch.select``: a closure, as it runs for every record that filters decide on."""

    def select(record: Record[Any]) -> Sequence[Call]:
        if trace is not None:
            trace(record, None)
        name = record.event_name
        narrow = narrowers[name]
        routes = by_event[name] if narrow is None else narrow(record)
        selected = []
        undecided = False  # a filter failed and an error hook handled it
        for _, test, call in routes:
            try:
                if test(record):
                    selected.append(call)
            except Exception as error:
                on_failure(record, error)
                undecided = True
        if selected or undecided:
            return selected
        if on_unmatched is not None:
            on_unmatched(record)
        return fallbacks

    return select


def _test(tests: tuple[Test, ...]) -> Test:
    """*tests* as one test of a record, with no call more than needed on the hot path."""
    if not tests:
        return _always
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return lambda record: first(record) and second(record)

    def all_pass(record: Record[Any]) -> bool:
        for test in tests:  # noqa: SIM110 - a loop is faster than all() on the hot path
            if not test(record):
                return False
        return True

    return all_pass


def _always(record: Record[Any]) -> bool:
    return True


def _call(
    route: Route,
    context: Callable[[], object],
    trace: Callable[[Record[Any], str | None], None] | None,
    guard: Guard | None,
    models: dict[int, Model],
    wrap: Wrap | None = None,
    collect: Callable[[Route, Record[Any]], None] | None = None,
) -> Call:
    """*route*'s handler as the batch loop calls it: with the record alone.

    A route with a model is called with a view of the record whose images are the model;
    routes without one get the record itself, at no cost. The guard wraps the traced call,
    so that a route the ledger skips is not listed as run.
    """
    handler: Any = route.handler
    if route.batch is not None:
        # A batch route: the record (or its model's view) is gathered for a later call.
        assert collect is not None, "batch routes need collect="

        def handler(record: Record[Any]) -> object:
            return collect(route, record)

        guard = wrap = None  # the app's batch step runs the ledger and the hooks' handler
    elif route.takes_context:
        with_context = handler

        def handler(record: Record[Any]) -> object:
            return with_context(record, context())

    model = route.model
    if model is not None:
        model = models.setdefault(id(model.target), model)
        try:
            model.convert  # noqa: B018 - made now, so that a model that cannot work fails here
        except (TypeError, ValueError, NameError) as problem:
            raise SetupError(f"{route._describe()}: model={model!r}: {problem}") from problem
        untyped = handler
        view = model.view
        route_name = route.name

        def handler(record: Record[Any]) -> object:
            return untyped(view(record, route_name))

    if wrap is not None:
        handler = wrap(handler, route.name, route.is_async)

    if trace is not None:
        traced = handler
        name = route.name

        def handler(record: Record[Any]) -> object:
            trace(record, name)
            return traced(record)

    return handler if guard is None else guard(route, handler)


def _narrower(event: str, routes: tuple[tuple[Route, Test, Call], ...]) -> Narrow | None:
    """Index *routes* by the string their ``where=`` wants one attribute to equal, if any.

    With ten routes each on its own ``where={"kind": ...}``, a record is tested by the one
    route for its kind instead of all ten. Exact, not a heuristic: a route is indexed only by
    its filters' ``index_key``. A record whose item image holds the attribute as a well-formed
    ``{"S": text}`` can only match routes indexed under ``text``; one whose image lacks it,
    none of them; anything else (no image, malformed values) is tested by every route, which
    raises as it must.
    """
    keys = [route.filters.index_key for route, _, _ in routes]
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
    # A route indexed under the record's text needs only the tests after its index condition.
    narrowed = [
        entry
        if need is None
        else (entry[0], _test(entry[0].filters.tests_when_indexed or ()), entry[2])
        for entry, need in zip(routes, wanted, strict=True)
    ]
    by_text = {
        text: tuple(
            entry for entry, need in zip(narrowed, wanted, strict=True) if need in (None, text)
        )
        for text in wanted
        if text is not None
    }
    get = by_text.get
    images = IMAGES_OF_EVENT[event]  # record.item, as where= finds it
    dict_ = dict
    str_ = str

    def narrow(record: Record[Any]) -> tuple[tuple[Route, Test, Call], ...]:
        dynamodb = record.dynamodb
        for name in images:
            image = dynamodb.get(name)
            if image is not None:
                break
        else:
            return routes  # no image: where= reads the keys, or fails the record
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


def _model(target: Any) -> Model:
    """The Model for ``model=``; its module loads with the first route that has one."""
    from ._models import Model  # a cold start pays for it only when a route uses a model

    return Model(target)
