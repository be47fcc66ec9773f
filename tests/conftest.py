"""Fixtures shared by every test module."""

from __future__ import annotations

import atexit
import importlib.util
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from ddbstream import App
from docs_blocks import materialize

# Timing is not what property tests check: on a busy 2-core CI machine a slow example is not a
# failure. Everything else stays as hypothesis sets it.
settings.register_profile(
    "ddbstream", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("ddbstream")

ROOT = Path(__file__).resolve().parent.parent
EVENTS = Path(__file__).resolve().parent / "events"
"""Our own sample events."""
PUBLIC_FIXTURES = EVENTS / "public"
"""Sample events published by AWS and others, with boto3's decoding (see SOURCES.md there)."""
DOCS_EXAMPLES = ROOT / "docs" / "examples"
"""The docs' examples that are files: whole projects, events, templates, shown outputs."""
PAGE_EXAMPLES = Path(tempfile.mkdtemp(prefix="ddbstream-docs-"))
"""The Python examples that live in the docs pages, written out once per test session."""
atexit.register(shutil.rmtree, PAGE_EXAMPLES, ignore_errors=True)
materialize(PAGE_EXAMPLES)

LoadEvent = Callable[[str], Any]
LoadExample = Callable[[str], ModuleType]


@pytest.fixture
def app() -> App:
    """A fresh App with default options."""
    return App()


@pytest.fixture
def load_event() -> LoadEvent:
    """Load an event by file name from tests/events/, else from the shared public fixtures."""

    def load(name: str) -> Any:
        for folder in (EVENTS, PUBLIC_FIXTURES):
            path = folder / name
            if path.exists():
                return json.loads(path.read_text(encoding="utf-8"))
        raise FileNotFoundError(name)

    return load


@pytest.fixture
def load_example() -> LoadExample:
    """Import the docs' example NAME.py as a fresh module (so each test gets its own app)."""

    def load(name: str) -> ModuleType:
        path = PAGE_EXAMPLES / f"{name}.py"
        module_name = f"docs_example_{name}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        return module

    return load


def load_yaml(text: str) -> Any:
    """YAML as CloudFormation writes it: short-form tags (``!GetAtt x``) kept as
    ``{"GetAtt": "x"}`` (mkdocs.yml's ``!!python/name`` tags likewise)."""
    import yaml  # PyYAML comes with the docs tooling

    class CloudFormationLoader(yaml.SafeLoader):
        """A YAML loader that keeps CloudFormation's short-form tags as values."""

    def tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node)
        else:
            value = loader.construct_mapping(node)  # type: ignore[arg-type]
        return {suffix: value}

    CloudFormationLoader.add_multi_constructor("!", tagged)
    return yaml.load(text, Loader=CloudFormationLoader)


def load_template(path: Path) -> dict[str, Any]:
    """A CloudFormation or SAM template from *path* (see `load_yaml`)."""
    data = load_yaml(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data
