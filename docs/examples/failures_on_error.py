from ddbstream import App, Record
from ddbstream.errors import DecodeError

app = App(report_batch_item_failures=True)


@app.on_insert
def charge(record: Record) -> None:
    payment = record.new
    assert payment is not None  # INSERT records carry the new image
    print("charged", payment["pk"], payment["amount"])


@app.on_error(KeyError)
def incomplete(record: Record, error: Exception) -> None:
    # Returning normally marks the record handled: the batch goes on.
    print("skipping", record.keys["pk"], "missing", error)


@app.on_error(DecodeError)
def undecodable(record: Record, error: Exception) -> None:
    print("cannot decode", record.event_id, error)
    raise error  # raising keeps the record failed: it is reported and retried


handler = app.handler
