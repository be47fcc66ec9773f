from ddbstream import App, Record

app = App(report_batch_item_failures=True)


@app.on_insert
def store(record: Record) -> None:
    photo = record.new
    assert photo is not None  # INSERT records carry the new image
    if not photo["data"]:
        raise ValueError(f"empty photo {photo['pk']}")
    print("stored", photo["pk"], photo["data"])


handler = app.handler  # handler setting: lambda_function.handler
