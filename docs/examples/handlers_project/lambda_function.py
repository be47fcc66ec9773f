import customers
import orders

from ddbstream import App, Record

app = App()


@app.on("INSERT", "MODIFY", "REMOVE")
def audit(record: Record) -> None:  # registered first, so it runs first
    print("audit", record.event_name, record.keys["pk"])


app.include_router(orders.router)  # orders' routes run next, in their own order
app.include_router(customers.router)

handler = app.handler
