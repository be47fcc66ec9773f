"""Seeded generator of realistic DynamoDB Streams events, in Lambda's exact JSON shape.

    make_event(1000, shape="typical", seed=7)  # -> {"Records": [...]}

Items come in three shapes: ``small`` (6 attributes), ``typical`` (22: strings, money with
trailing zeros, big integers, sets, binary, nested maps and lists) and ``wide`` (200). Records
mix INSERT, MODIFY and REMOVE (some of them TTL expiries) with the NEW_AND_OLD_IMAGES view
type; binary values are base64 text, numbers are strings, sequence numbers rise, as Lambda
delivers them. The same seed always gives the same event.
"""

from __future__ import annotations

import base64
import json
import random
from decimal import Decimal
from typing import Any

__all__ = ["KINDS", "SHAPES", "make_event", "to_dynamodb"]

SHAPES = ("small", "typical", "wide")
KINDS = (
    "order",
    "invoice",
    "customer",
    "shipment",
    "refund",
    "product",
    "review",
    "coupon",
    "cart",
    "payment",
)
"""Values of the ``kind`` attribute, one per route of the selective benchmark."""

STATUSES = ("NEW", "PAID", "PACKED", "SHIPPED", "DELIVERED", "CANCELLED")
ESCALATED = "ESCALATED"
"""The status one item in ten has; the selective benchmark routes on it."""
STATUS_CHANGE_RATE = 0.22
"""How often a MODIFY changes ``status`` (the rest change a version, a total, a timestamp)."""

_REGION = "eu-west-1"
_ARN = f"arn:aws:dynamodb:{_REGION}:123456789012:table/orders/stream/2024-05-18T09:14:03.117"
_TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
_WORDS = (
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
    "uniform",
    "victor",
    "whiskey",
    "xray",
)
_CITIES = ("Berlin", "Lisbon", "Oslo", "Dublin", "Vienna", "Porto", "Ghent", "Turku")


def to_dynamodb(value: Any) -> dict[str, Any]:
    """Serialize a plain Python value to DynamoDB JSON as Lambda delivers it (B as base64)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (int, Decimal)):
        return {"N": str(value)}
    if isinstance(value, bytes):
        return {"B": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {"M": {name: to_dynamodb(item) for name, item in value.items()}}
    if isinstance(value, list):
        return {"L": [to_dynamodb(item) for item in value]}
    if isinstance(value, (set, frozenset)):
        members = sorted(value, key=repr)
        if all(isinstance(member, str) for member in members):
            return {"SS": members}
        if all(isinstance(member, bytes) for member in members):
            return {"BS": [base64.b64encode(member).decode("ascii") for member in members]}
        return {"NS": [str(member) for member in members]}
    raise TypeError(f"cannot serialize {type(value).__name__}")


def _money(rng: random.Random) -> Decimal:
    # Whole cents, often ending in 0 (12.50, 40.00): trailing zeros a decoder must keep.
    cents = rng.choice((rng.randrange(100, 100_000), rng.randrange(10, 10_000) * 10))
    return Decimal(cents).scaleb(-2)


def _status(rng: random.Random) -> str:
    return ESCALATED if rng.random() < 0.1 else rng.choice(STATUSES)


def _small_item(rng: random.Random, index: int) -> dict[str, Any]:
    return {
        "pk": f"{rng.choice(KINDS)}#{index:08d}",
        "sk": "v0",
        "status": _status(rng),
        "total": _money(rng),
        "active": rng.random() < 0.8,
        "updated_at": f"2024-05-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:00:00Z",
    }


def _typical_item(rng: random.Random, index: int) -> dict[str, Any]:
    kind = rng.choice(KINDS)
    lines = [
        {
            "sku": f"SKU-{rng.randrange(10_000):05d}",
            "qty": rng.randrange(1, 5),
            "price": _money(rng),
            "gift": rng.random() < 0.1,
        }
        for _ in range(rng.randrange(1, 4))
    ]
    return {
        "pk": f"{kind}#{index:08d}",
        "sk": f"v{rng.randrange(5)}",
        "kind": kind,
        "status": _status(rng),
        "email": f"{rng.choice(_WORDS)}.{rng.choice(_WORDS)}@example.com",
        "name": f"{rng.choice(_WORDS).title()} {rng.choice(_WORDS).title()}",
        "created_at": f"2024-05-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:"
        f"{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z",
        "total": _money(rng),
        "tax": _money(rng),
        "quantity": rng.randrange(1, 20),
        "external_id": rng.randrange(10**20, 10**24),  # bigger than any float keeps exactly
        "version": rng.randrange(1, 50),
        "tags": {rng.choice(_WORDS) for _ in range(rng.randrange(1, 5))},
        "scores": {Decimal(rng.randrange(1, 1000)).scaleb(-1) for _ in range(3)},
        "checksum": rng.randbytes(16),
        "signatures": {rng.randbytes(8) for _ in range(2)},
        "active": rng.random() < 0.8,
        "deleted_at": None,
        "address": {
            "street": f"{rng.randrange(1, 200)} {rng.choice(_WORDS).title()} Street",
            "city": rng.choice(_CITIES),
            "zip": f"{rng.randrange(10_000, 99_999)}",
            "geo": {"lat": Decimal("52.5200"), "lon": Decimal("13.4050")},
        },
        "lines": lines,
        "notes": [rng.choice(_WORDS) for _ in range(rng.randrange(0, 4))],
        "expires_at": 1_716_000_000 + rng.randrange(10**6),
    }


def _wide_item(rng: random.Random, index: int) -> dict[str, Any]:
    item = _typical_item(rng, index)
    makers = (
        lambda: rng.choice(_WORDS) * rng.randrange(1, 4),
        lambda: _money(rng),
        lambda: rng.randrange(10**6),
        lambda: rng.random() < 0.5,
        lambda: rng.randbytes(6),
        lambda: [rng.choice(_WORDS), rng.randrange(100)],
        lambda: {"a": rng.choice(_WORDS), "b": rng.randrange(100)},
    )
    for number in range(200 - len(item)):
        item[f"attr_{number:03d}"] = makers[number % len(makers)]()
    return item


_MAKERS = {"small": _small_item, "typical": _typical_item, "wide": _wide_item}


def _modified(rng: random.Random, old: dict[str, Any]) -> dict[str, Any]:
    new = dict(old)
    if rng.random() < STATUS_CHANGE_RATE:
        new["status"] = rng.choice([s for s in (*STATUSES, ESCALATED) if s != old["status"]])
    else:
        if "updated_at" in new:
            new["updated_at"] = f"2024-06-{rng.randrange(1, 29):02d}T10:00:00Z"
        if "version" in new:
            new["version"] = old["version"] + 1
        new["total"] = _money(rng)
    return new


def make_event(
    count: int, *, shape: str = "typical", seed: int = 7, ttl_share: float = 0.3
) -> dict[str, Any]:
    """A ``{"Records": [...]}`` event of *count* records with items of *shape*.

    About 40% INSERT, 45% MODIFY and 15% REMOVE, of which *ttl_share* are TTL expiries.
    """
    if shape not in _MAKERS:
        raise ValueError(f"shape must be one of {SHAPES}, got {shape!r}")
    rng = random.Random(f"{seed}:{shape}")
    make_item = _MAKERS[shape]
    records = []
    sequence = 4_200_000_000_000_000_000_00
    for index in range(count):
        roll = rng.random()
        old = new = None
        if roll < 0.40:
            event_name = "INSERT"
            new = make_item(rng, index)
        elif roll < 0.85:
            event_name = "MODIFY"
            old = make_item(rng, index)
            new = _modified(rng, old)
        else:
            event_name = "REMOVE"
            old = make_item(rng, index)
        item = new if new is not None else old
        assert item is not None
        body: dict[str, Any] = {
            "ApproximateCreationDateTime": 1_716_023_643.0 + index,
            "Keys": {"pk": to_dynamodb(item["pk"]), "sk": to_dynamodb(item["sk"])},
        }
        if new is not None:
            body["NewImage"] = to_dynamodb(new)["M"]
        if old is not None:
            body["OldImage"] = to_dynamodb(old)["M"]
        sequence += rng.randrange(100, 10_000)
        body["SequenceNumber"] = str(sequence)
        body["SizeBytes"] = len(json.dumps(body, separators=(",", ":")))
        body["StreamViewType"] = "NEW_AND_OLD_IMAGES"
        record: dict[str, Any] = {
            "eventID": rng.randbytes(16).hex(),
            "eventName": event_name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": _REGION,
            "dynamodb": body,
            "eventSourceARN": _ARN,
        }
        if event_name == "REMOVE" and rng.random() < ttl_share:
            record["userIdentity"] = dict(_TTL_IDENTITY)
        records.append(record)
    # A JSON round trip, so the event holds exactly what json.loads gives the Lambda runtime.
    event: dict[str, Any] = json.loads(json.dumps({"Records": records}))
    return event
