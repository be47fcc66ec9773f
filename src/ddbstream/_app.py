"""App: the routes, the error hooks, and ``handler(event, context)`` for Lambda."""

from __future__ import annotations

from contextvars import ContextVar

from ._batch import add_note, clock, log_raised, log_reported, run_awaitable, run_batch
from ._codec import Decoder
from ._extensions import (
    Extension,
    Invocation,
    Middleware,
    around_invocation,
    invocation_hooks,
    record_chain,
    route_hooks,
    route_wrapper,
)
from ._gathered import Gathered
from ._record import EVENT_NAMES
from ._routing import Dispatch, Route, Router
from ._scope import SINKS
from ._signatures import is_coroutine_function
from ._sources import PIPES_IDENTIFIERS, read_event
from ._typing import overload
from .errors import SetupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeAlias, TypeVar

    from ._batch import Outcome
    from ._bulk import Ending
    from ._record import Record
    from ._routing import Call
    from ._sources import Batch, Window
    from ._typing import NumberParser
    from .idempotency import Ledger
    from .types import BatchResponse, Idempotent, LambdaContext

    R = TypeVar("R")
    ErrorHook: TypeAlias = "Callable[[Record[Any], Exception], object]"
    ErrorHookT = TypeVar("ErrorHookT", bound=ErrorHook)
    WindowHookT = TypeVar("WindowHookT", bound="Callable[[Window], object]")
    MiddlewareT = TypeVar("MiddlewareT", bound="Callable[[Record[Any], Any], object]")
    ExtensionT = TypeVar("ExtensionT", bound=Extension)
    Trace: TypeAlias = "Callable[[Record[Any], str | None], None]"

__all__ = ["App"]


class App(Router):
    """A DynamoDB Streams consumer: register handlers, export ``handler = app.handler``.

    Args:
        report_batch_item_failures: return the first failed record in ``batchItemFailures``
            instead of raising. Turn it on together with ``FunctionResponseTypes:
            ["ReportBatchItemFailures"]`` on the event source mapping; without that setting
            Lambda ignores the response and would lose the failed record.
        parse_number: turns the text of each ``N`` value into a Python value; default an
            exact :class:`decimal.Decimal`. Filters always compare exact numbers.
        min_remaining_ms: with a Lambda context, start no record after the first when
            fewer milliseconds than this remain; report it and the rest (or raise
            :class:`~ddbstream.errors.OutOfTimeError`) so no record is cut off half-way.
        pipes_identifier: the field EventBridge Pipes batches are reported by,
            ``"eventID"`` (default) or ``"SequenceNumber"``.
        max_concurrency: with ``async def`` handlers, how many records (of different item
            keys) may run at once; records of one key always run one after another.
        ledger: a :class:`~ddbstream.idempotency.Ledger`, for routes registered with
            ``idempotent=True`` (or ``"transaction"``): they run once per record, however
            often Lambda delivers it.
        idempotent: the default of every route's ``idempotent=`` (``True``,
            ``"transaction"`` or ``False``); needs a *ledger*.

    One app may serve invocations in several threads at once (a test harness, a local
    runner): :attr:`window` and :attr:`context` belong to the invocation, each thread (and
    each asyncio task started in it) seeing its own.
    """

    _includable = False  # its error hooks, fallbacks and options would be lost

    def __init__(
        self,
        *,
        report_batch_item_failures: bool = False,
        parse_number: NumberParser | None = None,
        min_remaining_ms: int = 1000,
        pipes_identifier: str = "eventID",
        max_concurrency: int = 10,
        ledger: Ledger | None = None,
        idempotent: Idempotent = False,
    ) -> None:
        super().__init__()
        if idempotent not in (True, False, "transaction"):
            raise SetupError(f"idempotent must be True, False or 'transaction': {idempotent!r}")
        if idempotent and ledger is None:
            raise SetupError(
                f"App(idempotent={idempotent!r}) needs a ledger to remember which records ran: "
                "pass ledger=Ledger('TABLE') from ddbstream.idempotency."
            )
        if ledger is not None and not callable(getattr(ledger, "wrap", None)):
            raise SetupError(f"ledger must be a ddbstream.idempotency.Ledger, got {ledger!r}")
        self._ledger = ledger
        self.idempotent = idempotent
        if parse_number is not None and not callable(parse_number):
            raise SetupError(f"parse_number must be callable, like int or float: {parse_number!r}")
        if pipes_identifier not in PIPES_IDENTIFIERS:
            raise SetupError(f"pipes_identifier must be one of {PIPES_IDENTIFIERS}")
        if not isinstance(min_remaining_ms, int) or min_remaining_ms < 0:
            raise SetupError(f"min_remaining_ms must be a whole number >= 0: {min_remaining_ms!r}")
        if not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise SetupError(f"max_concurrency must be a whole number >= 1: {max_concurrency!r}")
        self.max_concurrency = max_concurrency
        self.report_batch_item_failures = bool(report_batch_item_failures)
        self.min_remaining_ms = min_remaining_ms
        self.pipes_identifier = pipes_identifier
        self._decoder = Decoder(parse_number)
        self._error_hooks: list[tuple[type[Exception], ErrorHook]] = []
        self._fallbacks: list[Route] = []
        self._window_end_hooks: list[Callable[[Window], object]] = []
        self._wrappers: list[Middleware | Extension] = []  # middleware and extensions, in order
        self._invocation_hooks: tuple[Callable[[Invocation], Any], ...] = ()
        self._batch_routes: tuple[Route, ...] = ()
        self._dispatch: Dispatch | None = None  # made by the first event
        # The invocation in progress, per thread and asyncio task: an attribute would mix up
        # the windows of invocations running at once.
        self._invocation: ContextVar[Invocation] = ContextVar("ddbstream_invocation")
        # A plain function, not a bound method: `handler = app.handler` is what Lambda calls,
        # and anything that inspects a Lambda handler sees (event, context).
        self.handler: Callable[[Any, Any], BatchResponse] = self._make_handler()

    @property
    def window(self) -> Window | None:
        """The tumbling window of the invocation in progress (or of the last one in this
        thread), when its event has one."""
        return self._invocation.get(_IDLE).window

    @property
    def context(self) -> LambdaContext | None:
        """The Lambda context of the invocation in progress; None outside one."""
        return self._invocation.get(_IDLE).context

    # --- registration ---------------------------------------------------------------------

    # The exception-class form first: a class is callable too, so with the hook form first
    # type checkers would read @app.on_error(ValueError) as registering ValueError as a hook.
    @overload
    def on_error(  # type: ignore[overload-overlap]  # the overlap is intended, see above
        self, exception: type[Exception] = ..., /
    ) -> Callable[[ErrorHookT], ErrorHookT]: ...
    @overload
    def on_error(self, hook: ErrorHookT, /) -> ErrorHookT: ...

    def on_error(self, hook_or_exception: Any = Exception, /) -> Any:
        """Register a hook called with ``(record, exception)`` when a record fails.

        ``@app.on_error`` catches every exception; ``@app.on_error(DecodeError)`` only that
        type. The first registered hook whose type matches runs. If it returns, the failure
        is handled: the record counts as done and its remaining handlers run. If it raises,
        the record stays failed.
        """
        if isinstance(hook_or_exception, type) and issubclass(hook_or_exception, BaseException):
            exception = hook_or_exception
            if not issubclass(exception, Exception):  # KeyboardInterrupt, SystemExit...
                raise SetupError(
                    f"on_error takes a subclass of Exception, got {exception.__name__}: "
                    "ddbstream lets other exceptions end the invocation"
                )

            def register(hook: ErrorHookT) -> ErrorHookT:
                self.add_error_handler(exception, hook)
                return hook

            return register
        self.add_error_handler(Exception, hook_or_exception)
        return hook_or_exception

    def add_error_handler(self, exception: type[Exception], hook: ErrorHook) -> None:
        """Call *hook* with ``(record, error)`` when a record fails with *exception*."""
        self._ensure_open("add_error_handler")
        if not (isinstance(exception, type) and issubclass(exception, Exception)):
            raise SetupError(f"on_error takes an exception class, got {exception!r}")
        if not callable(hook):
            raise SetupError(f"an error hook must be callable, got {hook!r}")
        if is_coroutine_function(hook):
            raise SetupError(f"error hooks are plain functions, not async def: {hook!r}")
        self._error_hooks.append((exception, hook))

    @overload
    def on_unmatched(self, func: Callable[[Record], R], /) -> Callable[[Record], R]: ...
    @overload
    def on_unmatched(self, func: Callable[[Record, Any], R], /) -> Callable[[Record, Any], R]: ...

    def on_unmatched(self, func: Any, /) -> Any:
        """Register a fallback for records that no route matched (all event names).

        Like a route's handler, it takes ``(record)`` or ``(record, context)``.
        """
        self._ensure_open("on_unmatched")
        self._fallbacks.append(Route(func, events=EVENT_NAMES))
        return func

    def middleware(self, func: MiddlewareT, /) -> MiddlewareT:
        """Register a middleware: ``func(record, call_next)`` runs around each record's routes.

        ``call_next(record)`` runs the record's routes (their filters, handlers and error
        hooks); code before it runs before them, code after it once they are done. The first
        middleware registered is the outermost. Raising fails the record; catching the
        exception ``call_next`` raised marks the record handled (the batch goes on). The
        exception reaches the middleware only when no error hook handled it.

        In an app with ``async def`` handlers (or any ``async def`` middleware, which makes
        the app run as an async one) every middleware is an ``async def`` that awaits
        ``call_next(record)``.
        """
        self._ensure_open("middleware")
        self._wrappers.append(Middleware(func))
        return func

    def use(self, extension: ExtensionT, /) -> ExtensionT:
        """Register a ready-made :class:`~ddbstream.Extension` (see ``ddbstream.observability``).

        It wraps invocations, records and routes as its hooks say; it takes its place among
        the middleware in registration order (the first registered is the outermost), so
        register extensions that count outcomes first.
        """
        self._ensure_open("use")
        if not isinstance(extension, Extension):
            raise SetupError(
                f"app.use() takes an extension (a ddbstream.Extension), got {extension!r}; "
                "register a function (record, call_next) with @app.middleware instead."
            )
        if extension in self._wrappers:
            raise SetupError(f"{extension!r} is already in use; it would wrap records twice.")
        self._wrappers.append(extension)
        return extension

    @property
    def ledger(self) -> Ledger:
        """The app's :class:`~ddbstream.idempotency.Ledger`.

        Raises:
            SetupError: the app was made without one.
        """
        if self._ledger is None:
            raise SetupError("This app has no ledger: pass ledger=Ledger('TABLE') to App().")
        return self._ledger

    @property
    def fallbacks(self) -> tuple[Route, ...]:
        """The routes registered with :meth:`on_unmatched`, in order."""
        return tuple(self._fallbacks)

    def on_window_end(self, hook: WindowHookT, /) -> WindowHookT:
        """Register a hook called with the :class:`~ddbstream.Window` at its final invocation.

        Tumbling windows only: it runs once the last batch of the window has been processed
        without failure (``window.is_final``), before the state is returned for the last time.
        It may be an ``async def``. If it raises, the invocation fails (in either mode, with a
        note naming the window) and Lambda retries the final invocation with the state the one
        before returned: the window's total stays exact, but the final invocation's records,
        if it has any, run again.
        """
        self._ensure_open("on_window_end")
        if not callable(hook):
            raise SetupError(f"a window hook must be callable, got {hook!r}")
        self._window_end_hooks.append(hook)
        return hook

    def filter_criteria(
        self,
        *,
        region: str | None = None,
        account: str | None = None,
        stream_view_type: str | None = None,
    ) -> dict[str, list[dict[str, str]]]:
        """Lambda ``FilterCriteria`` that let through every record some route would run.

        Put it on the event source mapping so that records no route wants never invoke (or
        bill) the function. It is sound, never stricter than the routes: what a Lambda pattern
        cannot express (numbers by value, ``changed=``, ``~``...) widens it. At most 5 filters
        of at most 4,096 characters each, as Lambda requires. ``{"Filters": []}`` means every
        record is needed (a fallback, or a route without filters): Lambda then filters nothing.

        Args:
            region: the table's region and *account* its AWS account ID: with both,
                ``table=`` filters become ``eventSourceARN`` prefixes.
            account: see *region*.
            stream_view_type: the stream's view type (``NEW_AND_OLD_IMAGES``...), when
                known. Without it the criteria are sound for every view type, and so let
                through the records a misconfigured stream would deliver without an image
                a filter needs: those fail loudly in the function instead of vanishing.
                With it, only what that view type needs passes.

        Raises:
            SetupError: *stream_view_type* is not a view type.
        """
        from ._criteria import filter_criteria  # only the CLI and deploy scripts need it

        try:
            return filter_criteria(
                self.routes,
                has_fallback=bool(self._fallbacks),
                region=region,
                account=account,
                stream_view_type=stream_view_type,
            )
        except ValueError as problem:
            raise SetupError(str(problem)) from None

    # --- running --------------------------------------------------------------------------

    def process(self, event: Any, context: Any = None) -> Outcome:
        """Run the app on *event* as ``handler`` would, and return what happened.

        The first failure stops the batch as always, but is returned in the outcome rather
        than raised, whatever ``report_batch_item_failures`` says; the outcome also lists the
        records started and the routes run. For tests and tools, not for Lambda.
        """
        records: list[Record] = []
        ran: list[tuple[Record, str]] = []

        def trace(record: Record, route_name: str | None) -> None:
            if route_name is None:
                records.append(record)
            else:
                ran.append((record, route_name))

        outcome = self._run(
            event,
            context,
            report_failures=self.report_batch_item_failures,
            raise_failures=False,
            trace=trace,
        )
        outcome.records = records
        outcome.ran = ran
        return outcome

    def _make_handler(self) -> Callable[[Any, Any], BatchResponse]:
        app = self

        def handler(event: Any, context: Any = None) -> BatchResponse:
            """Lambda entry point: process a batch, return ``{"batchItemFailures": [...]}``."""
            try:
                report = app.report_batch_item_failures
                outcome = app._run(
                    event, context, report_failures=report, raise_failures=not report
                )
            except Exception as error:
                log_raised(error)
                raise
            if outcome.failures:
                log_reported(outcome)
            return app._response(outcome)

        handler.__qualname__ = f"{type(self).__name__}.handler"
        handler.app = app  # type: ignore[attr-defined]  # how the CLI finds the app behind it
        return handler

    def _response(self, outcome: Outcome) -> BatchResponse:
        """What the handler returns for *outcome*: the failures, and a window's state."""
        response: BatchResponse = {"batchItemFailures": outcome.failures}
        if self.window is not None:
            response["state"] = self.window.state
        return response

    def _run(
        self,
        event: Any,
        context: Any,
        *,
        report_failures: bool,
        raise_failures: bool,
        trace: Trace | None = None,
    ) -> Outcome:
        dispatch = self._dispatch
        if dispatch is None:
            dispatch = self._start()
        if trace is not None:
            dispatch = self._make_dispatch(trace)
        invocation = self._invocation
        # Not the last invocation's window, should this event be unreadable.
        invocation.set(_IDLE)
        batch = read_event(event, self.pipes_identifier)
        window = batch.window
        state = Invocation(window, context, event, len(batch.records))
        sinks: list[Any] = []
        state.gathered = Gathered(sinks)
        invocation.set(state)
        sinks_token = SINKS.set(sinks)
        try:
            if self._invocation_hooks:
                outcome = around_invocation(
                    self._invocation_hooks,
                    state,
                    lambda: self._run_batch(
                        batch, dispatch, context, report_failures, raise_failures
                    ),
                )
            else:
                outcome = self._run_batch(batch, dispatch, context, report_failures, raise_failures)
            outcome.duplicates = state.duplicates
            if window is not None and window.is_final and not outcome.failures:
                self._end_window(window)
        finally:
            SINKS.reset(sinks_token)
            state.context = None  # the window stays readable after it
        return outcome

    def _run_batch(
        self,
        batch: Batch,
        dispatch: Dispatch,
        context: Any,
        report_failures: bool,
        raise_failures: bool,
    ) -> Outcome:
        gathered: Gathered = self._invocation.get(_IDLE).gathered
        try:
            outcome = self._loop(batch, dispatch, context, report_failures, raise_failures)
        except Exception:
            if gathered:
                self._ending(batch, gathered, context).abandon()
            raise
        if gathered:
            ending = self._ending(batch, gathered, context)
            outcome = ending.run(outcome, self._batch_routes, raise_failures=raise_failures)
        return outcome

    def _ending(self, batch: Batch, gathered: Gathered, context: Any) -> Ending:
        from ._bulk import Ending  # only an invocation that gathered something needs it

        return Ending(
            batch,
            gathered,
            ledger=self._ledger,
            call=self._call_batch,
            remaining_ms=clock(context),
            min_remaining_ms=self.min_remaining_ms,
        )

    def _call_batch(self, route: Route, records: list[Record]) -> object:
        handler: Any = route.handler
        if route.takes_context:
            return handler(records, self.context)
        return handler(records)

    def _collect(self, route: Route, record: Record) -> None:
        """A batch route's share of a record: kept for the end of the invocation."""
        state = self._invocation.get(_IDLE)
        owner = None
        if self._idempotency_of(route):
            assert self._ledger is not None  # checked when the app started
            owner = self._ledger.begin(route.stable_name, record, self._remaining_ms())
            if owner is None:
                state.duplicates += 1  # the ledger has it done: not in the list
                return
        state.gathered.add(route, record, owner)

    def _loop(
        self,
        batch: Batch,
        dispatch: Dispatch,
        context: Any,
        report_failures: bool,
        raise_failures: bool,
    ) -> Outcome:
        if dispatch.has_async:
            from ._concurrency import run_batch_async  # asyncio costs a cold start

            return run_batch_async(
                batch,
                self._decoder,
                dispatch,
                report_failures=report_failures,
                raise_failures=raise_failures,
                context=context,
                min_remaining_ms=self.min_remaining_ms,
                max_concurrency=self.max_concurrency,
            )
        return run_batch(
            batch,
            self._decoder,
            dispatch,
            report_failures=report_failures,
            raise_failures=raise_failures,
            context=context,
            min_remaining_ms=self.min_remaining_ms,
        )

    def _make_dispatch(self, trace: Trace | None = None) -> Dispatch:
        """How the batch loop finds a record's handlers; *trace* sees records and routes."""
        wrappers = self._wrappers
        is_async = any(route.is_async for route in (*self.routes, *self._fallbacks)) or any(
            isinstance(entry, Middleware) and entry.is_async for entry in wrappers
        )
        return Dispatch(
            self.routes,
            self._fallbacks,
            on_failure=self._on_failure,
            context=lambda: self._invocation.get(_IDLE).context,
            trace=trace,
            guard=None if self._ledger is None else self._guard,
            wrap=route_wrapper(route_hooks(wrappers)),
            chain=record_chain(wrappers, is_async=is_async),
            on_unmatched=self._count_unmatched if wrappers else None,
            settle=run_awaitable,
            is_async=is_async,
            collect=self._collect,
        )

    def _count_unmatched(self, record: Record) -> None:
        self._invocation.get(_IDLE).unmatched += 1

    # --- the ledger -----------------------------------------------------------------------

    def _idempotency_of(self, route: Route) -> Idempotent:
        return self.idempotent if route.idempotent is None else route.idempotent

    def _added(self, route: Route) -> None:
        if self._ledger is None and route.idempotent:
            raise SetupError(self._no_ledger(route))

    def _no_ledger(self, route: Route) -> str:
        return (
            f"The {route._describe()} is registered with idempotent={route.idempotent!r}, but "
            f"the app has no ledger to remember which records ran: pass "
            "ledger=Ledger('TABLE') from ddbstream.idempotency to App()."
        )

    def _check_idempotency(self) -> None:
        """Every idempotent route has the ledger and a key name no other route has."""
        named: dict[str, Route] = {}
        for route in (*self.routes, *self._fallbacks):
            if not self._idempotency_of(route):
                continue
            if self._ledger is None:  # a router's route, included after registration
                raise SetupError(self._no_ledger(route))
            other = named.setdefault(route.stable_name, route)
            if other is not route:
                raise SetupError(
                    f"Two idempotent routes share the ledger name {route.stable_name!r}, so "
                    f"one would skip records the other ran: {other._describe()} and "
                    f"{route._describe()}. Give each a distinct name= on its registration."
                )

    def _guard(self, route: Route, call: Call) -> Call:
        mode = self._idempotency_of(route)
        if not mode:
            return call
        assert self._ledger is not None  # _guard is only used with a ledger
        return self._ledger.wrap(
            call,
            route=route.stable_name,
            is_async=route.is_async,
            transaction=mode == "transaction",
            remaining_ms=self._remaining_ms,
            on_duplicate=self._count_duplicate,
        )

    def _remaining_ms(self) -> int | None:
        remaining = clock(self.context)
        return None if remaining is None else int(remaining())

    def _count_duplicate(self, record: Record, route: str) -> None:
        self._invocation.get(_IDLE).duplicates += 1

    def _end_window(self, window: Window) -> None:
        for hook in self._window_end_hooks:
            try:
                result = hook(window)
                if result is not None and hasattr(result, "__await__"):
                    run_awaitable(result)
            except Exception as error:
                # A function error: Lambda retries the final invocation with the previous
                # state, so nothing counts twice (reporting records instead would not do that).
                name = getattr(hook, "__qualname__", None) or repr(hook)
                add_note(
                    error,
                    f"ddbstream: window-end hook {name} failed for the window {window.start} "
                    f"to {window.end} (shard {window.shard_id}); Lambda retries the window's "
                    "final invocation",
                )
                raise

    def _on_failure(self, record: Record, error: Exception) -> None:
        for exception, hook in self._error_hooks:
            if isinstance(error, exception):
                hook(record, error)
                self._invocation.get(_IDLE).count_handled(record)
                return
        raise error

    def _start(self) -> Dispatch:
        self._check_idempotency()
        self._freeze(f"{type(self).__name__}.handler")
        self._invocation_hooks = invocation_hooks(self._wrappers)
        self._batch_routes = tuple(route for route in self.routes if route.batch is not None)
        dispatch = self._dispatch = self._make_dispatch()
        return dispatch

    def __call__(self, event: Any, context: Any = None) -> BatchResponse:
        """The Lambda entry point, as ``handler``: ``lambda_function.app`` works as a setting."""
        return self.handler(event, context)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} with {len(self.routes)} routes>"


_IDLE = Invocation(None, None)
"""What ``app.window`` and ``app.context`` read outside any invocation (never changed)."""
