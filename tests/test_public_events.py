"""AWS's and others' published sample events decode to what boto3 makes of them.

tests/events/public/SOURCES.md says where each sample comes from and the tagged JSON form
of its ``expected_*.json`` (``$decimal``, ``$binary``, ``$set``).
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import PUBLIC_FIXTURES
from ddbstream import App, Record
from strategies import canonical

SAMPLES = sorted(
    path.name for path in PUBLIC_FIXTURES.glob("*.json") if not path.name.startswith("expected_")
)


def from_tagged(value: Any) -> Any:
    """Turn SOURCES.md's tagged JSON back into the Python values boto3 returned."""
    if isinstance(value, list):
        return [from_tagged(member) for member in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((tag, inner),) = value.items()
        if tag == "$decimal":
            return Decimal(inner)
        if tag == "$binary":
            return base64.b64decode(inner)
        if tag == "$set":
            return {from_tagged(member) for member in inner}
    return {
        (name[1:] if name.startswith("$") else name): from_tagged(member)
        for name, member in value.items()
    }


def expected_for(sample: str) -> dict[str, Any]:
    path: Path = PUBLIC_FIXTURES / f"expected_{sample}"
    expected: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return expected


class TestTaggedForm:
    def test_from_tagged(self) -> None:
        """The helper reads every tag SOURCES.md defines, and escaped map keys."""
        tagged = {
            "n": {"$decimal": "1.50"},
            "b": {"$binary": "AAE="},
            "s": {"$set": ["a", "b"]},
            "$$decimal": "plain",
            "l": [{"$decimal": "-0"}],
        }

        assert canonical(from_tagged(tagged)) == canonical(
            {
                "n": Decimal("1.50"),
                "b": b"\x00\x01",
                "s": {"a", "b"},
                "$decimal": "plain",
                "l": [Decimal("-0")],
            }
        )


class TestPublicSamples:
    def test_every_sample_has_an_expectation(self) -> None:
        """Each public sample has its expected_ file, and there are samples to test."""
        assert len(SAMPLES) >= 9
        for sample in SAMPLES:
            assert (PUBLIC_FIXTURES / f"expected_{sample}").is_file()

    @pytest.mark.parametrize("sample", SAMPLES)
    def test_decoded_like_boto3(self, sample: str) -> None:
        """Every record's keys, new and old image equal boto3's decoding of them."""
        with (PUBLIC_FIXTURES / sample).open(encoding="utf-8") as file:
            event = json.load(file)
        expected = expected_for(sample)
        app = App(report_batch_item_failures=True)
        seen: list[tuple[dict[str, Any], Any, Any]] = []

        @app.on("INSERT", "MODIFY", "REMOVE")
        def collect(record: Record) -> None:
            seen.append((record.keys, record.new, record.old))

        response = app.handler(event, None)

        assert response["batchItemFailures"] == []
        assert len(seen) == expected["record_count"] == len(expected["records"])
        for (keys, new, old), want in zip(seen, expected["records"], strict=True):
            assert canonical(keys) == canonical(from_tagged(want["Keys"]))
            for got, image in ((new, "NewImage"), (old, "OldImage")):
                if want.get(image) is None:  # absent or null: no such image
                    assert got is None
                else:
                    assert canonical(got) == canonical(from_tagged(want[image]))

    @pytest.mark.parametrize("sample", SAMPLES)
    def test_metadata(self, sample: str) -> None:
        """eventID, event name, ARN, table name, sequence number and view type match."""
        with (PUBLIC_FIXTURES / sample).open(encoding="utf-8") as file:
            event = json.load(file)
        expected = expected_for(sample)
        app = App()
        records: list[Record] = []
        app.on("INSERT", "MODIFY", "REMOVE")(records.append)

        app.handler(event, None)

        for record, want in zip(records, expected["records"], strict=True):
            assert record.event_id == want["eventID"]
            assert record.event_name == want["eventName"]
            assert record.event_source_arn == want["eventSourceARN"]
            assert record.table_name == want["tableName"]
            assert record.sequence_number == want["SequenceNumber"]
            assert record.stream_view_type == want["StreamViewType"]
            assert record.raw is event["Records"][want["index"]]
            assert record.is_ttl_expiry is False  # no sample is a TTL REMOVE
