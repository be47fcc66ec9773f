from ddbstream import App, Record

app = App()


def reindex(record: Record) -> None:
    print("reindex", record.keys["pk"])


# What the decorators do underneath; it returns the Route it registered.
route = app.add_handler(reindex, events={"INSERT", "MODIFY"}, where={"type": "PRODUCT"})
