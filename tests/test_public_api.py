"""The public surface: ``ddbstream.__all__`` sorted and complete, typing marker shipped."""

from __future__ import annotations

import importlib.resources
import types

import ddbstream


class TestAll:
    def test_sorted(self) -> None:
        """``__all__`` is sorted, so additions are easy to review."""
        assert ddbstream.__all__ == sorted(ddbstream.__all__)

    def test_every_name_importable(self) -> None:
        """Every name in ``__all__`` exists on the package."""
        for name in ddbstream.__all__:
            assert getattr(ddbstream, name) is not None, name

    def test_nothing_public_missing(self) -> None:
        """Every public attribute of the package is listed in ``__all__``."""
        public = {
            name
            for name, value in vars(ddbstream).items()
            if not name.startswith("_")
            and not (
                isinstance(value, types.ModuleType)
                and value.__name__ not in {"ddbstream.conditions", "ddbstream.errors"}
            )
        }

        assert public == set(ddbstream.__all__)

    def test_spec_names(self) -> None:
        """The names SPEC.md promises are all there."""
        for name in ("App", "Attr", "DdbStreamError", "Record", "Router", "errors", "conditions"):
            assert name in ddbstream.__all__

    def test_deserializers(self) -> None:
        """The decoder functions are public."""
        assert ddbstream.deserialize({"N": "1"}) == 1
        assert ddbstream.deserialize_image({"a": {"S": "x"}}) == {"a": "x"}


class TestPackaging:
    def test_py_typed(self) -> None:
        """The package ships the ``py.typed`` marker for type checkers."""
        assert importlib.resources.files("ddbstream").joinpath("py.typed").is_file()
