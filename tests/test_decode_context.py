"""Decode errors show what was wrong, not the internal exception of the fast decoder."""

from __future__ import annotations

import pytest

from ddbstream import App, deserialize, deserialize_image
from ddbstream.errors import DecodeError
from ddbstream.testing import event, insert


@pytest.mark.parametrize(
    "decode",
    [
        lambda: deserialize({"N": "NaN"}),
        lambda: deserialize_image({"price": {"N": "1e"}}),
        lambda: deserialize_image({"tags": {"SS": "not a list"}}),
    ],
)
def test_no_internal_context(decode: object) -> None:
    """The DecodeError has no context to print: the fast decoder's failure stays internal."""
    with pytest.raises(DecodeError) as raised:
        decode()  # type: ignore[operator]

    error = raised.value
    assert error.__context__ is None or error.__suppress_context__
    assert error.__cause__ is None


def test_no_internal_context_in_a_handler() -> None:
    """Read in a handler, a bad image fails the record with a DecodeError shown alone."""
    app = App()
    app.on_insert(lambda record: record.new)
    batch = event(insert({"pk": "a"}))
    batch["Records"][0]["dynamodb"]["NewImage"]["pk"] = {"N": "x"}

    outcome = app.process(batch)

    assert isinstance(outcome.error, DecodeError)
    assert outcome.error.__context__ is None or outcome.error.__suppress_context__


def test_parse_number_failure_keeps_its_cause() -> None:
    """A parse_number that raises is still the DecodeError's cause (it says what went wrong)."""
    app = App(parse_number=int)
    app.on_insert(lambda record: record.new)

    outcome = app.process(event(insert({"pk": "a", "price": 1.5})))

    assert isinstance(outcome.error, DecodeError)
    assert isinstance(outcome.error.__cause__, ValueError)
