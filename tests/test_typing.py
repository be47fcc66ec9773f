"""User code type-checks as the docs promise, with mypy and pyright, both strict.

``tests/typing/api.py`` must pass both; in ``tests/typing/rejected.py`` every line marked
``# rejected`` must be an error for both, and no other line may be. The docs pages' examples
pass pyright strict here (and mypy strict in tests/test_docs_examples.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import docs_blocks
from conftest import ROOT

TYPING = ROOT / "tests" / "typing"
GOOD = TYPING / "api.py"
REJECTED = TYPING / "rejected.py"


def mypy_errors(*files: Path) -> dict[tuple[str, int], list[str]]:
    """mypy --strict's errors by (file name, line)."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *map(str, files)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    errors: dict[tuple[str, int], list[str]] = {}
    for line in result.stdout.splitlines():
        found = re.match(r"(?P<file>[^:]+):(?P<line>\d+): error: (?P<message>.*)", line)
        if found:
            key = (Path(found["file"]).name, int(found["line"]))
            errors.setdefault(key, []).append(found["message"])
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return errors


def pyright_errors(*files: Path, project: Path | None = None) -> dict[tuple[str, int], list[str]]:
    """pyright's errors (strict by each file's comment, or *project*'s config) by (file name,
    line)."""
    options = ["--project", str(project)] if project is not None else []
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pyright",
            "--outputjson",
            "--pythonpath",
            sys.executable,
            *options,
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    errors: dict[tuple[str, int], list[str]] = {}
    for diagnostic in json.loads(result.stdout)["generalDiagnostics"]:
        if diagnostic["severity"] == "error":
            key = (Path(diagnostic["file"]).name, diagnostic["range"]["start"]["line"] + 1)
            errors.setdefault(key, []).append(diagnostic["message"])
    return errors


def marked_lines(path: Path) -> set[tuple[str, int]]:
    """The lines of *path* marked ``# rejected``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    marked = [number for number, line in enumerate(lines, 1) if re.search(r"  # rejected: ", line)]
    return {(path.name, number) for number in marked}


CHECKERS = {"mypy": mypy_errors, "pyright": pyright_errors}


@pytest.mark.parametrize("checker", sorted(CHECKERS))
class TestCheckers:
    def test_the_typed_api_passes(self, checker: str) -> None:
        """Typed records, registrations, lambdas and contexts pass the checker in strict mode."""
        assert CHECKERS[checker](GOOD) == {}

    def test_wrong_user_code_is_rejected_where_marked(self, checker: str) -> None:
        """Each mistake is an error on its own line, and nothing else is."""
        errors = CHECKERS[checker](REJECTED)
        expected = marked_lines(REJECTED)
        assert len(expected) >= 7
        assert set(errors) == expected, errors


# Examples that call boto3 or Powertools, which ship no type information pyright strict
# accepts (their calls are "partially unknown"): what ddbstream itself gives is checked in the
# other examples and in tests/typing/api.py.
UNTYPED_LIBRARIES = ("boto3", "aws_lambda_powertools")


def test_docs_examples_pass_pyright_strict(tmp_path: Path) -> None:
    """What the docs pages show passes pyright in strict mode, as users run it."""
    written = docs_blocks.materialize(tmp_path)
    # The testing page imports its example app as `orders`, as a user's test would.
    (tmp_path / "orders.py").write_text(written["testing_orders.py"].read_text())
    checked = [
        path
        for path in written.values()
        if not any(
            f"import {name}" in path.read_text() or f"from {name}" in path.read_text()
            for name in UNTYPED_LIBRARIES
        )
    ]
    (tmp_path / "pyrightconfig.json").write_text(
        json.dumps({"typeCheckingMode": "strict", "pythonVersion": "3.10", "extraPaths": ["."]})
    )
    assert {"index_app.py", "handlers_registration.py", "testing_test_orders.py"} <= {
        path.name for path in checked
    }

    errors = pyright_errors(*checked, project=tmp_path)

    assert errors == {}
