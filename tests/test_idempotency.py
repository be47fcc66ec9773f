"""The ledger's options, the app's idempotency setup, and the ledger without DynamoDB.

The ledger's states against a real DynamoDB endpoint are in tests/integration.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import load_template
from ddbstream import App, Insert, Router
from ddbstream.errors import LedgerError, SetupError
from ddbstream.idempotency import COMPLETED, Ledger
from ddbstream.testing import event, insert


class Rejecting:
    """A client whose every call fails with the AWS error *code*, as botocore raises it."""

    def __init__(self, code: str, item: dict[str, Any] | None = None) -> None:
        self.code = code
        self.item = item
        self.calls: list[str] = []

    def _fail(self, action: str) -> None:
        from botocore.exceptions import ClientError

        self.calls.append(action)
        raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, action)

    def put_item(self, **request: Any) -> None:
        self._fail("PutItem")

    def get_item(self, **request: Any) -> dict[str, Any]:
        self.calls.append("GetItem")
        return {} if self.item is None else {"Item": self.item}

    def delete_item(self, **request: Any) -> None:
        self._fail("DeleteItem")

    def create_table(self, **request: Any) -> None:
        self._fail("CreateTable")


class TestLedgerOptions:
    def test_options(self) -> None:
        """Seconds or timedeltas; the repr shows the table."""
        ledger = Ledger("t", expires_after=timedelta(hours=1), in_progress_expires_after=60)
        assert (ledger.expires_after, ledger.in_progress_expires_after) == (3600.0, 60.0)
        assert repr(ledger) == "Ledger('t', expires_after=3600.0)"

    @pytest.mark.parametrize(
        "options",
        [{"expires_after": 0}, {"expires_after": True}, {"in_progress_expires_after": "1"}],
    )
    def test_bad_durations(self, options: dict[str, Any]) -> None:
        """A duration that is not a positive number of seconds is a SetupError."""
        with pytest.raises(SetupError, match="must be a positive number of seconds"):
            Ledger("t", **options)

    @pytest.mark.parametrize("name", ["", None])
    def test_bad_table_name(self, name: Any) -> None:
        """The table name must be a non-empty string."""
        with pytest.raises(SetupError, match="name of a DynamoDB table"):
            Ledger(name)

    def test_client_made_on_first_use(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without client=, a boto3 DynamoDB client is made when the ledger is first used."""
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        ledger = Ledger("t")
        client = ledger.client
        assert client.meta.service_model.service_name == "dynamodb"
        assert ledger.client is client

    def test_import_loads_no_boto3(self) -> None:
        """Importing ddbstream.idempotency loads neither boto3 nor typing."""
        src = Path(__file__).parents[1] / "src"
        script = (
            f"import sys; sys.path.insert(0, {str(src)!r}); import ddbstream.idempotency; "
            "print(sorted({'boto3', 'botocore', 'typing', 'asyncio'} & set(sys.modules)))"
        )
        result = subprocess.run(
            [sys.executable, "-S", "-I", "-c", script],
            capture_output=True,
            text=True,
            check=True,
        )
        assert result.stdout.strip() == "[]"


class TestLedgerWithoutDynamoDB:
    def test_record_without_event_id(self) -> None:
        """A record without eventID cannot be keyed: LedgerError naming the route."""
        app = App(ledger=Ledger("t", client=Rejecting("Unused")))
        app.on_insert(name="work", idempotent=True)(lambda record: None)
        raw = insert({"pk": "a"})
        del raw["eventID"]
        outcome = app.process(event(raw))
        assert isinstance(outcome.error, LedgerError)
        assert "Record has no eventID" in str(outcome.error)
        assert outcome.error.route == "work"

    def test_entry_gone_after_the_failed_put(self) -> None:
        """A conditional failure whose entry is gone by the read is retried."""

        class Vanishing(Rejecting):
            def put_item(self, **request: Any) -> None:
                if not self.calls:
                    self._fail("PutItem")
                self.calls.append("PutItem")

        client = Vanishing("ConditionalCheckFailedException")
        app = App(ledger=Ledger("t", client=client))
        ran: list[str] = []
        app.on_insert(name="work", idempotent=True)(lambda record: ran.append("ran"))
        outcome = app.process(event(insert({"pk": "a"})))
        assert outcome.failures == []
        assert ran == ["ran"]
        assert client.calls[:3] == ["PutItem", "GetItem", "PutItem"]

    def test_completed_entry_from_a_read(self) -> None:
        """Without ALL_OLD in the error, the entry is read: COMPLETED means a duplicate."""
        client = Rejecting(
            "ConditionalCheckFailedException",
            item={"id": {"S": "work#x"}, "status": {"S": COMPLETED}, "expires": {"N": "9"}},
        )
        app = App(ledger=Ledger("t", client=client), idempotent=True)
        app.on_insert(name="work")(lambda record: None)
        outcome = app.process(event(insert({"pk": "a"})))
        assert (outcome.duplicates, outcome.failures, outcome.ran) == (1, [], [])

    def test_abandon_leaves_a_claim_taken_over(self) -> None:
        """A delete whose owner condition fails (another took over) is not an error."""
        client = Rejecting("ConditionalCheckFailedException")
        Ledger("t", client=client).abandon("work", _record(), "owner")
        assert client.calls == ["DeleteItem"]

    def test_create_table_errors_propagate(self) -> None:
        """create_table() raises DynamoDB's errors other than 'already exists'."""
        from botocore.exceptions import ClientError

        with pytest.raises(ClientError):
            Ledger("t", client=Rejecting("AccessDeniedException")).create_table()

    def test_create_table_without_waiting(self) -> None:
        """wait=False turns on Time to Live without waiting for the table."""
        calls: list[str] = []

        class Client:
            def create_table(self, **request: Any) -> None:
                calls.append("CreateTable")

            def update_time_to_live(self, **request: Any) -> None:
                calls.append(request["TimeToLiveSpecification"]["AttributeName"])

        Ledger("t", client=Client()).create_table(wait=False)
        assert calls == ["CreateTable", "expires"]

    def test_errors_without_a_response(self) -> None:
        """An error that is not a ClientError (no network, say) still names the table."""

        class Offline:
            def put_item(self, **request: Any) -> None:
                raise OSError("no route to host")

        app = App(ledger=Ledger("t", client=Offline()))
        app.on_insert(name="work", idempotent=True)(lambda record: None)
        outcome = app.process(event(insert({"pk": "a"})))
        assert isinstance(outcome.error, LedgerError)
        assert str(outcome.error).startswith(
            "PutItem on ledger table 't' failed: no route to host (route 'work', eventID"
        )


class TestAppSetup:
    def test_idempotent_needs_a_ledger(self) -> None:
        """App(idempotent=True) without a ledger is a SetupError."""
        with pytest.raises(SetupError, match="needs a ledger"):
            App(idempotent=True)

    @pytest.mark.parametrize("value", ["yes", 1.5])
    def test_bad_idempotent_values(self, value: Any) -> None:
        """idempotent= takes True, False or 'transaction', on the app and on a route."""
        with pytest.raises(SetupError, match="idempotent must be True, False or 'transaction'"):
            App(idempotent=value)
        app = App(ledger=Ledger("t"))
        with pytest.raises(SetupError, match="idempotent must be True, False or 'transaction'"):
            app.on_insert(idempotent=value)(lambda record: None)

    def test_ledger_must_be_a_ledger(self) -> None:
        """ledger= takes a Ledger."""
        with pytest.raises(SetupError, match=r"ledger must be a ddbstream\.idempotency\.Ledger"):
            App(ledger="orders-ledger")  # type: ignore[arg-type]

    def test_registration_without_a_ledger(self) -> None:
        """An idempotent route on an app without a ledger fails where it is registered."""
        app = App()
        with pytest.raises(SetupError, match=r"idempotent=True, but the app has no ledger"):

            @app.on_insert(idempotent=True)
            def welcome(record: Insert) -> None:
                pass

    def test_router_registration_is_checked_when_the_app_starts(self) -> None:
        """A Router cannot know its app: its idempotent routes are checked at start."""
        router = Router()
        router.on_insert(idempotent="transaction")(lambda record: None)
        app = App()
        app.include_router(router)
        with pytest.raises(SetupError, match="has no ledger"):
            app.process(event(insert({"pk": "a"})))

    def test_app_ledger_without_one(self) -> None:
        """app.ledger of an app without a ledger is a SetupError."""
        with pytest.raises(SetupError, match="This app has no ledger"):
            _ = App().ledger

    def test_shared_stable_names(self) -> None:
        """Two idempotent routes with one ledger name are refused when the app starts."""
        app = App(ledger=Ledger("t"), idempotent=True)
        app.on_insert(lambda record: None)
        app.on_modify(lambda record: None)
        with pytest.raises(
            SetupError, match="share the ledger name 'test_idempotency:TestAppSetup"
        ):
            app.process(event(insert({"pk": "a"})))

    def test_stable_names(self) -> None:
        """name= wins; else module:qualname, through partials; routes keep their short name."""

        def greet(record: Insert, greeting: str) -> None:
            pass

        app = App(ledger=Ledger("t"))
        named = app.add_handler(greet, events=["INSERT"], name="greeter", idempotent=True)
        partial = app.add_handler(functools.partial(greet, greeting="hi"), events=["INSERT"])
        assert named.stable_name == "greeter"
        qualname = "TestAppSetup.test_stable_names.<locals>.greet"
        assert partial.stable_name == f"test_idempotency:{qualname}"
        assert partial.name == qualname
        assert (named.idempotent, partial.idempotent) == (True, None)

    def test_transact_item_outside_a_route(self) -> None:
        """transact_item() for a record no transaction route is running: SetupError."""
        with pytest.raises(SetupError, match="outside a route registered with"):
            Ledger("t").transact_item(_record())


def _record() -> Insert:
    from ddbstream.testing import run

    app = App()
    app.on_insert(lambda record: None)
    [record] = run(app, insert({"pk": "a"})).records
    assert isinstance(record, Insert)
    return record


class TestRecipes:
    """The deployment recipes create the ledger table and grant what the ledger does, no more."""

    EXAMPLES = Path(__file__).parents[1] / "docs" / "examples"
    ACTIONS = ("dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem")

    def test_sam(self) -> None:
        """SAM: the table's key and TTL, its name in the environment, an inline policy on it."""
        resources = load_template(self.EXAMPLES / "deployment_template.yaml")["Resources"]
        table = resources["OrdersLedger"]["Properties"]
        assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
        assert table["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
        assert table["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
        function = resources["OrderEvents"]["Properties"]
        assert function["Environment"]["Variables"]["LEDGER_TABLE"] == {"Ref": "OrdersLedger"}
        [statement] = next(p for p in function["Policies"] if "Statement" in p)["Statement"]
        assert statement["Action"] == list(self.ACTIONS)
        assert statement["Resource"] == {"GetAtt": "OrdersLedger.Arn"}

    def test_cdk(self) -> None:
        """CDK: the table's key and TTL, and a policy statement on its ARN."""
        text = (self.EXAMPLES / "deployment_cdk.py").read_text(encoding="utf-8")
        assert (
            'partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)'
            in text
        )
        assert 'time_to_live_attribute="expires"' in text
        assert f"actions={json.dumps(list(self.ACTIONS))}" in text.replace("'", '"')
        assert "resources=[ledger.table_arn]" in text
        assert 'environment={"LEDGER_TABLE": ledger.table_name}' in text

    def test_terraform(self) -> None:
        """Terraform: the table's key and TTL, and a role policy on its ARN."""
        text = (self.EXAMPLES / "deployment_main.tf").read_text(encoding="utf-8")
        table = text[text.index('resource "aws_dynamodb_table" "orders_ledger"') :]
        table = table[: table.index("\n}\n")]
        assert re.search(r'hash_key\s*=\s*"id"', table)
        assert re.search(r'attribute \{\s*name = "id"\s*type = "S"\s*\}', table)
        assert re.search(r'ttl \{\s*attribute_name = "expires"\s*enabled\s*= true\s*\}', table)
        policy = text[text.index('resource "aws_iam_role_policy" "ledger"') :]
        assert (
            f"Action   = {json.dumps(list(self.ACTIONS)).replace(',', ', ').replace(',  ', ', ')}"
            in policy
        )
        assert "Resource = aws_dynamodb_table.orders_ledger.arn" in policy
        assert "LEDGER_TABLE = aws_dynamodb_table.orders_ledger.name" in text
