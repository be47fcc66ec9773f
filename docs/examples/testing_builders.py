from datetime import datetime, timezone
from decimal import Decimal

from ddbstream.testing import event, insert, modify, remove

order = {
    "pk": "order#1",
    "sk": "2026-01-01",
    "total": Decimal("25.50"),
    "items": [{"sku": "A-1", "qty": 2}],
    "tags": {"gift", "express"},
    "receipt": b"%PDF-1.7",
}
record = insert(
    order, table="Orders", approximate_creation_time=datetime(2026, 1, 1, tzinfo=timezone.utc)
)

# Exactly what Lambda delivers: DynamoDB JSON, numbers as text, bytes as base64 text.
assert record["eventName"] == "INSERT"
assert record["eventSourceARN"].startswith("arn:aws:dynamodb:us-east-1:123456789012:table/Orders/")
assert record["dynamodb"]["Keys"] == {"pk": {"S": "order#1"}, "sk": {"S": "2026-01-01"}}
assert record["dynamodb"]["NewImage"]["total"] == {"N": "25.5"}
assert record["dynamodb"]["NewImage"]["items"] == {
    "L": [{"M": {"sku": {"S": "A-1"}, "qty": {"N": "2"}}}]
}
assert record["dynamodb"]["NewImage"]["tags"] == {"SS": ["express", "gift"]}
assert record["dynamodb"]["NewImage"]["receipt"] == {"B": "JVBERi0xLjc="}
assert record["dynamodb"]["ApproximateCreationDateTime"] == 1767225600.0

# Other key names, other view types, a TTL expiry, and a whole event:
paid = modify(
    {"orderId": "o-1", "status": "NEW"},
    {"orderId": "o-1", "status": "PAID"},
    key_names="orderId",
    view_type="NEW_IMAGE",
)
assert "OldImage" not in paid["dynamodb"]
expired = remove(order, ttl=True)
assert expired["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
batch = event(record, paid, expired)  # {"Records": [...]}, sequence numbers rising
