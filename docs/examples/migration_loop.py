import base64
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

deserializer = TypeDeserializer()


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    for record in event["Records"]:
        if record["eventName"] != "INSERT":
            continue
        image = record["dynamodb"]["NewImage"]
        image["data"] = {"B": base64.b64decode(image["data"]["B"])}  # boto3 wants bytes
        photo = {name: deserializer.deserialize(value) for name, value in image.items()}
        data = photo["data"].value  # a boto3 Binary wrapper
        if not data:
            raise ValueError(f"empty photo {photo['pk']}")
        print("stored", photo["pk"], data)
