resource "aws_dynamodb_table" "orders" {
  name             = "orders"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "orderId"
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  attribute {
    name = "orderId"
    type = "S"
  }
}

# The ledger of App(ledger=Ledger(...)): which idempotent route has run for which record.
resource "aws_dynamodb_table" "orders_ledger" {
  name         = "orders-ledger"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    attribute_name = "expires"
    enabled        = true
  }
}

# Where Lambda describes the batches it gives up on: "sqs" gets their shard and sequence
# numbers (`ddbstream replay` reads the records from the stream, within 24 hours); "s3" gets
# the records too.
variable "failures_to" {
  type    = string
  default = "sqs"
  validation {
    condition     = contains(["sqs", "s3"], var.failures_to)
    error_message = "failures_to is sqs or s3."
  }
}

resource "aws_sqs_queue" "stream_failures" {
  name                      = "order-events-failures"
  message_retention_seconds = 1209600
}

resource "aws_s3_bucket" "stream_failures" {
  count  = var.failures_to == "s3" ? 1 : 0
  bucket = "order-events-failures-${data.aws_caller_identity.current.account_id}"
}

data "aws_caller_identity" "current" {}

locals {
  failure_destination = (
    var.failures_to == "s3" ? aws_s3_bucket.stream_failures[0].arn : aws_sqs_queue.stream_failures.arn
  )
}

data "archive_file" "code" {
  type        = "zip"
  source_dir  = "${path.module}/build" # lambda_function.py plus `pip install --target build ddbstream`
  output_path = "${path.module}/order-events.zip"
}

resource "aws_lambda_function" "order_events" {
  function_name    = "order-events"
  role             = aws_iam_role.order_events.arn
  runtime          = "python3.12"
  handler          = "lambda_function.handler"
  filename         = data.archive_file.code.output_path
  source_code_hash = data.archive_file.code.output_base64sha256
  timeout          = 60

  environment {
    variables = { LEDGER_TABLE = aws_dynamodb_table.orders_ledger.name } # Ledger(os.environ[...])
  }
}

resource "aws_lambda_event_source_mapping" "orders_stream" {
  function_name     = aws_lambda_function.order_events.arn
  event_source_arn  = aws_dynamodb_table.orders.stream_arn
  starting_position = "TRIM_HORIZON"
  batch_size        = 100

  # Lambda checks the role when the mapping is created: attach the policies first.
  depends_on = [
    aws_iam_role_policy_attachment.stream_read,
    aws_iam_role_policy.send_failures,
  ]

  # Together with App(report_batch_item_failures=True) in lambda_function.py.
  function_response_types        = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error = true
  maximum_retry_attempts         = 10
  maximum_record_age_in_seconds  = 86400

  destination_config {
    on_failure {
      destination_arn = local.failure_destination
    }
  }

  # ddbstream filter-criteria lambda_function.handler > filter-criteria.json
  dynamic "filter_criteria" {
    for_each = length(local.filters) > 0 ? [1] : []
    content {
      dynamic "filter" {
        for_each = local.filters
        content {
          pattern = filter.value.Pattern
        }
      }
    }
  }
}

locals {
  filters = jsondecode(file("${path.module}/filter-criteria.json")).Filters
}

resource "aws_iam_role" "order_events" {
  name = "order-events"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_iam_role_policy_attachment" "stream_read" {
  role       = aws_iam_role.order_events.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole"
}

resource "aws_iam_role_policy" "send_failures" {
  role = aws_iam_role.order_events.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{
        Effect   = "Allow"
        Action   = "sqs:SendMessage"
        Resource = aws_sqs_queue.stream_failures.arn
      }],
      [for bucket in aws_s3_bucket.stream_failures : {
        Effect   = "Allow"
        Action   = ["s3:PutObject", "s3:ListBucket"]
        Resource = [bucket.arn, "${bucket.arn}/*"]
      }],
    )
  })
}

resource "aws_iam_role_policy" "ledger" {
  role = aws_iam_role.order_events.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"]
      Resource = aws_dynamodb_table.orders_ledger.arn
    }]
  })
}
