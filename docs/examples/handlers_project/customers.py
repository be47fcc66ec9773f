from ddbstream import Insert, Router

router = Router()


@router.on_insert(where={"type": "CUSTOMER"})
def customer_signed_up(record: Insert) -> None:
    print("welcome", record.new["name"])
