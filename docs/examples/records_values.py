from decimal import Decimal

from ddbstream import App, deserialize, deserialize_image

image = {
    "price": {"N": "19.90"},
    "stock": {"N": "12"},
    "weight": {"N": "1E-3"},
    "name": {"S": "Lamp"},
    "photo": {"B": "iVBORw0KGgo="},
    "on_sale": {"BOOL": False},
    "discontinued": {"NULL": True},
    "sizes": {"NS": ["40", "38"]},
    "dimensions": {"M": {"height": {"N": "30"}, "unit": {"S": "cm"}}},
    "parts": {"L": [{"S": "shade"}, {"S": "base"}]},
}

item = deserialize_image(image)
for name, value in item.items():
    print(f"{name:13}{value!r}")


def whole_as_int(text: str) -> int | Decimal:
    """Whole numbers as int, the others as exact Decimal."""
    number = Decimal(text)
    return int(number) if number == number.to_integral_value() else number


print(deserialize({"N": "19.90"}, parse_number=float))
print(deserialize({"N": "12"}, parse_number=whole_as_int))
print(deserialize({"N": "19.90"}, parse_number=whole_as_int))

app = App(parse_number=whole_as_int)  # what every record.new / record.old of the app gets
