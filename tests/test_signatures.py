"""Handler signatures: what is called with (record) or (record, context), and what is refused."""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from ddbstream import App, Record
from ddbstream._signatures import is_coroutine_function, name_of, takes_context
from ddbstream.errors import SetupError
from ddbstream.testing import insert, run


def record_only(record: Record) -> None:
    """Takes the record."""


def with_context(record: Record, context: Any) -> None:
    """Takes the record and the context."""


def context_by_default(record: Record, context: Any = None) -> None:
    """Takes the context when given: its second parameter is called context."""


def bound_default(record: Record, kind: str = "order") -> None:
    """A second parameter with a default and another name binds a value: record only."""


def star_args(*args: Any) -> None:
    """A wrapper's signature: record only."""


def record_and_star_args(record: Record, *rest: Any) -> None:
    """Record only: *rest names no context."""


def optional_keyword(record: Record, *, verbose: bool = False) -> None:
    """Keyword-only parameters with defaults are fine."""


def logged(function: Callable[..., object]) -> Callable[..., object]:
    """A decorator whose wrapper takes anything and passes it on."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> object:
        return function(*args, **kwargs)

    return wrapper


class Handlers:
    def method(self, record: Record) -> None:
        """A bound method takes the record: self is given."""

    def method_with_context(self, record: Record, context: Any) -> None:
        """And the context."""

    @classmethod
    def class_method(cls, record: Record, context: Any) -> None:
        """A classmethod, bound to its class."""


class CallableHandler:
    def __call__(self, record: Record, context: Any) -> None:
        """An object whose __call__ takes the record and the context."""


class AsyncCallable:
    async def __call__(self, record: Record) -> None:
        """An object with an async __call__."""


def generator(record: Record) -> Iterator[None]:
    """Has yield: calling it runs nothing."""
    yield


async def async_generator(record: Record) -> AsyncIterator[None]:
    """Has yield too."""
    yield


def no_parameters() -> None:
    """Takes nothing."""


def three(record: Record, context: Any, extra: Any) -> None:
    """Requires three arguments."""


def required_keyword(record: Record, *, table: str) -> None:
    """Requires a keyword argument nobody gives."""


class TestTakesContext:
    @pytest.mark.parametrize(
        ("handler", "expected"),
        [
            (record_only, False),
            (with_context, True),
            (context_by_default, True),
            (bound_default, False),
            (star_args, False),
            (record_and_star_args, False),
            (optional_keyword, False),
            (lambda record: None, False),
            (lambda record, context: None, True),
            (logged(record_only), False),
            (logged(with_context), True),
            (functools.partial(with_context), True),
            (functools.partial(three, extra=1), True),
            (functools.partial(with_context, context=None), False),
            (Handlers().method, False),
            (Handlers().method_with_context, True),
            (Handlers.class_method, True),
            (CallableHandler(), True),
            ([].append, False),
            (print, False),  # a builtin without a signature: the record alone
        ],
    )
    def test_accepted(self, handler: Callable[..., object], expected: bool) -> None:
        """Handlers taking (record) or (record, context), in every form Python has."""
        assert takes_context(handler) is expected

    @pytest.mark.parametrize(
        ("handler", "reason"),
        [
            (generator, "it is a generator function"),
            (async_generator, "it is an async generator function"),
            (no_parameters, "it takes no arguments"),
            (three, "it requires 3 positional arguments"),
            (required_keyword, "keyword-only parameters without defaults ('table')"),
            (functools.partial(three), "it requires 3 positional arguments"),
        ],
    )
    def test_refused(self, handler: Callable[..., object], reason: str) -> None:
        """What can take neither form, or would never run, is no handler."""
        with pytest.raises(TypeError, match=re.escape(reason)):
            takes_context(handler)

    def test_refused_at_registration(self, app: App) -> None:
        """Registering such a handler raises SetupError naming the route and why."""
        with pytest.raises(SetupError, match=r"route 'generator' \(.*\): it is a generator"):
            app.on_insert(generator)
        with pytest.raises(SetupError, match=r"route 'three'.*requires 3 positional arguments"):
            app.add_handler(three, events=["INSERT"])  # type: ignore[arg-type]  # as for mypy


class TestNamesAndCoroutines:
    def test_names(self) -> None:
        """A partial is named by its function, an object by its class."""
        assert name_of(record_only) == "record_only"
        assert name_of(functools.partial(with_context)) == "with_context"
        assert name_of(CallableHandler()) == "CallableHandler"

    @pytest.mark.parametrize(
        ("function", "expected"),
        [
            (AsyncCallable(), True),
            (functools.partial(AsyncCallable()), True),
            (record_only, False),
            (CallableHandler(), False),
        ],
    )
    def test_coroutine_functions(self, function: object, expected: bool) -> None:
        """Sees through partials and callable objects, without importing inspect."""
        assert is_coroutine_function(function) is expected


class TestContextReachesHandlers:
    def test_each_form_gets_what_it_takes(self, app: App) -> None:
        """(record) handlers get the record; (record, context) handlers the context too."""
        seen: list[tuple[str, Any]] = []
        context = object()
        app.on_insert(lambda record: seen.append(("record", record.keys)))
        app.on_insert(lambda record, context: seen.append(("context", context)))
        handlers = CallableHandler()
        app.on_insert(handlers)
        app.on_unmatched(lambda record, context: seen.append(("unmatched", context)))

        run(app, insert({"pk": "a"}), context=context)

        assert seen == [("record", {"pk": "a"}), ("context", context)]
