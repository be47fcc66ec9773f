"""Filters: the keyword arguments of a registration, compiled once into one immutable value.

Matching, the router's narrowing, ``filter_criteria()`` and ``ddbstream routes`` all read the
compiled :class:`Filters`, never the raw arguments again.

``where=``, ``new=`` and ``old=`` test one image with a condition (evaluated on the stream's
DynamoDB JSON, so only the attributes it reads are decoded) or a function of the decoded
image; ``changed=`` compares attributes between the images; ``table=`` and ``ttl=`` read the
record's metadata. A filter that needs an image the stream does not carry fails the record
with ``MissingImageError``: it never counts as "no match", or a misconfigured stream would
silently skip the route.
"""

from __future__ import annotations

from ._codec import EXACT_DECODER, same_value
from ._paths import find, parse_path
from ._record import IMAGES_OF_EVENT
from ._signatures import is_coroutine_function
from .conditions import And, Comparison, Condition, to_condition
from .errors import DecodeError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeAlias

    from ._paths import Path
    from ._record import Record
    from ._typing import RawImage
    from .types import ImageTest, Names, Where

    RecordTest: TypeAlias = "Callable[[Record[Any]], bool]"

__all__ = ["Filters"]


class Filters:
    """A route's filters, checked and compiled when the route is registered.

    Attributes:
        events: the event names the route is registered for.
        runs_for: those of *events* whose records can match: ``new=`` never matches a
            REMOVE (which has no new image) and ``old=`` never an INSERT.
        where: ``where=`` as a :class:`~ddbstream.conditions.Condition`, or the function of
            the image it was given as; None without one. ``new`` and ``old`` likewise.
        changed: the attribute names or paths of ``changed=``, or None.
        tables: the table names of ``table=``, or None.
        ttl: ``ttl=``: True, False or None.
        given: the filter keyword arguments as written (for messages and listings).
        tests: the tests a record must pass, cheapest first.
        index_key: ``(attribute, text)`` when the first test that can fail is
            ``Attr(attribute).eq(text)`` on ``record.item``: the router indexes routes by it.
        tests_when_indexed: with an ``index_key``, the tests left once the router has seen
            the item hold ``{"S": text}`` there; else None.
    """

    __slots__ = (
        "changed",
        "events",
        "given",
        "index_key",
        "new",
        "old",
        "runs_for",
        "tables",
        "tests",
        "tests_when_indexed",
        "ttl",
        "where",
    )

    def __init__(
        self,
        events: frozenset[str],
        *,
        route_name: str,
        where: Where | None = None,
        new: Where | None = None,
        old: Where | None = None,
        changed: Names | None = None,
        table: Names | None = None,
        ttl: bool | None = None,
    ) -> None:
        """Check and compile the filters of route *route_name*.

        Raises:
            TypeError: a filter has the wrong type.
            ValueError: a filter has the right type but cannot be valid.
        """
        # A generator of names would be used up by the first reader: keep what it gave.
        self.tables = None if table is None else _names(table, "table")
        self.changed = None if changed is None else _names(changed, "changed")
        given: dict[str, Any] = {
            "where": where,
            "new": new,
            "old": old,
            "changed": _kept(changed, self.changed),
            "table": _kept(table, self.tables),
            "ttl": ttl,
        }
        self.given = {key: value for key, value in given.items() if value is not None}
        self.events = events
        if ttl is not None:
            if not isinstance(ttl, bool):
                raise TypeError(f"ttl= takes True, False or None, got {ttl!r}")
            if events != {"REMOVE"}:
                raise ValueError(
                    f"ttl= applies to REMOVE routes only (Time to Live only deletes), but this "
                    f"route is for {', '.join(sorted(events))}; register it with on_remove"
                )
        self.ttl = ttl
        self.where = _compiled(where, "where")
        self.new = _compiled(new, "new")
        self.old = _compiled(old, "old")
        self.runs_for = frozenset(
            event
            for event in events
            if (new is None or "NewImage" in IMAGES_OF_EVENT[event])
            and (old is None or "OldImage" in IMAGES_OF_EVENT[event])
        )
        if not self.runs_for:
            option = "new" if new is not None and "REMOVE" in events else "old"
            raise ValueError(
                f"{option}= can never match: {' and '.join(sorted(events))} records have no "
                f"{option} image"
            )
        self.tests = self._compile_tests(route_name, self.where)
        self.index_key, rest = _index(self.where)
        # What is left to test once the router has seen the index condition hold.
        self.tests_when_indexed = (
            None if self.index_key is None else self._compile_tests(route_name, rest)
        )

    def matches(self, record: Record[Any]) -> bool:
        """Whether *record* passes every filter (its event name is the router's business)."""
        for test in self.tests:  # noqa: SIM110 - a loop is faster than all() on the hot path
            if not test(record):
                return False
        return True

    def describe(self) -> str:
        """The filters as written: ``where={'type': 'ORDER'}, changed='status'``."""
        return ", ".join(f"{key}={value!r}" for key, value in self.given.items())

    def _compile_tests(
        self, route_name: str, where: Condition | ImageTest | None
    ) -> tuple[RecordTest, ...]:
        tests: list[RecordTest] = []
        if self.tables is not None:
            tests.append(_table_test(self.tables))
        ttl = self.ttl
        if ttl is not None:
            tests.append(lambda record: record.is_ttl_expiry is ttl)
        if where is not None:
            tests.append(_item_test(where, f"route {route_name!r} (where=)"))
        for image, test in (("NewImage", self.new), ("OldImage", self.old)):
            if test is not None:
                key = "new" if image == "NewImage" else "old"
                tests.append(_image_test(image, test, f"route {route_name!r} ({key}=)"))
        # changed= last: it reads both images, and a route whose where= already failed needs no
        # answer from it (not even "this view type cannot tell").
        if self.changed is not None:
            paths = {name: parse_path(name) for name in self.changed}
            needed_by = f"route {route_name!r} (changed={self.given['changed']!r})"
            tests.append(_changed_test(paths, needed_by))
        return tuple(tests)

    def __repr__(self) -> str:
        return f"Filters(events={sorted(self.events)!r}, {self.describe()})"


def _index(where: Condition | ImageTest | None) -> tuple[tuple[str, str] | None, Condition | None]:
    """``((attribute, text), the rest of where=)`` when *where*'s first test that can fail is
    ``Attr(attribute).eq(text)``; ``(None, None)`` otherwise.

    ``table=`` and ``ttl=`` come before ``where=`` but never raise; ``new=``, ``old=`` and
    ``changed=`` come after it, and ``&`` stops at the first false condition: so a record
    whose item holds ``{"S": text}`` there passes that test, and only the rest can fail.
    """
    if not isinstance(where, Condition):
        return None, None
    rest: list[Condition] = []  # the conditions after the first, innermost last
    condition = where
    while type(condition) is And and condition.conditions:
        first, *after = condition.conditions
        rest[:0] = after
        condition = first
    if type(condition) is not Comparison:
        return None, None
    steps, text = condition.steps, condition.text
    if text is None or len(steps) != 1 or not isinstance(steps[0], str):
        return None, None
    remainder = None if not rest else rest[0] if len(rest) == 1 else And(*rest)
    return (steps[0], text), remainder


def _table_test(tables: tuple[str, ...]) -> RecordTest:
    """``table=``: the table named by ``tableName`` (Kinesis) or by the stream's ARN."""
    by_arn: dict[str, bool] = {}  # a batch comes from one stream: look its ARN up once

    def test(record: Record[Any]) -> bool:
        change = record.change
        arn = change.get("eventSourceARN")
        if "tableName" not in change and arn.__class__ is str:
            found = by_arn.get(arn)
            if found is None:
                found = record.table_name in tables
                if len(by_arn) < 64:
                    by_arn[arn] = found
            return found
        return record.table_name in tables

    return test


def _names(names: Names, option: str) -> tuple[str, ...]:
    if isinstance(names, str):
        collected: tuple[Any, ...] = (names,)
    elif isinstance(names, (bytes, dict)) or not hasattr(names, "__iter__"):
        raise TypeError(f"{option}= takes a name or a list of names, got {names!r}")
    else:
        collected = tuple(names)
    for name in collected:
        if not isinstance(name, str):
            raise TypeError(f"{option}= takes names as strings, got {name!r}")
    if not collected:
        raise ValueError(f"{option}= is empty; pass None for no filter")
    return tuple(dict.fromkeys(collected))  # without duplicates, in the order given


def _kept(given: Names | None, names: tuple[str, ...] | None) -> Names | None:
    """What to show of *given* names: as written, or the names an iterator gave."""
    return given if isinstance(given, (str, list, tuple, set, frozenset)) else names


def _compiled(where: Where | None, option: str) -> Condition | ImageTest | None:
    """*where* as a Condition, or the function of the image it is; None for none."""
    if where is None:
        return None
    if (
        callable(where)
        and not isinstance(where, Condition)
        and not hasattr(where, "get_expression")
    ):
        if is_coroutine_function(where):
            raise TypeError(
                f"{option}= takes a plain function of the image, not an async def: a filter "
                "is not awaited, and its coroutine would count as a match"
            )
        return where
    return to_condition(where)


def _reads(condition: Condition) -> frozenset[str] | None:
    """The top-level attributes *condition* reads; None when it reads a list index first."""
    names = set()
    for part in condition.walk():
        if isinstance(part, Comparison):
            first = part.steps[0] if part.steps else None
            if not isinstance(first, str):
                return None
            names.add(first)
    return frozenset(names)


def _item_test(where: Condition | ImageTest, needed_by: str) -> RecordTest:
    """A test of ``record.item``: the new image, else the old image, else the keys."""
    if not isinstance(where, Condition):
        function = where

        def test_function(record: Record[Any]) -> bool:
            dynamodb = record.dynamodb
            for name in IMAGES_OF_EVENT[record.event_name]:
                if name in dynamodb:
                    return bool(function(record.item))
            # Which attributes a function reads is unknown: the keys may not be enough.
            raise record.missing_image(IMAGES_OF_EVENT[record.event_name], needed_by)

        return test_function

    condition_test = where.test
    reads = _reads(where)

    def test_item(record: Record[Any]) -> bool:
        dynamodb = record.dynamodb
        for name in IMAGES_OF_EVENT[record.event_name]:
            image = dynamodb.get(name)
            if image is not None:
                break
        else:
            # No image: the keys will do when the condition reads nothing else.
            image, name = dynamodb.get("Keys"), "Keys"
            if reads is None or not isinstance(image, dict) or not reads <= image.keys():
                raise record.missing_image(IMAGES_OF_EVENT[record.event_name], needed_by)
        try:
            return condition_test(image)
        except DecodeError as error:
            raise _located(error, name, record) from error

    return test_item


def _image_test(image_name: str, where: Condition | ImageTest, needed_by: str) -> RecordTest:
    """A test of one image, which the record's change has (``Filters.runs_for`` sees to it)."""
    if not isinstance(where, Condition):
        function = where
        attribute = "new" if image_name == "NewImage" else "old"

        def test_function(record: Record[Any]) -> bool:
            return bool(function(getattr(record, attribute)))  # raises when the stream omits it

        return test_function

    condition_test = where.test

    def test_image(record: Record[Any]) -> bool:
        image = record.dynamodb.get(image_name)
        if image is None:
            raise record.missing_image((image_name,), needed_by)
        try:
            return condition_test(image)
        except DecodeError as error:
            raise _located(error, image_name, record) from error

    return test_image


def _located(error: DecodeError, image_name: str, record: Record[Any]) -> DecodeError:
    """The same error, its path starting at the image and naming the record."""
    return DecodeError(
        error.reason,
        path=f"{image_name}.{error.path}" if error.path else image_name,
        event_id=record.event_id,
        sequence_number=record.sequence_number,
    )


def _changed_test(paths: dict[str, Path], needed_by: str) -> RecordTest:
    def test(record: Record[Any]) -> bool:
        record.require_images(needed_by)
        dynamodb = record.dynamodb
        old: RawImage = dynamodb.get("OldImage") or {}
        new: RawImage = dynamodb.get("NewImage") or {}
        for name, path in paths.items():
            before = _at(old, path, "OldImage", record)
            after = _at(new, path, "NewImage", record)
            if before == after:  # the same DynamoDB JSON: surely the same value, not decoded
                continue
            if before is None or after is None:
                return True
            if not same_value(
                _decoded(before, name, "OldImage", record),
                _decoded(after, name, "NewImage", record),
            ):
                return True
        return False

    return test


def _at(image: RawImage, path: Path, image_name: str, record: Record[Any]) -> Any:
    try:
        return find(image, path)
    except DecodeError as error:
        raise _located(error, image_name, record) from error


def _decoded(tagged: Any, name: str, image_name: str, record: Record[Any]) -> Any:
    try:
        return EXACT_DECODER.value(tagged, name)
    except DecodeError as error:
        raise _located(error, image_name, record) from error
