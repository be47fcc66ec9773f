"""What a handler is: its name, whether it is ``async def``, how many arguments it takes.

Read from the function's code object where there is one: ``inspect`` costs milliseconds of a
cold start, so it is imported only for the callables a code object cannot describe
(``functools.partial``, decorated functions, callable objects, builtins).
"""

from __future__ import annotations

__all__ = ["is_coroutine_function", "module_of", "name_of", "takes_context"]

_CO_VARARGS = 0x04
_CO_GENERATOR = 0x20
_CO_COROUTINE = 0x80
_CO_ASYNC_GENERATOR = 0x200


def name_of(function: object) -> str:
    """The qualified name of *function* (of what a partial wraps, or of the object's class)."""
    for candidate in (_unwrap_partial(function), type(function)):
        name = getattr(candidate, "__qualname__", None)
        if isinstance(name, str):
            return name
    return repr(function)  # pragma: no cover - type(function) always has a __qualname__


def module_of(function: object) -> str:
    """The module *function* is defined in (of what a partial wraps, or of the object's class)."""
    for candidate in (_unwrap_partial(function), type(function)):
        module = getattr(candidate, "__module__", None)
        if isinstance(module, str):
            return module
    return "?"  # pragma: no cover - type(function) always has a __module__


def is_coroutine_function(function: object) -> bool:
    """``inspect.iscoroutinefunction`` without importing inspect (a cold-start cost).

    Also sees through ``functools.partial`` and callable objects with an ``async def __call__``.
    """
    return bool(_flags(function) & _CO_COROUTINE)


def takes_context(handler: object) -> bool:
    """Whether *handler* is called as ``handler(record, context)`` rather than ``handler(record)``.

    It gets the context when it requires two arguments, ``(record, context)``, or when its
    second parameter is called ``context`` and has a default, ``(record, context=None)``.
    Any other second parameter with a default is left alone (``lambda record, kind=kind:``
    binds a loop variable), and ``*args`` alone is called with the record only, as a
    wrapper around a one-argument handler expects.

    Raises:
        TypeError: it can take neither form, or it is a generator function (whose body would
            never run), and so it is no handler.
    """
    flags = _flags(handler)
    if flags & _CO_ASYNC_GENERATOR:
        raise TypeError("it is an async generator function (it has 'yield'), so it would never run")
    if flags & _CO_GENERATOR:
        raise TypeError("it is a generator function (it has 'yield'), so it would never run")
    positional, required, required_keywords, varargs, second = _parameters(handler)
    if required_keywords:
        names = ", ".join(map(repr, required_keywords))
        raise TypeError(f"it has keyword-only parameters without defaults ({names})")
    if required > 2:
        raise TypeError(
            f"it requires {required} positional arguments; a handler takes (record) or "
            "(record, context)"
        )
    if positional == 0 and not varargs:
        raise TypeError("it takes no arguments; a handler takes (record) or (record, context)")
    return required == 2 or (positional >= 2 and second == "context")


def _parameters(function: object) -> tuple[int, int, list[str], bool, str | None]:
    """``(positional, required positional, required keyword-only names, *args, the name of
    the second positional parameter)``."""
    code = getattr(function, "__code__", None)
    if code is not None and not hasattr(function, "__wrapped__"):
        defaults = getattr(function, "__defaults__", None) or ()
        keyword_defaults = getattr(function, "__kwdefaults__", None) or {}
        positional = code.co_argcount
        bound = int(type(function).__name__ == "method")  # self is given already
        keywords = code.co_varnames[positional : positional + code.co_kwonlyargcount]
        required_keywords = [name for name in keywords if name not in keyword_defaults]
        names = code.co_varnames[bound:positional]
        return (
            positional - bound,
            positional - bound - len(defaults),
            required_keywords,
            bool(code.co_flags & _CO_VARARGS),
            names[1] if len(names) > 1 else None,
        )
    return _parameters_from_signature(function)


def _parameters_from_signature(function: object) -> tuple[int, int, list[str], bool, str | None]:
    import inspect  # only for callables without a plain code object: a cold-start cost

    try:
        signature = inspect.signature(function)  # type: ignore[arg-type]  # any callable
    except (TypeError, ValueError):  # a builtin without a signature: assume one argument
        return 1, 1, [], False, None
    kinds = inspect.Parameter
    positional = required = 0
    required_keywords: list[str] = []
    varargs = False
    names = []
    for parameter in signature.parameters.values():
        empty = parameter.default is kinds.empty
        if parameter.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD):
            positional += 1
            required += empty
            names.append(parameter.name)
        elif parameter.kind is kinds.VAR_POSITIONAL:
            varargs = True
        elif parameter.kind is kinds.KEYWORD_ONLY and empty:
            required_keywords.append(parameter.name)
    second = names[1] if len(names) > 1 else None
    return positional, required, required_keywords, varargs, second


def _flags(function: object) -> int:
    """The code flags of what calling *function* runs: itself, what a partial wraps, or its
    class's ``__call__``. A decorator's wrapper is what runs, not the function it wraps."""
    function = _unwrap_partial(function)
    code = getattr(function, "__code__", None)
    if code is None:
        call = getattr(type(function), "__call__", None)  # noqa: B004 - its code, not callability
        code = getattr(call, "__code__", None)
    return int(getattr(code, "co_flags", 0))


def _unwrap_partial(function: object) -> object:
    # By type name: importing functools for an isinstance check would cost a cold start.
    while type(function).__name__ == "partial" and type(function).__module__ == "functools":
        function = function.func  # type: ignore[attr-defined]
    return function
