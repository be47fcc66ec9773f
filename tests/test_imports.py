"""``import ddbstream`` loads only the standard library, and none of its heavy modules."""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path

import pytest

import ddbstream

# Runs with -S -I: no site module and no environment, so nothing that .pth files or the
# environment import is loaded before the measurement; the package is found by its path.
SCRIPT = """
import sys
sys.path.insert(0, sys.argv[1])
before = set(sys.modules)
import ddbstream
for name in sorted(set(sys.modules) - before):
    print("loaded", name)
for name in sorted(before):
    print("before", name)
"""

HEAVY = [
    "typing",
    "typing_extensions",
    "boto3",
    "botocore",
    "dataclasses",
    "inspect",
    "asyncio",
    "enum",
    "re",
    "json",
    "datetime",
    "logging",
]


@pytest.fixture(scope="module")
def modules() -> dict[str, set[str]]:
    """The modules loaded before ``import ddbstream`` in a fresh interpreter, and by it."""
    package_parent = str(Path(ddbstream.__file__).resolve().parent.parent)
    output = subprocess.run(
        [sys.executable, "-S", "-I", "-c", SCRIPT, package_parent],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found: dict[str, set[str]] = {"loaded": set(), "before": set()}
    for line in output.splitlines():
        kind, name = line.split()
        found[kind].add(name)
    return found


class TestImport:
    def test_loads_ddbstream_from_this_tree(self, modules: dict[str, set[str]]) -> None:
        """The measurement works: ddbstream and its modules show up."""
        assert {"ddbstream", "ddbstream._app", "ddbstream._codec"} <= modules["loaded"]

    def test_standard_library_only(self, modules: dict[str, set[str]]) -> None:
        """Every module loaded is ddbstream's own or the standard library's."""
        outside = {
            name
            for name in modules["loaded"]
            if name.split(".")[0] != "ddbstream"
            and name.split(".")[0] not in sys.stdlib_module_names
        }

        assert outside == set()

    @pytest.mark.parametrize("name", HEAVY)
    def test_no_heavy_module(self, modules: dict[str, set[str]], name: str) -> None:
        """Modules that cost cold-start time are not loaded, nor were they already there."""
        assert name not in modules["before"]
        assert name not in modules["loaded"]

    def test_cli_not_loaded(self, modules: dict[str, set[str]]) -> None:
        """The command line module (argparse and friends) is not loaded by the package."""
        assert "ddbstream.cli" not in modules["loaded"]
        assert "argparse" not in modules["loaded"]

    def test_types_not_loaded(self, modules: dict[str, set[str]]) -> None:
        """ddbstream.types (which imports typing) waits until a user imports it."""
        assert "ddbstream.types" not in modules["loaded"]


class TestTypesModule:
    def test_names_are_real_at_run_time(self) -> None:
        """Users may import the annotation types anywhere, without TYPE_CHECKING."""
        from ddbstream import Insert
        from ddbstream.types import BatchResponse, Handler, LambdaContext, Where

        assert BatchResponse.__required_keys__ == {"batchItemFailures"}
        assert BatchResponse.__optional_keys__ == {"state"}
        one_argument, with_context = typing.get_args(Handler[Insert])  # type: ignore[misc]
        assert typing.get_args(one_argument) == ([Insert], object)
        assert typing.get_args(with_context) == ([Insert, typing.Any], object)
        assert "get_remaining_time_in_millis" in dir(LambdaContext)
        assert Where is not None


class TestFailuresModule:
    def test_light_for_an_error_hook(self) -> None:
        """``from ddbstream.failures import park`` in a function adds no module but its own:
        json, datetime and boto3 wait until a message is read or sent."""
        package_parent = str(Path(ddbstream.__file__).resolve().parent.parent)
        script = SCRIPT.replace(
            "before = set(sys.modules)\nimport ddbstream\n",
            "import ddbstream\nbefore = set(sys.modules)\nimport ddbstream.failures\n",
        )
        output = subprocess.run(
            [sys.executable, "-S", "-I", "-c", script, package_parent],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        loaded = {line.split()[1] for line in output.splitlines() if line.startswith("loaded ")}

        assert loaded == {"ddbstream.failures"}


def test_models_module_waits_for_a_model(modules: dict[str, set[str]]) -> None:
    """The model converters load with the first route that has model=, not with the package."""
    assert "ddbstream._models" not in modules["loaded"]
