"""What the invocation in progress lends to the modules below the app: its list of sinks.

A sink (``ddbstream.sinks``) that buffers a message in an invocation adds itself here, so that
the app flushes it when the invocation ends. Outside an invocation there is no list, and a
sink is flushed by whoever uses it.
"""

from __future__ import annotations

from contextvars import ContextVar

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["SINKS"]

SINKS: ContextVar[list[Any] | None] = ContextVar("ddbstream_sinks", default=None)
"""The sinks that buffered a message in the invocation in progress, in the order of first use."""
