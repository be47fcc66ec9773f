"""The ``ddbstream`` command: ``invoke`` and ``routes``, and ``python -m ddbstream``."""

from __future__ import annotations

import importlib.metadata
import io
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import ROOT, LoadEvent
from ddbstream import App
from ddbstream.cli import lambda_json, load_app, main

EXAMPLES = ROOT / "examples"
EXAMPLE_APP = f"{EXAMPLES / 'lambda_function.py'}:app"
EXAMPLE_EVENT = str(EXAMPLES / "event.json")

FAILING_APP = """
from ddbstream import App

app = App(report_batch_item_failures={report})

@app.on_insert
def inserted(record):
    print("inserted", record.keys["Id"])

@app.on_modify
def modified(record):
    raise ValueError("cannot modify " + str(record.keys["Id"]))

@app.on_remove
def removed(record):
    print("removed", record.keys["Id"])

handler = app.handler
"""


@pytest.fixture(autouse=True)
def isolated_imports(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Undo what the command does to sys.path and sys.modules, so each test imports afresh."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if not name.startswith("ddbstream"):
            del sys.modules[name]


def invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command; return its exit status, standard output and standard error."""
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def table(output: str) -> list[list[str]]:
    """The outcome or routes table: the header, then each row split at the header's columns."""
    lines = output.splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith("#  "))
    header = lines[header_at]
    starts = [0] + [
        i + 2 for i in range(len(header) - 2) if header[i : i + 2] == "  " and header[i + 2] != " "
    ]
    rows = []
    for line in lines[header_at:]:
        if not line.strip():
            break
        padded = line.ljust(len(header) + 200)
        bounds = [*starts[1:], len(padded)]
        rows.append([padded[start:end].strip() for start, end in zip(starts, bounds, strict=True)])
    return rows


def write_app(folder: Path, source: str, name: str = "lambda_function.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


class TestInvoke:
    def test_example(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The example app on AWS's sample event prints one ok row per record and exits 0."""
        status, out, err = invoke(capsys, "invoke", EXAMPLE_APP, EXAMPLE_EVENT)

        assert status == 0
        assert err == ""
        assert table(out) == [
            ["#", "eventID", "event", "sequence number", "outcome", "routes run"],
            ["1", "1", "INSERT", "111", "ok", "inserted"],
            ["2", "2", "MODIFY", "222", "ok", "modified"],
            ["3", "3", "REMOVE", "333", "ok", "removed"],
        ]
        assert "INSERT: new Message 'New item!'" in out
        assert "3 of 3 records processed" in out
        assert 'response: {"batchItemFailures": []}' in out

    def test_lambda_handler_setting(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """``lambda_function.handler`` resolves from the current folder, as Lambda does."""
        monkeypatch.chdir(EXAMPLES)

        status, out, _ = invoke(capsys, "invoke", "lambda_function.handler", "event.json")

        assert status == 0
        assert [row[4] for row in table(out)[1:]] == ["ok", "ok", "ok"]

    def test_app_attribute_setting(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """``module.app`` names the App itself, which works too."""
        monkeypatch.chdir(EXAMPLES)

        status, _, _ = invoke(capsys, "invoke", "lambda_function.app", "event.json")

        assert status == 0

    @pytest.mark.parametrize("report", [False, True])
    def test_failing_handler(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path, report: bool
    ) -> None:
        """A failure exits 1 with a FAILED row, later records not run and the traceback."""
        app_file = write_app(tmp_path, FAILING_APP.format(report=report))

        status, out, err = invoke(capsys, "invoke", f"{app_file}:app", EXAMPLE_EVENT)

        assert status == 1
        rows = table(out)
        assert rows[1][4] == "ok"
        assert rows[2][:5] == ["2", "2", "MODIFY", "222", "FAILED"]
        assert rows[3] == ["3", "3", "REMOVE", "333", "not run", "-"]
        if report:
            assert "1 of 3 records processed; record 2 (eventID 2) failed, 1 reported" in out
        else:  # nothing is reported: the handler raises
            assert "1 of 3 records processed; record 2 (eventID 2) failed\n" in out
            assert "reported" not in out
        assert "ValueError: cannot modify 101" in err
        assert "ddbstream: record 2 of 3 failed, eventID '2', SequenceNumber '222'" in err
        assert err.count("Traceback") == 1
        assert "removed" not in out
        if report:
            assert 'response: {"batchItemFailures": [{"itemIdentifier": "222"}]}' in out
        else:
            assert "Lambda would retry the whole batch" in out

    def test_malformed_record(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A record that cannot be read shows as a FAILED row with what is known of it."""
        event = json.loads(Path(EXAMPLE_EVENT).read_text(encoding="utf-8"))
        event["Records"][1]["eventName"] = "UPSERT"
        event_file = tmp_path / "event.json"
        event_file.write_text(json.dumps(event), encoding="utf-8")

        status, out, err = invoke(capsys, "invoke", EXAMPLE_APP, str(event_file))

        assert status == 1
        rows = table(out)
        assert rows[2] == ["2", "2", "UPSERT", "222", "FAILED (unreadable)", "-"]
        assert rows[3] == ["3", "3", "REMOVE", "333", "not run", "-"]
        assert "unknown eventName 'UPSERT'" in err

    def test_timeout(self, capsys: pytest.CaptureFixture[str]) -> None:
        """``--timeout`` drives the time guard: with no time left only the first record runs."""
        status, out, _ = invoke(capsys, "invoke", "--timeout", "0", EXAMPLE_APP, EXAMPLE_EVENT)

        assert status == 1
        assert [row[4] for row in table(out)[1:]] == [
            "ok",
            "not run: out of time",
            "not run: out of time",
        ]
        assert "2 stopped by the time guard before they started\n" in out
        assert "reported" not in out  # the example app raises: nothing is reported

    def test_generous_timeout(self, capsys: pytest.CaptureFixture[str]) -> None:
        """With time enough every record runs."""
        status, _, _ = invoke(capsys, "invoke", "--timeout", "900", EXAMPLE_APP, EXAMPLE_EVENT)

        assert status == 0

    def test_event_from_standard_input(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """EVENT ``-`` reads the event from standard input."""
        monkeypatch.setattr(sys, "stdin", io.StringIO(Path(EXAMPLE_EVENT).read_text("utf-8")))

        status, out, _ = invoke(capsys, "invoke", EXAMPLE_APP, "-")

        assert status == 0
        assert "3 of 3 records processed" in out

    def test_record_without_route(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A record no route wants is ok, marked as such."""
        app_file = write_app(tmp_path, "from ddbstream import App\napp = App()\n")

        status, out, _ = invoke(capsys, "invoke", f"{app_file}:app", EXAMPLE_EVENT)

        assert status == 0
        assert [row[4] for row in table(out)[1:]] == ["ok (no route)"] * 3


class TestInvokeEventShapes:
    def test_tumbling_window_state(
        self, capsys: pytest.CaptureFixture[str], load_event: LoadEvent, tmp_path: Path
    ) -> None:
        """For a tumbling-window event the response shows the state returned to Lambda."""
        event_file = tmp_path / "window.json"
        event = load_event("aws_lambda_docs_with_ddb_time_window_event.json")
        event_file.write_text(json.dumps(event), encoding="utf-8")

        status, out, _ = invoke(capsys, "invoke", EXAMPLE_APP, str(event_file))

        assert status == 0
        response = json.loads(out.split("response: ", 1)[1])
        assert response == {"batchItemFailures": [], "state": event["state"]}

    @pytest.mark.parametrize(
        ("total", "expected"),
        [("5", '"state": {"total": 5}'), ("12.50", '"state": {"total": 12.50}')],
    )
    def test_window_state_with_decimals(
        self,
        capsys: pytest.CaptureFixture[str],
        load_event: LoadEvent,
        tmp_path: Path,
        total: str,
        expected: str,
    ) -> None:
        """A Decimal in the state is shown as the exact number Lambda's runtime would send."""
        event = load_event("aws_lambda_docs_with_ddb_time_window_event.json")
        event["state"] = {}
        event_file = tmp_path / "window.json"
        event_file.write_text(json.dumps(event), encoding="utf-8")
        app_file = write_app(
            tmp_path,
            f"""
            from decimal import Decimal
            from ddbstream import App

            app = App()

            @app.on("INSERT", "MODIFY", "REMOVE")
            def add(record):
                app.window.state["total"] = Decimal("{total}")
            """,
            name="window_app.py",
        )

        status, out, _ = invoke(capsys, "invoke", f"{app_file}:app", str(event_file))

        assert status == 0
        assert expected in out

    def test_window_state_json_cannot_hold(
        self, capsys: pytest.CaptureFixture[str], load_event: LoadEvent, tmp_path: Path
    ) -> None:
        """A state Lambda could not encode is named by its path, and invoke fails."""
        event = load_event("aws_lambda_docs_with_ddb_time_window_event.json")
        event_file = tmp_path / "window.json"
        event_file.write_text(json.dumps(event), encoding="utf-8")
        app_file = write_app(
            tmp_path,
            """
            from ddbstream import App

            app = App()

            @app.on("INSERT", "MODIFY", "REMOVE")
            def add(record):
                app.window.state["seen"] = {"a"}
            """,
            name="window_app.py",
        )

        status, out, _ = invoke(capsys, "invoke", f"{app_file}:app", str(event_file))

        assert status == 1
        assert "could not encode it as JSON: response.state.seen is a set" in out

    def test_pipes_list(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A bare list of records (EventBridge Pipes) is counted and run too."""
        records = json.loads(Path(EXAMPLE_EVENT).read_text(encoding="utf-8"))["Records"]
        event_file = tmp_path / "pipes.json"
        event_file.write_text(json.dumps(records), encoding="utf-8")

        status, out, _ = invoke(capsys, "invoke", EXAMPLE_APP, str(event_file))

        assert status == 0
        assert "3 of 3 records processed" in out

    def test_pipes_failure_is_marked_on_its_row(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """A failed Pipes record is marked FAILED though Pipes reports it by eventID."""
        records = json.loads(Path(EXAMPLE_EVENT).read_text(encoding="utf-8"))["Records"]
        event_file = tmp_path / "pipes.json"
        event_file.write_text(json.dumps(records), encoding="utf-8")
        app_file = write_app(
            tmp_path,
            """
            from ddbstream import App

            app = App(report_batch_item_failures=True)
            app.on_modify(name="boom")(lambda record: 1 / 0)
            """,
            name="pipes_app.py",
        )

        status, out, _ = invoke(capsys, "invoke", f"{app_file}:app", str(event_file))

        assert status == 1
        assert [row[4] for row in table(out)[1:]] == ["ok (no route)", "FAILED", "not run"]
        assert 'response: {"batchItemFailures": [{"itemIdentifier": "2"}]}' in out


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=5)
    | st.decimals(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=10,
)


class TestLambdaJson:
    @given(JSON_VALUES)
    def test_exact_round_trip(self, value: Any) -> None:
        """What the runtime would send parses back to the same values, Decimals exactly."""
        text = lambda_json(value)

        assert json.loads(text, parse_float=Decimal) == value

    def test_special_decimals(self) -> None:
        """NaN (quiet or signalling) and infinities are written as the runtime writes them."""
        values = [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity")]

        assert lambda_json(values) == "[NaN, NaN, Infinity, -Infinity]"

    def test_names_what_json_cannot_hold(self) -> None:
        """A value JSON has no form for is named by its path."""
        with pytest.raises(TypeError, match=r"response\.state\.seen\[1\] is a bytes"):
            lambda_json({"state": {"seen": [1, b"x"]}})


class TestInvokeProblems:
    def test_handler_setting_through_the_app(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """``lambda_function.app.handler`` fails in Lambda; the message says why and what to do."""
        monkeypatch.chdir(EXAMPLES)

        status, out, err = invoke(capsys, "invoke", "lambda_function.app.handler", "event.json")

        assert status == 2
        assert out == ""
        assert "Lambda would fail on the handler setting 'lambda_function.app.handler'" in err
        assert "splits the setting at its last dot" in err
        assert "handler = app.handler" in err
        assert "lambda_function.handler" in err

    def test_missing_module(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """A module that does not exist is a one-line error, exit 2."""
        monkeypatch.chdir(tmp_path)

        status, _, err = invoke(capsys, "invoke", "no_such_module.handler", EXAMPLE_EVENT)

        assert status == 2
        assert err.startswith("ddbstream: cannot import module 'no_such_module'")
        assert "run from the folder that holds no_such_module.py" in err

    def test_missing_package_module(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """A dotted module whose package does not exist either is not the app.handler mistake."""
        monkeypatch.chdir(tmp_path)

        status, _, err = invoke(capsys, "invoke", "nowhere.sub.handler", EXAMPLE_EVENT)

        assert status == 2
        assert "cannot import module 'nowhere.sub'" in err

    def test_missing_attribute(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A missing attribute is named, with the App the module does have."""
        monkeypatch.chdir(EXAMPLES)

        status, _, err = invoke(capsys, "invoke", "lambda_function.main", "event.json")

        assert status == 2
        assert "module lambda_function has no attribute 'main'; it has the App app" in err

    def test_missing_attribute_without_app(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """Without any App in the module there is no hint."""
        app_file = write_app(tmp_path, "x = 1\n", "empty.py")

        status, _, err = invoke(capsys, "invoke", f"{app_file}:app", EXAMPLE_EVENT)

        assert status == 2
        assert err.rstrip().endswith("has no attribute 'app'")

    def test_not_an_app(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A function Lambda could not call with (event, context) is refused, saying why."""
        monkeypatch.chdir(EXAMPLES)

        status, _, err = invoke(capsys, "invoke", "lambda_function.inserted", "event.json")

        assert status == 2
        assert "Lambda could not call lambda_function.inserted" in err
        assert "(event, context), but its signature is inserted(record)" in err

    @pytest.mark.parametrize(
        "setting",
        ["lambda_function", ".handler", "lambda_function.", ".x.handler", "a..handler", "a.b-c"],
    )
    def test_not_a_handler_setting(self, capsys: pytest.CaptureFixture[str], setting: str) -> None:
        """A setting without module and attribute is explained."""
        status, _, err = invoke(capsys, "invoke", setting, EXAMPLE_EVENT)

        assert status == 2
        assert "is not a Lambda handler setting: write module.function" in err

    def test_lookup_error_counts_as_missing(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A package that breaks while being looked up gets the plain import error."""
        monkeypatch.chdir(EXAMPLES)

        def broken(name: str) -> None:
            raise ImportError(name)

        monkeypatch.setattr("importlib.util.find_spec", broken)

        status, _, err = invoke(capsys, "invoke", "lambda_function.app.handler", "event.json")

        assert status == 2
        assert "cannot import module 'lambda_function.app'" in err

    def test_not_a_python_file(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A path:app whose file Python cannot import is refused."""
        text_file = tmp_path / "app.txt"
        text_file.write_text("app = 1\n", encoding="utf-8")

        status, _, err = invoke(capsys, "invoke", f"{text_file}:app", EXAMPLE_EVENT)

        assert status == 2
        assert f"cannot import {text_file}" in err

    def test_missing_file(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A path:app whose file does not exist is named."""
        status, _, err = invoke(capsys, "invoke", f"{tmp_path / 'nope.py'}:app", EXAMPLE_EVENT)

        assert status == 2
        assert "no such file" in err

    def test_invalid_json(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """An event file that is not JSON is a one-line error naming it."""
        bad = tmp_path / "event.json"
        bad.write_text('{"Records": [', encoding="utf-8")

        status, out, err = invoke(capsys, "invoke", EXAMPLE_APP, str(bad))

        assert status == 2
        assert out == ""
        assert err.startswith(f"ddbstream: {bad} is not JSON:")

    def test_unreadable_event(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """An event file that cannot be read is a one-line error."""
        status, _, err = invoke(capsys, "invoke", EXAMPLE_APP, str(tmp_path / "missing.json"))

        assert status == 2
        assert "cannot read the event" in err

    def test_not_a_stream_event(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """An event that is no stream batch is reported as such, exit 2."""
        event_file = tmp_path / "sqs.json"
        event_file.write_text(json.dumps({"Records": [{"eventSource": "aws:sqs"}]}), "utf-8")

        status, _, err = invoke(capsys, "invoke", EXAMPLE_APP, str(event_file))

        assert status == 2
        assert "records come from 'aws:sqs'" in err

    def test_no_command(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Without a command, the help listing every command is printed; the status is 2."""
        status, out, _ = invoke(capsys)

        assert status == 2
        assert "usage: ddbstream" in out
        for command in ("invoke", "routes", "filter-criteria", "tail"):
            assert f"    {command}" in out


class TestRoutes:
    def test_example(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """``routes`` lists the routes in the order they run, with where they are defined."""
        monkeypatch.chdir(EXAMPLES)

        status, out, _ = invoke(capsys, "routes", "lambda_function.handler")

        assert status == 0
        assert table(out) == [
            ["#", "events", "route", "filters", "defined at"],
            ["1", "INSERT", "inserted", "-", "lambda_function.py:15"],
            ["2", "MODIFY", "modified", "-", "lambda_function.py:21"],
            ["3", "REMOVE", "removed", "-", "lambda_function.py:28"],
        ]

    def test_filters_and_fallbacks(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """Filters are shown as given, fallbacks as unmatched rows."""
        app_file = write_app(
            tmp_path,
            """
            from ddbstream import App

            app = App()
            app.on_modify(changed="status", name="status")(lambda record: None)
            app.on("INSERT", "REMOVE")(print)

            @app.on_unmatched
            def other(record):
                pass
            """,
        )

        status, out, _ = invoke(capsys, "routes", f"{app_file}:app")

        assert status == 0
        rows = table(out)
        assert rows[1][:4] == ["1", "MODIFY", "status", "changed='status'"]
        assert rows[2] == ["2", "INSERT,REMOVE", "print", "-", "-"]
        assert rows[3][:3] == ["-", "unmatched", "other"]

    def test_no_routes(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """An app without routes says so."""
        app_file = write_app(tmp_path, "import ddbstream\napp = ddbstream.App()\n")

        status, out, _ = invoke(capsys, "routes", f"{app_file}:app")

        assert (status, out) == (0, "no routes\n")


class TestLoadApp:
    def test_file_and_handler_give_the_same_app(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """``file.py:handler`` finds the App behind an exported handler."""
        app = load_app(f"{EXAMPLES / 'lambda_function.py'}:handler")

        assert isinstance(app, App)
        assert [route.name for route in app.routes] == ["inserted", "modified", "removed"]


class TestImportPaths:
    def test_sibling_imports(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A handler file can import modules beside it, as in Lambda; its folder is added once."""
        (tmp_path / "messages.py").write_text("GREETING = 'hello'\n", encoding="utf-8")
        app_file = write_app(
            tmp_path,
            """
            from messages import GREETING
            from ddbstream import App

            app = App()
            app.on_insert(lambda record: print(GREETING))
            """,
        )

        for _ in range(2):
            status, out, _ = invoke(capsys, "invoke", f"{app_file}:app", EXAMPLE_EVENT)
            assert status == 0
            assert "hello" in out
        assert sys.path.count(str(tmp_path)) == 1

    def test_working_folder_already_on_the_path(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """When the working folder is on sys.path already, it is not added again."""
        monkeypatch.chdir(EXAMPLES)
        monkeypatch.syspath_prepend(str(EXAMPLES))

        status, _, _ = invoke(capsys, "routes", "lambda_function.handler")

        assert status == 0
        assert sys.path.count(str(EXAMPLES)) == 1


class TestModule:
    def test_main_module_in_process(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Running ddbstream as __main__ exits with the command's status."""
        import runpy

        monkeypatch.setattr(sys, "argv", ["ddbstream", "routes", EXAMPLE_APP])
        monkeypatch.delitem(sys.modules, "ddbstream.__main__", raising=False)

        with pytest.raises(SystemExit) as caught:
            runpy.run_module("ddbstream", run_name="__main__")

        assert caught.value.code == 0
        assert "inserted" in capsys.readouterr().out

    def test_importing_main_runs_nothing(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Importing ddbstream.__main__ (not running it) does nothing."""
        import importlib

        monkeypatch.delitem(sys.modules, "ddbstream.__main__", raising=False)

        module = importlib.import_module("ddbstream.__main__")
        monkeypatch.delitem(sys.modules, "ddbstream.__main__")

        assert module.main is main
        assert capsys.readouterr() == ("", "")

    def test_python_m_ddbstream(self) -> None:
        """``python -m ddbstream`` runs the same command line."""
        result = subprocess.run(
            [sys.executable, "-m", "ddbstream", "invoke", EXAMPLE_APP, EXAMPLE_EVENT],
            capture_output=True,
            text=True,
            check=False,
        )

        assert result.returncode == 0, result.stderr
        assert "3 of 3 records processed" in result.stdout

    def test_python_m_ddbstream_failure_status(self, tmp_path: Path) -> None:
        """Its exit status is the command's."""
        result = subprocess.run(
            [sys.executable, "-m", "ddbstream", "routes", str(tmp_path / "x.py:app")],
            capture_output=True,
            text=True,
            check=False,
        )

        assert result.returncode == 2
        assert "no such file" in result.stderr

    def test_help(self) -> None:
        """``--help`` lists the invoke and routes commands."""
        result = subprocess.run(
            [sys.executable, "-m", "ddbstream", "--help"],
            capture_output=True,
            text=True,
            check=True,
        )

        assert "invoke" in result.stdout
        assert "routes" in result.stdout


def test_table_helper() -> None:
    """The table helper splits rows at the header's columns, empty cells included."""
    output = "noise\n#  name   b\n1  x      y\n2         z\n\nsummary\n"

    assert table(output) == [["#", "name", "b"], ["1", "x", "y"], ["2", "", "z"]]


# --- the first hour (issue 17) ----------------------------------------------------------------

WRAPPER_APP = """
from ddbstream import App

app = App()

@app.on_insert
def inserted(record):
    print("inserted", record.keys["Id"])

def handler(event, context):
    print("wrapper runs first")
    app.handler(event, context)
    return {"wrapped": True}

def broken(event, context):
    raise RuntimeError("the wrapper fails")

CONFIG = {"table": "orders"}
"""


class TestVersion:
    def test_version_option(self, capsys: pytest.CaptureFixture[str]) -> None:
        """``ddbstream --version`` prints the installed version and exits 0."""
        with pytest.raises(SystemExit) as caught:
            main(["--version"])

        assert caught.value.code == 0
        assert capsys.readouterr().out == f"ddbstream {importlib.metadata.version('ddbstream')}\n"

    def test_dunder_version(self) -> None:
        """``ddbstream.__version__`` is the installed distribution's version."""
        import ddbstream

        assert ddbstream.__version__ == importlib.metadata.version("ddbstream")
        with pytest.raises(AttributeError, match="no attribute 'nope'"):
            ddbstream.nope  # noqa: B018

    def test_version_is_read_lazily(self) -> None:
        """``import ddbstream`` does not import importlib.metadata; ``__version__`` does."""
        code = (
            "import sys, ddbstream; before = 'importlib.metadata' in sys.modules; "
            "ddbstream.__version__; print(before, 'importlib.metadata' in sys.modules)"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )

        assert result.stdout == "False True\n"

    @pytest.mark.parametrize("command", ["invoke", "routes", "filter-criteria", "tail"])
    def test_every_command_help_has_a_description(
        self, capsys: pytest.CaptureFixture[str], command: str
    ) -> None:
        """Each subcommand's ``--help`` has a paragraph saying what it does, after its usage."""
        with pytest.raises(SystemExit) as caught:
            main([command, "--help"])

        assert caught.value.code == 0
        paragraphs = capsys.readouterr().out.split("\n\n")
        assert paragraphs[0].startswith(f"usage: ddbstream {command}")
        description = paragraphs[1]
        assert not description.startswith(("positional arguments", "options")), description
        assert len(description.split()) >= 8


class TestInvokeResolvesAsLambda:
    def test_wrapper_function_runs_itself(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """A plain function calling the app runs, wrapper and all; its response is printed."""
        write_app(tmp_path, WRAPPER_APP)

        status, out, err = invoke(
            capsys, "invoke", f"{tmp_path / 'lambda_function.py'}:handler", EXAMPLE_EVENT
        )

        assert status == 0, err
        assert out.startswith("wrapper runs first\ninserted 101\n")
        assert out.endswith('\nresponse: {"wrapped": true}\n')
        assert "not a ddbstream App's handler: calling it as Lambda would" in err

    def test_wrapper_function_that_raises(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """A wrapper that raises exits 1 with its traceback, as Lambda would retry the batch."""
        write_app(tmp_path, WRAPPER_APP)

        status, out, err = invoke(
            capsys, "invoke", f"{tmp_path / 'lambda_function.py'}:broken", EXAMPLE_EVENT
        )

        assert status == 1
        assert "RuntimeError: the wrapper fails" in err
        assert "the handler raised: Lambda would retry the whole batch" in out

    def test_wrapper_response_json_cannot_hold(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """A wrapper returning what JSON cannot hold exits 1, naming it."""
        write_app(tmp_path, "def handler(event, context):\n    return {'ids': {1}}\n")

        status, out, _ = invoke(
            capsys, "invoke", f"{tmp_path / 'lambda_function.py'}:handler", EXAMPLE_EVENT
        )

        assert status == 1
        assert "could not encode it as JSON: response.ids is a set" in out

    def test_the_app_object_works(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """``lambda_function.app`` runs the app (app(event, context) is app.handler's call)."""
        monkeypatch.chdir(EXAMPLES)

        status, out, _ = invoke(capsys, "invoke", "lambda_function.app", "event.json")

        assert status == 0
        assert [row[4] for row in table(out)[1:]] == ["ok", "ok", "ok"]
        assert "3 of 3 records processed" in out

    def test_not_callable_is_refused(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """An attribute Lambda could not call exits 2 and says what it is."""
        write_app(tmp_path, WRAPPER_APP)

        status, out, err = invoke(
            capsys, "invoke", f"{tmp_path / 'lambda_function.py'}:CONFIG", EXAMPLE_EVENT
        )

        assert status == 2
        assert out == ""
        assert "Lambda could not call" in err
        assert "it is a dict ({'table': 'orders'}), not a function" in err

    def test_routes_of_a_wrapper_are_its_modules_app(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """``routes`` on a wrapper lists the routes of the one App its module defines."""
        write_app(tmp_path, WRAPPER_APP)

        status, out, _ = invoke(capsys, "routes", f"{tmp_path / 'lambda_function.py'}:handler")

        assert status == 0
        assert table(out)[1][:3] == ["1", "INSERT", "inserted"]

    def test_routes_of_a_function_without_app(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """``routes`` on a function whose module has no App says it is not an App."""
        write_app(tmp_path, "def handler(event, context):\n    return None\n")

        status, _, err = invoke(capsys, "routes", f"{tmp_path / 'lambda_function.py'}:handler")

        assert status == 2
        assert "not a ddbstream App or its handler" in err


class TestImportTimeErrors:
    def test_setup_error_names_file_line_and_fix(
        self,
        capsys: pytest.CaptureFixture[str],
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """``@app.on_modify("status")`` exits 2 with the line and the changed= fix, no frames."""
        write_app(
            tmp_path,
            """\
            from ddbstream import App
            app = App()

            @app.on_modify("status")
            def f(record):
                pass

            handler = app.handler
            """,
        )
        monkeypatch.chdir(tmp_path)

        status, out, err = invoke(capsys, "invoke", "lambda_function.handler", EXAMPLE_EVENT)

        assert status == 2
        assert out == ""
        assert err.startswith("ddbstream: lambda_function.py:4: SetupError: ")
        assert "@app.on_modify(changed='status')" in err
        assert "Traceback" not in err
        assert "folder" not in err
        assert len(err.splitlines()) == 1

    def test_missing_dependency(
        self,
        capsys: pytest.CaptureFixture[str],
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A dependency the module imports but the environment lacks: exit 2, what to install."""
        write_app(tmp_path, "import ddbstream\nimport not_installed_anywhere.sub\n")
        monkeypatch.chdir(tmp_path)

        status, _, err = invoke(capsys, "invoke", "lambda_function.handler", EXAMPLE_EVENT)

        assert status == 2
        assert err.startswith("ddbstream: lambda_function.py:2: ModuleNotFoundError: ")
        assert "python -m pip install not_installed_anywhere" in err
        assert "requirements.txt" in err
        assert "folder" not in err
        assert "Traceback" not in err

    def test_any_error_of_the_file_form(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """Through path/to/file.py:app too, an error at import names the file and line."""
        write_app(tmp_path, "x = 1\nundefined_name\n")

        status, _, err = invoke(capsys, "routes", f"{tmp_path / 'lambda_function.py'}:app")

        assert status == 2
        assert "lambda_function.py:2: NameError: name 'undefined_name' is not defined" in err
        assert "Traceback" not in err

    def test_a_setup_error_without_a_known_fix(
        self,
        capsys: pytest.CaptureFixture[str],
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Other SetupErrors are shown as they are, with their line."""
        write_app(
            tmp_path,
            "from ddbstream import App\napp = App()\napp.on_insert(ttl=True)(print)\n",
        )
        monkeypatch.chdir(tmp_path)

        status, _, err = invoke(capsys, "routes", "lambda_function.handler")

        assert status == 2
        assert err.startswith("ddbstream: lambda_function.py:3: ")
        assert "changed=" not in err


class TestInvokeOutput:
    def test_record_without_dynamodb_is_named(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """A record lacking its dynamodb block is named by position and eventID."""
        event = json.loads(Path(EXAMPLE_EVENT).read_text(encoding="utf-8"))
        del event["Records"][1]["dynamodb"]
        event_file = tmp_path / "event.json"
        event_file.write_text(json.dumps(event), encoding="utf-8")

        status, out, err = invoke(capsys, "invoke", EXAMPLE_APP, str(event_file))

        assert status == 1
        assert table(out)[2] == ["2", "2", "MODIFY", "?", "FAILED (unreadable)", "-"]
        assert "record 2 (eventID 2) failed" in out
        assert "has no 'dynamodb' object" in err

    def test_decode_error_has_no_internal_context(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """A decode error's traceback shows the DecodeError alone, not the fast path's error."""
        event = json.loads(Path(EXAMPLE_EVENT).read_text(encoding="utf-8"))
        event["Records"][0]["dynamodb"]["NewImage"]["Id"] = {"N": "not a number"}
        event_file = tmp_path / "event.json"
        event_file.write_text(json.dumps(event), encoding="utf-8")

        status, _, err = invoke(capsys, "invoke", EXAMPLE_APP, str(event_file))

        assert status == 1
        assert "DecodeError: NewImage.Id: not a number: 'not a number'" in err
        assert "_UnexpectedValue" not in err
        assert "During handling of the above exception" not in err
        assert err.count("Traceback") == 1
