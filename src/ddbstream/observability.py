"""Ready-made extensions for logs, metrics and traces: ``app.use(LogContext())``.

- :class:`LogContext`: every log record emitted while a record runs carries the record's
  ``event_id``, ``sequence_number``, ``event_name``, ``table_name`` and ``route``.
- :class:`EMFMetrics`: one CloudWatch Embedded Metric Format line per invocation, with the
  records processed, failed, unmatched, handled and skipped as duplicates, and their age.
- :class:`Tracing`: an OpenTelemetry span per record and per route (``ddbstream[otel]``).

None of them imports anything beyond the standard library until it is used, and
``import ddbstream`` does not import this module.
"""

from __future__ import annotations

from contextvars import ContextVar
from time import time

from ._extensions import _NOTHING, Extension
from .errors import SetupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from contextlib import AbstractContextManager
    from contextvars import Token
    from logging import LogRecord
    from typing import Any

    from ._extensions import Invocation
    from ._record import Record

__all__ = ["EMFMetrics", "LogContext", "Tracing"]


# --- logs ----------------------------------------------------------------------------------

_RUNNING: ContextVar[tuple[Record[Any], str | None] | None] = ContextVar(
    "ddbstream_log_context", default=None
)
"""The record running in this context (thread, or asyncio task), and its route once known."""


class LogContext(Extension):
    """Give every log record emitted while a record runs that record's identity.

    The attributes ``event_id``, ``sequence_number``, ``event_name``, ``table_name`` and
    (inside a handler) ``route`` are set on each ``logging.LogRecord``, whichever logger
    emits it: Lambda's JSON log format (``LoggingConfig: {LogFormat: JSON}``) prints them as
    keys of the line; a text format can name them (``%(event_id)s``). The record is kept in
    a context variable, so concurrent records of an async app each log their own, and
    nothing is set outside a record.

    It installs a ``logging`` record factory (wrapping the one in place) when created.
    """

    def __init__(self) -> None:
        _install_factory()

    def record(self, record: Record[Any]) -> AbstractContextManager[object]:
        """Name *record* in every log record emitted until it is done."""
        return _Running((record, None))

    def route(self, record: Record[Any], route: str) -> AbstractContextManager[object]:
        """Name *route* too, while its handler runs."""
        return _Running((record, route))

    def __repr__(self) -> str:
        return "LogContext()"


class _Running:
    __slots__ = ("token", "value")

    def __init__(self, value: tuple[Record[Any], str | None]) -> None:
        self.value = value

    def __enter__(self) -> None:
        self.token: Token[Any] = _RUNNING.set(self.value)

    def __exit__(self, *exc_info: object) -> None:
        _RUNNING.reset(self.token)


_factory_installed: list[bool] = []  # a process has one logging record factory


def _install_factory() -> None:
    if _factory_installed:
        return
    import logging

    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> LogRecord:
        log_record = previous(*args, **kwargs)
        running = _RUNNING.get()
        if running is not None:
            record, route = running
            log_record.event_id = record.event_id
            log_record.sequence_number = record.sequence_number
            log_record.event_name = record.event_name
            log_record.table_name = record.table_name
            if route is not None:
                log_record.route = route
        return log_record

    logging.setLogRecordFactory(factory)
    _factory_installed.append(True)


# --- metrics -------------------------------------------------------------------------------

MAX_METRICS = 100
"""EMF: at most 100 metrics in one directive."""
MAX_DIMENSIONS = 30
"""EMF: at most 30 dimensions in one dimension set."""
MAX_VALUES = 100
"""EMF: at most 100 values in one metric's array."""
_COUNTS = (
    "RecordsProcessed",
    "RecordsFailed",
    "RecordsUnmatched",
    "RecordsHandled",
    "RecordsDuplicate",
)


class _Table:
    """One table's counts in one invocation; also the context manager around its records."""

    __slots__ = ("ages", "failed", "processed")

    def __init__(self) -> None:
        self.processed = 0
        self.failed = 0
        self.ages: list[float] = []

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        if kind is None:
            self.processed += 1
        else:
            self.failed += 1


class _Tally:
    """One invocation's counts, by table."""

    __slots__ = ("table_of_arn", "tables")

    def __init__(self) -> None:
        self.tables: dict[str, _Table] = {}
        self.table_of_arn: dict[str | None, _Table] = {}

    def table(self, record: Record[Any]) -> _Table:
        arn = record.event_source_arn
        table = self.table_of_arn.get(arn)
        if table is None:
            name = record.table_name or "unknown"
            table = self.tables.get(name)
            if table is None:
                table = self.tables[name] = _Table()
            self.table_of_arn[arn] = table
        return table


class EMFMetrics(Extension):
    """Print one CloudWatch Embedded Metric Format line per invocation on stdout.

    Metrics, in the namespace *namespace*, dimensioned by ``TableName`` (and *dimensions*):

    - ``RecordsProcessed``: records that completed (including those an error hook handled);
    - ``RecordsFailed``: records that failed (in report mode, the one reported; Lambda's
      ``Errors`` metric does not see it);
    - ``RecordsUnmatched``: records no route matched;
    - ``RecordsHandled``: records whose failure an error hook handled;
    - ``RecordsDuplicate``: route calls the ledger skipped, the record having run them before;
    - ``RecordAge``: milliseconds from the change (``ApproximateCreationDateTime``) to the
      start of its processing, one value per record (Unit ``Milliseconds``).

    Lambda's log agent turns the line into metrics; no API call is made. EMF takes at most
    100 values in a metric's array, so an invocation of more records prints one more line
    for each further 100 ages (carrying ``RecordAge`` only). An event source mapping reads
    one table; records of several tables get a line each, the invocation-wide counts
    (unmatched, handled, duplicates) going with the first table's. Register it first
    (outermost), so that a middleware catching an error does not hide the failure from it.

    Args:
        namespace: the CloudWatch namespace, e.g. ``"Orders/Stream"``.
        dimensions: further dimensions with fixed values, e.g. ``{"Service": "orders"}``
            (at most 29: EMF allows 30 with ``TableName``).

    Raises:
        SetupError: an empty namespace, or dimensions EMF would reject.
    """

    def __init__(self, namespace: str, *, dimensions: Mapping[str, str] | None = None) -> None:
        if not isinstance(namespace, str) or not namespace.strip() or len(namespace) > 255:
            raise SetupError(
                f"EMFMetrics needs a CloudWatch namespace of 1 to 255 characters: {namespace!r}"
            )
        fixed = dict(dimensions or {})
        if len(fixed) > MAX_DIMENSIONS - 1:
            raise SetupError(
                f"EMFMetrics takes at most {MAX_DIMENSIONS - 1} dimensions besides TableName "
                f"(EMF allows {MAX_DIMENSIONS}), got {len(fixed)}."
            )
        for name, value in fixed.items():
            if not (isinstance(name, str) and name and isinstance(value, str) and value):
                raise SetupError(
                    f"EMFMetrics dimensions map names to values, both non-empty strings: "
                    f"{name!r}: {value!r}"
                )
            if name == "TableName" or name in _COUNTS or name == "RecordAge" or name == "_aws":
                raise SetupError(f"EMFMetrics: the dimension name {name!r} is taken; rename it.")
        self.namespace = namespace
        self.dimensions = fixed
        self._tally: ContextVar[_Tally | None] = ContextVar("ddbstream_emf", default=None)

    def invocation(self, invocation: Invocation) -> AbstractContextManager[object]:
        """Count this invocation's records; print the metrics when it ends, even if it raised."""
        return _Invocation(self, invocation)

    def record(self, record: Record[Any]) -> AbstractContextManager[object]:
        """Count *record* as processed or failed, by its table, and note its age."""
        tally = self._tally.get()
        if tally is None:  # pragma: no cover - record hooks run inside an invocation hook
            return _NOTHING
        table = tally.table(record)
        created = _created_ms(record)
        if created is not None:
            age = time() * 1000 - created
            table.ages.append(age if age > 0 else 0.0)
        return table  # counts the record as processed or failed when it is done

    def documents(
        self, tally: _Tally, invocation: Invocation, failed: bool
    ) -> list[dict[str, Any]]:
        """The EMF documents for one invocation (what the line(s) hold)."""
        tables = tally.tables or {"unknown": _Table()}
        if failed and not any(table.failed for table in tables.values()):
            next(iter(tables.values())).failed = 1  # a record that failed before its routes
        stamp = int(time() * 1000)
        names = [*self.dimensions, "TableName"]
        documents: list[dict[str, Any]] = []
        for position, (name, table) in enumerate(tables.items()):
            counts = [table.processed, table.failed, 0, 0, 0]
            if position == 0:
                counts[2:] = [invocation.unmatched, invocation.handled, invocation.duplicates]
            ages = [round(age, 3) for age in table.ages]
            chunks = [ages[start : start + MAX_VALUES] for start in range(0, len(ages), MAX_VALUES)]
            for index, chunk in enumerate(chunks or [[]]):
                metrics: list[dict[str, str]] = []
                values: dict[str, Any] = {}
                if index == 0:
                    for metric, count in zip(_COUNTS, counts, strict=True):
                        metrics.append({"Name": metric, "Unit": "Count"})
                        values[metric] = count
                if chunk:
                    metrics.append({"Name": "RecordAge", "Unit": "Milliseconds"})
                    values["RecordAge"] = chunk
                directive = {
                    "Namespace": self.namespace,
                    "Dimensions": [names],
                    "Metrics": metrics,
                }
                documents.append(
                    {
                        "_aws": {"Timestamp": stamp, "CloudWatchMetrics": [directive]},
                        **self.dimensions,
                        "TableName": name,
                        **values,
                    }
                )
        return documents

    def __repr__(self) -> str:
        return f"EMFMetrics(namespace={self.namespace!r})"


class _Invocation:
    __slots__ = ("emf", "invocation", "token")

    def __init__(self, emf: EMFMetrics, invocation: Invocation) -> None:
        self.emf = emf
        self.invocation = invocation

    def __enter__(self) -> None:
        self.token: Token[_Tally | None] = self.emf._tally.set(_Tally())

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        emf = self.emf
        tally = emf._tally.get()
        emf._tally.reset(self.token)
        assert tally is not None
        from .errors import OutOfTimeError

        outcome = self.invocation.outcome
        failed = (error is not None and not isinstance(error, OutOfTimeError)) or (
            outcome is not None and outcome.error is not None
        )
        import json
        import sys

        lines = [
            json.dumps(document, separators=(",", ":"))
            for document in emf.documents(tally, self.invocation, failed)
        ]
        sys.stdout.write("\n".join(lines) + "\n")


_NUMBERS = (int, float)


def _created_ms(record: Record[Any]) -> float | None:
    """When the change was made, in ms since the epoch; None when the record does not say."""
    change = record.dynamodb
    stamp = change.get("ApproximateCreationDateTime")
    if stamp.__class__ in _NUMBERS and "ApproximateCreationDateTimePrecision" not in change:
        return float(stamp) * 1000  # DynamoDB Streams: seconds
    try:
        created = record.approximate_creation_time  # Kinesis: ms or µs, as the record says
    except Exception:
        return None  # an unreadable time is the record's problem, not the metrics'
    return None if created is None else created.timestamp() * 1000


# --- traces --------------------------------------------------------------------------------


class Tracing(Extension):
    """An OpenTelemetry span per record, and one per route inside it.

    The record's span is named ``ddbstream EVENT_NAME`` and the route's ``ddbstream route
    NAME``; both carry ``ddbstream.event_id``, ``ddbstream.sequence_number``,
    ``ddbstream.event_name`` and ``ddbstream.table`` (the route's also ``ddbstream.route``).
    A failure sets the span's status to ERROR and records the exception; a route whose
    failure an error hook handled keeps its error status, its record does not.

    Needs ``opentelemetry-api`` (``pip install 'ddbstream[otel]'``), imported at the first
    invocation. While no tracer provider is set (``trace.set_tracer_provider``), nothing is
    made: the hooks return at once.

    Args:
        tracer_provider: the provider to use instead of the global one.
    """

    def __init__(self, *, tracer_provider: Any = None) -> None:
        self.tracer_provider = tracer_provider
        self._tracer: ContextVar[Any] = ContextVar("ddbstream_tracer", default=None)

    def invocation(self, invocation: Invocation) -> AbstractContextManager[object]:
        """Find the tracer for this invocation (none while no provider is set)."""
        return _Traced(self._tracer, self._find_tracer())

    def _find_tracer(self) -> Any:
        from opentelemetry import trace

        provider = self.tracer_provider or trace.get_tracer_provider()
        if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
            return None  # no provider set: spans would record nothing
        return provider.get_tracer("ddbstream")

    def record(self, record: Record[Any]) -> AbstractContextManager[object]:
        """A span for *record*, current while its routes run."""
        tracer = self._tracer.get()
        if tracer is None:
            return _NOTHING
        return tracer.start_as_current_span(  # type: ignore[no-any-return]
            f"ddbstream {record.event_name}", attributes=_attributes(record)
        )

    def route(self, record: Record[Any], route: str) -> AbstractContextManager[object]:
        """A span for *route*'s handler, inside the record's."""
        tracer = self._tracer.get()
        if tracer is None:
            return _NOTHING
        attributes = _attributes(record)
        attributes["ddbstream.route"] = route
        return tracer.start_as_current_span(  # type: ignore[no-any-return]
            f"ddbstream route {route}", attributes=attributes
        )

    def __repr__(self) -> str:
        return "Tracing()"


class _Traced:
    __slots__ = ("token", "tracer", "variable")

    def __init__(self, variable: ContextVar[Any], tracer: Any) -> None:
        self.variable = variable
        self.tracer = tracer

    def __enter__(self) -> None:
        self.token: Token[Any] = self.variable.set(self.tracer)

    def __exit__(self, *exc_info: object) -> None:
        self.variable.reset(self.token)


def _attributes(record: Record[Any]) -> dict[str, str]:
    found = {
        "ddbstream.event_id": record.event_id,
        "ddbstream.sequence_number": record.sequence_number,
        "ddbstream.event_name": record.event_name,
        "ddbstream.table": record.table_name,
    }
    return {name: value for name, value in found.items() if value is not None}
