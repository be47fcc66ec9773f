"""Routes -> Lambda FilterCriteria (sound widening). Being written: see issue 3."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._routing import Route


def filter_criteria(
    routes: Sequence[Route], *, has_fallback: bool
) -> dict[str, list[dict[str, str]]]:
    """Placeholder until issue 3 lands: no filters, every record passes (sound, not useful)."""
    del routes, has_fallback
    return {"Filters": []}
