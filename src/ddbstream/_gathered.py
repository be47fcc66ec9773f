"""What one invocation gathers for its end: the records of batch routes, and the sinks used.

Made for every invocation, so it lives apart from ``_bulk``'s :class:`~ddbstream._bulk.Ending`,
which loads only when an invocation has gathered something.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._record import Record
    from ._routing import Route

__all__ = ["Gathered"]


class Gathered:
    """One invocation's records for its batch routes, and the sinks it used."""

    __slots__ = ("entries", "sinks")

    def __init__(self, sinks: list[Any]) -> None:
        self.entries: dict[Route, list[tuple[Record[Any], str | None]]] = {}
        """route -> (record or its model's view, the ledger's owner token or None)."""
        self.sinks = sinks

    def add(self, route: Route, record: Record[Any], owner: str | None = None) -> None:
        entries = self.entries.get(route)
        if entries is None:
            entries = self.entries[route] = []
        entries.append((record, owner))

    def __bool__(self) -> bool:
        return bool(self.entries) or any(sink.pending for sink in self.sinks)
