"""Decorator routing for AWS Lambda functions triggered by DynamoDB Streams.

from ddbstream import App

app = App()

@app.on_modify(changed="status")
def status_changed(record):
    print(record.old["status"], "->", record.new["status"])

handler = app.handler
"""

from . import conditions, errors
from ._app import App
from ._batch import Outcome
from ._codec import deserialize, deserialize_image
from ._extensions import Extension, Invocation
from ._record import Diff, Insert, Modify, Record, Remove
from ._routing import Route, Router
from ._sources import Window
from .conditions import Attr
from .errors import DdbStreamError, RecordsFailed

__all__ = [
    "App",
    "Attr",
    "DdbStreamError",
    "Diff",
    "Extension",
    "Insert",
    "Invocation",
    "Modify",
    "Outcome",
    "Record",
    "RecordsFailed",
    "Remove",
    "Route",
    "Router",
    "Window",
    "conditions",
    "deserialize",
    "deserialize_image",
    "errors",
]


def __getattr__(name: str) -> str:
    # ``__version__`` is read from the installed metadata on first use only: importlib.metadata
    # costs milliseconds that ``import ddbstream`` in a cold start should not pay.
    if name == "__version__":
        from importlib.metadata import version

        return version("ddbstream")
    raise AttributeError(f"module 'ddbstream' has no attribute {name!r}")
