"""Typed items straight from the stream's JSON: one pass from ``{"M": ...}`` to the model.

The model path of ``_models`` decodes an image to a dict of plain values and then converts
the dict, so every item is built twice (and an ``int`` field goes through a ``Decimal``). For a
model of plain classes, :func:`fused_converter` generates one function per class that reads
each field's tagged value as its annotation wants it (``{"N": "12"}`` straight into an
``int``, ``{"M": ...}`` straight into the nested class) and makes the instance.

It is exact or it gives up. A field takes only what the decoder takes and holds only what
decode-then-convert would give it; on anything else (another tag than the annotation expects,
malformed JSON, a value the model refuses, an attribute the model does not name that does not
decode) it raises, and the caller runs the decode-then-convert path, whose result or error is
the one the handler sees. A model is fused only if making it runs no code of the user's
(no ``__post_init__``, validators, converters, custom ``__init__`` or ``__new__``, no default
factories but empty containers), so giving up half way has no effect to repeat.
"""

from __future__ import annotations

from decimal import Decimal

from ._codec import EXACT_DECODER, exact_decimal, strict_base64

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Reader = Callable[[Any], Any]
    """Reads one tagged value (``{"S": "text"}``) as a field's annotation wants it."""
    Fields = list[tuple[str, str, Any, Any]]
    """``(argument, attribute, annotation, default)`` per field, as ``_models._fields`` says."""
    Describe = Callable[[type], "tuple[Fields, bool] | str"]
    """A class's fields and whether its instances are made by filling ``__dict__``
    (``_models._made_by_fields``), or ``"plain"`` (not a model class: an enum, any class the
    converter checks with ``isinstance``) or ``"foreign"`` (a class whose making runs code
    of the user's, or that another library converts)."""
    Plain = Callable[[Any], "Callable[[Any, str], Any] | None"]
    """The decode-then-convert converter of an annotation (``_models._type_converter``)."""

__all__ = ["Unfit", "fused_converter"]


class Unfit(Exception):
    """The fused path cannot tell exactly; the caller decodes, then converts."""


class _GiveUp(Exception):
    """The model has a part the fused path does not make: the model is not fused at all."""


def fused_converter(target: type, describe: Describe, plain: Plain) -> Callable[[Any], Any] | None:
    """The function of a raw image (the map of a ``NewImage``) that makes *target*, or None.

    None when *target* or a class it holds is not one the fused path makes (see the module).
    The function raises (:class:`Unfit` or whatever Python raises on bad input) wherever
    decode-then-convert would raise or might give anything else.
    """
    try:
        return _Builder(describe, plain).image(target)
    except _GiveUp:
        return None


# --- readers of one tagged value ----------------------------------------------------------------

_fast_value = EXACT_DECODER.fast_value
_str = str
_bool = bool
_list = list
_dict = dict


def _read_any(tagged: Any) -> Any:
    """An ``Any`` field: the value as the decoder gives it."""
    return _fast_value(tagged)


def _read_str(tagged: Any) -> Any:
    value = tagged["S"]
    if value.__class__ is not _str or len(tagged) != 1:
        raise Unfit
    return value


def _read_decimal(tagged: Any) -> Any:
    return _number(tagged["N"], tagged)


def _number(text: Any, tagged: Any) -> Decimal:
    """*text* as the decoder makes it (exact, finite, ASCII), if *tagged* has one tag."""
    number = exact_decimal(text)
    if not (number.is_finite() and text.isascii() and len(tagged) == 1):
        raise Unfit
    return number


def _read_int(tagged: Any) -> Any:
    text = tagged["N"]
    if text.isdigit() and text.isascii() and len(tagged) == 1:
        return int(text)
    return _whole(_number(text, tagged))


def _whole(number: Decimal) -> int:
    """A whole number as an int, as the converter makes it (``1E+2`` is 100, ``1.0`` is 1)."""
    whole = int(number)
    if whole != number:
        raise Unfit
    return whole


def _read_float(tagged: Any) -> Any:
    return float(_number(tagged["N"], tagged))


def _read_bool(tagged: Any) -> Any:
    value = tagged["BOOL"]
    if value.__class__ is not _bool or len(tagged) != 1:
        raise Unfit
    return value


def _read_bytes(tagged: Any) -> Any:
    text = tagged["B"]
    if text.__class__ is not _str or len(tagged) != 1:
        raise Unfit
    return strict_base64(text)


def _read_null(tagged: Any) -> Any:
    if tagged["NULL"] is not True or len(tagged) != 1:
        raise Unfit
    return None


_SCALARS: dict[Any, Reader] = {
    str: _read_str,
    int: _read_int,
    Decimal: _read_decimal,
    float: _read_float,
    bool: _read_bool,
    bytes: _read_bytes,
    type(None): _read_null,
    None: _read_null,
}

# Each scalar read inline in a class's generated function, from `tagged` into VALUE:
# the same checks as the reader functions above, without a call per field.
_INLINE: dict[Callable[[Any], Any], list[str]] = {
    _read_str: [
        "VALUE = tagged['S']",
        "if VALUE.__class__ is not str or len(tagged) != 1:",
        "    raise Unfit",
    ],
    _read_decimal: [
        "text = tagged['N']",
        "VALUE = exact_decimal(text)",
        "if not (VALUE.is_finite() and text.isascii() and len(tagged) == 1):",
        "    raise Unfit",
    ],
    _read_int: [
        "text = tagged['N']",
        "if text.isdigit() and text.isascii() and len(tagged) == 1:",
        "    VALUE = int(text)",
        "else:",
        "    VALUE = read_int(tagged)",
    ],
    _read_bool: [
        "VALUE = tagged['BOOL']",
        "if VALUE.__class__ is not bool or len(tagged) != 1:",
        "    raise Unfit",
    ],
}

# Members of DynamoDB's sets: the set's tag and how to read one member's text.
_SET_MEMBERS: dict[Any, tuple[str, Callable[[Any], Any] | None]] = {
    str: ("SS", None),
    Decimal: ("NS", Decimal),
    int: ("NS", int),
    float: ("NS", float),
    bytes: ("BS", bytes),
}


def _optional(read: Reader) -> Reader:
    def optional(tagged: Any) -> Any:
        if "NULL" in tagged:
            return _read_null(tagged)
        return read(tagged)

    return optional


def _sequence(read: Reader, made: type) -> Reader:
    def sequence(tagged: Any) -> Any:
        members = tagged["L"]
        if members.__class__ is not _list or len(tagged) != 1:
            raise Unfit
        values = [read(member) for member in members]
        return values if made is _list else made(values)

    return sequence


def _strings(tagged: Any) -> Any:
    """``list[str]``, without a call per member."""
    members = tagged["L"]
    if members.__class__ is not _list or len(tagged) != 1:
        raise Unfit
    values = []
    for member in members:
        value = member["S"]
        if value.__class__ is not _str or len(member) != 1:
            raise Unfit
        values.append(value)
    return values


def _set(tag: str, member: Callable[[Any], Any] | None, made: type) -> Reader:
    def read_set(tagged: Any) -> Any:
        texts = tagged[tag]
        if texts.__class__ is not _list or len(tagged) != 1:
            raise Unfit
        if member is None:  # SS: the strings themselves
            for text in texts:
                if text.__class__ is not _str:
                    raise Unfit
            return made(texts)
        if member is bytes:
            for text in texts:
                if text.__class__ is not _str:
                    raise Unfit
            return made([strict_base64(text) for text in texts])
        # Decimals in the order the decoder adds them, so equal numbers keep the same one.
        numbers = [_number(text, tagged) for text in texts]
        if member is int:
            return made([_whole(number) for number in numbers])
        if member is float:
            return made([float(number) for number in numbers])
        return made(numbers)

    return read_set


def _mapping(read: Reader) -> Reader:
    def mapping(tagged: Any) -> Any:
        members = tagged["M"]
        if members.__class__ is not _dict or len(tagged) != 1:
            raise Unfit
        return {name: read(member) for name, member in members.items()}

    return mapping


def _composed(convert: Callable[[Any, str], Any]) -> Reader:
    """An annotation the fused path does not know: decode the value, then convert it."""

    def composed(tagged: Any) -> Any:
        return convert(_fast_value(tagged), "")

    return composed


# --- the builder --------------------------------------------------------------------------------


class _Builder:
    """Makes the readers of one model, each class's function generated once."""

    def __init__(self, describe: Describe, plain: Plain) -> None:
        self.describe = describe
        self.plain = plain
        # class -> [function of the map, function of the tagged value]; filled when made,
        # so that a recursive model's inner reference calls through the cell.
        self.classes: dict[type, list[Any]] = {}

    def image(self, cls: type) -> Callable[[Any], Any]:
        described = self.describe(cls)
        if isinstance(described, str):
            raise _GiveUp
        return self._class(cls, *described)[0]  # type: ignore[no-any-return]

    def reader(self, annotation: Any) -> Reader:
        """The reader of a tagged value for a field annotated *annotation*."""
        import collections.abc as abc
        import typing

        annotation = _unwrap(annotation)
        if self.plain(annotation) is None:  # Any, object, a TypeVar: the value as decoded
            return _read_any
        scalar = _SCALARS.get(annotation)
        if scalar is not None:
            return scalar
        origin = typing.get_origin(annotation)
        arguments = typing.get_args(annotation)
        if origin is typing.Union or type(annotation).__name__ == "UnionType":
            options = [a for a in arguments if a is not type(None)]
            if len(options) == 1:
                return _optional(self.reader(options[0]))
        elif origin in (list, abc.Sequence, abc.MutableSequence, abc.Collection, abc.Iterable) or (
            origin is tuple and len(arguments) == 2 and arguments[1] is Ellipsis
        ):
            member = self.reader(arguments[0] if arguments else object)
            if member is _read_str and origin is list:
                return _strings
            return _sequence(member, tuple if origin is tuple else list)
        elif origin in (set, frozenset, abc.Set, abc.MutableSet):
            found = _SET_MEMBERS.get(_unwrap(arguments[0]) if arguments else object)
            if found is not None:
                tag, member_type = found
                return _set(tag, member_type, frozenset if origin is frozenset else set)
        elif origin in (dict, abc.Mapping, abc.MutableMapping) and len(arguments) == 2:
            return _mapping(self.reader(arguments[1]))
        elif origin is None and isinstance(annotation, type):
            described = self.describe(annotation)
            if not isinstance(described, str):
                cell = self._class(annotation, *described)
                if cell[1] is None:  # a class inside its own fields: call through the cell
                    return lambda tagged: cell[1](tagged)
                return cell[1]  # type: ignore[no-any-return]
        return self._compose(annotation)

    def _compose(self, annotation: Any) -> Reader:
        """Decode, then convert: exact, as long as converting runs no code of the user's."""
        import typing

        pending = [annotation]
        while pending:
            part = pending.pop()
            if isinstance(part, type) and self.describe(part) == "foreign":
                raise _GiveUp
            origin = typing.get_origin(part)  # Box[int]: the class is its origin
            if origin is not None:
                pending.append(origin)
            pending.extend(typing.get_args(part))
        convert = self.plain(annotation)
        assert convert is not None  # an Any annotation has its own reader
        return _composed(convert)

    def _class(self, cls: type, fields: Fields, direct: bool) -> list[Any]:
        """The cell of *cls*: its generated functions of the map and of the tagged value.

        The cell is filled once the functions are made; until then (while making the readers
        of its own fields, in a recursive model) it holds None.
        """
        known = self.classes.get(cls)
        if known is not None:
            return known
        cell = self.classes[cls] = [None, None]
        namespace: dict[str, Any] = {
            "cls": cls,
            "Unfit": Unfit,
            "MISSING": _MISSING,
            "exact_decimal": exact_decimal,
            "read_int": _read_int,
            "check_others": _check_others,
            "keys": frozenset(key for _, key, _, _ in fields),
            "new": object.__new__,
            "set_attribute": object.__setattr__,
        }
        defaults = any(default is not None for _, _, _, default in fields)
        body = ["get = image.get", "missing = 0"] if defaults else []
        given = []  # (argument, local) of the values always passed
        for index, (argument, key, annotation, default) in enumerate(fields):
            read = self.reader(annotation)
            namespace[f"read_{index}"] = read
            namespace[f"default_{index}"] = default
            local = f"value_{index}"
            if default is None:
                body.append(f"tagged = image[{key!r}]")
                body += _read_into(read, index, "")
                given.append((argument, local))
                continue
            body.append(f"tagged = get({key!r}, MISSING)")
            body.append("if tagged is MISSING:")
            body.append("    missing += 1")
            if direct:
                body.append(f"    {local} = default_{index}()")
                given.append((argument, local))
            else:
                body.append("    pass")
            body.append("else:")
            body += _read_into(read, index, "    ")
            if not direct:
                body.append(f"    optional[{argument!r}] = {local}")
        expected = f"{len(fields)} - missing" if defaults else f"{len(fields)}"
        body.append(f"if len(image) != {expected}:")
        body.append("    check_others(image, keys)")
        if direct:
            attributes = ", ".join(f"{argument!r}: {local}" for argument, local in given)
            body += [
                "made = new(cls)",
                f"set_attribute(made, '__dict__', {{{attributes}}})",
                "return made",
            ]
        else:
            passed = [f"{argument}={local}" for argument, local in given]
            if defaults:
                body.insert(0, "optional = {}")
                passed.append("**optional")
            body.append(f"return cls({', '.join(passed)})")
        indented = [f"    {line}" for line in body]
        source = "\n".join(
            [
                "def of_image(image):",
                "    if image.__class__ is not dict:",
                "        raise Unfit",
                *indented,
                "def of_tagged(tagged):",
                "    image = tagged['M']",
                "    if image.__class__ is not dict or len(tagged) != 1:",
                "        raise Unfit",
                *indented,
            ]
        )
        exec(source, namespace)  # our own code, made from the fields
        cell[0] = namespace["of_image"]
        cell[1] = namespace["of_tagged"]
        return cell


_MISSING: Any = object()


def _unwrap(annotation: Any) -> Any:
    """A ``NewType`` is its supertype, as for the converter (``Annotated`` is gone already:
    a class's annotations are read without extras)."""
    while getattr(annotation, "__supertype__", None) is not None:
        annotation = annotation.__supertype__
    return annotation


def _read_into(read: Reader, index: int, indent: str) -> list[str]:
    """Lines reading ``tagged`` into ``value_<index>``: a scalar inline, anything else by a call."""
    lines = _INLINE.get(read)
    if lines is None:
        return [f"{indent}value_{index} = read_{index}(tagged)"]
    return [indent + line.replace("VALUE", f"value_{index}") for line in lines]


def _check_others(image: dict[str, Any], keys: frozenset[str]) -> None:
    """The attributes the model does not name must decode, as they do on the dict path."""
    for name, tagged in image.items():
        if name not in keys:
            _fast_value(tagged)
