"""CDK (Python) stack: the orders table, its stream and a ddbstream function on it."""

import sys

from aws_cdk import App, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

sys.path.insert(0, "src")  # the function's code, to read its routes' FilterCriteria
from lambda_function import app as stream_app

# The routes' FilterCriteria; none at all (not an empty list) when the app wants every record.
filters = [{"pattern": rule["Pattern"]} for rule in stream_app.filter_criteria()["Filters"]]
# Where Lambda describes the batches it gives up on: a queue gets their shard and sequence
# numbers (`ddbstream replay` reads the records from the stream, within 24 hours); a bucket
# gets the records too.
FAILURES_TO_S3 = False


class OrderEvents(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        table = dynamodb.Table(
            self,
            "Orders",
            partition_key=dynamodb.Attribute(name="orderId", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        )
        # The ledger of App(ledger=Ledger(...)): which idempotent route ran for which record.
        ledger = dynamodb.Table(
            self,
            "OrdersLedger",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="expires",
        )
        on_failure: sources.SqsDlq | sources.S3OnFailureDestination
        if FAILURES_TO_S3:  # a recent aws-cdk-lib: older ones take S3 for Kafka sources only
            bucket = s3.Bucket(self, "StreamFailureRecords")
            on_failure = sources.S3OnFailureDestination(bucket)
        else:
            queue = sqs.Queue(self, "StreamFailures", retention_period=Duration.days(14))
            on_failure = sources.SqsDlq(queue)
        function = lambda_.Function(
            self,
            "OrderEvents",
            runtime=lambda_.Runtime.PYTHON_3_12,
            code=lambda_.Code.from_asset("src"),  # lambda_function.py and its dependencies
            handler="lambda_function.handler",
            timeout=Duration.seconds(60),
            environment={"LEDGER_TABLE": ledger.table_name},  # Ledger(os.environ[...])
        )
        function.add_to_role_policy(  # what the ledger does, and nothing more
            iam.PolicyStatement(
                actions=["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"],
                resources=[ledger.table_arn],
            )
        )
        function.add_event_source(
            sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=100,
                # Together with App(report_batch_item_failures=True).
                report_batch_item_failures=True,
                bisect_batch_on_error=True,
                retry_attempts=10,
                max_record_age=Duration.days(1),
                on_failure=on_failure,
                filters=filters or None,
            )
        )


cdk_app = App()
OrderEvents(cdk_app, "OrderEvents")
cdk_app.synth()
