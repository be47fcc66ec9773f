from collections.abc import Callable
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from ddbstream import deserialize

boto3_deserializer = TypeDeserializer()

values = [
    {"B": "aGVsbG8="},  # binary, as Lambda delivers it: base64 text
    {"N": "12345678901234567890123456789012345678901234567890"},  # 50 digits
    {"N": "1" + "0" * 40},  # 41 digits, exact all the same
    {"N": "1.50"},
    {"N": "NaN"},
    {"S": "a", "N": "1"},  # two type tags: malformed
]


def attempt(function: Callable[[Any], Any], value: dict[str, Any]) -> str:
    try:
        return repr(function(value))
    except Exception as error:
        return type(error).__name__


for value in values:
    print(value)
    print("  ddbstream:", attempt(deserialize, value))
    print("  boto3:    ", attempt(boto3_deserializer.deserialize, value))
