"""Create an `orders` table with a stream on a local endpoint, and change a few items.

python local_table.py http://127.0.0.1:5000 create
python local_table.py http://127.0.0.1:5000 write
python local_table.py http://127.0.0.1:5000 bad
"""

import sys
from decimal import Decimal

import boto3


def orders_table(endpoint_url: str, name: str = "orders") -> str:
    """Create the table with a NEW_AND_OLD_IMAGES stream; return its stream ARN."""
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url)
    table = dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "orderId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return str(table["TableDescription"]["LatestStreamArn"])


def write_orders(endpoint_url: str, name: str = "orders") -> None:
    """Insert an order, ship it, delete it: one INSERT, one MODIFY, one REMOVE."""
    table = boto3.resource("dynamodb", endpoint_url=endpoint_url).Table(name)
    table.put_item(Item={"orderId": "o-1", "status": "NEW", "total": Decimal("19.90")})
    table.update_item(
        Key={"orderId": "o-1"},
        UpdateExpression="SET #status = :shipped",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":shipped": "SHIPPED"},
    )
    table.delete_item(Key={"orderId": "o-1"})


def write_bad_order(endpoint_url: str, name: str = "orders") -> None:
    """Insert an order that the app's new_order handler refuses."""
    table = boto3.resource("dynamodb", endpoint_url=endpoint_url).Table(name)
    table.put_item(Item={"orderId": "o-2", "status": "NEW", "total": Decimal("-5")})


if __name__ == "__main__":
    endpoint, command = sys.argv[1], sys.argv[2]
    if command == "create":
        print(orders_table(endpoint))
    elif command == "write":
        write_orders(endpoint)
    else:
        write_bad_order(endpoint)
