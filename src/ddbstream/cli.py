"""The ``ddbstream`` command: run an app locally, list its routes, export its filters.

HANDLER is what Lambda's handler setting says (``lambda_function.handler``), resolved the way
the Lambda Python runtime resolves it, or ``path/to/file.py:app``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._app import App
from ._sources import read_event
from .errors import DdbStreamError
from .tail import STARTS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._batch import Outcome
    from ._sources import Batch, Source

__all__ = ["load_app", "main"]


class CommandError(Exception):
    """A problem to print as one line, with exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:  # list the commands rather than argparse's bare "required" error
        parser.print_help()
        return 2
    arguments = parser.parse_args(argv)
    try:
        return int(arguments.command(arguments))
    except CommandError as problem:
        print(f"ddbstream: {problem}", file=sys.stderr)
        return 2


def _version() -> str:
    from importlib.metadata import version

    return version("ddbstream")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ddbstream",
        description="Run and inspect ddbstream apps (DynamoDB Streams handlers for Lambda).",
        epilog="Run `ddbstream COMMAND --help` for a command's options.",
    )
    parser.add_argument(
        "--version", action="version", version=f"ddbstream {_version()}", help="print the version"
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    handler_help = (
        "Lambda's handler setting, e.g. lambda_function.handler (module.attribute, imported "
        "from the current directory as Lambda does), or path/to/file.py:app"
    )

    invoke = commands.add_parser(
        "invoke",
        help="run the app on an event file and print what happened to each record",
        description="Run the app on EVENT (a JSON file, - for standard input) as Lambda would, "
        "and print one line per record. Exits 1 when a record failed.",
    )
    invoke.add_argument("handler", metavar="HANDLER", help=handler_help)
    invoke.add_argument("event", metavar="EVENT", help="the event as JSON: a file, or -")
    invoke.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="pretend the invocation has this long in all (exercises the time guard)",
    )
    invoke.set_defaults(command=_invoke)

    routes = commands.add_parser(
        "routes",
        help="list the app's routes in the order they run",
        description="List the routes of the app HANDLER names, in the order they run for a "
        "record, with their filters and where each is defined; fallbacks last.",
    )
    routes.add_argument("handler", metavar="HANDLER", help=handler_help)
    routes.set_defaults(command=_routes)

    criteria = commands.add_parser(
        "filter-criteria",
        help="print the Lambda FilterCriteria that drop the records no route wants",
        description="Print FilterCriteria for the event source mapping: every record some "
        "route would run passes, most others are dropped before they invoke the function.",
    )
    criteria.add_argument("handler", metavar="HANDLER", help=handler_help)
    criteria.add_argument(
        "--format",
        choices=("json", "cloudformation", "terraform"),
        default="json",
        help="json (default; the AWS CLI's --filter-criteria), cloudformation (a SAM or "
        "CloudFormation FilterCriteria block) or terraform (a filter_criteria block)",
    )
    criteria.add_argument("--region", help="the table's region (with --account: table= filters)")
    criteria.add_argument("--account", help="the table's AWS account ID (with --region)")
    criteria.add_argument(
        "--stream-view-type",
        choices=("NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY"),
        help="the stream's view type: tighter patterns (default: sound for every view type)",
    )
    criteria.set_defaults(command=_filter_criteria)

    tail = commands.add_parser(
        "tail",
        help="run the app on a live table's stream (boto3), printing a line per record",
        description="Follow the stream of table NAME and run the app on its records in "
        "Lambda's event shape, retrying failed batches as Lambda would, until Ctrl-C. "
        "Needs boto3: pip install 'ddbstream[aws]'.",
    )
    tail.add_argument("handler", metavar="HANDLER", help=handler_help)
    tail.add_argument("--table", required=True, metavar="NAME", help="the table to follow")
    tail.add_argument(
        "--endpoint-url", metavar="URL", help="e.g. http://127.0.0.1:5000 for moto_server"
    )
    tail.add_argument("--region", metavar="REGION", help="default: your AWS configuration")
    tail.add_argument(
        "--from",
        dest="start",
        choices=STARTS,
        default="trim-horizon",
        help="read every record the stream holds (default), or only new ones",
    )
    tail.add_argument(
        "--batch-size", type=int, default=100, metavar="N", help="records per batch (1-1000)"
    )
    tail.add_argument(
        "--poll-interval",
        type=float,
        default=0.5,
        metavar="SECONDS",
        help="pause between empty polls and before a retry (default 0.5)",
    )
    tail.add_argument(
        "--max-retries",
        type=int,
        metavar="N",
        help="give up on a failing batch after N retries (default: retry until Ctrl-C)",
    )
    tail.add_argument(
        "--max-records", type=int, metavar="N", help="stop after N records were processed"
    )
    tail.add_argument(
        "--idle-exit", type=float, metavar="SECONDS", help="stop after SECONDS without a record"
    )
    tail.set_defaults(command=_tail)
    _add_replay(commands, handler_help)
    return parser


def _add_replay(commands: Any, handler_help: str) -> None:
    replay = commands.add_parser(
        "replay",
        help="run the app again on the records of an on-failure message or a parked record",
        description="Read MESSAGE (a file, - for standard input): Lambda's on-failure record "
        "for a stream batch (the SQS message body or record, the SNS notification, or the S3 "
        "object) or a record ddbstream.failures.park() sent. Fetch the records it names from "
        "the stream (an S3 object or a parked record holds them), run the app on them in "
        "order and print one line per record. Exits 1 when a record failed, 2 when the "
        "records cannot be read. Needs boto3 to read the stream: pip install 'ddbstream[aws]'.",
    )
    replay.add_argument("handler", metavar="HANDLER", help=handler_help)
    replay.add_argument("message", metavar="MESSAGE", help="the message as JSON: a file, or -")
    replay.add_argument(
        "--endpoint-url", metavar="URL", help="e.g. http://127.0.0.1:5000 for moto_server"
    )
    replay.add_argument("--region", metavar="REGION", help="default: the stream ARN's region")
    replay.set_defaults(command=_replay)


# --- commands --------------------------------------------------------------------------------


def _invoke(arguments: argparse.Namespace) -> int:
    target = _resolve(arguments.handler)
    event = _read_json(arguments.event)
    context = _Context(arguments.timeout) if arguments.timeout is not None else None
    app = _app_behind(target)
    if app is None:
        return _invoke_function(arguments.handler, target, event, context)
    try:
        outcome = app.process(event, context)
    except DdbStreamError as problem:  # the event as a whole is unusable
        raise CommandError(str(problem)) from None
    reporting = app.report_batch_item_failures
    _print_outcome(outcome, read_event(event, app.pipes_identifier), reporting=reporting)
    if outcome.error is not None:
        import traceback

        print(file=sys.stderr)
        traceback.print_exception(outcome.error, file=sys.stderr)
    if reporting or not outcome.failures:
        try:
            print(f"\nresponse: {lambda_json(app._response(outcome))}")
        except TypeError as problem:
            print(f"\nresponse: Lambda's runtime could not encode it as JSON: {problem}")
            return 1
    else:
        print(
            "\nthe handler raises (report_batch_item_failures is off): Lambda would retry the "
            "whole batch"
        )
    return 1 if outcome.failures else 0


def _invoke_function(spec: str, function: Any, event: Any, context: Any) -> int:
    """Run a handler that is not an App's: Lambda would call it, so invoke calls it too."""
    print(f"{spec} is not a ddbstream App's handler: calling it as Lambda would", file=sys.stderr)
    try:
        response = function(event, context)
    except Exception as error:
        import traceback

        traceback.print_exception(error, file=sys.stderr)
        print("\nthe handler raised: Lambda would retry the whole batch")
        return 1
    try:
        print(f"\nresponse: {lambda_json(response)}")
    except TypeError as problem:
        print(f"\nresponse: Lambda's runtime could not encode it as JSON: {problem}")
        return 1
    return 0


def _routes(arguments: argparse.Namespace) -> int:
    app = load_app(arguments.handler)
    rows = [("#", "events", "route", "filters", "defined at")]
    for number, route in enumerate(app.routes, start=1):
        filters = route.filters.describe()
        rows.append(
            (
                str(number),
                ",".join(sorted(route.events)),
                route.name,
                filters or "-",
                _location(route.handler),
            )
        )
    for fallback in app.fallbacks:
        rows.append(
            (
                "-",
                "unmatched",
                fallback.name,
                "-",
                _location(fallback.handler),
            )
        )
    if len(rows) == 1:
        print("no routes")
        return 0
    _print_table(rows)
    return 0


def _filter_criteria(arguments: argparse.Namespace) -> int:
    if (arguments.region is None) != (arguments.account is None):
        raise CommandError("give --region and --account together (they make the table's ARN)")
    app = load_app(arguments.handler)
    criteria = app.filter_criteria(
        region=arguments.region,
        account=arguments.account,
        stream_view_type=arguments.stream_view_type,
    )
    patterns = [json.loads(item["Pattern"]) for item in criteria["Filters"]]
    if arguments.format == "json":
        print(json.dumps(criteria, indent=2, sort_keys=True))
    elif not patterns:
        block = "FilterCriteria" if arguments.format == "cloudformation" else "filter_criteria"
        print("# Every record is needed (a fallback, or a route without filters): leave")
        print(f"# {block} out, so that Lambda filters nothing.")
    elif arguments.format == "cloudformation":
        print("FilterCriteria:\n  Filters:")
        for item in criteria["Filters"]:
            quoted = item["Pattern"].replace("'", "''")  # YAML single-quoted string
            print(f"    - Pattern: '{quoted}'")
    else:
        print("filter_criteria {")
        for pattern in patterns:
            text = json.dumps(pattern, sort_keys=True, separators=(", ", " = "))
            # HCL reads "${" and "%{" in strings as templates; doubling escapes them.
            text = text.replace("${", "$${").replace("%{", "%%{")
            print(f"  filter {{\n    pattern = jsonencode({text})\n  }}")
        print("}")
    return 0


def _tail(arguments: argparse.Namespace) -> int:
    from .tail import TailError, tail  # boto3 is imported there, only for this command

    app = load_app(arguments.handler)
    try:
        return tail(
            app,
            table=arguments.table,
            endpoint_url=arguments.endpoint_url,
            region=arguments.region,
            start=arguments.start,
            batch_size=arguments.batch_size,
            poll_interval=arguments.poll_interval,
            max_retries=arguments.max_retries,
            max_records=arguments.max_records,
            idle_exit=arguments.idle_exit,
        )
    except TailError as problem:
        raise CommandError(str(problem)) from None
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 0


def _replay(arguments: argparse.Namespace) -> int:
    from .errors import FailureMessageError
    from .failures import ReplayError

    app = load_app(arguments.handler)
    text = _read_text(arguments.message)
    try:
        records, header = _replay_records(text, arguments.endpoint_url, arguments.region)
    except (FailureMessageError, ReplayError) as problem:
        raise CommandError(str(problem)) from None
    print(header)
    event = {"Records": records}
    try:
        outcome = app.process(event)
    except DdbStreamError as problem:  # the records as a whole are unusable
        raise CommandError(str(problem)) from None
    # Nothing is reported to Lambda here: the line says which record failed, and no more.
    _print_outcome(outcome, read_event(event, app.pipes_identifier), reporting=False)
    if outcome.error is not None:
        import traceback

        print(file=sys.stderr)
        traceback.print_exception(outcome.error, file=sys.stderr)
    return 1 if outcome.failures else 0


def _replay_records(
    text: str, endpoint_url: str | None, region: str | None
) -> tuple[list[Any], str]:
    """The records MESSAGE names, and the lines saying what they are and where from."""
    from .errors import FailureMessageError
    from .failures import parse, parse_parked, read_records

    try:
        failure = parse(text)
    except FailureMessageError as problem:
        try:
            parked = parse_parked(text)
        except FailureMessageError:
            raise problem from None
        when = f" at {parked.parked_at:%Y-%m-%d %H:%M:%S}" if parked.parked_at else ""
        return [parked.record], (
            f"replaying a parked record (parked{when} after "
            f"{parked.error_type}: {parked.error_message})"
        )
    if failure.records is not None and not failure.truncated:
        origin = "read from the message's payload"
        records = list(failure.records)
    else:
        origin = "read from the stream"
        if failure.truncated:
            origin += " (the message's payload does not hold them all)"
        records = read_records(failure, endpoint_url=endpoint_url, region=region)
    lines = f"replaying {failure.describe()}\n{len(records)} record(s) {origin}"
    if len(records) != failure.batch_size:
        lines += (
            f"; Lambda's batch had {failure.batch_size} (event filtering drops records "
            "from a batch, not from the stream)"
        )
    return records, lines


# --- finding the app -------------------------------------------------------------------------


def load_app(spec: str) -> App:
    """Find the App that HANDLER refers to.

    Raises:
        CommandError: the module or attribute does not exist or is not a ddbstream app.
    """
    target = _resolve(spec)
    app = _app_behind(target)
    if app is None:
        app = _only_app_of(target)
    if app is None:
        raise CommandError(
            f"{spec} is {_describe(target)}, not a ddbstream App or its handler "
            "(export `handler = app.handler` with app = ddbstream.App())"
        )
    return app


def _resolve(spec: str) -> Any:
    """The object HANDLER names, refused (exit 2) when Lambda could not call it."""
    if ":" in spec and (spec.split(":", 1)[0].endswith(".py") or os.sep in spec or "/" in spec):
        path_text, _, attribute = spec.rpartition(":")
        target = _attribute(_import_file(Path(path_text)), attribute, spec)
    else:
        target = _import_lambda_handler(spec)
    if isinstance(target, App):
        return target  # App(event, context) is app.handler(event, context)
    if not callable(target):
        raise CommandError(
            f"Lambda could not call {spec}: it is {_describe(target)}, not a function. Point "
            "the handler setting at a function taking (event, context), such as "
            "`handler = app.handler`"
        )
    import inspect

    try:
        inspect.signature(target).bind(None, None)
    except TypeError:
        raise CommandError(
            f"Lambda could not call {spec}: Lambda calls it with (event, context), but its "
            f"signature is {_signature(target)}"
        ) from None
    except ValueError:  # pragma: no cover - a builtin without a signature: let it run
        pass
    return target


def _app_behind(target: Any) -> App | None:
    """The App whose entry point *target* is: the App itself or its ``handler``, else None.

    A wrapper function that calls an app is not the app: ``invoke`` runs the wrapper.
    """
    if isinstance(target, App):
        return target
    app = getattr(target, "app", None)
    if isinstance(app, App) and target is app.handler:
        return app
    return None


def _only_app_of(target: Any) -> App | None:
    """The one App of the module that defines the function *target*, if there is one."""
    found = {
        id(value): value
        for value in getattr(target, "__globals__", {}).values()
        if isinstance(value, App)
    }
    return next(iter(found.values())) if len(found) == 1 else None


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"a {type(value).__name__} ({text})"


def _signature(function: Any) -> str:
    import inspect

    names = ", ".join(inspect.signature(function).parameters)
    return f"{getattr(function, '__name__', 'handler')}({names})"


def _import_lambda_handler(setting: str) -> Any:
    """Resolve the way Lambda's Python runtime does: split at the last dot, import the left."""
    module_name, dot, attribute = setting.rpartition(".")
    parts = module_name.replace("/", ".").split(".")
    if not dot or not attribute.isidentifier() or not all(p.isidentifier() for p in parts):
        raise CommandError(
            f"{setting!r} is not a Lambda handler setting: write module.function, e.g. "
            "lambda_function.handler, or path/to/file.py:app"
        )
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # Lambda imports from the task root, the cwd here
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ModuleNotFoundError as error:
        parent = module_name.split(".")[0]
        if error.name is not None and not _is_part_of(error.name, module_name):
            raise _import_failed(error) from None  # the module exists; an import in it fails
        if "." in module_name and error.name != parent and _module_exists(parent):
            raise CommandError(
                f"Lambda would fail on the handler setting {setting!r}: it splits the setting "
                f"at its last dot and imports {module_name!r} as a module, which does not "
                f"exist. Put `handler = app.handler` in {parent}.py and set the handler to "
                f"{parent}.handler"
            ) from None
        raise CommandError(
            f"cannot import module {module_name!r} for handler {setting!r}: {error} "
            f"(run from the folder that holds {module_name.replace('.', '/')}.py)"
        ) from None
    except Exception as error:
        raise _import_failed(error) from None
    return _attribute(module, attribute, setting)


def _is_part_of(name: str, module_name: str) -> bool:
    """Whether module *name* is *module_name* or one of the packages it is in."""
    return module_name == name or module_name.startswith(f"{name}.")


def _import_failed(error: BaseException) -> CommandError:
    """A short message for an exception raised while the user's module was imported: where,
    what, and the fix when it is a known one, instead of the frames of the import machinery."""
    import traceback

    from .errors import SetupError

    here = str(Path(__file__).resolve().parent)
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if not frame.filename.startswith(("<", here))
        and "importlib" not in Path(frame.filename).parts
    ]
    where = ""
    if frames:
        frame = frames[-1]
        try:
            filename = os.path.relpath(frame.filename)
        except ValueError:  # pragma: no cover - another drive on Windows
            filename = frame.filename
        where = f"{filename}:{frame.lineno}: "
    message = f"{where}{type(error).__name__}: {error}"
    if isinstance(error, ModuleNotFoundError) and error.name:
        package = error.name.split(".")[0]
        message += (
            f". Install it where you run ddbstream (python -m pip install {package}), and add "
            "it to the function's requirements.txt so that Lambda has it too"
        )
    elif isinstance(error, SetupError) and "a handler must be callable, got '" in str(error):
        name = str(error).rpartition("got ")[2]
        message += (
            f". Filters are keyword arguments: write @app.on_modify(changed={name}) (or where=, "
            "new=, old=) rather than @app.on_modify(" + name + ")"
        )
    return CommandError(message)


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _import_file(path: Path) -> Any:
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    directory = str(path.resolve().parent)
    if directory not in sys.path:
        sys.path.insert(0, directory)  # so the file's own sibling imports work, as in Lambda
    name = f"_ddbstream_cli_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CommandError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise _import_failed(error) from None
    return module


def _attribute(module: Any, attribute: str, spec: str) -> Any:
    try:
        return getattr(module, attribute)
    except AttributeError:
        found = [name for name, value in vars(module).items() if isinstance(value, App)]
        hint = f"; it has the App {', '.join(found)}" if found else ""
        raise CommandError(
            f"{spec}: module {module.__name__} has no attribute {attribute!r}{hint}"
        ) from None


# --- output ----------------------------------------------------------------------------------


def _print_outcome(outcome: Outcome, batch: Batch, *, reporting: bool) -> None:
    source, raws = batch.source, batch.records
    total = len(raws)
    rows = [("#", "eventID", "event", "sequence number", "outcome", "routes run")]
    for number, record in enumerate(outcome.records, start=1):
        ran = outcome.routes_run(record)
        status = "ok" if ran else "ok (no route)"
        if record is outcome.failed_record:
            status = "FAILED"
        rows.append(
            (
                str(number),
                str(record.event_id),
                record.event_name,
                str(record.sequence_number),
                status,
                ", ".join(ran) or "-",
            )
        )
    started = len(outcome.records)
    if outcome.error is not None and outcome.failed_record is None and started < total:
        # The record failed before it could be read (malformed): it has no Record.
        rows.append((*_raw_cells(source, raws, started), "FAILED (unreadable)", "-"))
        started += 1
    # The time guard stops before a record without an error: it and the rest were not started.
    out_of_time = outcome.error is None and bool(outcome.failures)
    for index in range(started, total):
        status = "not run: out of time" if out_of_time else "not run"
        rows.append((*_raw_cells(source, raws, index), status, "-"))
    _print_table(rows)
    summary = f"\n{outcome.processed} of {total} records processed"
    if out_of_time:
        summary += f"; {total - started} stopped by the time guard before they started"
    elif outcome.failures:
        summary += f"; record {started} (eventID {_raw_cells(source, raws, started - 1)[1]}) failed"
    if outcome.failures and reporting:
        summary += f", {len(outcome.failures)} reported as failed"
    print(_printable(summary))


def _printable(text: str) -> str:
    """*text* with lone surrogates (JSON allows them in an eventID) written as escapes:
    printing them would fail."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _raw_cells(source: Source, raws: list[Any], index: int) -> tuple[str, str, str, str]:
    """Position, eventID, event name and identifier of a record read from its raw form."""
    raw = raws[index]
    fields = raw if isinstance(raw, dict) else {}
    identifier = source.identifier_or_none(raw)
    return (
        str(index + 1),
        str(fields.get("eventID", "?")),
        str(fields.get("eventName", "?")),
        identifier or "?",
    )


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    rows = [[_printable(cell) for cell in row] for row in rows]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _location(function: Any) -> str:
    code = getattr(function, "__code__", None)
    if code is None:
        return "-"
    try:
        filename = os.path.relpath(code.co_filename)
    except ValueError:  # pragma: no cover - another drive on Windows
        filename = code.co_filename
    return f"{filename}:{code.co_firstlineno}"


def lambda_json(value: Any) -> str:
    """*value* as JSON, the way Lambda's Python runtime encodes a handler's response.

    A ``Decimal`` (in a window's state, say) is written as the exact number it holds, as the
    runtime does; the next invocation then reads it back as an ``int`` or a ``float``.

    Raises:
        TypeError: *value* holds something JSON has no form for (a set, bytes...), named
            by its path.
    """
    from decimal import Decimal

    def encode(value: Any, path: str) -> str:
        if isinstance(value, Decimal):
            return "NaN" if value.is_nan() else str(value)  # as the runtime writes them
        if isinstance(value, dict):
            members = (
                f"{json.dumps(str(name))}: {encode(member, f'{path}.{name}')}"
                for name, member in value.items()
            )
            return "{" + ", ".join(members) + "}"
        if isinstance(value, (list, tuple)):
            items = (encode(item, f"{path}[{index}]") for index, item in enumerate(value))
            return "[" + ", ".join(items) + "]"
        try:
            return json.dumps(value)
        except TypeError:
            raise TypeError(f"{path} is a {type(value).__name__}") from None

    return encode(value, "response")


def _read_json(source: str) -> Any:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise CommandError(f"cannot read the event: {error}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(f"{source} is not JSON: {error}") from None


def _read_text(source: str) -> str:
    try:
        return sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise CommandError(f"cannot read the message: {error}") from None


class _Context:
    """A stand-in for Lambda's context with a deadline, for ``invoke --timeout``."""

    def __init__(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds
        self.function_name = "ddbstream-invoke"
        self.aws_request_id = "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
