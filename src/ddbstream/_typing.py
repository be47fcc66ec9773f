"""Type aliases and protocols, for type checkers only.

Nothing here but ``overload`` exists at run time: ``typing`` alone costs milliseconds of every
cold start, so modules import these names under ``if TYPE_CHECKING:`` (with ``from __future__
import annotations``), never at run time.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import overload as overload
else:

    def overload(function: object) -> object:
        """``typing.overload`` at run time: does nothing, as the real one does nothing useful."""
        return function


if TYPE_CHECKING:
    import sys
    from collections.abc import Callable, Mapping
    from typing import Any, Protocol, TypeAlias

    if sys.version_info >= (3, 11):
        from typing import NotRequired, TypedDict
    else:
        from typing_extensions import NotRequired, TypedDict

    Image: TypeAlias = "dict[str, Any]"
    """A decoded image: attribute names to plain Python values."""

    AttributeValue: TypeAlias = "Mapping[str, Any]"
    """One value in DynamoDB JSON, e.g. ``{"N": "1.5"}``."""

    RawImage: TypeAlias = "Mapping[str, AttributeValue]"
    """An image in DynamoDB JSON, as the stream delivers it."""

    NumberParser: TypeAlias = "Callable[[str], Any]"
    """Turns the text of a DynamoDB number into a Python value (``int``, ``float``...)."""

    class LambdaContext(Protocol):
        """The part of Lambda's context object that ddbstream uses."""

        def get_remaining_time_in_millis(self) -> int: ...

    class BatchItemFailure(TypedDict):
        """One entry of the partial batch response."""

        itemIdentifier: str

    class BatchResponse(TypedDict):
        """What ``app.handler`` returns."""

        batchItemFailures: list[BatchItemFailure]
        state: NotRequired[dict[str, Any]]
