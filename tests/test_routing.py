"""Routes and Routers: every registration form, order, included routers, setup errors."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import LoadEvent
from ddbstream import App, Record, Route, Router
from ddbstream.errors import SetupError

EVENTS = ("INSERT", "MODIFY", "REMOVE")


def run(app: App, load_event: LoadEvent, name: str = "batch.json") -> list[tuple[str, str]]:
    """Run *app* on an event; return (route name, event name) for every handler run."""
    outcome = app.process(load_event(name))
    assert outcome.error is None
    return [(route, record.event_name) for record, route in outcome.ran]


class TestRegistrationForms:
    def test_bare_decorator(self, app: App, load_event: LoadEvent) -> None:
        """``@app.on_insert`` registers the function and returns it unchanged."""

        def inserted(record: Record) -> None:
            """Doc."""

        decorated = app.on_insert(inserted)

        assert decorated is inserted
        assert run(app, load_event) == [
            ("TestRegistrationForms.test_bare_decorator.<locals>.inserted", "INSERT")
        ]

    def test_called_decorator(self, app: App, load_event: LoadEvent) -> None:
        """``@app.on_modify(...)`` with options returns a decorator that returns the function."""

        def handler(record: Record) -> None:
            pass

        decorator = app.on_modify(name="modified")

        assert decorator(handler) is handler
        assert run(app, load_event) == [("modified", "MODIFY")]

    def test_called_decorator_without_options(self, app: App, load_event: LoadEvent) -> None:
        """``@app.on_remove()`` with empty parentheses works too."""

        @app.on_remove()
        def removed(record: Record) -> None:
            pass

        assert [event for _, event in run(app, load_event)] == ["REMOVE"]

    def test_plain_call_with_function(self, app: App, load_event: LoadEvent) -> None:
        """``app.on_insert(function)`` as a plain call registers the function."""
        seen: list[Record] = []

        returned = app.on_insert(seen.append)

        assert returned == seen.append
        run(app, load_event)
        assert [record.event_name for record in seen] == ["INSERT"]

    def test_plain_call_with_lambda(self, app: App, load_event: LoadEvent) -> None:
        """``app.on_remove(lambda record: ...)`` registers the lambda."""
        seen: list[str] = []

        app.on_remove(lambda record: seen.append(record.keys["pk"]))

        assert run(app, load_event) == [
            ("TestRegistrationForms.test_plain_call_with_lambda.<locals>.<lambda>", "REMOVE")
        ]
        assert seen == ["order#1"]

    def test_on_with_several_events(self, app: App, load_event: LoadEvent) -> None:
        """``@app.on("INSERT", "REMOVE")`` runs for each of those events."""

        @app.on("INSERT", "REMOVE", name="both")
        def both(record: Record) -> None:
            pass

        assert run(app, load_event) == [("both", "INSERT"), ("both", "REMOVE")]

    def test_on_all_events(self, app: App, load_event: LoadEvent) -> None:
        """``@app.on`` with every event name runs for every record."""
        app.on(*EVENTS, name="all")(lambda record: None)

        assert run(app, load_event) == [("all", event) for event in EVENTS]

    def test_add_handler(self, app: App, load_event: LoadEvent) -> None:
        """``add_handler`` registers and returns the Route it made."""

        def handler(record: Record) -> None:
            pass

        route = app.add_handler(handler, events=["MODIFY"], name="h")

        assert isinstance(route, Route)
        assert route.handler is handler
        assert route.events == frozenset({"MODIFY"})
        assert route.name == "h"
        assert app.routes == (route,)
        assert run(app, load_event) == [("h", "MODIFY")]

    def test_add_handler_with_one_event_name(self, app: App) -> None:
        """A single event name may be given as a string."""
        route = app.add_handler(lambda record: None, events="REMOVE")

        assert route.events == {"REMOVE"}

    def test_callable_object(self, app: App, load_event: LoadEvent) -> None:
        """Any callable works as a handler; its class names the route."""

        class Counter:
            def __init__(self) -> None:
                self.count = 0

            def __call__(self, record: Record) -> None:
                self.count += 1

        counter = Counter()
        app.on("INSERT", "MODIFY", "REMOVE")(counter)

        run(app, load_event)

        assert counter.count == 3
        assert app.routes[0].name.endswith("Counter")


class TestOrder:
    def test_all_matching_routes_run_in_registration_order(
        self, app: App, load_event: LoadEvent
    ) -> None:
        """Every route that matches a record runs, in the order they were registered."""
        app.on_modify(name="m1")(lambda record: None)
        app.on("MODIFY", "INSERT", name="any")(lambda record: None)
        app.on_insert(name="i1")(lambda record: None)
        app.on_modify(name="m2")(lambda record: None)
        app.on_insert(name="i2")(lambda record: None)

        assert run(app, load_event) == [
            ("any", "INSERT"),
            ("i1", "INSERT"),
            ("i2", "INSERT"),
            ("m1", "MODIFY"),
            ("any", "MODIFY"),
            ("m2", "MODIFY"),
        ]

    def test_same_function_twice(self, app: App, load_event: LoadEvent) -> None:
        """Several handlers per event, even the same function twice, all run."""
        calls: list[str] = []

        def handler(record: Record) -> None:
            calls.append(record.event_name)

        app.on_insert(handler)
        app.on_insert(handler)

        run(app, load_event)

        assert calls == ["INSERT", "INSERT"]

    def test_filters_pick_routes(self, app: App, load_event: LoadEvent) -> None:
        """A route whose filter does not match is skipped; the others still run."""
        app.on_modify(name="shipped", new={"status": "SHIPPED"})(lambda record: None)
        app.on_modify(name="cancelled", new={"status": "CANCELLED"})(lambda record: None)
        app.on_modify(name="any")(lambda record: None)

        assert run(app, load_event) == [("shipped", "MODIFY"), ("any", "MODIFY")]

    def test_routes_lists_registration_order(self, app: App) -> None:
        """``app.routes`` lists every route in the order they run."""
        first = app.add_handler(lambda record: None, events=["INSERT"], name="first")
        second = app.add_handler(lambda record: None, events=["REMOVE"], name="second")

        assert app.routes == (first, second)
        assert [route.name for route in app.routes] == ["first", "second"]


class TestRouters:
    def test_included_routes_run_at_the_point_of_inclusion(
        self, app: App, load_event: LoadEvent
    ) -> None:
        """A Router's routes take the place in the order where it was included."""
        router = Router()
        router.on_insert(name="router-1")(lambda record: None)
        app.on_insert(name="app-before")(lambda record: None)
        app.include_router(router)
        app.on_insert(name="app-after")(lambda record: None)
        router.on_insert(name="router-2")(lambda record: None)  # added after inclusion

        assert [name for name, _ in run(app, load_event)] == [
            "app-before",
            "router-1",
            "router-2",
            "app-after",
        ]

    def test_nested_routers(self, app: App, load_event: LoadEvent) -> None:
        """Routers can include routers; all their routes reach the app."""
        outer, inner = Router(), Router()
        inner.on_remove(name="inner")(lambda record: None)
        outer.on_remove(name="outer")(lambda record: None)
        outer.include_router(inner)
        app.include_router(outer)

        assert [route.name for route in app.routes] == ["outer", "inner"]
        assert run(app, load_event) == [("outer", "REMOVE"), ("inner", "REMOVE")]

    def test_router_decorators_return_the_function(self) -> None:
        """Router registration returns the function unchanged, like the App's."""
        router = Router()

        def handler(record: Record) -> None:
            pass

        assert router.on_insert(handler) is handler
        assert router.on_modify(handler) is handler
        assert router.on_remove(handler) is handler
        assert router.on("INSERT")(handler) is handler
        assert len(router.routes) == 4

    def test_router_includes_itself(self) -> None:
        """A router cannot include itself."""
        router = Router()

        with pytest.raises(SetupError, match="cannot include itself"):
            router.include_router(router)

    def test_cycle_refused(self) -> None:
        """A router cannot include a router that already includes it."""
        outer, inner = Router(), Router()
        outer.include_router(inner)

        with pytest.raises(SetupError, match="cannot include itself"):
            inner.include_router(outer)

    def test_include_non_router(self, app: App) -> None:
        """include_router refuses anything but a Router."""
        with pytest.raises(SetupError, match="takes a Router, got 'routes'"):
            app.include_router("routes")  # type: ignore[arg-type]

    def test_router_frozen_with_the_app(self, app: App, load_event: LoadEvent) -> None:
        """Once the app has run, its included routers refuse new routes too."""
        router = Router()
        app.include_router(router)
        app.handler(load_event("batch.json"), None)

        with pytest.raises(SetupError, match=r"after App\.handler started"):
            router.on_insert(lambda record: None)


class TestFallback:
    def test_runs_only_when_no_route_matched(self, app: App, load_event: LoadEvent) -> None:
        """on_unmatched handlers run for records no route matched, and only for those."""
        unmatched: list[str] = []
        app.on_modify(name="modified")(lambda record: None)

        @app.on_unmatched
        def fallback(record: Record) -> None:
            unmatched.append(record.event_name)

        ran = run(app, load_event)

        assert unmatched == ["INSERT", "REMOVE"]
        assert ("modified", "MODIFY") in ran
        assert [name for name, _ in ran].count("modified") == 1

    def test_filtered_out_counts_as_unmatched(self, app: App, load_event: LoadEvent) -> None:
        """A record whose only route's filter said no goes to the fallback."""
        unmatched: list[str] = []
        app.on_modify(new={"status": "LOST"})(lambda record: None)
        app.on_unmatched(lambda record: unmatched.append(record.event_name))

        run(app, load_event)

        assert unmatched == ["INSERT", "MODIFY", "REMOVE"]

    def test_not_run_when_a_filter_failed(self, app: App, load_event: LoadEvent) -> None:
        """A record whose route's filter failed (and a hook handled it) is not 'unmatched'."""
        unmatched: list[str] = []
        handled: list[str] = []
        app.on_modify(changed="status")(lambda record: None)
        app.on_unmatched(lambda record: unmatched.append(record.event_name))
        app.on_error(lambda record, error: handled.append(type(error).__name__))

        app.handler(load_event("keys_only.json"), None)

        assert handled == ["MissingImageError"]
        assert unmatched == ["INSERT", "REMOVE"]

    def test_returns_the_function(self, app: App) -> None:
        """on_unmatched returns the function unchanged and lists it in app.fallbacks."""

        def fallback(record: Record) -> None:
            pass

        assert app.on_unmatched(fallback) is fallback
        assert [route.handler for route in app.fallbacks] == [fallback]
        assert app.routes == ()

    def test_no_fallback_no_route_is_success(self, app: App, load_event: LoadEvent) -> None:
        """Records no route wants are successes."""
        assert app.handler(load_event("batch.json"), None) == {"batchItemFailures": []}


class TestSetupErrors:
    def test_unknown_event_name_names_the_function(self, app: App) -> None:
        """An unknown event name is refused at registration, naming the handler."""

        def audit(record: Record) -> None:
            pass

        with pytest.raises(SetupError) as caught:
            app.on("INSRT")(audit)

        message = str(caught.value)
        assert "TestSetupErrors.test_unknown_event_name_names_the_function.<locals>.audit" in (
            message
        )
        assert "test_routing.py:" in message
        assert "'INSRT'" in message
        assert "did you mean 'INSERT'?" in message
        assert app.routes == ()

    def test_no_event_names(self, app: App) -> None:
        """``on()`` with no event names is refused when the function is registered."""
        with pytest.raises(SetupError, match="no event names"):
            app.on()(lambda record: None)

    def test_bare_on_is_refused(self, app: App) -> None:
        """``@app.on`` without event names is refused, not a silently dropped handler."""

        def everything(record: Record) -> None:
            pass

        with pytest.raises(SetupError, match=r"takes event names, not the handler .*everything"):
            app.on(everything)  # type: ignore[call-overload]

    @pytest.mark.parametrize("handler", [None, 5, "handler"])
    def test_non_callable_handler(self, app: App, handler: Any) -> None:
        """A handler that is not callable is refused, naming what was given."""
        with pytest.raises(SetupError, match=f"must be callable, got {handler!r}"):
            app.add_handler(handler, events=["INSERT"])

    def test_non_callable_in_decorator(self, app: App) -> None:
        """The plain-call form refuses non-callables too."""
        with pytest.raises(SetupError, match="must be callable, got 42"):
            app.on_insert(42)  # type: ignore[call-overload]

    def test_registration_after_first_invocation(self, app: App, load_event: LoadEvent) -> None:
        """Registering once the app has handled an event raises SetupError naming the handler."""
        app.handler(load_event("batch.json"), None)

        def late(record: Record) -> None:
            pass

        with pytest.raises(SetupError) as caught:
            app.on_insert(late)

        message = str(caught.value)
        assert "late" in message
        assert "after App.handler started handling events" in message
        assert "import time" in message
        assert app.routes == ()

    @pytest.mark.parametrize(
        "register",
        [
            lambda app: app.include_router(Router()),
            lambda app: app.on_unmatched(lambda record: None),
            lambda app: app.on_error(lambda record, error: None),
            lambda app: app.add_handler(lambda record: None, events=["MODIFY"]),
            lambda app: app.on("REMOVE")(lambda record: None),
        ],
    )
    def test_every_registration_refused_after_start(
        self, app: App, load_event: LoadEvent, register: Any
    ) -> None:
        """No way of registering works after the first invocation, process() included."""
        app.process(load_event("batch.json"))

        with pytest.raises(SetupError, match="started handling events"):
            register(app)


class TestRoute:
    def test_repr_shows_events_name_and_filters(self, app: App) -> None:
        """A route's repr shows what identifies it."""
        route = app.add_handler(
            lambda record: None, events=["MODIFY"], name="shipped", new={"status": "SHIPPED"}
        )

        assert repr(route) == (
            "Route(events=['MODIFY'], name='shipped', new={'status': 'SHIPPED'})"
        )
        assert route.filters.given == {"new": {"status": "SHIPPED"}}

    def test_app_repr(self, app: App) -> None:
        """The app's repr counts its routes."""
        app.on_insert(lambda record: None)

        assert repr(app) == "<App with 1 routes>"


class TestIncludingTwice:
    def test_a_router_included_by_two_others_runs_once(
        self, app: App, load_event: LoadEvent
    ) -> None:
        """A shared router reached through two included routers still runs its routes once."""
        shared, left, right = Router(), Router(), Router()
        shared.on_insert(name="audit")(lambda record: None)
        left.include_router(shared)
        right.include_router(shared)
        app.include_router(left)
        app.include_router(right)

        assert [route.name for route in app.routes] == ["audit"]
        assert run(app, load_event) == [("audit", "INSERT")]

    def test_including_the_same_router_again_is_refused(self, app: App) -> None:
        """Including a router that is already included would run its routes twice."""
        router = Router()
        app.include_router(router)

        with pytest.raises(SetupError, match="already included"):
            app.include_router(router)

    def test_an_app_cannot_be_included(self, app: App) -> None:
        """An App is not a Router to include: its hooks and options would be lost."""
        with pytest.raises(SetupError, match="takes a Router"):
            app.include_router(App())
