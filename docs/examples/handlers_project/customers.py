from ddbstream import Record, Router

router = Router()


@router.on_insert(where={"type": "CUSTOMER"})
def customer_signed_up(record: Record) -> None:
    print("welcome", record.new["name"])
