from ddbstream import App, Record

app = App(report_batch_item_failures=True)  # with FunctionResponseTypes: [ReportBatchItemFailures]


@app.on_insert
def charge(record: Record) -> None:
    payment = record.new
    assert payment is not None  # INSERT records carry the new image
    if payment["amount"] <= 0:
        raise ValueError(f"cannot charge {payment['amount']} for {payment['pk']}")
    print("charged", payment["pk"], payment["amount"])


handler = app.handler
