"""boto3's own conditions work unchanged as filters."""

from boto3.dynamodb.conditions import Attr, Key

from ddbstream import App, Record

app = App()


@app.on_insert(where=Key("pk").begins_with("order#") & Attr("items").size().gt(3))
def large_order(record: Record) -> None:
    print("large order", record.keys["pk"])


handler = app.handler
