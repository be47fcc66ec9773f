"""The docs' examples run, and print or return exactly what the pages show.

The pages hold their code (see ``docs_blocks.py``). Outputs shown in the pages are also kept in
``docs/examples/*.txt`` files, which these tests compare with what the code prints and with the
pages. When a change of ddbstream changes an output on purpose, regenerate files and pages with
``DDBSTREAM_UPDATE_DOCS=1 python -m pytest tests/test_docs_examples.py`` and review the diff.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import docs_blocks
from conftest import PAGE_EXAMPLES, ROOT, LoadExample, load_template, load_yaml
from ddbstream import App
from ddbstream.testing import event, insert, modify, run

DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
TUTORIAL = EXAMPLES / "tutorial_orders"
TUTORIAL_CODE = TUTORIAL / "src"  # Lambda's task root: the only folder SAM packages
PROJECT = EXAMPLES / "handlers_project"
UPDATE = os.environ.get("DDBSTREAM_UPDATE_DOCS") == "1"

# --- helpers ---------------------------------------------------------------------------------


def expect_text(name: str, actual: str) -> None:
    """Assert that docs/examples/NAME holds *actual* (or write it, in update mode)."""
    path = EXAMPLES / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")


def ddbstream(*arguments: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the ddbstream command line in *cwd*, as a user would."""
    return python("-m", "ddbstream", *arguments, cwd=cwd)


def python(*arguments: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run this Python in a clean subprocess."""
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
    environment.pop("DDBSTREAM_UPDATE_DOCS", None)
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env=environment,
        timeout=120,
    )


def import_file(path: Path) -> ModuleType:
    """Import *path* as a fresh module with a name no other test uses."""
    where = path.relative_to(EXAMPLES) if path.is_relative_to(EXAMPLES) else path.name
    name = "docs_file_" + re.sub(r"\W", "_", str(where))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def page(name: str) -> str:
    return (DOCS / f"{name}.md").read_text(encoding="utf-8")


class Context:
    """A Lambda context whose remaining time is read from a list, one value per call."""

    def __init__(self, *remaining_ms: int) -> None:
        self._remaining: Iterator[int] = iter(remaining_ms)

    def get_remaining_time_in_millis(self) -> int:
        return next(self._remaining)


# --- the pages --------------------------------------------------------------------------------


class TestHome:
    def test_invoke_prints_what_the_page_shows(self) -> None:
        """`ddbstream invoke` on the 30-second example prints the output on the home page."""
        result = ddbstream(
            "invoke", f"{PAGE_EXAMPLES / 'index_app.py'}:app", "docs/examples/index_event.json"
        )

        assert result.returncode == 0, result.stderr
        expect_text("index_output.txt", result.stdout)

    def test_every_record_reaches_its_route(self, load_example: LoadExample) -> None:
        """Each of the three records runs the route the page says, and the lambda too."""
        example = load_example("index_app")

        outcome = example.app.process(load_json(EXAMPLES / "index_event.json"))

        assert [name for _, name in outcome.ran] == ["welcome", "shipped", "expired", "<lambda>"]
        assert outcome.failures == []


class TestTutorial:
    def test_the_users_tests_pass(self) -> None:
        """The tutorial's test file passes when run with pytest in the tutorial's folder."""
        result = python("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=TUTORIAL)

        assert result.returncode == 0, result.stdout + result.stderr
        assert "3 passed" in result.stdout

    def test_invoke_prints_what_the_page_shows(self) -> None:
        """`ddbstream invoke lambda_function.handler events/orders.json` prints invoke.txt."""
        result = ddbstream(
            "invoke", "lambda_function.handler", "../events/orders.json", cwd=TUTORIAL_CODE
        )

        assert result.returncode == 0, result.stderr
        expect_text("tutorial_orders/invoke.txt", result.stdout)

    def test_app_reports_failures_as_the_template_expects(self) -> None:
        """The app reports failures, and the SAM template turns ReportBatchItemFailures on."""
        app = import_file(TUTORIAL_CODE / "lambda_function.py").app
        template = load_template(TUTORIAL / "template.yaml")
        function = template["Resources"]["Notifications"]["Properties"]
        stream = function["Events"]["OrderChanges"]["Properties"]
        table = template["Resources"]["Orders"]["Properties"]

        assert app.report_batch_item_failures is True
        assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert function["Handler"] == "lambda_function.handler"
        assert stream["Stream"] == {"GetAtt": "Orders.StreamArn"}
        assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert function["CodeUri"] == "src/"
        assert set(template["Outputs"]) >= {"TableName"}
        assert template["Outputs"]["TableName"]["Value"] == {"Ref": "Orders"}
        assert "--stack-name order-notifications" in page("tutorial")

    def test_requirements_name_the_package(self) -> None:
        """The tutorial's requirements.txt installs ddbstream."""
        assert (TUTORIAL_CODE / "requirements.txt").read_text().split() == ["ddbstream"]


class TestHandlers:
    def test_invoke_prints_what_the_page_shows(self) -> None:
        """Every registration form runs, in registration order, with the fallback last."""
        result = ddbstream(
            "invoke",
            f"{PAGE_EXAMPLES / 'handlers_registration.py'}:app",
            "docs/examples/handlers_event.json",
        )

        assert result.returncode == 0, result.stderr
        expect_text("handlers_invoke.txt", result.stdout)

    def test_decorators_return_the_functions(self, load_example: LoadExample) -> None:
        """The decorated names are still the plain functions, registered in order."""
        example = load_example("handlers_registration")

        assert [route.name for route in example.app.routes] == [
            "audit",
            "new_order",
            "index",
            "cleanup",
            "<lambda>",
        ]
        assert example.app.routes[0].handler is example.audit
        assert example.ignored.__name__ == "ignored"

    def test_add_handler_returns_the_route(self, load_example: LoadExample) -> None:
        """add_handler registers one route for both event names and returns it."""
        example = load_example("handlers_add_handler")

        assert example.app.routes == (example.route,)
        assert example.route.events == {"INSERT", "MODIFY"}
        assert run(example.app, insert({"pk": "p#1", "type": "PRODUCT"})).ran == ["reindex"]

    def test_router_routes_run_in_inclusion_order(self) -> None:
        """The audit route runs first, then each included router's matching route."""
        result = ddbstream("invoke", "lambda_function.handler", "event.json", cwd=PROJECT)

        assert result.returncode == 0, result.stderr
        printed = result.stdout.splitlines()[:6]
        assert printed == [
            "audit INSERT customer#3",
            "welcome Grace",
            "audit INSERT order#7",
            "order placed order#7",
            "audit MODIFY order#7",
            "order order#7 NEW -> PAID",
        ]

    def test_routes_prints_what_the_page_shows(self) -> None:
        """`ddbstream routes` on the router project prints routes.txt."""
        result = ddbstream("routes", "lambda_function.handler", cwd=PROJECT)

        assert result.returncode == 0, result.stderr
        expect_text("handlers_project/routes.txt", result.stdout)

    def test_setup_errors_name_what_is_wrong(self) -> None:
        """Each of the three mistakes raises a SetupError that names the route or the problem."""
        result = python(f"{PAGE_EXAMPLES / 'handlers_setup_errors.py'}")

        lines = result.stdout.splitlines()
        assert result.returncode == 0, result.stderr
        assert len(lines) == 3
        assert all(line.startswith("SetupError ") for line in lines)
        assert "'archive'" in lines[0]
        assert "ttl=" in lines[0]
        assert "'INSRT'" in lines[1]
        assert "'INSERT'" in lines[1]


class TestRecords:
    def test_fields_print_what_the_page_shows(
        self, load_example: LoadExample, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The handler showing every Record field prints records_fields.txt."""
        example = load_example("records_fields")

        response = example.handler(load_json(EXAMPLES / "records_event.json"), None)

        assert response == {"batchItemFailures": []}
        expect_text("records_fields.txt", capsys.readouterr().out)

    def test_values_print_what_the_page_shows(self) -> None:
        """The value-table example prints records_values.txt."""
        result = python(f"{PAGE_EXAMPLES / 'records_values.py'}")

        assert result.returncode == 0, result.stderr
        expect_text("records_values.txt", result.stdout)

    def test_boto3_comparison_prints_what_the_page_shows(self) -> None:
        """The side-by-side with boto3's TypeDeserializer prints records_boto3.txt."""
        result = python(f"{PAGE_EXAMPLES / 'records_boto3.py'}")

        assert result.returncode == 0, result.stderr
        expect_text("records_boto3.txt", result.stdout)

    def test_whole_as_int_keeps_fractions_exact(self, load_example: LoadExample) -> None:
        """The page's parse_number gives int for whole numbers and Decimal for the others."""
        example = load_example("records_values")
        app = example.app

        result = run(app, insert({"pk": "a", "count": 3, "price": example.Decimal("0.1")}))

        assert result.ok
        assert result.records[0].new == {"pk": "a", "count": 3, "price": example.Decimal("0.1")}
        assert type(result.records[0].new["count"]) is int

    def test_decode_error_message_is_the_one_quoted(self) -> None:
        """The decode error quoted on the records page is the one ddbstream raises."""
        app = App()
        seen: list[object] = []
        app.on_insert(lambda record: seen.append(record.new))
        events = load_json(EXAMPLES / "failures_on_error_event.json")

        outcome = app.process({"Records": events["Records"][3:]})

        assert seen == []
        assert outcome.error is not None
        assert f"\n{outcome.error}\n" in page("records")


class TestFailures:
    def test_report_mode_prints_what_the_page_shows(self) -> None:
        """With report_batch_item_failures the second payment is reported, the third not run."""
        result = ddbstream(
            "invoke",
            f"{PAGE_EXAMPLES / 'failures_report.py'}:app",
            "docs/examples/failures_event.json",
        )

        assert result.returncode == 1
        expect_text("failures_invoke.txt", result.stdout)

    def test_report_mode_returns_the_sequence_number(
        self, load_example: LoadExample, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """app.handler returns the failed record's sequence number and runs nothing after it."""
        example = load_example("failures_report")

        response = example.handler(load_json(EXAMPLES / "failures_event.json"), None)

        assert response == {"batchItemFailures": [{"itemIdentifier": "100000000000000000002"}]}
        assert capsys.readouterr().out == "charged pay#1 30\n"

    def test_default_mode_raises_as_the_page_shows(self, load_example: LoadExample) -> None:
        """Without reporting, the handler's own ValueError propagates with the quoted note."""
        example = load_example("failures_report")
        app = App()
        app.on_insert(example.charge)

        with pytest.raises(ValueError, match="cannot charge 0 for pay#2") as raised:
            app.handler(load_json(EXAMPLES / "failures_event.json"), None)

        notes = getattr(raised.value, "__notes__", [])
        assert len(notes) == 1
        text = page("failures")
        assert f"ValueError: {raised.value}\n{notes[0]}\n" in text

    def test_error_hooks_print_what_the_page_shows(self) -> None:
        """The KeyError hook skips pay#2; the DecodeError hook re-raises, so pay#4 is reported."""
        result = ddbstream(
            "invoke",
            f"{PAGE_EXAMPLES / 'failures_on_error.py'}:app",
            "docs/examples/failures_on_error_event.json",
        )

        assert result.returncode == 1
        expect_text("failures_on_error_invoke.txt", result.stdout)

    @pytest.mark.parametrize(
        ("message", "shown", "status"),
        [
            ("failures_s3_object.json", "failures_replay_s3.txt", 1),
            ("failures_parked.json", "failures_replay_parked.txt", 0),
        ],
    )
    def test_replay_prints_what_the_page_shows(self, message: str, shown: str, status: int) -> None:
        """replay runs the S3 object's range (pay#2 fails again) and the parked record."""
        result = ddbstream(
            "replay", f"{PAGE_EXAMPLES / 'failures_report.py'}:app", f"docs/examples/{message}"
        )

        assert result.returncode == status, result.stderr
        expect_text(shown, result.stdout)

    def test_parked_example_is_what_park_sends(self) -> None:
        """The page's parked message has the fields park() writes, and reads back."""
        from ddbstream.failures import park_message, parse_parked

        app = App()
        seen: list[Any] = []
        app.on_insert(seen.append)
        app.handler({"Records": [insert({"pk": "p"})]}, None)
        example = load_json(EXAMPLES / "failures_parked.json")

        assert set(example) == set(park_message(seen[0], ConnectionError("down")))
        assert parse_parked(example).error_type == "ConnectionError"

    def test_destination_handler(
        self, load_example: LoadExample, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The queue's function prints each batch, and the replay deadline when it must."""
        example = load_example("failures_destination")
        failures = ROOT / "tests" / "events" / "failures"

        example.handler(load_json(failures / "dynamodb_sqs_event.json"), None)
        example.handler({"Records": [load_json(EXAMPLES / "failures_s3_object.json")]}, None)

        lines = capsys.readouterr().out.splitlines()
        assert lines[0].startswith("gave up on 1 record(s) of dynamodb stream arn:aws:dynamodb:")
        assert lines[1] == "replay before 2019-11-15 00:13:19+00:00"
        assert lines[2].startswith("gave up on 2 record(s) of dynamodb stream")
        assert len(lines) == 3  # the S3 object carries its records: no deadline

    def test_time_guard_reports_the_records_not_started(
        self, load_example: LoadExample, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """With under 10 s left before the second record, it and the third are reported."""
        example = load_example("failures_time_guard")

        response = example.handler(
            load_json(EXAMPLES / "failures_event.json"), Context(9_999, 9_999)
        )

        assert response == {
            "batchItemFailures": [
                {"itemIdentifier": "100000000000000000002"},
                {"itemIdentifier": "100000000000000000003"},
            ]
        }
        assert capsys.readouterr().out == "exported pay#1\n"


class TestCli:
    def test_routes_prints_what_the_page_shows(self) -> None:
        """`ddbstream routes lambda_function.handler` in the tutorial folder prints routes.txt."""
        result = ddbstream("routes", "lambda_function.handler", cwd=TUTORIAL_CODE)

        assert result.returncode == 0, result.stderr
        expect_text("tutorial_orders/routes.txt", result.stdout)

    def test_filter_criteria_prints_what_the_page_shows(self) -> None:
        """`ddbstream filter-criteria` on the tutorial's app prints filter_criteria.json."""
        result = ddbstream("filter-criteria", "lambda_function.handler", cwd=TUTORIAL_CODE)

        assert result.returncode == 0, result.stderr
        expect_text("tutorial_orders/filter_criteria.json", result.stdout)
        assert (
            json.loads(result.stdout)
            == import_file(TUTORIAL_CODE / "lambda_function.py").app.filter_criteria()
        )

    def test_a_handler_setting_lambda_cannot_resolve_is_explained(self) -> None:
        """`lambda_function.app.handler` exits 2 with the explanation the page shows."""
        result = ddbstream(
            "invoke", "lambda_function.app.handler", "../events/orders.json", cwd=TUTORIAL_CODE
        )

        assert result.returncode == 2
        assert result.stdout == ""
        expect_text("tutorial_orders/bad_handler.txt", result.stderr)


def event_sources(template: dict[str, Any]) -> list[dict[str, Any]]:
    """The stream event sources of a SAM or CloudFormation template: SAM events, mappings."""
    sources: list[dict[str, Any]] = []
    for resource in template.get("Resources", {}).values():
        if resource["Type"] == "AWS::Lambda::EventSourceMapping":
            sources.append(resource["Properties"])
        for source_event in resource.get("Properties", {}).get("Events", {}).values():
            if source_event["Type"] in {"DynamoDB", "Kinesis"}:
                sources.append(source_event["Properties"])
    return sources


TEMPLATES = [
    block
    for block in docs_blocks.all_blocks()
    if block.language == "yaml" and "Resources:" in block.text
]


class TestDeployment:
    def test_the_docs_show_templates(self) -> None:
        """The tutorial and the deployment page each show a SAM template."""
        assert {block.page.name for block in TEMPLATES} >= {"tutorial.md", "deployment.md"}

    @pytest.mark.parametrize("block", TEMPLATES, ids=lambda block: block.where)
    def test_every_template_gives_up_on_a_bad_record(self, block: docs_blocks.Block) -> None:
        """Every stream event source in a page's template retries, bisects and sends failures on.

        Without them, one record that always fails blocks its shard until it expires (24 hours).
        """
        template = load_yaml(block.text)
        sources = event_sources(template)

        assert sources, block.where
        for source in sources:
            assert 0 <= source["MaximumRetryAttempts"] <= 10, block.where
            assert source["BisectBatchOnFunctionError"] is True, block.where
            destination = source["DestinationConfig"]["OnFailure"]["Destination"]
            # One destination, or a choice of them (!If [condition, one, other]).
            choices = destination["If"][1:] if "If" in destination else [destination]
            for choice in choices:
                assert choice == {"GetAtt": choice["GetAtt"]}, block.where
                target = template["Resources"][choice["GetAtt"].removesuffix(".Arn")]
                assert target["Type"] in {"AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::S3::Bucket"}
            assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"], block.where

    def test_sam_template_has_every_recommended_setting(self) -> None:
        """The SAM recipe sets the handler, the view type and every failure setting."""
        template = load_template(EXAMPLES / "deployment_template.yaml")
        resources = template["Resources"]
        function = resources["OrderEvents"]["Properties"]
        stream = function["Events"]["Stream"]["Properties"]

        assert function["Handler"] == "lambda_function.handler"
        assert resources["Orders"]["Properties"]["StreamSpecification"] == {
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        }
        assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert stream["BisectBatchOnFunctionError"] is True
        assert stream["MaximumRetryAttempts"] == 10
        assert stream["StartingPosition"] in {"TRIM_HORIZON", "LATEST"}
        assert 1 <= stream["BatchSize"] <= 1000
        # An SQS queue by default; an S3 bucket (which keeps the records) with FailuresTo=s3.
        assert template["Parameters"]["FailuresTo"]["Default"] == "sqs"
        assert template["Conditions"]["FailuresToS3"] == {"Equals": [{"Ref": "FailuresTo"}, "s3"]}
        assert stream["DestinationConfig"] == {
            "OnFailure": {
                "Destination": {
                    "If": [
                        "FailuresToS3",
                        {"GetAtt": "StreamFailureRecords.Arn"},
                        {"GetAtt": "StreamFailures.Arn"},
                    ]
                }
            }
        }
        assert resources["StreamFailures"]["Type"] == "AWS::SQS::Queue"
        assert resources["StreamFailureRecords"]["Type"] == "AWS::S3::Bucket"
        assert resources["StreamFailureRecords"]["Condition"] == "FailuresToS3"
        (s3_policy,) = [policy["If"] for policy in function["Policies"] if "If" in policy]
        assert s3_policy[0] == "FailuresToS3"
        assert s3_policy[1]["Statement"][0]["Action"] == ["s3:PutObject", "s3:ListBucket"]
        for rule in stream["FilterCriteria"]["Filters"]:
            assert isinstance(json.loads(rule["Pattern"]), dict)

    def test_cdk_stack_sets_every_recommended_option(self) -> None:
        """The CDK recipe passes every failure option to DynamoEventSource."""
        tree = ast.parse((EXAMPLES / "deployment_cdk.py").read_text(encoding="utf-8"))
        calls = {
            node.func.attr: node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        }
        source = calls["DynamoEventSource"]
        options = {keyword.arg: keyword.value for keyword in source.keywords}
        function_options = {keyword.arg: keyword.value for keyword in calls["Function"].keywords}

        assert set(options) >= {
            "starting_position",
            "batch_size",
            "report_batch_item_failures",
            "bisect_batch_on_error",
            "retry_attempts",
            "on_failure",
            "filters",
        }
        assert ast.literal_eval(options["report_batch_item_failures"]) is True
        # No FilterCriteria at all, rather than an empty one, when the app wants every record.
        filters = options["filters"]
        assert isinstance(filters, ast.BoolOp)
        assert isinstance(filters.op, ast.Or)
        assert ast.literal_eval(filters.values[-1]) is None
        assert ast.literal_eval(function_options["handler"]) == "lambda_function.handler"
        assert isinstance(calls["SqsDlq"], ast.Call)
        assert isinstance(calls["S3OnFailureDestination"], ast.Call)  # the bucket option

    def test_terraform_mapping_sets_every_recommended_argument(self) -> None:
        """The Terraform recipe's event source mapping sets every failure argument."""
        text = (EXAMPLES / "deployment_main.tf").read_text(encoding="utf-8")
        mapping = text[text.index('resource "aws_lambda_event_source_mapping"') :]
        mapping = mapping[: mapping.index("\n}\n")]

        assert text.count("{") == text.count("}")
        assert re.search(r'handler\s*=\s*"lambda_function\.handler"', text)
        assert re.search(r'function_response_types\s*=\s*\["ReportBatchItemFailures"\]', mapping)
        for argument in (
            "starting_position",
            "batch_size",
            "bisect_batch_on_function_error",
            "maximum_retry_attempts",
            "destination_arn",
            "filter_criteria",
        ):
            assert re.search(rf"\b{argument}\b", mapping), argument
        # Created before its role may read the stream, the mapping fails to create.
        depends_on = re.search(r"depends_on\s*=\s*\[([^\]]*)\]", mapping)
        assert depends_on is not None
        assert "aws_iam_role_policy_attachment.stream_read" in depends_on.group(1)
        assert "aws_iam_role_policy.send_failures" in depends_on.group(1)
        # The queue by default; the bucket, and its permissions, with failures_to = "s3".
        assert re.search(
            r'variable "failures_to" \{\s*type\s*=\s*string\s*default\s*=\s*"sqs"', text
        )
        assert "destination_arn = local.failure_destination" in mapping
        assert 'var.failures_to == "s3" ? aws_s3_bucket.stream_failures[0].arn' in text
        assert '["s3:PutObject", "s3:ListBucket"]' in text

    def test_recipes_read_filter_criteria_in_its_own_shape(self) -> None:
        """filter_criteria() has the Filters/Pattern shape the CDK and Terraform recipes read."""
        app = import_file(TUTORIAL_CODE / "lambda_function.py").app

        criteria = json.loads(json.dumps(app.filter_criteria()))
        cdk_filters = [{"pattern": rule["Pattern"]} for rule in criteria["Filters"]]

        assert set(criteria) == {"Filters"}
        assert len(cdk_filters) <= 5
        for rule in cdk_filters:
            assert isinstance(json.loads(rule["pattern"]), dict)


class TestMigration:
    def test_powertools_runs_the_record_after_the_failure(
        self, load_example: LoadExample, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Powertools stores photo#3 although photo#2 failed, and shows B as base64 text."""
        example = load_example("migration_powertools")

        response = example.lambda_handler(load_json(EXAMPLES / "migration_event.json"), None)

        printed = capsys.readouterr().out
        expect_text("migration_powertools_output.txt", f"{printed}returns {json.dumps(response)}\n")

    def test_ddbstream_stops_at_the_failure(
        self, load_example: LoadExample, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """ddbstream stores only photo#1, as bytes, and reports photo#2."""
        example = load_example("migration_ddbstream")

        response = example.handler(load_json(EXAMPLES / "migration_event.json"), None)

        printed = capsys.readouterr().out
        expect_text("migration_ddbstream_output.txt", f"{printed}returns {json.dumps(response)}\n")

    def test_hand_written_loop_raises_at_the_failure(
        self, load_example: LoadExample, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The hand-written loop stores photo#1 as bytes, then raises on photo#2."""
        example = load_example("migration_loop")

        with pytest.raises(ValueError, match="empty photo photo#2"):
            example.lambda_handler(load_json(EXAMPLES / "migration_event.json"), None)

        assert capsys.readouterr().out == "stored photo#1 b'hi'\n"


class TestReadme:
    README = (ROOT / "README.md").read_text(encoding="utf-8")

    def test_example_routes_records(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The README's example runs each of its three routes on the records meant for it."""
        code = re.search(r"```python\n(.*?)```", self.README, re.DOTALL)
        assert code is not None
        namespace: dict[str, Any] = {}
        exec(compile(code.group(1), "README.md", "exec"), namespace)
        order = {"pk": "order#1", "type": "ORDER", "status": "NEW", "total": 42}
        shipped = {**order, "status": "SHIPPED"}

        result = run(
            namespace["app"],
            insert(order),
            modify(order, shipped),
            insert({"pk": "user#1", "type": "USER"}),
        )

        assert result.ran == ["order_placed", "order_shipped"]
        assert capsys.readouterr().out == "new order order#1 42\nshipped order#1 NEW -> SHIPPED\n"
        assert namespace["handler"] is namespace["app"].handler
        assert len(code.group(1).splitlines()) <= 25

    def test_quick_start_holds_the_two_commands(self) -> None:
        """The first shell block under Quick start is the two commands, the second is CI's."""
        section = self.README[self.README.index("\n## Quick start\n") :]
        block = re.search(r"```shell\n(.*?)```", section, re.DOTALL)
        assert block is not None

        commands = block.group(1).splitlines()

        assert commands == [
            "python -m pip install -e . && "
            "ddbstream invoke examples/lambda_function.py:app examples/event.json",
            "python -m pip install -e '.[dev]' && python -m pytest",
        ]
        ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        install, test = commands[1].split(" && ")
        assert any(line.startswith(install) and line.endswith(f" && {test}") for line in ci), (
            "CI must run the README's test command"
        )

    def test_quick_start_invoke_succeeds(self) -> None:
        """The first command's invoke runs the example on its sample event without failure."""
        result = ddbstream("invoke", "examples/lambda_function.py:app", "examples/event.json")

        assert result.returncode == 0, result.stderr
        assert "3 of 3 records processed" in result.stdout


class TestPages:
    def test_pages_hold_their_code(self) -> None:
        """No page includes a snippet: code and outputs are in the pages (the changelog aside)."""
        including = [
            path.name
            for path in docs_blocks.pages()
            if "--8<--" in path.read_text(encoding="utf-8") and path.name != "changelog.md"
        ]

        assert including == []

    def test_every_bound_file_exists_or_is_page_code(self) -> None:
        """Each marker names a file that exists, or a Python example the page alone holds."""
        missing = [
            f"{block.where}: {block.path}"
            for block in docs_blocks.all_blocks()
            if block.path is not None
            and not (ROOT / block.path).is_file()
            and not (block.kind == "example" and block.language == "python")
        ]

        assert missing == []

    @pytest.mark.parametrize(
        "block",
        [
            block
            for block in docs_blocks.all_blocks()
            if block.kind != "excerpt" and block.path and (ROOT / block.path).is_file()
        ],
        ids=lambda block: block.where,
    )
    def test_page_shows_the_file_as_it_is(self, block: docs_blocks.Block) -> None:
        """A block bound to a file (project code, template, event, output) equals that file."""
        assert block.path is not None
        path = ROOT / block.path
        if UPDATE and block.kind == "output":
            docs_blocks.replace_shown(block, path.read_text(encoding="utf-8"))
            return
        assert block.shown == path.read_text(encoding="utf-8")

    def test_excerpts_are_word_for_word(self) -> None:
        """A block marked as an excerpt is a part of its file, line for line."""
        excerpts = [block for block in docs_blocks.all_blocks() if block.kind == "excerpt"]

        assert excerpts
        for block in excerpts:
            assert block.path is not None
            assert block.text in (ROOT / block.path).read_text(encoding="utf-8"), block.where

    def test_a_page_example_shown_twice_is_the_same(self) -> None:
        """An example shown on two pages is the same code on both."""
        texts: dict[str, set[str]] = {}
        for block in docs_blocks.python_blocks():
            if block.kind == "example" and block.path is not None:
                texts.setdefault(block.path, set()).add(block.text)

        assert {path for path, shown in texts.items() if len(shown) > 1} == set()
        assert "docs/examples/failures_on_error.py" in texts

    def test_every_python_block_is_an_example(self) -> None:
        """Every Python block of the pages is bound to an example, so some test runs it."""
        unbound = [block.where for block in docs_blocks.python_blocks() if block.path is None]
        excerpts = [block.path for block in docs_blocks.python_blocks() if block.kind == "excerpt"]

        assert unbound == []
        assert len(docs_blocks.page_examples()) >= 25
        assert excerpts == ["docs/examples/deployment_cdk.py"]  # its test parses the file

    @pytest.mark.parametrize("name", sorted(docs_blocks.page_examples()))
    def test_every_page_example_runs(
        self, name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Each Python example of the pages imports and runs its module code without error."""
        monkeypatch.syspath_prepend(str(PAGE_EXAMPLES))
        monkeypatch.setitem(sys.modules, "orders", import_file(PAGE_EXAMPLES / "testing_orders.py"))
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # set in Lambda; boto3 needs it
        # failures_park reads its queue's URL from the function's environment, as in Lambda.
        monkeypatch.setenv("PARKED_QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/1/parked")

        module = import_file(PAGE_EXAMPLES / name)

        assert module.__file__ == str(PAGE_EXAMPLES / name)
        capsys.readouterr()

    def test_page_python_passes_mypy_strict(self, tmp_path: Path) -> None:
        """The pages' Python, written out as modules, passes mypy --strict with our config."""
        written = docs_blocks.materialize(tmp_path)

        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "mypy",
                "--config-file",
                str(ROOT / "pyproject.toml"),
                "--no-error-summary",
                *map(str, written.values()),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

        located = result.stdout
        for name, path in written.items():
            block = docs_blocks.page_examples()[name]
            located = located.replace(str(path), f"{block.where} ({name})")
        assert result.returncode == 0, located
        assert "index_app.py" in written

    def test_every_example_is_shown(self) -> None:
        """Every example file (code, template, output) is shown in a page: none is left to rot."""
        shown = {block.path for block in docs_blocks.all_blocks() if block.path}
        examples = {
            str(path.relative_to(ROOT))
            for path in EXAMPLES.rglob("*")
            if path.is_file()
            and "__pycache__" not in path.parts
            and path.suffix in {".py", ".txt", ".yaml", ".tf"}
        }

        assert examples - shown == set()

    def test_nav_lists_every_page(self) -> None:
        """mkdocs.yml's nav names each page in docs/ once."""
        config = load_yaml((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
        in_nav = [next(iter(entry.values())) for entry in config["nav"]]

        assert sorted(in_nav) == sorted(path.name for path in DOCS.glob("*.md"))
        assert config["strict"] is True


class TestRefusedInputs:
    SECTION = page("records").split("### Inputs boto3 accepts and ddbstream refuses")[1]
    ROWS = re.findall(r"^\| `(\{.*?\})` \| `(.*?)` \| (.*?) \|$", SECTION, re.MULTILINE)

    def test_the_table_is_there(self) -> None:
        """The records page lists the refused inputs in a table."""
        assert len(self.ROWS) >= 15

    @pytest.mark.parametrize(("given", "boto3_value", "message"), ROWS)
    def test_boto3_accepts_and_ddbstream_refuses(
        self, given: str, boto3_value: str, message: str
    ) -> None:
        """Each listed input: boto3 returns what the page says, ddbstream raises its message."""
        from boto3.dynamodb.types import TypeDeserializer

        from ddbstream import deserialize
        from ddbstream.errors import DecodeError

        value = json.loads(given)

        returned = TypeDeserializer().deserialize(value)
        if isinstance(returned, set):
            assert returned == eval(boto3_value, {"Decimal": Decimal})  # sets: any order
        else:
            assert repr(returned) == boto3_value
        with pytest.raises(DecodeError) as raised:
            deserialize(value)
        assert message in str(raised.value)


class TestMigrationDifferences:
    def test_powertools_raises_where_ddbstream_answers(self) -> None:
        """The two intended differences the migration page lists hold for both libraries."""
        from aws_lambda_powertools.utilities.batch import (
            BatchProcessor,
            EventType,
            process_partial_response,
        )
        from aws_lambda_powertools.utilities.batch.exceptions import (
            BatchProcessingError,
            UnexpectedBatchTypeError,
        )

        def fail(record: object) -> None:
            raise ValueError("always")

        batch = event(insert({"pk": "a"}))
        processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
        with pytest.raises(UnexpectedBatchTypeError):
            process_partial_response(
                event={"Records": []}, record_handler=fail, processor=processor, context=None
            )
        with pytest.raises(BatchProcessingError):
            process_partial_response(
                event=batch, record_handler=fail, processor=processor, context=None
            )

        app = App(report_batch_item_failures=True)
        app.on_insert(fail)
        assert app.handler({"Records": []}, None) == {"batchItemFailures": []}
        sequence = batch["Records"][0]["dynamodb"]["SequenceNumber"]
        assert app.handler(batch, None) == {"batchItemFailures": [{"itemIdentifier": sequence}]}
        text = page("migration")
        assert "`UnexpectedBatchTypeError`" in text
        assert "`BatchProcessingError`" in text
