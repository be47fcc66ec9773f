from ddbstream import Insert, Modify, Router

router = Router()


@router.on_insert(where={"type": "ORDER"})
def order_placed(record: Insert) -> None:
    print("order placed", record.keys["pk"])


@router.on_modify(where={"type": "ORDER"}, changed="status")
def order_status(record: Modify) -> None:
    print("order", record.keys["pk"], record.old["status"], "->", record.new["status"])
