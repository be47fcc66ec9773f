"""Filters: the keyword arguments of a registration, compiled into tests of a record.

``where=``, ``new=`` and ``old=`` test one image with a condition (evaluated on the stream's
DynamoDB JSON, so only the attributes it reads are decoded) or a function of the decoded
image; ``changed=`` compares attributes between the images; ``table=`` and ``ttl=`` read the
record's metadata. The tests come out cheapest first, and a route runs only if all pass.
"""

from __future__ import annotations

from ._codec import EXACT_DECODER, same_value
from ._paths import find, parse_path
from .conditions import Condition, to_condition
from .errors import DecodeError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, TypeAlias

    from ._paths import Path
    from ._record import Record
    from ._typing import Image, RawImage

    ImageTest: TypeAlias = "Callable[[Image], object]"
    Where: TypeAlias = "Condition | dict[str, Any] | ImageTest | Any"
    """A condition, a dict (equality per key), a boto3 condition or a function of the image."""
    Names: TypeAlias = "str | Iterable[str]"
    RecordTest: TypeAlias = "Callable[[Record], bool]"

__all__ = ["compile_filters"]


def compile_filters(
    events: frozenset[str],
    where: Where | None,
    new: Where | None,
    old: Where | None,
    changed: Names | None,
    table: Names | None,
    ttl: bool | None,
    route_name: str,
) -> tuple[RecordTest, ...]:
    """Turn the filter arguments into tests of a record, the cheapest first."""
    tests: list[RecordTest] = []
    if table is not None:
        tables = _names(table, "table")
        tests.append(lambda record: record.table_name in tables)
    if ttl is not None:
        if not isinstance(ttl, bool):
            raise TypeError(f"ttl= takes True, False or None, got {ttl!r}")
        if events != {"REMOVE"}:
            raise ValueError(
                f"ttl= applies to REMOVE routes only (Time to Live only deletes), but this "
                f"route is for {', '.join(sorted(events))}; register it with on_remove"
            )
        tests.append(lambda record: record.is_ttl_expiry is ttl)
    for image_name, where_test in (("item", where), ("NewImage", new), ("OldImage", old)):
        if where_test is not None:
            tests.append(_image_test(image_name, where_test))
    # changed= last: it reads both images, and a route whose where= already failed needs no
    # answer from it (not even "this view type cannot tell").
    if changed is not None:
        names = _names(changed, "changed")
        paths = {name: parse_path(name) for name in names}
        tests.append(_changed_test(paths, route_name, changed))
    return tuple(tests)


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


def _image_test(image_name: str, where: Where) -> RecordTest:
    """A test of the image called *image_name* ("item" is new, else old, else keys)."""
    if (
        callable(where)
        and not isinstance(where, Condition)
        and not hasattr(where, "get_expression")
    ):
        return _callable_test(image_name, where)
    condition = to_condition(where)
    condition_test = condition.test

    if image_name == "item":

        def test_item(record: Record) -> bool:
            dynamodb = record.dynamodb
            for name in _ITEM_IMAGES:
                image = dynamodb.get(name)
                if image:
                    try:
                        return condition_test(image)
                    except DecodeError as error:
                        raise _located(error, name, record) from error
            return False

        return test_item

    def test_image(record: Record) -> bool:
        image = record.dynamodb.get(image_name)
        if image is None:
            return False
        try:
            return condition_test(image)
        except DecodeError as error:
            raise _located(error, image_name, record) from error

    return test_image


_ITEM_IMAGES = ("NewImage", "OldImage", "Keys")  # what record.item is made of, in order


def _located(error: DecodeError, image_name: str, record: Record) -> DecodeError:
    """The same error, its path starting at the image and naming the record."""
    return DecodeError(
        error.reason,
        path=f"{image_name}.{error.path}" if error.path else image_name,
        event_id=record.event_id,
        sequence_number=record.sequence_number,
    )


def _callable_test(image_name: str, function: ImageTest) -> RecordTest:
    attribute = {"item": "item", "NewImage": "new", "OldImage": "old"}[image_name]

    def test(record: Record) -> bool:
        image = getattr(record, attribute)
        return image is not None and bool(function(image))

    return test


def _changed_test(paths: dict[str, Path], route_name: str, changed: Names) -> RecordTest:
    needed_by = f"route {route_name!r} (changed={changed!r})"

    def test(record: Record) -> bool:
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


def _at(image: RawImage, path: Path, image_name: str, record: Record) -> Any:
    try:
        return find(image, path)
    except DecodeError as error:
        raise _located(error, image_name, record) from error


def _decoded(tagged: Any, name: str, image_name: str, record: Record) -> Any:
    try:
        return EXACT_DECODER.value(tagged, name)
    except DecodeError as error:
        raise _located(error, image_name, record) from error
