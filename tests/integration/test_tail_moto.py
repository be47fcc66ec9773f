"""``ddbstream tail`` against moto's server: live records, retries, exits, and errors."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import PAGE_EXAMPLES
from ddbstream import App, cli
from ddbstream.tail import StreamTail

from .test_streams_moto import to_dynamodb

CreateTable = Callable[..., Any]
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
UPDATE_DOCS = os.environ.get("DDBSTREAM_UPDATE_DOCS") == "1"
FAST = ["--poll-interval", "0.02"]

FLAKY_APP = """
from ddbstream import App

app = App(report_batch_item_failures={report})
attempts = {{}}


@app.on_insert
def flaky(record):
    key = record.keys["pk"]
    attempts[key] = attempts.get(key, 0) + 1
    if key == "k2" and attempts[key] <= {failures}:
        raise RuntimeError(f"k2 attempt {{attempts[key]}}")
    print("handled", key)
"""


def write_app(folder: Path, *, report: bool, failures: int) -> str:
    """Write an app whose handler fails on key k2 the first *failures* times."""
    path = folder / f"flaky_{report}_{failures}.py"
    path.write_text(textwrap.dedent(FLAKY_APP.format(report=report, failures=failures)))
    return f"{path}:app"


def put_keys(dynamodb: Any, table: Any, *keys: str) -> None:
    for key in keys:
        dynamodb.put_item(TableName=table.name, Item=to_dynamodb({"pk": key}))


def run_tail(handler: str, table: str, endpoint: str, *options: str) -> int:
    """Run `ddbstream tail` in this process; return its exit status."""
    return cli.main(["tail", handler, "--table", table, "--endpoint-url", endpoint, *options])


def handled(output: str) -> list[str]:
    return [line.split()[1] for line in output.splitlines() if line.startswith("handled ")]


class TestTailCommand:
    def test_runs_the_example_app(
        self,
        create_table: CreateTable,
        moto_endpoint: str,
        load_example: Any,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """tail runs the docs' local app on the docs' writes and prints a line per record."""
        local_table = load_example("local_table")
        name = create_table().name + "-orders"
        local_table.orders_table(moto_endpoint, name)
        local_table.write_orders(moto_endpoint, name)
        handler = str(PAGE_EXAMPLES / "local_app.py") + ":app"

        status = run_tail(handler, name, moto_endpoint, "--idle-exit", "0.2", *FAST)

        output = capsys.readouterr().out
        assert status == 0
        assert "new order o-1 for 19.90" in output
        assert "order o-1 NEW -> SHIPPED" in output
        lines = [line.split("  ")[1:] for line in output.splitlines() if line.endswith("ok")]
        assert lines == [
            ["INSERT", "orderId='o-1'", "new_order", "ok"],
            ["MODIFY", "orderId='o-1'", "shipped", "ok"],
            ["REMOVE", "orderId='o-1'", "removed", "ok"],
        ]
        assert "no new records for 0.2s, stopping" in output

    def test_report_mode_retries_from_the_failed_record(
        self,
        tmp_path: Path,
        create_table: CreateTable,
        dynamodb: Any,
        moto_endpoint: str,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """With report mode a failed record is retried alone; records before it run once."""
        table = create_table()
        put_keys(dynamodb, table, "k1", "k2", "k3")
        handler = write_app(tmp_path, report=True, failures=2)

        status = run_tail(handler, table.name, moto_endpoint, "--max-records", "3", *FAST)

        output = capsys.readouterr().out
        assert status == 0
        assert handled(output) == ["k1", "k2", "k3"]
        assert output.count("FAILED  RuntimeError: k2 attempt") == 2
        assert output.count("): from record") == 2

    def test_default_mode_retries_the_whole_batch(
        self,
        tmp_path: Path,
        create_table: CreateTable,
        dynamodb: Any,
        moto_endpoint: str,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """Without report mode the whole batch is retried, so k1 runs again, as on Lambda."""
        table = create_table()
        put_keys(dynamodb, table, "k1", "k2", "k3")
        handler = write_app(tmp_path, report=False, failures=1)

        status = run_tail(handler, table.name, moto_endpoint, "--max-records", "3", *FAST)

        output = capsys.readouterr().out
        assert status == 0
        assert handled(output) == ["k1", "k1", "k2", "k3"]
        assert "(in 0.02s): the whole batch of 3 record(s)" in output

    def test_gives_up_after_max_retries(
        self,
        tmp_path: Path,
        create_table: CreateTable,
        dynamodb: Any,
        moto_endpoint: str,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """--max-retries skips the failing records after that many retries and exits 1."""
        table = create_table()
        put_keys(dynamodb, table, "k1", "k2", "k3")
        handler = write_app(tmp_path, report=True, failures=99)

        status = run_tail(
            handler, table.name, moto_endpoint, "--max-retries", "1", "--idle-exit", "0.1", *FAST
        )

        output = capsys.readouterr().out
        assert status == 1
        assert handled(output) == ["k1"]
        assert "giving up on 2 record(s) after 1 retries" in output

    def test_small_batches(
        self,
        create_table: CreateTable,
        dynamodb: Any,
        streams: Any,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """--batch-size 2 reads batches of two and still reaches every record."""
        table = create_table()
        put_keys(dynamodb, table, "a", "b", "c", "d", "e")
        batches: list[int] = []

        class Counting:
            def __getattr__(self, name: str) -> Any:
                return getattr(streams, name)

            def get_records(self, **arguments: Any) -> Any:
                response = streams.get_records(**arguments)
                if response["Records"]:
                    batches.append(len(response["Records"]))
                return response

        follower = StreamTail(
            App(),
            table=table.name,
            dynamodb=dynamodb,
            streams=Counting(),
            batch_size=2,
            poll_interval=0.02,
            max_records=5,
        )

        assert follower.run() == 0

        assert batches == [2, 2, 1]
        assert capsys.readouterr().out.count("(no route)  ok") == 5

    def test_from_latest_skips_older_records(
        self, create_table: CreateTable, dynamodb: Any, streams: Any
    ) -> None:
        """--from latest runs only on changes made after tail started."""
        table = create_table()
        put_keys(dynamodb, table, "old")
        app = App()
        seen: list[str] = []
        app.on_insert(lambda record: seen.append(record.keys["pk"]))

        def write_while_waiting(seconds: float) -> None:
            put_keys(dynamodb, table, f"new{len(seen)}")

        follower = StreamTail(
            app,
            table=table.name,
            dynamodb=dynamodb,
            streams=streams,
            start="latest",
            max_records=2,
            sleep=write_while_waiting,
            out=io.StringIO(),
        )

        status = follower.run()

        assert status == 0
        assert seen == ["new0", "new1"]

    def test_keyboard_interrupt_exits_0(
        self,
        tmp_path: Path,
        create_table: CreateTable,
        dynamodb: Any,
        moto_endpoint: str,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """Ctrl-C stops tail with exit status 0."""
        table = create_table()
        put_keys(dynamodb, table, "a")
        path = tmp_path / "interrupted.py"
        path.write_text(
            "from ddbstream import App\n\napp = App()\n\n\n@app.on_insert\ndef stop(record):\n"
            "    raise KeyboardInterrupt\n"
        )

        status = cli.main(
            ["tail", f"{path}:app", "--table", table.name, "--endpoint-url", moto_endpoint]
        )

        assert status == 0
        assert "stopped" in capsys.readouterr().err


class TestTailErrors:
    def test_table_without_stream(
        self,
        create_table: CreateTable,
        moto_endpoint: str,
        load_example: Any,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """A table without a stream is a one-line error that says how to turn it on."""
        table = create_table(stream=False)
        handler = str(PAGE_EXAMPLES / "local_app.py") + ":app"

        status = cli.main(["tail", handler, "--table", table.name, "--endpoint-url", moto_endpoint])

        error = capsys.readouterr().err
        assert status == 2
        assert f"table {table.name!r} has no stream" in error
        assert "--stream-specification StreamEnabled=true" in error

    def test_missing_table(self, moto_endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
        """A table that does not exist is named in a one-line error."""
        handler = str(PAGE_EXAMPLES / "local_app.py") + ":app"

        status = cli.main(["tail", handler, "--table", "nope", "--endpoint-url", moto_endpoint])

        assert status == 2
        assert "no table named 'nope'" in capsys.readouterr().err


class TestTailProcess:
    def test_python_m_ddbstream_tail(
        self, create_table: CreateTable, dynamodb: Any, moto_endpoint: str, tmp_path: Path
    ) -> None:
        """`python -m ddbstream tail` with a Lambda handler setting runs in a fresh process."""
        table = create_table()
        put_keys(dynamodb, table, "a", "b")
        (tmp_path / "lambda_function.py").write_text(
            "from ddbstream import App\n\napp = App()\napp.on_insert(lambda r: print('got', "
            "r.keys['pk']))\nhandler = app.handler\n"
        )
        environment = {
            name: value for name, value in os.environ.items() if not name.startswith("AWS_")
        }
        environment["AWS_CONFIG_FILE"] = environment["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

        result = subprocess.run(
            [
                *(sys.executable, "-m", "ddbstream", "tail", "lambda_function.handler"),
                *("--table", table.name, "--endpoint-url", moto_endpoint, "--max-records", "2"),
            ],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()[1:]
        assert [line if line.startswith("got") else line[8:] for line in lines] == [
            "got a",
            "  INSERT  pk='a'  <lambda>  ok",
            "got b",
            "  INSERT  pk='b'  <lambda>  ok",
        ]


def masked(output: str) -> str:
    """The output with what changes from run to run (clock times, stream label) masked."""
    output = re.sub(r"\b\d\d:\d\d:\d\d(\.\d+)?\b", "12:00:00", output)
    return re.sub(r"/stream/[^;\s]+", "/stream/LABEL", output)


def compare_with_docs(output: str, name: str) -> None:
    """Check *output* against docs/examples/NAME (rewrite it with DDBSTREAM_UPDATE_DOCS=1)."""
    path = EXAMPLES / name
    if UPDATE_DOCS:
        path.write_text(output, encoding="utf-8")
    assert masked(output) == masked(path.read_text(encoding="utf-8"))


class TestLocalDevelopmentPage:
    def test_the_pages_session(
        self,
        moto_endpoint: str,
        load_example: Any,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """The commands of docs/local-development.md print what the page shows."""
        local_table = load_example("local_table")
        local_table.orders_table(moto_endpoint)
        local_table.write_orders(moto_endpoint)
        handler = f"{PAGE_EXAMPLES / 'local_app.py'}:app"

        assert run_tail(handler, "orders", moto_endpoint, "--max-records", "3") == 0
        compare_with_docs(capsys.readouterr().out, "local_tail.txt")

        local_table.write_bad_order(moto_endpoint)
        status = run_tail(
            handler, "orders", moto_endpoint, "--max-retries", "2", "--idle-exit", "0.2"
        )
        lines = capsys.readouterr().out.splitlines()[:-1]  # without "no new records..."
        first_failure = next(n for n, line in enumerate(lines) if "FAILED" in line)
        assert status == 1
        compare_with_docs("\n".join(lines[first_failure:]) + "\n", "local_tail_failure.txt")

        event = tmp_path / "event.json"
        assert load_example("local_save_event").save_event(moto_endpoint, "orders", str(event)) == 4
        assert [r["eventName"] for r in json.loads(event.read_text())["Records"]] == [
            "INSERT",
            "MODIFY",
            "REMOVE",
            "INSERT",
        ]
        assert cli.main(["invoke", handler, str(event)]) == 1
        assert "FAILED" in capsys.readouterr().out
