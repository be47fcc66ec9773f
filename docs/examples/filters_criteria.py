"""An app whose routes Lambda can filter for, and its FilterCriteria."""

import json

from ddbstream import App, Attr, Record

app = App()


@app.on_modify(changed="status", new=Attr("status").eq("SHIPPED"))
def shipped(record: Record) -> None:
    print("shipped", record.keys["pk"])


@app.on_remove(ttl=True)
def expired(record: Record) -> None:
    print("expired", record.keys["pk"])


handler = app.handler

if __name__ == "__main__":
    print(json.dumps(app.filter_criteria(), indent=2))
