# orders.py (Lambda handler setting: orders.handler)
from ddbstream import App, Attr, Record

app = App(report_batch_item_failures=True)


def send_mail(to: str, text: str) -> None:
    """Send an email (through Amazon SES, say). Tests replace this function."""
    raise NotImplementedError("this example has no mail service")


@app.on_insert
def welcome(record: Record) -> None:
    send_mail(record.new["email"], "Thanks for your order!")


@app.on_modify(changed="status", new=Attr("status").eq("SHIPPED"))
def shipped(record: Record) -> None:
    send_mail(record.new["email"], f"Order {record.keys['orderId']} is on its way.")


@app.on_remove(ttl=True)
def expired(record: Record) -> None:
    send_mail(record.old["email"], f"Your cart {record.keys['orderId']} has expired.")


handler = app.handler
