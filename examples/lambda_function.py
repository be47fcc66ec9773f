"""The dispatcher from AWS's DynamoDB Streams tutorial, as a ddbstream app.

Run it on AWS's three-record sample event:

    ddbstream invoke examples/lambda_function.py:app examples/event.json

In Lambda, set the handler to ``lambda_function.handler``.
"""

from ddbstream import App, Record

app = App()


@app.on_insert
def inserted(record: Record) -> None:
    assert record.new is not None
    print(f"{record.event_name}: new Message {record.new['Message']!r}")


@app.on_modify
def modified(record: Record) -> None:
    assert record.old is not None
    assert record.new is not None
    print(f"{record.event_name}: Message {record.old['Message']!r} -> {record.new['Message']!r}")


@app.on_remove
def removed(record: Record) -> None:
    assert record.old is not None
    print(f"{record.event_name}: removed Message {record.old['Message']!r}")


handler = app.handler
