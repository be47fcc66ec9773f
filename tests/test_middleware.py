"""@app.middleware and app.use(): order, failure semantics, sync and async, extensions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pytest

from ddbstream import App, Extension, Invocation, Record, testing
from ddbstream.errors import OutOfTimeError, SetupError

CallNext = Callable[[Record], object]
AsyncCallNext = Callable[[Record], Awaitable[object]]


def three() -> dict[str, Any]:
    return testing.event(
        testing.insert({"pk": "a"}), testing.insert({"pk": "b"}), testing.insert({"pk": "c"})
    )


def key(record: Record) -> str:
    return str(record.keys["pk"])


class TestOrder:
    def test_first_registered_is_outermost(self) -> None:
        """Middleware run in registration order before call_next and in reverse after it."""
        app = App()
        seen: list[str] = []

        @app.middleware
        def outer(record: Record, call_next: CallNext) -> None:
            seen.append(f"outer before {key(record)}")
            call_next(record)
            seen.append("outer after")

        @app.middleware
        def inner(record: Record, call_next: CallNext) -> None:
            seen.append("inner before")
            call_next(record)
            seen.append("inner after")

        @app.on_insert
        def handle(record: Record) -> None:
            seen.append("handler")

        app.handler(testing.event(testing.insert({"pk": "a"})), None)

        assert seen == [
            "outer before a",
            "inner before",
            "handler",
            "inner after",
            "outer after",
        ]

    def test_wraps_all_routes_of_a_record_once(self) -> None:
        """One middleware call per record, around every route that matched it."""
        app = App()
        seen: list[str] = []

        @app.middleware
        def around(record: Record, call_next: CallNext) -> None:
            seen.append("[")
            call_next(record)
            seen.append("]")

        app.on_insert(lambda record: seen.append("one"))
        app.on_insert(lambda record: seen.append("two"))
        app.on_modify(lambda record: seen.append("never"))

        app.handler(three(), None)

        assert seen == ["[", "one", "two", "]"] * 3

    def test_runs_for_unmatched_records(self) -> None:
        """A record no route matched still passes through the middleware (and fallbacks)."""
        app = App()
        seen: list[str] = []

        @app.middleware
        def around(record: Record, call_next: CallNext) -> None:
            seen.append(f"mw {record.event_name}")
            call_next(record)

        app.on_unmatched(lambda record: seen.append("fallback"))
        app.handler(testing.event(testing.remove({"pk": "a"})), None)

        assert seen == ["mw REMOVE", "fallback"]


class TestFailures:
    @pytest.mark.parametrize("report", [True, False])
    def test_raising_fails_the_record(self, report: bool) -> None:
        """A middleware that raises fails its record: reported, or raised, as any failure."""
        app = App(report_batch_item_failures=report)
        ran: list[str] = []

        @app.middleware
        def refuse_b(record: Record, call_next: CallNext) -> None:
            if key(record) == "b":
                raise PermissionError("no b")
            call_next(record)

        app.on_insert(lambda record: ran.append(key(record)))
        event = three()
        if report:
            response = app.handler(event, None)
            second = event["Records"][1]["dynamodb"]["SequenceNumber"]
            assert response["batchItemFailures"] == [{"itemIdentifier": second}]
        else:
            with pytest.raises(PermissionError, match="no b"):
                app.handler(event, None)
        assert ran == ["a"]

    @pytest.mark.parametrize("report", [True, False])
    def test_catching_marks_the_record_handled(self, report: bool) -> None:
        """A middleware that catches call_next's error lets the batch go on."""
        app = App(report_batch_item_failures=report)
        caught: list[str] = []

        @app.middleware
        def forgive(record: Record, call_next: CallNext) -> None:
            try:
                call_next(record)
            except ValueError as error:
                caught.append(f"{key(record)}: {error}")

        @app.on_insert
        def handle(record: Record) -> None:
            if key(record) == "b":
                raise ValueError("bad b")

        assert app.handler(three(), None) == {"batchItemFailures": []}
        assert caught == ["b: bad b"]

    def test_error_hooks_run_inside(self) -> None:
        """Error hooks handle a route's failure before the middleware sees it; the other
        routes of the record still run, and call_next returns normally."""
        app = App()
        seen: list[str] = []

        @app.middleware
        def around(record: Record, call_next: CallNext) -> None:
            call_next(record)
            seen.append("returned")

        @app.on_insert
        def first(record: Record) -> None:
            raise KeyError("x")

        app.on_insert(lambda record: seen.append("second"))

        @app.on_error(KeyError)
        def hook(record: Record, error: Exception) -> None:
            seen.append("hook")

        outcome = app.process(testing.event(testing.insert({"pk": "a"})))

        assert outcome.error is None
        assert seen == ["hook", "second", "returned"]

    def test_unhandled_error_reaches_middleware_once(self) -> None:
        """An error no hook handles goes through the middleware, and the hook that kept it
        is not called a second time."""
        app = App(report_batch_item_failures=True)
        seen: list[str] = []

        @app.middleware
        def around(record: Record, call_next: CallNext) -> None:
            try:
                call_next(record)
            except LookupError:
                seen.append("middleware saw it")
                raise

        @app.on_insert
        def handle(record: Record) -> None:
            raise LookupError("gone")

        @app.on_error
        def keep(record: Record, error: Exception) -> None:
            seen.append("hook")
            raise error

        outcome = app.process(testing.event(testing.insert({"pk": "a"})))

        assert isinstance(outcome.error, LookupError)
        assert seen == ["hook", "middleware saw it"]

    def test_middleware_sees_the_awaitable_of_a_sync_wrapper(self) -> None:
        """A sync handler returning an awaitable is still run inside the middleware."""
        app = App()
        seen: list[str] = []

        async def work(record: Record) -> None:
            seen.append("awaited")

        @app.middleware
        def around(record: Record, call_next: CallNext) -> None:
            call_next(record)
            seen.append("after")

        app.on_insert(lambda record: work(record))
        app.handler(testing.event(testing.insert({"pk": "a"})), None)

        assert seen == ["awaited", "after"]

    def test_time_guard_still_stops_the_batch(self) -> None:
        """With middleware, the time guard is the loop's, as without."""
        app = App()
        app.middleware(lambda record, call_next: call_next(record))
        app.on_insert(lambda record: None)

        class Context:
            def get_remaining_time_in_millis(self) -> int:
                return 10

        with pytest.raises(OutOfTimeError):
            app.handler(three(), Context())


class TestAsync:
    @pytest.mark.parametrize("report", [True, False])
    def test_order_and_failures(self, report: bool) -> None:
        """async def middleware wrap async routes; raising fails, catching handles."""
        app = App(report_batch_item_failures=report, max_concurrency=1)
        seen: list[str] = []

        @app.middleware
        async def outer(record: Record, call_next: AsyncCallNext) -> None:
            seen.append(f"outer {key(record)}")
            try:
                await call_next(record)
            except ValueError:
                seen.append("caught")

        @app.middleware
        async def inner(record: Record, call_next: AsyncCallNext) -> None:
            if key(record) == "c":
                raise PermissionError("no c")
            await call_next(record)
            seen.append("inner after")

        @app.on_insert
        async def handle(record: Record) -> None:
            await asyncio.sleep(0)
            if key(record) == "b":
                raise ValueError("bad b")
            seen.append(f"handler {key(record)}")

        event = three()
        if report:
            response = app.handler(event, None)
            third = event["Records"][2]["dynamodb"]["SequenceNumber"]
            assert response["batchItemFailures"] == [{"itemIdentifier": third}]
        else:
            with pytest.raises(PermissionError):
                app.handler(event, None)
        assert seen == [
            "outer a",
            "handler a",
            "inner after",
            "outer b",
            "caught",
            "outer c",
        ]

    def test_async_middleware_makes_a_sync_app_async(self) -> None:
        """An async def middleware runs sync handlers outside the event loop, as async apps do."""
        app = App()
        seen: list[object] = []

        @app.middleware
        async def around(record: Record, call_next: AsyncCallNext) -> None:
            await call_next(record)

        @app.on_insert
        def handle(record: Record) -> None:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                seen.append("no loop")

        app.handler(testing.event(testing.insert({"pk": "a"})), None)

        assert seen == ["no loop"]

    def test_plain_middleware_in_an_async_app_is_refused(self) -> None:
        """A plain middleware could not await call_next: SetupError naming it."""
        app = App()

        @app.middleware
        def plain(record: Record, call_next: CallNext) -> None:
            call_next(record)

        @app.on_insert
        async def handle(record: Record) -> None:
            pass

        with pytest.raises(
            SetupError,
            match=r"The middleware '.*\.plain' is a plain function",
        ):
            app.handler(testing.event(testing.insert({"pk": "a"})), None)


class Recorder(Extension):
    """Writes down every hook it sees."""

    def __init__(self, seen: list[str], name: str = "x") -> None:
        self.seen = seen
        self.name = name

    @contextmanager
    def _note(self, what: str) -> Iterator[None]:
        self.seen.append(f"{self.name} enter {what}")
        try:
            yield
        except Exception as error:
            self.seen.append(f"{self.name} error {what}: {error}")
            raise
        self.seen.append(f"{self.name} exit {what}")

    def invocation(self, invocation: Invocation) -> Any:
        return self._note(f"invocation of {invocation.size}")

    def record(self, record: Record) -> Any:
        return self._note(key(record))

    def route(self, record: Record, route: str) -> Any:
        return self._note(route)


class TestExtensions:
    def test_hooks_and_order_with_middleware(self) -> None:
        """Extensions wrap invocations, records and routes, among the middleware in order."""
        app = App()
        seen: list[str] = []
        app.use(Recorder(seen, "ext"))

        @app.middleware
        def middle(record: Record, call_next: CallNext) -> None:
            seen.append("middleware")
            call_next(record)

        app.use(Recorder(seen, "inner"))

        @app.on_insert(name="save")
        def save(record: Record) -> None:
            seen.append("handler")

        app.handler(testing.event(testing.insert({"pk": "a"})), None)

        assert seen == [
            "ext enter invocation of 1",
            "inner enter invocation of 1",
            "ext enter a",
            "middleware",
            "inner enter a",
            "ext enter save",
            "inner enter save",
            "handler",
            "inner exit save",
            "ext exit save",
            "inner exit a",
            "ext exit a",
            "inner exit invocation of 1",
            "ext exit invocation of 1",
        ]

    def test_hooks_see_failures(self) -> None:
        """The route, record and invocation hooks see a failure go by (raise mode)."""
        app = App()
        seen: list[str] = []
        app.use(Recorder(seen))

        @app.on_insert(name="boom")
        def boom(record: Record) -> None:
            raise RuntimeError("kaput")

        with pytest.raises(RuntimeError):
            app.handler(testing.event(testing.insert({"pk": "a"})), None)

        assert seen[-3:] == [
            "x error boom: kaput",
            "x error a: kaput",
            "x error invocation of 1: kaput",
        ]

    @pytest.mark.parametrize("is_async", [False, True])
    def test_three_record_hooks(self, is_async: bool) -> None:
        """Three extensions in a sync app and in an async one: all hooks, in order."""
        app = App()
        seen: list[str] = []
        for name in "abc":
            app.use(Recorder(seen, name))

        async def handle_async(record: Record) -> None:
            seen.append("handler")

        def handle(record: Record) -> None:
            seen.append("handler")

        app.add_handler(handle_async if is_async else handle, events=["INSERT"], name="h")
        if True:
            app.handler(testing.event(testing.insert({"pk": "k"})), None)
            records = [line for line in seen if line.endswith(" k")]
            assert records == [f"{n} enter k" for n in "abc"] + [f"{n} exit k" for n in "cba"]
            assert seen.index("c enter h") < seen.index("handler") < seen.index("c exit h")

    def test_suppressing_hook_handles_the_record(self) -> None:
        """A record hook whose manager swallows the error marks the record handled."""
        app = App(report_batch_item_failures=True)

        class Forgive(Extension):
            @contextmanager
            def record(self, record: Record) -> Iterator[None]:
                with suppress(ValueError):
                    yield

            @contextmanager
            def route(self, record: Record, route: str) -> Iterator[None]:
                with suppress(KeyError):
                    yield

        app.use(Forgive())
        seen: list[str] = []
        app.use(Recorder(seen))  # joined with Forgive's record hook into one layer

        @app.on_insert
        def handle(record: Record) -> None:
            raise ValueError("x") if key(record) == "a" else KeyError("y")

        assert app.handler(three(), None) == {"batchItemFailures": []}
        assert "x error a: x" in seen

    def test_suppressing_hooks_in_async_apps(self) -> None:
        """The same in an async app: the record and route hooks may swallow errors."""
        app = App(report_batch_item_failures=True)

        class Forgive(Extension):
            @contextmanager
            def record(self, record: Record) -> Iterator[None]:
                with suppress(ValueError):
                    yield

            @contextmanager
            def route(self, record: Record, route: str) -> Iterator[None]:
                with suppress(KeyError):
                    yield

        app.use(Forgive())

        @app.on_insert
        async def handle(record: Record) -> None:
            raise ValueError("x") if key(record) == "a" else KeyError("y")

        assert app.handler(three(), None) == {"batchItemFailures": []}

    def test_an_invocation_hook_may_not_swallow(self) -> None:
        """An invocation hook that suppresses the batch's error is a RuntimeError naming it."""
        app = App()

        class Swallow(Extension):
            @contextmanager
            def invocation(self, invocation: Invocation) -> Iterator[None]:
                with suppress(Exception):
                    yield

        app.use(Swallow())
        app.on_insert(lambda record: 1 / 0)

        with pytest.raises(RuntimeError, match=r"Swallow\.invocation suppressed"):
            app.handler(testing.event(testing.insert({"pk": "a"})), None)

    def test_invocation_counts(self) -> None:
        """The Invocation holds the outcome, the unmatched and the handled records."""
        app = App(report_batch_item_failures=True)
        seen: list[Invocation] = []

        class Keep(Extension):
            @contextmanager
            def invocation(self, invocation: Invocation) -> Iterator[None]:
                yield
                seen.append(invocation)

        app.use(Keep())

        @app.on_insert(where={"pk": "a"})
        def handle(record: Record) -> None:
            raise ValueError("a")

        @app.on_insert(where={"pk": "a"}, name="again")
        def again(record: Record) -> None:
            raise ValueError("a again")

        app.on_error(lambda record, error: None)
        event = testing.event(*three()["Records"], testing.remove({"pk": "z"}))
        app.handler(event, {"not": "a context"})

        (invocation,) = seen
        assert invocation.outcome is not None
        assert invocation.outcome.processed == 4
        assert (invocation.size, invocation.unmatched, invocation.handled) == (4, 3, 1)
        assert invocation.event is event
        assert repr(invocation) == "<Invocation of 4 records>"
        assert app.context is None

    def test_default_hooks_do_nothing(self) -> None:
        """Hooks an extension does not override are context managers that do nothing."""
        extension = Extension()
        record = Record.__new__(Record)
        for manager in (
            extension.invocation(Invocation(None, None)),
            extension.record(record),
            extension.route(record, "r"),
        ):
            with manager as value:
                assert value is None


class TestRegistration:
    def test_returns_what_it_registers(self) -> None:
        """@app.middleware returns the function, app.use the extension."""
        app = App()

        def around(record: Record, call_next: CallNext) -> None:
            call_next(record)

        extension = Extension()
        assert app.middleware(around) is around
        assert app.use(extension) is extension

    def test_refuses_what_cannot_work(self) -> None:
        """Non-callables, non-extensions, an extension twice and late registration."""
        app = App()
        with pytest.raises(SetupError, match="a middleware must be callable"):
            app.middleware(42)  # type: ignore[type-var]
        with pytest.raises(SetupError, match="register a function"):
            app.use(lambda record, call_next: None)  # type: ignore[type-var]
        extension = Extension()
        app.use(extension)
        with pytest.raises(SetupError, match="already in use"):
            app.use(extension)
        app.handler(three(), None)
        with pytest.raises(SetupError, match=r"middleware\(\) after"):
            app.middleware(lambda record, call_next: None)
        with pytest.raises(SetupError, match=r"use\(\) after"):
            app.use(Extension())

    def test_repr(self) -> None:
        """A Middleware names its function."""
        from ddbstream._extensions import Middleware

        def around(record: Record, call_next: CallNext) -> None: ...

        assert (
            repr(Middleware(around)) == "Middleware('TestRegistration.test_repr.<locals>.around')"
        )


def test_one_suppressing_record_hook_in_a_sync_app() -> None:
    """A lone record hook (a layer of its own) that swallows the error handles the record."""
    from contextlib import suppress

    app = App(report_batch_item_failures=True)

    class Forgive(Extension):
        def record(self, record: Record) -> Any:
            return suppress(ValueError)

    app.use(Forgive())
    app.on_insert(lambda record: int("x"))
    assert app.handler(three(), None) == {"batchItemFailures": []}
