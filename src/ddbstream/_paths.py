"""Attribute paths (``"address.city"``, ``"items[0].sku"``) and finding them in raw images.

Only the containers on the way are looked into: nothing is decoded here.
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import DecodeError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

    from ._typing import RawImage

    Path: TypeAlias = "tuple[str | int, ...]"

__all__ = ["find", "format_path", "parse_path"]


def parse_path(path: object) -> Path:
    """Split ``"a.b[0].c"`` into ``("a", "b", 0, "c")``.

    Raises:
        TypeError: *path* is not a string.
        ValueError: *path* is empty or malformed.
    """
    if not isinstance(path, str):
        raise TypeError(f"attribute names must be strings, got {type(path).__name__}: {path!r}")
    steps: list[str | int] = []
    for part in path.split("."):
        name, bracket, rest = part.partition("[")
        if not name or "]" in name:
            raise ValueError(f"invalid attribute path {path!r}: write it as 'a.b[0].c'")
        steps.append(name)
        while bracket:
            index, closed, rest = rest.partition("]")
            if not (closed and index.isascii() and index.isdigit()):
                raise ValueError(f"invalid list index in attribute path {path!r}")
            steps.append(int(index))
            bracket, rest = rest[:1], rest[1:]
            if bracket not in ("", "["):
                raise ValueError(f"invalid attribute path {path!r}: write it as 'a.b[0].c'")
    return tuple(steps)


def find(image: RawImage, steps: Path) -> Any:
    """The tagged value at *steps* in a DynamoDB JSON image, or None when it is absent.

    Only the containers on the way are looked into; nothing is decoded.
    """
    if image.__class__ is not dict and not isinstance(image, Mapping):
        kind = "null" if image is None else type(image).__name__
        raise DecodeError(f"expected a map of attribute names to values, got {kind}")
    tagged: Any = image.get(steps[0])  # type: ignore[arg-type]  # always a name
    if len(steps) == 1:  # the usual case, a top-level attribute
        return tagged
    for depth, step in enumerate(steps[1:], start=1):
        if tagged is None:
            return None
        if not isinstance(tagged, dict):
            raise DecodeError(
                f"expected a type-tagged value, got {type(tagged).__name__}",
                path=format_path(steps[:depth]),
            )
        if isinstance(step, int):
            items = tagged.get("L")
            tagged = items[step] if isinstance(items, list) and step < len(items) else None
        else:
            attributes = tagged.get("M")
            tagged = attributes.get(step) if isinstance(attributes, dict) else None
    return tagged


def format_path(steps: Path) -> str:
    """``("a", "b", 0)`` -> ``"a.b[0]"``: the inverse of :func:`parse_path`."""
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else step
    return text
