"""The types to annotate handlers, contexts and filters with.

    from ddbstream.types import Handler, LambdaContext

    def audit(record: Modify, context: LambdaContext) -> None:
        print(context.aws_request_id, record.keys)

Everything here is real at run time, so it can be imported anywhere; ``import ddbstream``
does not load this module (it imports ``typing``, which a cold start would pay for).
"""

# No `from __future__ import annotations`: TypedDict reads NotRequired from real annotations.
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Literal, Protocol, TypeAlias

from typing_extensions import TypeVar

from ._record import Record
from .conditions import Condition

if sys.version_info >= (3, 11):
    from typing import NotRequired, TypedDict
else:  # pragma: no cover - Python 3.10 has neither in typing
    from typing_extensions import NotRequired, TypedDict

__all__ = [
    "AsyncCallNext",
    "BatchItemFailure",
    "BatchResponse",
    "Boto3Condition",
    "CallNext",
    "Handler",
    "Idempotent",
    "ImageTest",
    "LambdaContext",
    "Names",
    "RecordT",
    "Where",
]


class LambdaContext(Protocol):
    """The context object Lambda passes to the function, as handlers receive it."""

    @property
    def function_name(self) -> str:
        """The function's name."""
        ...

    @property
    def function_version(self) -> str:
        """The version of the function that runs."""
        ...

    @property
    def invoked_function_arn(self) -> str:
        """The ARN the function was invoked with (with an alias or version, if any)."""
        ...

    @property
    def aws_request_id(self) -> str:
        """The identifier of this invocation."""
        ...

    @property
    def log_group_name(self) -> str:
        """The function's CloudWatch log group."""
        ...

    @property
    def log_stream_name(self) -> str:
        """The log stream of this execution environment."""
        ...

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation times out."""
        ...


class BatchItemFailure(TypedDict):
    """One entry of the partial batch response."""

    itemIdentifier: str


class BatchResponse(TypedDict):
    """What ``app.handler`` returns: the failures, and a tumbling window's state."""

    batchItemFailures: list[BatchItemFailure]
    state: NotRequired[dict[str, Any]]


class Boto3Condition(Protocol):
    """A condition from ``boto3.dynamodb.conditions`` (``Attr("a").eq(1)``), duck-typed."""

    expression_operator: str

    def get_expression(self) -> Any:
        """The operator and operands, as boto3 builds its expressions from them."""
        ...


ImageTest: TypeAlias = Callable[[dict[str, Any]], object]
"""A function of a decoded image used as a filter: true to match."""

Where: TypeAlias = Condition | Mapping[str, object] | Boto3Condition | ImageTest
"""What ``where=``, ``new=`` and ``old=`` take: a condition, a dict (equality on each key),
a boto3 condition or a function of the decoded image."""

Names: TypeAlias = str | Iterable[str]
"""One attribute (or table) name, or several."""

Idempotent: TypeAlias = bool | Literal["transaction"] | None
"""What ``idempotent=`` takes: ``True``, ``"transaction"``, ``False`` or ``None`` (the app's
default)."""

RecordT = TypeVar("RecordT", bound="Record[Any]", default="Record[Any]")
"""The record type a handler takes: ``Insert``, ``Modify``, ``Remove`` or ``Record``."""

Handler: TypeAlias = Callable[[RecordT], object] | Callable[[RecordT, Any], object]
"""A handler: a function of the record, or of the record and the Lambda context.

``Handler[Insert]`` is one that ``on_insert`` takes.
"""

CallNext: TypeAlias = Callable[[Record[Any]], object]
"""What a middleware calls to run the record's routes: ``call_next(record)``."""

AsyncCallNext: TypeAlias = Callable[[Record[Any]], Awaitable[object]]
"""``call_next`` in an async app: ``await call_next(record)``."""
