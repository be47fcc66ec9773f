"""Typed items: a route's ``model=`` turns the decoded images its handler reads into models.

A :class:`Model` is chosen once, at registration, by the kind of its target: a dataclass, an
attrs class or a ``TypedDict`` (converted here, field by field, by their annotations), a pydantic
v2 model (``model_validate``), a msgspec ``Struct`` (``msgspec.convert``, after the numbers its
``int`` fields want are made ``int``) or any other callable ``dict -> T``. Numbers never go
through ``float`` unless a field says ``float``: an ``int`` field takes a whole ``Decimal``, a
``Decimal`` field keeps it.

A route with a model gets a *view* of the record (:func:`Model.view`): an ``Insert``,
``Modify`` or ``Remove`` sharing the record's decoded images, whose ``new``, ``old`` and
``item`` are converted on first access and cached, one view per record and model. A dataclass
or attrs model whose making runs no code of the user's is made straight from the image's JSON
by ``_fused`` when the record has not decoded the image, and decoded-then-converted here when
that path cannot tell exactly (so results and errors are the same). pydantic,
msgspec, attrs, ``typing`` and ``dataclasses`` are imported only when a route's model needs
them.
"""

from __future__ import annotations

from decimal import Decimal

from ._record import UNSET, Insert, Modify, Record, Remove, item_image
from .errors import ModelError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ._fused import Fields
    from ._typing import Image, RawImage

    Convert = Callable[[Any, str], Any]
    """Converts a value found at a path (``.lines[0]``) or raises Rejected."""

__all__ = ["Model", "Rejected", "item_of"]


class Rejected(Exception):
    """A value a model cannot take; *where* is its path below the image (``.lines[0].qty``)."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


MISSING: Any = object()
"""What a field the image does not have reads as (``None`` is a value)."""


class _Never:
    """A class no value has: the fast class of a type whose values always need converting."""


# --- the model -------------------------------------------------------------------------------


class Model:
    """What a route's ``model=`` is, and how an image becomes one.

    Attributes:
        target: the model as given (a class or a callable).
        kind: ``"dataclass"``, ``"attrs"``, ``"typeddict"``, ``"pydantic"``, ``"msgspec"``
            or ``"callable"``.
        name: how messages name it (``Order``).
    """

    __slots__ = ("_convert", "_fused", "_last", "kind", "name", "target")

    def __init__(self, target: Any) -> None:
        """Tell the kind of *target*; raise TypeError if it cannot be a model."""
        self.target = target
        self.kind = kind_of(target)
        self.name = getattr(target, "__qualname__", None) or repr(target)
        self._convert: Callable[[Image], Any] | None = None
        self._fused: Callable[[RawImage], Any] | None = None
        self._last: tuple[Record[Any] | None, Any] = (None, None)

    @property
    def convert(self) -> Callable[[Image], Any]:
        """The function of a decoded image that gives the model; built on first use.

        Built when the app starts rather than at registration, so that annotations may name
        classes defined after the route (nested dataclasses, forward references).
        """
        convert = self._convert
        if convert is None:
            convert = self._convert = _converter(self.kind, self.target)
            if self.kind in ("dataclass", "attrs"):
                from ._fused import fused_converter

                self._fused = fused_converter(self.target, _describe, _plain)
        return convert

    def view(self, record: Record[Any], route: str) -> Record[Any]:
        """*record* as the route called *route* sees it: its images as this model.

        The routes of one record run one after the other, so the view of the last record is
        kept here for the next route of the same model; the record itself holds no view,
        which would make a reference cycle and keep every record's images alive until the
        garbage collector runs (a third slower).
        """
        last, view = self._last
        if last is not record:
            view = _VIEWS[record.event_name]()
            self._last = (record, view)
            view.raw = record.raw
            view.change = record.change
            view.dynamodb = record.dynamodb
            view.event_name = record.event_name
            view._decoder = record._decoder
            view._sequence_number = record._sequence_number
            view._keys = view._new = view._old = UNSET
            view._record = record
            view._model = self
        view._route = route
        return view  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return self.name


def kind_of(target: Any) -> str:
    """The kind of model *target* is (see :class:`Model`), without importing its library."""
    if isinstance(target, type):
        if hasattr(target, "__dataclass_fields__"):
            return "dataclass"
        if hasattr(target, "__attrs_attrs__"):
            return "attrs"
        if hasattr(target, "__struct_fields__"):
            return "msgspec"
        if hasattr(target, "model_validate") and hasattr(target, "model_fields"):
            return "pydantic"
        if issubclass(target, dict) and hasattr(target, "__required_keys__"):
            return "typeddict"
    if callable(target):
        return "callable"
    raise TypeError(
        f"model= takes a dataclass, a TypedDict, a pydantic model, a msgspec Struct, an attrs "
        f"class or a function of the item's dict, got {target!r}"
    )


def _converter(kind: str, target: Any) -> Callable[[Image], Any]:
    if kind == "pydantic":
        return target.model_validate  # type: ignore[no-any-return]
    if kind == "msgspec":
        return _msgspec_converter(target)
    if kind == "callable":
        return target  # type: ignore[no-any-return]
    convert = _type_converter(target, {})
    assert convert is not None  # a class always has one
    return lambda image: convert(image, "")


# --- the views handlers get ------------------------------------------------------------------


class _View:
    """What the views of every event share: keys and diff are the record's own (dicts)."""

    __slots__ = ()
    _record: Any  # the Record the view shows
    _model: Model
    _route: str

    @property
    def keys(self) -> Image:
        """The item's key attributes, decoded (as a dict: keys are not the model)."""
        return self._record.keys  # type: ignore[no-any-return]

    @property
    def item(self) -> Any:
        """The new image, else the old image, else the keys, as the model."""
        self_: Any = self
        image = item_image(self_.event_name, self_.dynamodb)
        if image == "NewImage":
            return self_.new
        if image == "OldImage":
            return self_.old
        keys = self_._keys
        if keys is UNSET:
            keys = self_._keys = self._typed(self._record.keys, "Keys")
        return keys

    @property
    def diff(self) -> Any:
        """The record's :class:`~ddbstream.Diff`, of its decoded dicts."""
        return self._record.diff

    def _as_model(self, name: str) -> Any:
        """The image called *name* (``NewImage``, ``OldImage``) as the model.

        Straight from the JSON when the model has a fused converter and the record has not
        decoded the image for another route; else (or if the fused converter cannot tell) the
        decoded image, converted, with its errors.
        """
        record = self._record
        fused = self._model._fused
        assert fused is not None  # models without one are converted by the properties
        if record._decoder.parse_number is None:
            raw = record.dynamodb.get(name)
            if raw is not None and (record._new if name == "NewImage" else record._old) is UNSET:
                try:
                    return fused(raw)
                except Exception:  # not exactly what decoding then converting gives
                    pass
        return self._typed(record.new if name == "NewImage" else record.old, name)

    def _typed(self, image: Image, name: str) -> Any:
        model = self._model
        try:
            return model.convert(image)
        except Exception as error:
            raise self._error(error, name) from error

    def _error(self, error: Exception, name: str) -> ModelError:
        where, reason = describe_rejection(error)
        record = self._record
        message = (
            f"route {self._route!r}: {name}{where} does not fit the model {self._model.name}: "
            f"{reason}. Change the model, or filter out such items with where="
        )
        return ModelError(
            message,
            route=self._route,
            model=self._model.name,
            image=name,
            path=f"{name}{where}",
            event_id=record.event_id,
            sequence_number=record.sequence_number,
        )

    def __repr__(self) -> str:
        return repr(self._record)


class TypedInsert(_View, Insert):
    """An :class:`~ddbstream.Insert` whose ``new`` is the route's model."""

    __slots__ = ("_model", "_record", "_route")

    @property
    def new(self) -> Any:
        """The item as written, as the model."""
        new = self._new
        if new is UNSET:
            if self._model._fused is None:
                new = self._new = self._typed(self._record.new, "NewImage")
            else:
                new = self._new = self._as_model("NewImage")
        return new


class TypedModify(_View, Modify):
    """A :class:`~ddbstream.Modify` whose ``new`` and ``old`` are the route's model."""

    __slots__ = ("_model", "_record", "_route")

    @property
    def new(self) -> Any:
        """The item after the change, as the model."""
        new = self._new
        if new is UNSET:
            if self._model._fused is None:
                new = self._new = self._typed(self._record.new, "NewImage")
            else:
                new = self._new = self._as_model("NewImage")
        return new

    @property
    def old(self) -> Any:
        """The item before the change, as the model."""
        old = self._old
        if old is UNSET:
            if self._model._fused is None:
                old = self._old = self._typed(self._record.old, "OldImage")
            else:
                old = self._old = self._as_model("OldImage")
        return old


class TypedRemove(_View, Remove):
    """A :class:`~ddbstream.Remove` whose ``old`` is the route's model."""

    __slots__ = ("_model", "_record", "_route")

    @property
    def old(self) -> Any:
        """The item as it was before the delete, as the model."""
        old = self._old
        if old is UNSET:
            if self._model._fused is None:
                old = self._old = self._typed(self._record.old, "OldImage")
            else:
                old = self._old = self._as_model("OldImage")
        return old


_VIEWS: dict[str, type[Any]] = {"INSERT": TypedInsert, "MODIFY": TypedModify, "REMOVE": TypedRemove}


def describe_rejection(error: Exception) -> tuple[str, str]:
    """``(path below the image, reason)`` of a model's *error*, whatever library raised it."""
    if isinstance(error, Rejected):
        return error.where, error.reason
    kind = type(error)
    if kind.__name__ == "ValidationError" and kind.__module__.startswith("pydantic"):
        problems: Any = error.errors()  # type: ignore[attr-defined]
        first = problems[0]
        where = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]
        )
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return where, f"{first['msg']}, got {first['input']!r}{more}"
    if kind.__name__ == "ValidationError" and kind.__module__.startswith("msgspec"):
        text = str(error)
        reason, marker, path = text.rpartition(" - at `$")
        if marker:
            return path.rstrip("`"), reason
        return "", text
    return "", f"{kind.__name__}: {error}"


# --- dataclasses, attrs classes, TypedDicts: by their annotations ------------------------------


def _type_converter(annotation: Any, seen: dict[Any, Any]) -> Convert | None:
    """A function converting values to *annotation*, or None for "any value as it is"."""
    import typing

    if annotation is typing.Any or annotation is object:
        return None
    if annotation in seen:  # a recursive model: the cell is filled when its plan is built
        cell = seen[annotation]
        return lambda value, where: cell[0](value, where)
    simple = _SIMPLE.get(annotation)
    if simple is not None:
        return simple
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_converter(arguments[0], seen)
    supertype = getattr(annotation, "__supertype__", None)
    if supertype is not None:  # typing.NewType
        return _type_converter(supertype, seen)
    if origin is typing.Union or type(annotation).__name__ == "UnionType":
        return _union(annotation, arguments, seen)
    if origin is typing.Literal:
        return _literal(arguments)
    if origin is not None:
        return _generic(annotation, origin, arguments, seen)
    if isinstance(annotation, type):
        return _class(annotation, seen)
    return None  # a TypeVar or a special form: any value, as it is


def _fast_class(annotation: Any) -> type:
    """The class a value of *annotation* has when it needs no converting at all."""
    import typing

    fast = _FAST.get(annotation)
    if fast is not None:
        return fast
    if typing.get_origin(annotation) is typing.Union or (type(annotation).__name__ == "UnionType"):
        arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(arguments) == 1:
            return _fast_class(arguments[0])
    return _Never


def _reject_type(value: Any, where: str, expected: str) -> Any:
    raise Rejected(where, f"expected {expected}, got {value!r}")


def _to_str(value: Any, where: str) -> Any:
    return value if isinstance(value, str) else _reject_type(value, where, "a string")


def _to_bool(value: Any, where: str) -> Any:
    return value if value is True or value is False else _reject_type(value, where, "a boolean")


def _to_bytes(value: Any, where: str) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return _reject_type(value, where, "bytes")


def _to_none(value: Any, where: str) -> Any:
    return None if value is None else _reject_type(value, where, "null")


def _to_int(value: Any, where: str) -> Any:
    if isinstance(value, (Decimal, float)) and value == value:  # not NaN
        try:
            whole = int(value)
        except OverflowError:  # infinity
            whole = None
        if whole is not None and whole == value:
            return whole
        raise Rejected(where, f"expected an integer, got {value!r}")
    if isinstance(value, int) and value is not True and value is not False:
        return int(value)
    return _reject_type(value, where, "an integer")


def _to_float(value: Any, where: str) -> Any:
    if isinstance(value, (Decimal, int, float)) and value is not True and value is not False:
        return float(value)
    return _reject_type(value, where, "a number")


def _to_decimal(value: Any, where: str) -> Any:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int) and value is not True and value is not False:
        return Decimal(value)
    return _reject_type(value, where, "a number")


_SIMPLE: dict[Any, Convert] = {
    str: _to_str,
    bool: _to_bool,
    bytes: _to_bytes,
    int: _to_int,
    float: _to_float,
    Decimal: _to_decimal,
    type(None): _to_none,
    None: _to_none,
}
_FAST: dict[Any, type] = {
    str: str,
    bool: bool,
    bytes: bytes,
    int: int,
    float: float,
    Decimal: Decimal,
    type(None): type(None),
    None: type(None),
}


def _union(annotation: Any, arguments: tuple[Any, ...], seen: dict[Any, Any]) -> Convert | None:
    options = [a for a in arguments if a is not type(None)]
    nullable = len(options) < len(arguments)
    converters = [_type_converter(option, seen) for option in options]
    if any(convert is None for convert in converters):
        return None  # Any among the options: every value fits
    if len(converters) == 1:
        (only,) = converters
        assert only is not None
        assert nullable  # Union[X] is X itself

        def optional(value: Any, where: str) -> Any:
            return None if value is None else only(value, where)

        return optional
    names = " | ".join(getattr(a, "__name__", repr(a)) for a in arguments)

    def union(value: Any, where: str) -> Any:
        if value is None and nullable:
            return None
        for convert in converters:
            try:
                return convert(value, where)  # type: ignore[misc]
            except Rejected:
                continue
        raise Rejected(where, f"expected {names}, got {value!r}")

    return union


def _literal(choices: tuple[Any, ...]) -> Convert:
    def literal(value: Any, where: str) -> Any:
        for choice in choices:
            if type(choice) is not bool and choice == value and value is not True:
                return choice
            if choice is value:
                return choice
        raise Rejected(where, f"expected one of {', '.join(map(repr, choices))}, got {value!r}")

    return literal


def _generic(
    annotation: Any, origin: Any, arguments: tuple[Any, ...], seen: dict[Any, Any]
) -> Convert | None:
    import collections.abc as abc

    if origin in (dict, abc.Mapping, abc.MutableMapping):
        value_type = arguments[1] if len(arguments) == 2 else object
        return _mapping(_type_converter(value_type, seen), _fast_class(value_type))
    if origin is tuple and not (len(arguments) == 2 and arguments[1] is Ellipsis):
        return _fixed_tuple([_type_converter(a, seen) for a in arguments])
    if origin in (list, tuple, set, frozenset, abc.Sequence, abc.MutableSequence, abc.Set,
                  abc.MutableSet, abc.Collection, abc.Iterable):  # fmt: skip
        item = arguments[0] if arguments else object
        made = {tuple: tuple, set: set, frozenset: frozenset, abc.Set: set, abc.MutableSet: set}
        return _collection(_type_converter(item, seen), _fast_class(item), made.get(origin, list))
    if isinstance(origin, type):
        return _class(origin, seen)
    return None


def _collection(convert: Convert | None, fast: type, made: type) -> Convert:
    def collection(value: Any, where: str) -> Any:
        if not isinstance(value, (list, tuple, set, frozenset)):
            return _reject_type(value, where, f"a {made.__name__}")
        if convert is not None:
            for member in value:  # a loop, not all(): this runs for every list and set
                if member.__class__ is not fast:
                    if isinstance(value, (set, frozenset)):
                        value = [convert(member, f"{where}[{member!r}]") for member in value]
                    else:
                        value = [convert(member, f"{where}[{i}]") for i, member in enumerate(value)]
                    break
        return value if value.__class__ is made else made(value)

    return collection


def _fixed_tuple(converters: list[Convert | None]) -> Convert:
    def fixed_tuple(value: Any, where: str) -> Any:
        if not isinstance(value, (list, tuple)) or len(value) != len(converters):
            return _reject_type(value, where, f"a list of {len(converters)} values")
        return tuple(
            member if convert is None else convert(member, f"{where}[{i}]")
            for i, (member, convert) in enumerate(zip(value, converters, strict=True))
        )

    return fixed_tuple


def _mapping(convert: Convert | None, fast: type) -> Convert:
    def mapping(value: Any, where: str) -> Any:
        if not isinstance(value, dict):
            return _reject_type(value, where, "a map")
        if convert is None or all(member.__class__ is fast for member in value.values()):
            return value
        return {name: convert(member, f"{where}.{name}") for name, member in value.items()}

    return mapping


def _class(cls: type, seen: dict[Any, Any]) -> Convert | None:
    kind = kind_of(cls) if isinstance(cls, type) else "callable"
    if kind in ("dataclass", "attrs"):
        cell: list[Any] = [None]
        seen[cls] = cell
        convert = cell[0] = _fields_converter(cls, kind, _fields(cls, kind), seen)
        return convert
    if kind == "typeddict":
        cell = [None]
        seen[cls] = cell
        convert = cell[0] = _typeddict_converter(cls, seen)
        return convert
    if kind in ("pydantic", "msgspec"):
        nested = _converter(kind, cls)

        def model(value: Any, where: str) -> Any:
            try:
                return nested(value)
            except Exception as error:
                below, reason = describe_rejection(error)
                raise Rejected(where + below, reason) from error

        return model
    import enum

    if issubclass(cls, enum.Enum):
        return _enum(cls)

    def instance(value: Any, where: str) -> Any:
        return value if isinstance(value, cls) else _reject_type(value, where, cls.__name__)

    return instance


def _enum(cls: Any) -> Convert:
    def member(value: Any, where: str) -> Any:
        if isinstance(value, Decimal) and value == int(value):
            value = int(value)
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(repr(m.value) for m in cls)
            raise Rejected(where, f"expected one of {choices}, got {value!r}") from None

    return member


def _fields(cls: Any, kind: str) -> list[tuple[str, str, Any, Any]]:
    """``(argument name, attribute name in the item, annotation, default)`` of each field.

    *default* is None for a required field, else a function that makes the default.
    """
    import typing

    try:
        hints = typing.get_type_hints(cls)
    except Exception as error:  # a name the annotations use is not defined
        raise TypeError(f"cannot read the annotations of {cls.__qualname__}: {error}") from error
    found = []
    if kind == "dataclass":
        import dataclasses

        for field in dataclasses.fields(cls):
            if field.init:
                if field.default is not dataclasses.MISSING:
                    default: Any = lambda value=field.default: value  # noqa: E731
                elif field.default_factory is not dataclasses.MISSING:
                    default = field.default_factory
                else:
                    default = None
                found.append((field.name, field.name, hints.get(field.name, object), default))
    else:
        import attrs

        for field in attrs.fields(cls):
            if field.init:
                annotation = hints.get(field.name, field.type or object)
                default = None if field.default is attrs.NOTHING else True
                found.append((field.alias, field.name, annotation, default))
    return found


def _made_by_fields(cls: Any, kind: str, fields: list[tuple[str, str, Any, Any]]) -> bool:
    """Whether an instance of *cls* is exactly its fields, as dataclasses' own __init__ sets.

    Then the converter fills the instance's ``__dict__`` itself, which is what that
    ``__init__`` would do, at a fraction of a call with twenty keyword arguments. A class
    with ``__post_init__``, its own ``__init__``, slots, ``InitVar`` or ``init=False``
    fields is made by calling it.
    """
    init = cls.__dict__.get("__init__")
    return (
        kind == "dataclass"
        and init is not None
        and getattr(getattr(init, "__code__", None), "co_filename", None) == "<string>"
        and not hasattr(cls, "__post_init__")
        and "__slots__" not in cls.__dict__
        and len(cls.__dataclass_fields__) == len(fields)
    )


def _fields_converter(
    cls: type, kind: str, fields: list[tuple[str, str, Any, Any]], seen: dict[Any, Any]
) -> Convert:
    """Generate the converter of a dataclass or attrs class: one function, no loop per field.

    Each field costs a dict lookup and a class test when its value is already what the
    annotation wants (a ``str`` for ``str``, a ``Decimal`` for ``Decimal``); a whole
    ``Decimal`` for an ``int`` is converted in place; only other values go through a
    converter function.
    """
    direct = _made_by_fields(cls, kind, fields)
    namespace: dict[str, Any] = {
        "cls": cls,
        "MISSING": MISSING,
        "Rejected": Rejected,
        "Decimal": Decimal,
        "int": int,
        "dict": dict,
        "new": object.__new__,
        "set_attribute": object.__setattr__,
    }
    lines = [
        "def convert(image, where):",
        "    if image.__class__ is not dict and not isinstance(image, dict):",
        "        raise Rejected(where, f'expected a map, got {image!r}')",
        "    get = image.get",
        "    given = {}",
    ]
    arguments = []
    for index, (argument, key, annotation, default) in enumerate(fields):
        convert = _type_converter(annotation, seen)
        namespace[f"convert_{index}"] = convert
        namespace[f"fast_{index}"] = _fast_class(annotation)
        namespace[f"default_{index}"] = default
        at = f"where + {'.' + key!r}"
        lines.append(f"    value = get({key!r}, MISSING)")
        lines.append("    if value is MISSING:")
        if default is None:
            lines.append(f"        raise Rejected({at}, 'missing')")
        else:
            lines.append(f"        {f'value = default_{index}()' if direct else 'pass'}")
        if convert is _to_int:  # the usual number: in place, without a call
            lines.append("    elif value.__class__ is Decimal:")
            lines.append("        whole = int(value)")
            lines.append(
                f"        value = whole if whole == value else convert_{index}(value, {at})"
            )
        if convert is not None:
            lines.append(f"    elif value.__class__ is not fast_{index}:")
            lines.append(f"        value = convert_{index}(value, {at})")
        if default is None or direct:
            lines.append(f"    arg_{index} = value")
            arguments.append((argument, f"arg_{index}"))
        else:
            lines.append("    if value is not MISSING:")
            lines.append(f"        given[{argument!r}] = value")
    if direct:
        attributes = ", ".join(f"{name!r}: {value}" for name, value in arguments)
        lines += [
            "    made = new(cls)",
            f"    set_attribute(made, '__dict__', {{{attributes}}})",
            "    return made",
        ]
    else:
        call = ", ".join([*(f"{name}={value}" for name, value in arguments), "**given"])
        lines += [
            "    try:",
            f"        return cls({call})",
            "    except Exception as error:",
            "        name = cls.__qualname__",
            "        reason = f'{name}() raised {type(error).__name__}: {error}'",
            "        raise Rejected(where, reason) from error",
        ]
    exec("\n".join(lines), namespace)  # our own code, made from the fields
    return namespace["convert"]  # type: ignore[no-any-return]


def _plain(annotation: Any) -> Convert | None:
    """The converter of *annotation* on the decoded path, for the fused one to compose."""
    return _type_converter(annotation, {})


def _describe(cls: type) -> tuple[Fields, bool] | str:
    """What the fused converter needs to know of *cls* (see ``_fused.Describe``)."""
    kind = kind_of(cls)
    if kind in ("dataclass", "attrs"):
        if not _made_without_user_code(cls, kind):
            return "foreign"
        fields = _fields(cls, kind)
        return fields, _made_by_fields(cls, kind, fields)
    return "plain" if kind == "callable" else "foreign"


_CONTAINERS = (list, dict, set, frozenset, tuple)


def _made_without_user_code(cls: Any, kind: str) -> bool:
    """Whether making an instance of *cls* runs only generated code and container factories.

    Only such classes are made by the fused converter: when it gives up on an item half
    way, the classes it made are made again on the decoded path, which must not repeat a
    visible effect (a ``__post_init__``, a validator, a factory with side effects).
    """
    init = getattr(cls.__dict__.get("__init__"), "__code__", None)
    if init is None or cls.__new__ is not object.__new__:
        return False
    if kind == "dataclass":
        import dataclasses

        return (
            init.co_filename == "<string>"
            and not hasattr(cls, "__post_init__")
            and all(
                _container_factory(field.default_factory)
                for field in dataclasses.fields(cls)
                if field.default_factory is not dataclasses.MISSING
            )
        )
    import attrs

    return (
        init.co_filename.startswith("<attrs generated")
        and not hasattr(cls, "__attrs_pre_init__")
        and not hasattr(cls, "__attrs_post_init__")
        and all(
            field.validator is None
            and field.converter is None
            and (
                not isinstance(field.default, attrs.Factory)  # type: ignore[arg-type]
                or (not field.default.takes_self and _container_factory(field.default.factory))
            )
            for field in attrs.fields(cls)
        )
    )


def _container_factory(factory: Any) -> bool:
    """``list``, ``dict``... or ``list[Line]``: a factory that makes an empty container."""
    return factory in _CONTAINERS or getattr(factory, "__origin__", None) in _CONTAINERS


def _typeddict_converter(cls: Any, seen: dict[Any, Any]) -> Convert:
    """A TypedDict is a dict: the item itself, with the values its annotations convert.

    Required keys must be there; keys the TypedDict does not name are kept. The item is
    copied only when a value changes (an ``int`` from a ``Decimal``), so a TypedDict of
    strings and ``Decimal`` costs a look at each value and no copy.
    """
    import typing

    hints = typing.get_type_hints(cls, include_extras=True)
    # __required_keys__ misses NotRequired[...] written as a string (`from __future__ import
    # annotations`), so the resolved annotations have the last word.
    required_keys = set(cls.__required_keys__)
    plan = []
    for key, hint in hints.items():
        annotation = hint
        marker = getattr(typing.get_origin(hint), "_name", None)
        if marker in ("Required", "NotRequired"):
            (annotation,) = typing.get_args(hint)
            if marker == "Required":
                required_keys.add(key)
            else:
                required_keys.discard(key)
        convert = _type_converter(annotation, seen)
        if convert is not None:
            plan.append((key, _fast_class(annotation), convert))

    required = tuple(sorted(required_keys))

    def typeddict(value: Any, where: str) -> Any:
        if not isinstance(value, dict):
            return _reject_type(value, where, "a map")
        for key in required:
            if key not in value:
                raise Rejected(f"{where}.{key}", "missing")
        converted = None
        for key, fast, convert in plan:
            member = value.get(key, MISSING)
            if member is MISSING or member.__class__ is fast:
                continue
            if converted is None:
                converted = dict(value)
            converted[key] = convert(member, f"{where}.{key}")
        return value if converted is None else converted

    return typeddict


# --- msgspec ---------------------------------------------------------------------------------


def _msgspec_converter(cls: Any) -> Callable[[Image], Any]:
    """``msgspec.convert``, after whole ``Decimal`` values bound for ``int`` fields became ``int``.

    msgspec takes a ``Decimal`` for ``Decimal`` and ``float`` fields, but not for ``int``
    ones, even when it is whole and ``strict=False``; the model's type tree says where.
    """
    import msgspec

    prepare = _msgspec_prepare(msgspec.inspect.type_info(cls), {})
    convert = msgspec.convert
    if prepare is None:
        return lambda image: convert(image, cls)
    return lambda image: convert(prepare(image), cls)


def _whole(value: Any) -> Any:
    if value.__class__ is Decimal:
        whole = int(value)
        if whole == value:
            return whole
    return value


def _msgspec_prepare(info: Any, seen: dict[int, Any]) -> Callable[[Any], Any] | None:
    """A function turning a value's whole Decimals into ints where *info* wants ints, or None."""
    import msgspec.inspect as inspect

    if isinstance(info, inspect.IntType):
        return _whole
    if isinstance(info, (inspect.StructType, inspect.DataclassType, inspect.TypedDictType)):
        if id(info.cls) in seen:
            cell = seen[id(info.cls)]
            return lambda value: cell[0](value) if cell[0] is not None else value
        cell = [None]
        seen[id(info.cls)] = cell
        plan = []
        for field in info.fields:
            prepare = _msgspec_prepare(field.type, seen)
            if prepare is not None:
                plan.append((getattr(field, "encode_name", field.name), prepare))
        if not plan:
            return None

        def fields(value: Any) -> Any:
            if not isinstance(value, dict):
                return value
            value = dict(value)
            for name, prepare in plan:
                if name in value:
                    value[name] = prepare(value[name])
            return value

        cell[0] = fields
        return fields
    if isinstance(
        info, (inspect.ListType, inspect.SetType, inspect.FrozenSetType, inspect.VarTupleType)
    ):
        member_prepare = _msgspec_prepare(info.item_type, seen)
        if member_prepare is None:
            return None
        return lambda value: (
            [member_prepare(member) for member in value]
            if isinstance(value, (list, tuple, set, frozenset))
            else value
        )
    if isinstance(info, inspect.DictType):
        value_prepare = _msgspec_prepare(info.value_type, seen)
        if value_prepare is None:
            return None
        return lambda value: (
            {name: value_prepare(member) for name, member in value.items()}
            if isinstance(value, dict)
            else value
        )
    if isinstance(info, inspect.UnionType):
        if any(isinstance(t, (inspect.FloatType, inspect.DecimalType)) for t in info.types):
            return None  # a Decimal fits those as it is
        preparers = [p for t in info.types if (p := _msgspec_prepare(t, seen)) is not None]
        return preparers[0] if len(preparers) == 1 else None
    return None


# --- model instances as items (ddbstream.testing) -------------------------------------------------


def item_of(value: Any) -> dict[str, Any] | None:
    """The attributes of a model instance, as the item a table would hold; None if no model.

    Nested models are left as they are: the serializer calls this again for each.
    """
    if isinstance(value, type):
        return None
    if hasattr(value, "__dataclass_fields__"):
        import dataclasses

        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    if hasattr(value, "__attrs_attrs__"):
        return {field.name: getattr(value, field.name) for field in value.__attrs_attrs__}
    if hasattr(value, "__struct_fields__"):
        import msgspec

        return {
            field.encode_name: getattr(value, field.name) for field in msgspec.structs.fields(value)
        }
    if hasattr(value, "model_dump") and hasattr(type(value), "model_fields"):
        return value.model_dump(by_alias=True)  # type: ignore[no-any-return]
    return None
