"""Routing order events by what the item is and what changed."""

from ddbstream import App, Attr, Record

app = App()


@app.on_insert(where={"type": "ORDER"})  # dict shorthand: equality on each key
def new_order(record: Record) -> None:
    print("new order", record.keys["pk"])


@app.on_modify(changed="status", new=Attr("status").eq("SHIPPED"))
def shipped(record: Record) -> None:
    before, after = record.diff.changed["status"]
    print("shipped", record.keys["pk"], before, "->", after)


@app.on_modify(where=Attr("total").gte(100) & Attr("address.country").is_in(["DE", "AT"]))
def big_order_in_dach(record: Record) -> None:
    print("big order", record.keys["pk"])


@app.on_remove(ttl=True, where=Attr("pk").begins_with("cart#"))
def cart_expired(record: Record) -> None:
    print("cart expired", record.keys["pk"])


@app.on("INSERT", "MODIFY", table="Users", changed="email")
def email_changed(record: Record) -> None:
    print("email changed", record.keys["pk"])


handler = app.handler
