"""Follow a live table's stream and run an app on it, as Lambda would (``ddbstream tail``).

The one module that uses boto3, imported when :func:`tail` runs: ``pip install
'ddbstream[aws]'``. It reads every shard of the table's stream (shards that appear later and
child shards after their parent closes included), each on a thread of its own, runs the app on
the records in Lambda's event shape, batch by batch as Lambda would (retries included), and
prints a line per record as soon as the record has run.
"""

from __future__ import annotations

import base64
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

from ._sources import read_event
from .errors import DdbStreamError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, TextIO

    from ._app import App
    from ._batch import Outcome
    from ._record import Record

__all__ = ["StreamTail", "TailError", "tail", "to_lambda_record"]

STARTS = ("trim-horizon", "latest")
"""Where ``tail`` starts reading the shards that exist when it starts."""

_ITERATOR_TYPES = {"trim-horizon": "TRIM_HORIZON", "latest": "LATEST"}
_DISCOVER_EVERY = 5.0  # seconds between DescribeStream calls while no shard closes


class TailError(DdbStreamError):
    """``tail`` cannot go on: boto3 is missing, the table has no stream, the endpoint is down..."""


def to_lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """Turn a record from boto3's ``dynamodbstreams.get_records`` into what Lambda delivers.

    boto3 hands back ``B`` and ``BS`` values as ``bytes`` and ``ApproximateCreationDateTime``
    as a ``datetime``; Lambda's JSON has base64 text and a number of epoch seconds (a whole
    number when the time is, as DynamoDB Streams rounds it down to the second), and adds
    ``eventSourceARN``. Every other field is kept as it is.

    Args:
        record: one entry of ``get_records(...)["Records"]``.
        stream_arn: the stream the record was read from (``LatestStreamArn`` of the table).

    Returns:
        A new dict, ready for ``app.handler({"Records": [...]}, context)``.
    """
    converted: dict[str, Any] = _jsonable(record)
    converted["eventSourceARN"] = stream_arn
    return converted


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        seconds = value.timestamp()
        return int(seconds) if value.microsecond == 0 else seconds
    return value


def tail(
    app: App,
    *,
    table: str,
    endpoint_url: str | None = None,
    region: str | None = None,
    start: str = "trim-horizon",
    batch_size: int = 100,
    poll_interval: float = 0.5,
    max_retries: int | None = None,
    max_records: int | None = None,
    idle_exit: float | None = None,
    out: TextIO | None = None,
) -> int:
    """Read *table*'s stream through boto3 and run *app* on it until interrupted.

    With *endpoint_url* (moto's server, DynamoDB Local) and no AWS credentials configured,
    placeholder credentials are used, and the region defaults to ``us-east-1``. See
    :class:`StreamTail` for the other arguments.

    Returns:
        0, or 1 when a batch was given up after *max_retries*.

    Raises:
        TailError: boto3 is not installed, the table does not exist or has no stream, or
            the endpoint cannot be reached.
    """
    dynamodb, streams = _clients(endpoint_url, region)
    return StreamTail(
        app,
        table=table,
        dynamodb=dynamodb,
        streams=streams,
        start=start,
        batch_size=batch_size,
        poll_interval=poll_interval,
        max_retries=max_retries,
        max_records=max_records,
        idle_exit=idle_exit,
        out=out,
    ).run()


def _clients(endpoint_url: str | None, region: str | None) -> tuple[Any, Any]:
    try:
        import boto3
    except ImportError:
        raise TailError(
            "ddbstream tail reads the stream with boto3, which is not installed: "
            "pip install 'ddbstream[aws]'"
        ) from None
    session = boto3.session.Session(region_name=region)
    options: dict[str, Any] = {"region_name": session.region_name}
    if endpoint_url is not None:
        options["endpoint_url"] = endpoint_url
        if options["region_name"] is None:
            options["region_name"] = "us-east-1"
        if session.get_credentials() is None:
            # Local endpoints accept any credentials; don't make a developer invent some.
            options["aws_access_key_id"] = options["aws_secret_access_key"] = "local"
    if options["region_name"] is None:
        raise TailError("no AWS region configured: pass --region or set AWS_DEFAULT_REGION")
    return session.client("dynamodb", **options), session.client("dynamodbstreams", **options)


class _Shard:
    __slots__ = (
        "closed",
        "done",
        "id",
        "idle_since",
        "iterator",
        "iterator_type",
        "last_sequence",
        "parent",
        "thread",
    )

    def __init__(self, description: Mapping[str, Any], iterator_type: str) -> None:
        self.id: str = description["ShardId"]
        self.parent: str | None = description.get("ParentShardId")
        ending = description.get("SequenceNumberRange", {}).get("EndingSequenceNumber")
        self.closed = ending is not None
        self.iterator_type = iterator_type
        self.iterator: str | None = None
        self.last_sequence: str | None = None
        self.done = False
        """Read to its end (or skipped): its children may start."""
        self.thread: threading.Thread | None = None
        self.idle_since: float | None = None
        """When its reader last found no new record, None while it has work (or never read)."""


class StreamTail:
    """Follow one table's stream and run an app on its records, batch by batch.

    Each shard is read by a thread of its own, so a shard whose batch keeps failing does not
    hold the others; a child shard is started only once its parent is read to the end (as
    Lambda does, so that changes to one item stay in order), and the records of a shard run
    strictly in order. The app runs one record at a time, whatever the shard, as a Lambda
    execution environment runs one invocation at a time: handlers need not be thread-safe.
    A record's line is printed as soon as it has run. A batch that fails is retried after
    *poll_interval*: from the failed record when the app has ``report_batch_item_failures``
    on, else as a whole, again like Lambda.

    Args:
        app: the app to run.
        table: the table whose stream to read.
        dynamodb: a boto3 ``dynamodb`` client.
        streams: a boto3 ``dynamodbstreams`` client for the same endpoint.
        start: ``"trim-horizon"`` (every record the stream still holds) or ``"latest"``
            (only changes made from now on) for the shards that exist at the start; shards
            that appear later are always read from their beginning.
        batch_size: the most records per batch (``Limit`` of GetRecords, 1 to 1000).
        poll_interval: seconds a shard's reader waits when it had no new records, and
            before a retry.
        max_retries: give up on a failing batch after this many retries (Lambda's
            ``MaximumRetryAttempts``); ``None`` retries until interrupted.
        max_records: stop once this many records were processed.
        idle_exit: stop after this many seconds without a new record.
        out: where the lines go (standard output by default).
        err: where each failure's traceback goes (standard error by default).
        sleep: how a shard's reader pauses (tests pass a function that writes to the
            table instead); by default a wait that ends at once when tail stops.
        clock: a monotonic clock in seconds, for *idle_exit* and shard discovery.
    """

    def __init__(
        self,
        app: App,
        *,
        table: str,
        dynamodb: Any,
        streams: Any,
        start: str = "trim-horizon",
        batch_size: int = 100,
        poll_interval: float = 0.5,
        max_retries: int | None = None,
        max_records: int | None = None,
        idle_exit: float | None = None,
        out: TextIO | None = None,
        err: TextIO | None = None,
        sleep: Callable[[float], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if start not in STARTS:
            raise TailError(f"start must be one of {', '.join(STARTS)}, not {start!r}")
        if not 1 <= batch_size <= 1000:
            raise TailError(f"batch_size must be between 1 and 1000, not {batch_size}")
        self.app = app
        self.table = table
        self.start = start
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_retries = max_retries
        self.max_records = max_records
        self.idle_exit = idle_exit
        self.processed = 0
        """Records processed so far (successfully, or handled by an error hook)."""
        self.given_up = 0
        """Records skipped after *max_retries* retries of their batch."""
        self.stream_arn = ""
        self._dynamodb = dynamodb
        self._streams = streams
        self._out = out
        self._err = err
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait
        self._clock = clock
        self._shards: dict[str, _Shard] = {}
        self._discovered_at = 0.0
        self._wake = threading.Event()  # a reader has news for the watching thread
        self._running = threading.Lock()  # one record at a time, and the counts
        self._printing = threading.Lock()  # whole lines, never two mixed
        self._failures: list[BaseException] = []  # the first is raised
        self._quiet_since = 0.0
        self._closed = False

    # --- the watching thread --------------------------------------------------------------

    def run(self) -> int:
        """Follow the stream until *max_records* or *idle_exit* says stop (or Ctrl-C).

        Ctrl-C (or an error in any shard's reader) stops every reader: each finishes the
        record it is running, none starts another.

        Returns:
            0, or 1 when a batch was given up after *max_retries* retries.
        """
        self.stream_arn = self._stream_arn()
        self._discover(initial=True)
        self._say(
            f"tailing {self.table} ({len(self._shards)} shard"
            f"{'' if len(self._shards) == 1 else 's'}, from {self.start}), stream "
            f"{self.stream_arn}; Ctrl-C to stop"
        )
        self._quiet_since = self._clock()
        try:
            self._watch()
        finally:
            self._stop.set()
            for shard in list(self._shards.values()):
                if shard.thread is not None and shard.thread.is_alive():
                    shard.thread.join()
        if self._failures:
            raise self._failures[0]
        return 1 if self.given_up else 0

    def _watch(self) -> None:
        """Start the readers of shards that are ready, find new shards, and tell when to stop."""
        while True:
            self._wake.clear()
            if self._failures or self._enough():
                return
            now = self._clock()
            if self._closed or now - self._discovered_at >= _DISCOVER_EVERY:
                self._closed = False
                self._discover(initial=False)
            for shard in list(self._shards.values()):
                if shard.thread is None and not shard.done and self._ready(shard):
                    shard.thread = threading.Thread(
                        target=self._follow, args=(shard,), name=f"tail {shard.id}", daemon=True
                    )
                    shard.thread.start()
            if self.idle_exit is not None and self._idle_for(now) >= self.idle_exit:
                self._say(f"no new records for {self.idle_exit:g}s, stopping")
                return
            self._wake.wait(self.poll_interval)

    def _idle_for(self, now: float) -> float:
        """How long no reader has had a record to run (0 while one has, or has not read yet)."""
        quiet = self._quiet_since
        for shard in self._shards.values():
            if shard.thread is None or shard.done:
                continue
            if shard.idle_since is None:
                return 0.0
            quiet = max(quiet, shard.idle_since)
        return now - quiet

    def _enough(self) -> bool:
        return self.max_records is not None and self.processed >= self.max_records

    def _ready(self, shard: _Shard) -> bool:
        parent = self._shards.get(shard.parent) if shard.parent else None
        return parent is None or parent.done

    def _limit(self) -> int:
        if self.max_records is None:
            return self.batch_size
        return max(1, min(self.batch_size, self.max_records - self.processed))

    # --- a shard's reader -----------------------------------------------------------------

    def _follow(self, shard: _Shard) -> None:
        """Read *shard* to its end (or until tail stops), running its batches in order."""
        try:
            while not self._stop.is_set():
                records = self._get_records(shard)
                if records:
                    shard.idle_since = None
                    shard.last_sequence = _sequence_number(records[-1]) or shard.last_sequence
                    self._run_batch(
                        [to_lambda_record(record, self.stream_arn) for record in records]
                    )
                if shard.iterator is None:
                    shard.done = self._closed = True
                    self._quiet_since = max(self._quiet_since, self._clock())
                    return
                if not records:
                    if shard.idle_since is None:
                        shard.idle_since = self._clock()
                    self._wake.set()
                    self._sleep(self.poll_interval)
        except BaseException as error:  # Ctrl-C raised by a handler included: stop them all
            self._failures.append(error)
            self._stop.set()
        finally:
            self._wake.set()

    # --- running batches ------------------------------------------------------------------

    def _run_batch(self, records: list[dict[str, Any]]) -> None:
        """Run *records* one by one, as Lambda would run them as a batch, retries included."""
        report = self.app.report_batch_item_failures
        self._check_batch(records, report)
        first = 0
        retries = 0
        while True:
            failed = self._attempt(records, first)
            if failed is None:  # every record ran, or tail is stopping
                return
            index, identifier = failed
            if report:
                first = index
            left = len(records) - first
            if self.max_retries is not None and retries >= self.max_retries:
                with self._running:
                    self.given_up += left
                self._say(
                    f"giving up on {left} record(s) after {retries} retries, as Lambda "
                    "does once MaximumRetryAttempts is reached"
                )
                return
            retries += 1
            if report:
                what = f"from record {identifier} ({left} record(s))"
            else:
                what = f"the whole batch of {left} record(s) (report_batch_item_failures is off)"
            at = datetime.now() + timedelta(seconds=self.poll_interval)
            of = f" of {self.max_retries}" if self.max_retries is not None else ""
            self._say(
                f"retry {retries}{of} at {at.strftime('%H:%M:%S.%f')[:-3]} "
                f"(in {self.poll_interval:g}s): {what}"
            )
            self._sleep(self.poll_interval)  # the next attempt starts nothing once tail stops

    def _check_batch(self, records: list[dict[str, Any]], report: bool) -> None:
        """Refuse, before any record runs, a batch Lambda's handler would refuse as a whole
        (records of another source, or failures that could not be reported)."""
        try:
            batch = read_event({"Records": records}, self.app.pipes_identifier)
            if report:
                batch.read_identifiers()
        except DdbStreamError as problem:
            raise TailError(f"cannot run the app on the stream's records: {problem}") from None

    def _attempt(self, records: list[dict[str, Any]], first: int) -> tuple[int, str] | None:
        """Run *records* from *first* until one fails; returns its index and identifier."""
        done = 0
        for index in range(first, len(records)):
            with self._running:
                if self._stop.is_set() or self._enough():
                    return None
                try:
                    outcome = self.app.process({"Records": [records[index]]})
                except DdbStreamError as problem:  # the record cannot be run at all
                    raise TailError(
                        f"cannot run the app on the stream's records: {problem}"
                    ) from None
                failed = outcome.error is not None or bool(outcome.failures)
                if failed and not self.app.report_batch_item_failures:
                    self.processed -= done  # the whole batch runs again
                elif not failed:
                    self.processed += 1
                    done += 1
                # Printed before the next record starts, and in the order records ran.
                self._print_outcome(outcome, index, len(records))
            if failed:
                identifier = outcome.failures[0]["itemIdentifier"] if outcome.failures else ""
                return index, identifier or _sequence_number(records[index]) or "?"
            if self._enough():
                self._stop.set()
                self._wake.set()
        return None

    def _print_outcome(self, outcome: Outcome, index: int, total: int) -> None:
        for record in outcome.records:
            ran = outcome.routes_run(record)
            line = f"{_time(record)}  {record.event_name:<6}  {_keys(record)}  "
            line += ", ".join(ran) if ran else "(no route)"
            if record is outcome.failed_record:
                line += f"  FAILED  {_error(outcome.error)}"
            else:
                line += "  ok"
            self._say(line)
        if outcome.error is not None and outcome.failed_record is None:
            # The record failed before it could be read (malformed): it has no Record.
            identifier = outcome.failures[0]["itemIdentifier"]
            self._say(f"?  record {identifier}  FAILED  {_error(outcome.error)}")
        if outcome.error is not None:
            import traceback

            _renumber(outcome.error, index, total)
            with self._printing:
                traceback.print_exception(outcome.error, file=self._err or sys.stderr)

    def _say(self, line: str) -> None:
        out = self._out or sys.stdout
        with self._printing:
            out.write(line + "\n")
            out.flush()

    # --- talking to DynamoDB Streams ------------------------------------------------------

    def _stream_arn(self) -> str:
        description = self._call(self._dynamodb.describe_table, TableName=self.table)["Table"]
        arn = description.get("LatestStreamArn")
        enabled = description.get("StreamSpecification", {}).get("StreamEnabled")
        if not arn or enabled is False:
            raise TailError(
                f"table {self.table!r} has no stream. Turn it on, e.g. aws dynamodb update-table "
                f"--table-name {self.table} --stream-specification "
                "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES"
            )
        return str(arn)

    def _discover(self, *, initial: bool) -> None:
        arguments: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            page = self._call(self._streams.describe_stream, **arguments)["StreamDescription"]
            for description in page.get("Shards", []):
                if description["ShardId"] in self._shards:
                    continue
                kind = _ITERATOR_TYPES[self.start] if initial else "TRIM_HORIZON"
                shard = _Shard(description, kind)
                # From "latest", a shard closed before we started holds nothing new.
                shard.done = initial and kind == "LATEST" and shard.closed
                self._shards[shard.id] = shard
            last = page.get("LastEvaluatedShardId")
            if not last:
                break
            arguments["ExclusiveStartShardId"] = last
        self._discovered_at = self._clock()

    def _get_records(self, shard: _Shard) -> list[Any]:
        if shard.iterator is None:
            shard.iterator = self._iterator(shard)
        try:
            response = self._streams.get_records(ShardIterator=shard.iterator, Limit=self._limit())
        except Exception as error:
            if _error_code(error) != "ExpiredIteratorException":
                raise TailError(f"GetRecords failed on shard {shard.id}: {error}") from None
            shard.iterator = self._iterator(shard)  # iterators live 15 minutes
            response = self._call(
                self._streams.get_records, ShardIterator=shard.iterator, Limit=self._limit()
            )
        shard.iterator = response.get("NextShardIterator")
        return list(response.get("Records", []))

    def _iterator(self, shard: _Shard) -> str:
        arguments: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard.id}
        if shard.last_sequence is not None:
            arguments["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
            arguments["SequenceNumber"] = shard.last_sequence
        else:
            arguments["ShardIteratorType"] = shard.iterator_type
        return str(self._call(self._streams.get_shard_iterator, **arguments)["ShardIterator"])

    def _call(self, method: Callable[..., Any], **arguments: Any) -> Any:
        try:
            return method(**arguments)
        except Exception as error:
            code = _error_code(error)
            if code == "ResourceNotFoundException" and "TableName" in arguments:
                raise TailError(f"no table named {self.table!r} at this endpoint") from None
            name = getattr(method, "__name__", "the call")
            raise TailError(f"{name} failed: {error}") from None


# --- formatting ----------------------------------------------------------------------------


def _sequence_number(record: Mapping[str, Any]) -> str | None:
    return record.get("dynamodb", {}).get("SequenceNumber")  # type: ignore[no-any-return]


def _error_code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code"))
    return None


def _time(record: Record) -> str:
    try:
        moment = record.approximate_creation_time
    except Exception:
        moment = None
    return "--:--:--" if moment is None else moment.astimezone().strftime("%H:%M:%S")


def _keys(record: Record) -> str:
    try:
        keys = record.keys
    except Exception:  # an undecodable key: show what the stream sent
        return str(record.raw.get("dynamodb", {}).get("Keys"))
    return " ".join(f"{name}={_value(value)}" for name, value in keys.items())


def _value(value: Any) -> str:
    return repr(value) if isinstance(value, (str, bytes)) else str(value)


def _error(error: BaseException | None) -> str:
    lines = str(error).splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def _renumber(error: BaseException, index: int, total: int) -> None:
    """Give the failure's note the record's place in its batch, not in the one-record event
    tail ran it in (the note says "record 1 of 1 failed" then)."""
    notes = getattr(error, "__notes__", None)
    if total == 1 or not isinstance(notes, list):
        return
    alone = "ddbstream: record 1 of 1 failed"
    for number, note in enumerate(notes):
        if isinstance(note, str) and note.startswith(alone):
            notes[number] = f"ddbstream: record {index + 1} of {total} failed{note[len(alone) :]}"
