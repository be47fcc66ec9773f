from ddbstream import App, Record

app = App()


@app.on_insert  # bare decorator: every INSERT
def audit(record: Record) -> None:
    print("audit", record.event_name, record.keys["pk"])


@app.on_insert(where={"type": "ORDER"})  # called decorator, with a filter
def new_order(record: Record) -> None:
    print("new order", record.keys["pk"])


@app.on("INSERT", "MODIFY", where={"type": "ORDER"})  # several event names
def index(record: Record) -> None:
    print("index", record.keys["pk"])


def cleanup(record: Record) -> None:
    print("cleanup", record.keys["pk"])


app.on_remove(cleanup)  # plain call with a function...
app.on_remove(lambda record: print("removed", record.keys["pk"]))  # ...or a lambda


@app.on_unmatched  # records that no route above matched
def ignored(record: Record) -> None:
    print("no route for", record.event_name, record.keys["pk"])


handler = app.handler
