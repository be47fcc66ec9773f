from ddbstream import Record, Router

router = Router()


@router.on_insert(where={"type": "ORDER"})
def order_placed(record: Record) -> None:
    print("order placed", record.keys["pk"])


@router.on_modify(where={"type": "ORDER"}, changed="status")
def order_status(record: Record) -> None:
    print("order", record.keys["pk"], record.old["status"], "->", record.new["status"])
