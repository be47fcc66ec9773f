"""Tumbling windows: count orders per window, publish the total when the window ends."""

from ddbstream import App, Record, Window

app = App(report_batch_item_failures=True)
published: list[dict[str, object]] = []


@app.on_insert(where={"type": "ORDER"})
def count_order(record: Record) -> None:
    assert app.window is not None  # set for every invocation of a windowed event source
    state = app.window.state  # returned to Lambda after the batch, handed back next time
    state["orders"] = state.get("orders", 0) + 1


@app.on_window_end
def publish(window: Window) -> None:
    published.append({"window": window.start, "orders": window.state.get("orders", 0)})


handler = app.handler
