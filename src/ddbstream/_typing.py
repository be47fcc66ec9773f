"""Typing helpers that cost nothing at run time, and the aliases the package uses inside.

``typing`` alone costs milliseconds of every cold start, so the package never imports it
when it runs. Type checkers see the real ``overload``, ``Generic`` and ``ItemT``; at run time
``overload`` does nothing, ``Generic`` is a tiny base class that makes ``Record[Order]``
subscriptable, and ``ItemT`` is a placeholder. The aliases below exist for type checkers only;
the names users annotate with (``LambdaContext``, ``Handler``...) are in
:mod:`ddbstream.types`, which is real at run time.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, TypeAlias
    from typing import Generic as Generic
    from typing import overload as overload

    from typing_extensions import TypeVar

    ItemT = TypeVar("ItemT", covariant=True, default=dict[str, Any])
    """The item type of a record: a ``dict`` unless the route has a ``model=``."""

    Image: TypeAlias = "dict[str, Any]"
    """A decoded image: attribute names to plain Python values."""

    AttributeValue: TypeAlias = "Mapping[str, Any]"
    """One value in DynamoDB JSON, e.g. ``{"N": "1.5"}``."""

    RawImage: TypeAlias = "Mapping[str, AttributeValue]"
    """An image in DynamoDB JSON, as the stream delivers it."""

    NumberParser: TypeAlias = "Callable[[str], Any]"
    """Turns the text of a DynamoDB number into a Python value (``int``, ``float``...)."""
else:

    def overload(function: object) -> object:
        """``typing.overload`` at run time: does nothing, as the real one does nothing useful."""
        return function

    _GenericAlias = type(list[int])  # types.GenericAlias, without importing types

    class Generic:
        """``typing.Generic`` at run time: ``Record[Order]`` gives an alias of ``Record``."""

        __slots__ = ()
        __class_getitem__ = classmethod(_GenericAlias)

    ItemT = None
