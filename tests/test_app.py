"""App end to end: options, the Lambda entry point, and what handlers receive."""

from __future__ import annotations

import inspect
import json
from decimal import Decimal
from typing import Any

import pytest

from conftest import ROOT, LoadEvent
from ddbstream import App, Record
from ddbstream.errors import EventError, SetupError


def collect(app: App) -> list[Record]:
    """Register a handler for every event that collects the records it gets."""
    records: list[Record] = []
    app.on("INSERT", "MODIFY", "REMOVE")(records.append)
    return records


class TestOptions:
    def test_defaults(self, app: App) -> None:
        """By default failures are raised, numbers are exact and the margin is 1 s."""
        assert app.report_batch_item_failures is False
        assert app.min_remaining_ms == 1000
        assert app.window is None

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"parse_number": "int"}, "parse_number must be callable"),
            ({"min_remaining_ms": -1}, "min_remaining_ms must be a whole number >= 0"),
            ({"min_remaining_ms": 1.5}, "min_remaining_ms must be a whole number >= 0"),
            ({"pipes_identifier": "id"}, "pipes_identifier must be one of"),
        ],
    )
    def test_bad_options(self, options: dict[str, Any], message: str) -> None:
        """Invalid options are refused when the App is made."""
        with pytest.raises(SetupError, match=message):
            App(**options)

    def test_window_hook_must_be_callable(self, app: App) -> None:
        """on_window_end refuses what it cannot call."""
        with pytest.raises(SetupError, match="window hook must be callable, got 'x'"):
            app.on_window_end("x")  # type: ignore[type-var]

    def test_options_are_keyword_only(self) -> None:
        """Options cannot be passed by position."""
        with pytest.raises(TypeError):
            App(True)  # type: ignore[call-arg]

    def test_parse_number(self, load_event: LoadEvent) -> None:
        """``parse_number=float`` gives handlers floats; filters still compare exactly."""
        app = App(parse_number=float)
        records = collect(app)
        matched: list[Any] = []
        app.on_modify(new={"total": Decimal("42.50")})(lambda record: matched.append(record))

        app.handler(load_event("modify.json"), None)

        assert records[0].new is not None
        assert records[0].new["total"] == 42.5
        assert type(records[0].new["total"]) is float
        assert len(matched) == 1


class TestHandler:
    def test_plain_function_with_lambdas_signature(self, app: App) -> None:
        """``app.handler`` is a plain function of (event, context), as Lambda expects."""
        handler = app.handler

        assert inspect.isfunction(handler)
        assert list(inspect.signature(handler).parameters) == ["event", "context"]
        assert handler.__qualname__ == "App.handler"

    def test_exported_handler_works(self, load_event: LoadEvent) -> None:
        """``handler = app.handler`` at module level is what Lambda calls."""
        app = App()
        records = collect(app)
        handler = app.handler
        del app

        assert handler(load_event("batch.json"), None) == {"batchItemFailures": []}
        assert [record.event_name for record in records] == ["INSERT", "MODIFY", "REMOVE"]

    def test_handler_is_the_same_each_time(self, app: App) -> None:
        """Reading ``app.handler`` twice gives the same function."""
        assert app.handler is app.handler

    def test_context_is_optional(self, app: App, load_event: LoadEvent) -> None:
        """The handler can be called with the event alone (as in a quick test)."""
        assert app.handler(load_event("insert.json")) == {"batchItemFailures": []}  # type: ignore[call-arg]

    def test_example_module(self, load_event: LoadEvent, capsys: Any) -> None:
        """The example in examples/ handles AWS's sample event and prints each change."""
        import importlib.util

        spec = importlib.util.spec_from_file_location(
            "example_lambda_function", ROOT / "examples" / "lambda_function.py"
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        event = json.loads((ROOT / "examples" / "event.json").read_text(encoding="utf-8"))

        assert module.handler(event, None) == {"batchItemFailures": []}
        assert capsys.readouterr().out.splitlines() == [
            "INSERT: new Message 'New item!'",
            "MODIFY: Message 'New item!' -> 'This item has changed'",
            "REMOVE: removed Message 'This item has changed'",
        ]


class TestNonBatchEvents:
    @pytest.mark.parametrize(
        "event",
        [
            pytest.param(None, id="None"),
            pytest.param("Records", id="string"),
            pytest.param(42, id="number"),
            pytest.param({}, id="empty-dict"),
            pytest.param({"Records": "x"}, id="records-not-a-list"),
            pytest.param({"Records": {"0": {}}}, id="records-a-dict"),
            pytest.param(
                {
                    "Records": [
                        {
                            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
                            "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
                            "body": "Test message.",
                            "eventSource": "aws:sqs",
                            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:my-queue",
                            "awsRegion": "us-east-1",
                        }
                    ]
                },
                id="sqs",
            ),
            pytest.param(
                {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "hi"}}]}, id="sns"
            ),
            pytest.param(
                {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}}}]},
                id="s3",
            ),
        ],
    )
    @pytest.mark.parametrize("report", [False, True])
    def test_raise_event_error(self, event: Any, report: bool) -> None:
        """An event that is not a stream batch raises EventError, whatever the mode."""
        app = App(report_batch_item_failures=report)
        records = collect(app)

        with pytest.raises(EventError) as caught:
            app.handler(event, None)

        assert records == []
        assert str(caught.value).endswith(("?", "NoneType", "str", "int"))

    def test_sqs_message_names_the_source(self, app: App) -> None:
        """The message says where the records come from."""
        event = {"Records": [{"messageId": "1", "eventSource": "aws:sqs", "body": "{}"}]}

        with pytest.raises(EventError, match="records come from 'aws:sqs'"):
            app.handler(event, None)

    def test_message_lists_the_keys(self, app: App) -> None:
        """For a dict without Records, the message lists the keys it has."""
        with pytest.raises(EventError, match="has the keys detail, source"):
            app.handler({"source": "aws.events", "detail": {}}, None)


class TestEndToEnd:
    def test_every_sample_event(self, load_event: LoadEvent) -> None:
        """Our sample events run through one app with the values decoded."""
        app = App()
        records = collect(app)
        names = ["insert", "modify", "remove", "ttl_remove", "keys_only", "all_types"]

        for name in names:
            assert app.handler(load_event(f"{name}.json"), None) == {"batchItemFailures": []}

        assert [r.event_name for r in records] == [
            "INSERT",
            "MODIFY",
            "REMOVE",
            "REMOVE",
            "INSERT",
            "MODIFY",
            "REMOVE",
            "INSERT",
        ]
        assert [r.is_ttl_expiry for r in records].count(True) == 1
        assert records[-1].new is not None
        assert records[-1].new["binary"] == b"\xde\xad\xbe\xef"

    def test_ttl_routes(self, load_event: LoadEvent) -> None:
        """``ttl=True`` and ``ttl=False`` split expiries from deletes."""
        app = App()
        seen: list[tuple[str, str]] = []
        app.on_remove(ttl=True)(lambda record: seen.append(("expired", record.keys["pk"])))
        app.on_remove(ttl=False)(lambda record: seen.append(("deleted", record.keys["pk"])))

        app.handler(load_event("remove.json"), None)
        app.handler(load_event("ttl_remove.json"), None)

        assert seen == [("deleted", "order#1"), ("expired", "session#9")]

    def test_changed_filter(self, load_event: LoadEvent) -> None:
        """``changed=`` runs a route only when the attribute differs."""
        app = App()
        seen: list[str] = []
        app.on_modify(changed="status")(lambda record: seen.append("status"))
        app.on_modify(changed="total")(lambda record: seen.append("total"))

        app.handler(load_event("modify.json"), None)

        assert seen == ["status"]

    def test_style_guide_example(self, app: App, load_event: LoadEvent) -> None:
        """A where= filter skips records whose item does not match."""
        seen: list[str] = []

        @app.on_modify(where={"status": "SHIPPED"})
        def shipped(record: Record) -> None:
            seen.append(record.keys["pk"])

        app.handler(load_event("modify.json"), None)

        assert seen == ["order#1"]


class TestAwaitables:
    def test_process_traces_async_handlers(self, load_event: LoadEvent) -> None:
        """process() lists the routes run for async handlers too."""
        app = App()

        @app.on_modify
        async def modified(record: Record) -> None:
            pass

        outcome = app.process(load_event("batch.json"))

        assert [(record.event_name, name) for record, name in outcome.ran] == [
            ("MODIFY", "TestAwaitables.test_process_traces_async_handlers.<locals>.modified")
        ]

    def test_plain_awaitable_is_awaited(self, load_event: LoadEvent) -> None:
        """A handler that returns an awaitable without being ``async def`` has it awaited."""
        awaited: list[bool] = []

        class Later:
            def __await__(self) -> Any:
                awaited.append(True)
                yield None

        app = App(report_batch_item_failures=True)
        app.on_insert(name="sneaky")(lambda record: Later())

        outcome = app.process(load_event("insert.json"))

        assert outcome.error is None
        assert awaited == [True]


class TestCallableApp:
    def test_app_is_its_handler(self, app: App, load_event: LoadEvent) -> None:
        """app(event, context) is app.handler(event, context): lambda_function.app works."""
        records = collect(app)

        response = app(load_event("insert.json"), None)

        assert response == {"batchItemFailures": []}
        assert [record.event_name for record in records] == ["INSERT"]


class TestContext:
    def test_app_context_is_the_invocations(self, app: App, load_event: LoadEvent) -> None:
        """app.context is the context of the invocation in progress, None outside one."""
        context = object()
        seen: list[object] = []
        app.on_insert(lambda record: seen.append(app.context))

        assert app.context is None
        app.handler(load_event("insert.json"), context)

        assert seen == [context]
        assert app.context is None

    def test_context_is_reset_after_a_failure(self, app: App, load_event: LoadEvent) -> None:
        """A raising invocation leaves no context behind."""

        @app.on_insert
        def fail(record: Record) -> None:
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            app.handler(load_event("insert.json"), object())
        assert app.context is None

    def test_handlers_taking_context_get_it(self, app: App, load_event: LoadEvent) -> None:
        """A (record, context) handler receives the invocation's context, routes and fallbacks."""
        context = object()
        seen: list[tuple[str, object]] = []
        app.on_insert(where={"pk": "nothing"})(lambda record, context: seen.append(("x", context)))
        app.on_unmatched(lambda record, context: seen.append(("fallback", context)))

        app.handler(load_event("insert.json"), context)

        assert seen == [("fallback", context)]
