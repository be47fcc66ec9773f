"""App: the routes, the error hooks, and ``handler(event, context)`` for Lambda."""

from __future__ import annotations

from ._batch import run_batch
from ._codec import Decoder
from ._routing import Router, RouteTable
from ._sources import PIPES_IDENTIFIERS, read_event
from ._typing import overload
from .errors import SetupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeAlias, TypeVar

    from ._batch import Outcome
    from ._record import Record
    from ._routing import Handler, HandlerT
    from ._sources import Window
    from ._typing import BatchResponse, LambdaContext, NumberParser

    ErrorHook: TypeAlias = "Callable[[Record, Exception], object]"
    ErrorHookT = TypeVar("ErrorHookT", bound=ErrorHook)

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
        min_remaining_ms: with a Lambda context, do not start a record when fewer
            milliseconds than this remain; report it and the rest (or raise
            :class:`~ddbstream.errors.OutOfTimeError`) so no record is cut off half-way.
        pipes_identifier: the field EventBridge Pipes batches are reported by,
            ``"eventID"`` (default) or ``"SequenceNumber"``.
    """

    def __init__(
        self,
        *,
        report_batch_item_failures: bool = False,
        parse_number: NumberParser | None = None,
        min_remaining_ms: int = 1000,
        pipes_identifier: str = "eventID",
    ) -> None:
        super().__init__()
        if parse_number is not None and not callable(parse_number):
            raise SetupError(f"parse_number must be callable, like int or float: {parse_number!r}")
        if pipes_identifier not in PIPES_IDENTIFIERS:
            raise SetupError(f"pipes_identifier must be one of {PIPES_IDENTIFIERS}")
        if not isinstance(min_remaining_ms, int) or min_remaining_ms < 0:
            raise SetupError(f"min_remaining_ms must be a whole number >= 0: {min_remaining_ms!r}")
        self.report_batch_item_failures = bool(report_batch_item_failures)
        self.min_remaining_ms = min_remaining_ms
        self.pipes_identifier = pipes_identifier
        self._decoder = Decoder(parse_number)
        self._error_hooks: list[tuple[type[Exception], ErrorHook]] = []
        self._fallbacks: list[Handler] = []
        self._table: RouteTable | None = None
        self.window: Window | None = None
        """The tumbling window of the invocation in progress, when the event has one."""
        # A plain function, not a bound method: `handler = app.handler` is what Lambda calls,
        # and anything that inspects a Lambda handler sees (event, context).
        self.handler: Callable[[Any, Any], BatchResponse] = self._make_handler()

    # --- registration ---------------------------------------------------------------------

    @overload
    def on_error(self, hook: ErrorHookT, /) -> ErrorHookT: ...
    @overload
    def on_error(self, exception: type[Exception], /) -> Callable[[ErrorHookT], ErrorHookT]: ...

    def on_error(self, hook_or_exception: Any = Exception, /) -> Any:
        """Register a hook called with ``(record, exception)`` when a record fails.

        ``@app.on_error`` catches every exception; ``@app.on_error(DecodeError)`` only that
        type. The first registered hook whose type matches runs. If it returns, the failure
        is handled: the record counts as done and its remaining handlers run. If it raises,
        the record stays failed.
        """
        if isinstance(hook_or_exception, type) and issubclass(hook_or_exception, Exception):
            exception = hook_or_exception

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
        self._error_hooks.append((exception, hook))

    def on_unmatched(self, func: HandlerT, /) -> HandlerT:
        """Register a fallback for records that no route matched (all event names)."""
        self._ensure_open("on_unmatched")
        if not callable(func):
            raise SetupError(f"a fallback must be callable, got {func!r}")
        self._fallbacks.append(func)
        return func

    def filter_criteria(self) -> dict[str, list[dict[str, str]]]:
        """Lambda ``FilterCriteria`` that let through every record some route would run.

        Put it on the event source mapping so that records no route wants never invoke (or
        bill) the function. It is sound, never stricter than the routes: what a Lambda pattern
        cannot express (numbers by value, ``changed=``, ``~``...) widens it. At most 5 filters
        of at most 4,096 characters each, as Lambda requires.
        """
        from ._criteria import filter_criteria  # only the CLI and deploy scripts need it

        return filter_criteria(self.routes, has_fallback=bool(self._fallbacks))

    # --- running --------------------------------------------------------------------------

    def process(self, event: Any, context: LambdaContext | None = None) -> Outcome:
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

        outcome = self._run(event, context, report_failures=True, trace=trace)
        outcome.records = records
        outcome.ran = ran
        return outcome

    def _make_handler(self) -> Callable[[Any, Any], BatchResponse]:
        app = self

        def handler(event: Any, context: Any = None) -> BatchResponse:
            """Lambda entry point: process a batch, return ``{"batchItemFailures": [...]}``."""
            outcome = app._run(event, context, report_failures=app.report_batch_item_failures)
            response: BatchResponse = {"batchItemFailures": outcome.failures}
            if app.window is not None:
                response["state"] = app.window.state
            return response

        handler.__qualname__ = f"{type(self).__name__}.handler"
        handler.app = app  # type: ignore[attr-defined]  # how the CLI finds the app behind it
        return handler

    def _run(
        self,
        event: Any,
        context: Any,
        *,
        report_failures: bool,
        trace: Callable[[Record, str | None], None] | None = None,
    ) -> Outcome:
        table = self._table
        if table is None:
            table = self._start()
        source, raws, window = read_event(event, self.pipes_identifier)
        self.window = window
        by_event = table.by_event
        fallbacks = self._fallbacks
        on_failure = self._on_failure

        def process(record: Record) -> None:
            if trace is not None:
                trace(record, None)
            matched = False
            for route in by_event[record.event_name]:
                try:
                    if not route.matches(record):
                        continue
                    matched = True
                    if trace is not None:
                        trace(record, route.name)
                    route.handler(record)
                except Exception as error:
                    matched = True
                    on_failure(record, error)
            if not matched:
                for fallback in fallbacks:
                    try:
                        if trace is not None:
                            trace(record, "(unmatched) " + getattr(fallback, "__qualname__", "?"))
                        fallback(record)
                    except Exception as error:
                        on_failure(record, error)

        return run_batch(
            raws,
            source,
            self._decoder,
            process,
            report_failures=report_failures,
            context=context,
            min_remaining_ms=self.min_remaining_ms,
        )

    def _on_failure(self, record: Record, error: Exception) -> None:
        for exception, hook in self._error_hooks:
            if isinstance(error, exception):
                hook(record, error)
                return
        raise error

    def _start(self) -> RouteTable:
        self._freeze(f"{type(self).__name__}.handler")
        table = self._table = RouteTable(self.routes)
        return table

    def __repr__(self) -> str:
        return f"<{type(self).__name__} with {len(self.routes)} routes>"
