# lambda_function.py (Lambda handler setting: lambda_function.handler)
from ddbstream import App, Attr, Record

app = App()


@app.on_insert
def welcome(record: Record) -> None:
    print("welcome mail to", record.new["email"])


@app.on_modify(changed="status", new=Attr("status").eq("SHIPPED"))
def shipped(record: Record) -> None:
    print("order", record.keys["orderId"], record.old["status"], "->", record.new["status"])


@app.on_remove(ttl=True)
def expired(record: Record) -> None:
    print("archive", record.old)


app.on_remove(lambda record: print("deleted", record.keys))  # a plain call works too

handler = app.handler
