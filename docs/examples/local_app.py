# lambda_function.py: the app that `ddbstream tail lambda_function.handler` runs locally
from ddbstream import App, Attr, Record

app = App(report_batch_item_failures=True)


@app.on_insert
def new_order(record: Record) -> None:
    order = record.item  # the new image on an INSERT
    if order["total"] < 0:
        raise ValueError(f"order {order['orderId']} has a negative total")
    print("new order", order["orderId"], "for", order["total"])


@app.on_modify(changed="status", new=Attr("status").eq("SHIPPED"))
def shipped(record: Record) -> None:
    before, after = record.diff.changed["status"]
    print("order", record.keys["orderId"], before, "->", after)


@app.on_remove
def removed(record: Record) -> None:
    print("order", record.keys["orderId"], "removed")


handler = app.handler
