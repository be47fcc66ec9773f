"""Order notifications: the tutorial's Lambda function (handler setting lambda_function.handler)."""

from ddbstream import App, Attr, Insert, Modify

app = App(report_batch_item_failures=True)


def send_email(to: str, subject: str) -> None:
    """Stand-in for your mail service (SES, a queue...)."""
    print(f"mail to {to}: {subject}")


@app.on_insert
def confirm(record: Insert) -> None:
    order = record.new
    send_email(order["email"], f"Order {order['orderId']} received: {order['total']} EUR")


@app.on_modify(changed="status", new=Attr("status").eq("SHIPPED"))
def shipped(record: Modify) -> None:
    order = record.new
    send_email(order["email"], f"Order {order['orderId']} is on its way")


handler = app.handler
