from ddbstream import App, Record

# Start no record with less than 10 s of the invocation left: report it and the rest,
# so that Lambda redelivers them instead of timing out half-way through one.
app = App(report_batch_item_failures=True, min_remaining_ms=10_000)


@app.on_insert
def export(record: Record) -> None:
    print("exported", record.keys["pk"])


handler = app.handler
