"""async def handlers: one HTTP call per record, many records in flight at once."""

import asyncio

from ddbstream import App, Record

app = App(report_batch_item_failures=True, max_concurrency=20)
sent: list[str] = []


async def post_webhook(order_id: str, status: str) -> None:
    await asyncio.sleep(0.001)  # stands in for an HTTP client call
    sent.append(f"{order_id}:{status}")


@app.on_modify(changed="status")
async def status_changed(record: Record) -> None:
    assert record.new is not None
    await post_webhook(record.keys["pk"], record.new["status"])


handler = app.handler
