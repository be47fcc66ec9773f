"""The exception hierarchy in ddbstream.errors: structure, messages, pickling."""

from __future__ import annotations

import pickle

import pytest

import ddbstream
from ddbstream import errors
from ddbstream.errors import (
    DdbStreamError,
    DecodeError,
    EventError,
    MissingImageError,
    OutOfTimeError,
    RecordError,
    SetupError,
    describe_record,
)


class TestHierarchy:
    def test_base_is_exported(self) -> None:
        """``ddbstream.DdbStreamError`` is the base in ``ddbstream.errors``."""
        assert ddbstream.DdbStreamError is errors.DdbStreamError
        assert issubclass(DdbStreamError, Exception)

    @pytest.mark.parametrize(
        ("error", "parent"),
        [
            (SetupError, DdbStreamError),
            (EventError, DdbStreamError),
            (RecordError, DdbStreamError),
            (DecodeError, RecordError),
            (MissingImageError, RecordError),
            (OutOfTimeError, DdbStreamError),
        ],
    )
    def test_tree(self, error: type[Exception], parent: type[Exception]) -> None:
        """Every error sits under DdbStreamError, record problems under RecordError."""
        assert issubclass(error, parent)

    def test_all_lists_every_error(self) -> None:
        """``errors.__all__`` is sorted and names every exception class in the module."""
        classes = sorted(
            name
            for name, value in vars(errors).items()
            if isinstance(value, type) and issubclass(value, BaseException)
        )

        assert errors.__all__ == sorted(errors.__all__)
        assert errors.__all__ == classes


class TestMessages:
    def test_record_error_names_the_record(self) -> None:
        """A RecordError's message ends with the record's eventID and sequence number."""
        error = RecordError("Broken.", event_id="abc", sequence_number="42")

        assert str(error) == "Broken. (eventID 'abc', SequenceNumber '42')"
        assert (error.message, error.event_id, error.sequence_number) == ("Broken.", "abc", "42")

    def test_record_learned_later(self) -> None:
        """The record can be attached after the error is made; the message follows."""
        error = RecordError("Broken.")
        assert str(error) == "Broken."

        error.sequence_number = "9"

        assert str(error) == "Broken. (SequenceNumber '9')"

    def test_decode_error_names_the_path(self) -> None:
        """A DecodeError's message starts with the JSON path; reason and path are kept."""
        error = DecodeError("not a number: 'x'", path="NewImage.address.zip", event_id="e")

        assert str(error) == "NewImage.address.zip: not a number: 'x' (eventID 'e')"
        assert error.path == "NewImage.address.zip"
        assert error.reason == "not a number: 'x'"

    def test_decode_error_without_path(self) -> None:
        """Without a path the message is the reason alone."""
        assert str(DecodeError("bad")) == "bad"

    @pytest.mark.parametrize(
        ("event_id", "sequence_number", "text"),
        [
            ("a", "1", "eventID 'a', SequenceNumber '1'"),
            ("a", None, "eventID 'a'"),
            (None, "1", "SequenceNumber '1'"),
            (None, None, ""),
        ],
    )
    def test_describe_record(
        self, event_id: str | None, sequence_number: str | None, text: str
    ) -> None:
        """Records are named the same way in every message."""
        assert describe_record(event_id, sequence_number) == text


class TestPickling:
    def test_record_error(self) -> None:
        """A RecordError survives pickling with its type, attributes, message and notes."""
        error = MissingImageError("Needs both images.", event_id="e", sequence_number="1")
        error.__notes__ = ["ddbstream: record 1 of 1 failed"]  # type: ignore[attr-defined]

        copy = pickle.loads(pickle.dumps(error))

        assert type(copy) is MissingImageError
        assert str(copy) == str(error)
        assert (copy.event_id, copy.sequence_number) == ("e", "1")
        assert getattr(copy, "__notes__", None) == ["ddbstream: record 1 of 1 failed"]

    def test_decode_error(self) -> None:
        """A DecodeError survives pickling with its path and reason."""
        error = DecodeError("invalid base64", path="OldImage.b", event_id="e", sequence_number="2")

        copy = pickle.loads(pickle.dumps(error))

        assert type(copy) is DecodeError
        assert str(copy) == "OldImage.b: invalid base64 (eventID 'e', SequenceNumber '2')"
        assert (copy.path, copy.reason) == ("OldImage.b", "invalid base64")

    @pytest.mark.parametrize("error_type", [SetupError, EventError, OutOfTimeError])
    def test_simple_errors(self, error_type: type[DdbStreamError]) -> None:
        """The other errors pickle like any exception."""
        copy = pickle.loads(pickle.dumps(error_type("Message.")))

        assert type(copy) is error_type
        assert str(copy) == "Message."
