"""Routes -> Lambda ``FilterCriteria``, widening whatever a pattern cannot say.

A pattern is built as a list of *clauses* (an OR), each clause a map from a field path of the
stream record (``("dynamodb", "NewImage", "status", "S")``) to the matchers one of which the
field must meet (an AND over paths). Matchers are kept as canonical JSON text, so ``True``
never equals ``1`` and they sort deterministically.

Soundness is the rule: a clause may only ever match *more* records than the route it stands
for. Anything a pattern cannot express (numbers by value, since ``N`` values are strings;
``changed=``; most negations; ``contains``; paths through list indexes; functions) becomes
"no constraint", never a guess. An empty ``Filters`` list means Lambda does not filter at
all, which is what the app gets when it needs every record (a fallback, or a route without
filters for every event).
"""

from __future__ import annotations

import json

from ._record import EVENT_NAMES, IMAGES_OF_EVENT, TTL_PRINCIPAL, VIEW_IMAGES, item_image
from .conditions import And, Comparison, Condition, Not, Or

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any, TypeAlias

    from ._routing import Route
    from .types import ImageTest

    FieldPath: TypeAlias = "tuple[str, ...]"
    Clause: TypeAlias = "dict[FieldPath, tuple[str, ...]]"
    Criteria: TypeAlias = "dict[str, list[dict[str, str]]]"

__all__ = ["MAX_FILTERS", "MAX_PATTERN_LENGTH", "filter_criteria"]

MAX_FILTERS = 5
"""Filters Lambda accepts on one event source mapping (without a quota increase)."""
MAX_PATTERN_LENGTH = 4096
"""Characters Lambda accepts in one filter pattern."""

_MAX_CLAUSES = 32  # per route and sub-condition: beyond this, widen rather than multiply
_TTL_TYPE = ("userIdentity", "type")
_TTL_PRINCIPAL = ("userIdentity", "principalId")
_VIEW = ("dynamodb", "StreamViewType")
_EVENT = ("eventName",)
_SCALAR_LETTERS = ("B", "BOOL", "BS", "N", "NS", "NULL", "S", "SS")  # leaves in a pattern

_KEY_LETTERS = ("B", "N", "S")  # the types a key attribute can have

_ANYTHING: list[Clause] = [{}]
"""The clause list that matches every record."""


def filter_criteria(
    routes: Sequence[Route],
    *,
    has_fallback: bool,
    region: str | None = None,
    account: str | None = None,
    stream_view_type: str | None = None,
) -> Criteria:
    """Lambda ``FilterCriteria`` passing every record that some route would run or fail on.

    Args:
        routes: the app's routes.
        has_fallback: whether the app has an ``on_unmatched`` handler (then every record is
            wanted and the criteria are empty).
        region: the table's AWS region; with *account*, ``table=`` becomes an
            ``eventSourceARN`` prefix. Without them ``table=`` is not part of the patterns.
        account: the table's AWS account ID.
        stream_view_type: the stream's view type, when known: the patterns then only let
            through what a stream of that type needs. Without it they are sound for every view
            type, which costs precision: a filter on an image must let through the records of
            view types that lack it (they fail loudly in the function rather than vanish).

    Raises:
        ValueError: *stream_view_type* is not a view type.

    Returns:
        ``{"Filters": [{"Pattern": "<json>"}, ...]}`` with at most 5 patterns of at most
        4,096 characters; ``{"Filters": []}`` when every record is needed (Lambda then
        applies no filtering).
    """
    if stream_view_type is None:
        views: tuple[str, ...] = tuple(VIEW_IMAGES)
    elif stream_view_type in VIEW_IMAGES:
        views = (stream_view_type,)
    else:
        raise ValueError(
            f"unknown stream view type {stream_view_type!r}; use one of {', '.join(VIEW_IMAGES)}"
        )
    if has_fallback:
        return {"Filters": []}
    arn_prefix = _arn_prefix(region, account)
    clauses: list[Clause] = []
    for route in routes:
        clauses.extend(_route_clauses(route, arn_prefix, views))
    clauses = _simplify(clauses)
    if not clauses or any(not clause for clause in clauses):
        return {"Filters": []}
    while True:
        clauses = [_fit(clause) for clause in clauses]
        if any(not clause for clause in clauses):
            return {"Filters": []}
        patterns = _pack(clauses)
        if patterns is not None:
            return {"Filters": [{"Pattern": pattern} for pattern in patterns]}
        clauses = _join_closest(clauses)


def _arn_prefix(region: str | None, account: str | None) -> str | None:
    if region is None or account is None:
        return None
    if region.startswith("cn-"):
        partition = "aws-cn"
    elif region.startswith("us-gov-"):
        partition = "aws-us-gov"
    else:
        partition = "aws"
    return f"arn:{partition}:dynamodb:{region}:{account}:table/"


# --- one route -------------------------------------------------------------------------------


def _route_clauses(route: Route, arn_prefix: str | None, views: tuple[str, ...]) -> list[Clause]:
    filters = route.filters
    shared: list[Clause] = _ANYTHING
    if filters.tables is not None and arn_prefix is not None:
        prefixes = [_matcher({"prefix": f"{arn_prefix}{name}/"}) for name in filters.tables]
        shared = _and(shared, [{("eventSourceARN",): _sorted(prefixes)}])
    if filters.ttl is True:
        shared = _and(
            shared,
            [{_TTL_TYPE: (_matcher("Service"),), _TTL_PRINCIPAL: (_matcher(TTL_PRINCIPAL),)}],
        )
    elif filters.ttl is False:
        shared = _and(
            shared,
            [
                {_TTL_TYPE: (_matcher({"anything-but": ["Service"]}),)},
                {_TTL_TYPE: (_EXISTS_FALSE,)},
                {_TTL_PRINCIPAL: (_matcher({"anything-but": [TTL_PRINCIPAL]}),)},
                {_TTL_PRINCIPAL: (_EXISTS_FALSE,)},
            ],
        )
    clauses: list[Clause] = []
    for event in sorted(filters.runs_for):
        per_event = _and([{_EVENT: (_matcher(event),)}], shared)
        matching = per_event
        # A filter that needs an image the change has but the stream omits fails the record:
        # such records must reach the function, whatever the other filters say.
        lacking: set[str] = set()
        for image, where in (("NewImage", filters.new), ("OldImage", filters.old)):
            if where is not None:
                lacking.update(_views_lacking(event, (image,), views))
                if isinstance(where, Condition):
                    matching = _and(matching, _clauses(where, ("dynamodb", image)))
        if filters.where is not None:
            matching = _and(matching, _item_clauses(filters.where, event, views))
        if filters.changed is not None:
            # changed= compares two images: never a pattern.
            lacking.update(_views_lacking(event, IMAGES_OF_EVENT[event], views))
        clauses.extend(matching)
        if lacking and len(views) == 1:
            clauses.extend(per_event)  # every record of the one view type lacks the image
        elif lacking:
            lacking_views = _sorted(_matcher(view) for view in lacking)
            clauses.extend(_and(per_event, [{_VIEW: lacking_views}]))
    return _simplify(clauses)


def _views_lacking(event: str, images: Iterable[str], views: tuple[str, ...]) -> list[str]:
    """The view types of *views* in which a record of *event* lacks one of *images*."""
    return [
        view
        for view in views
        if any(
            image in IMAGES_OF_EVENT[event] and image not in VIEW_IMAGES[view] for image in images
        )
    ]


def _item_choices(event: str, views: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    """Which image ``where=`` reads on *event* (``record.item``), and in which of *views*."""
    choices: dict[str, list[str]] = {}
    for view in views:
        carried = VIEW_IMAGES[view]
        images = {image: None for image in IMAGES_OF_EVENT[event] if image in carried}
        choices.setdefault(item_image(event, images), []).append(view)
    order = (*IMAGES_OF_EVENT[event], "Keys")
    return sorted(choices.items(), key=lambda choice: order.index(choice[0]))


def _item_clauses(where: Condition | ImageTest, event: str, views: tuple[str, ...]) -> list[Clause]:
    """``where=`` on *event*: on the first image the record has of new, old, keys.

    On the keys (no image carried) the condition is tested when it reads key attributes
    only, and otherwise fails the record: records whose keys lack an attribute it reads
    must reach the function.
    """
    if not isinstance(where, Condition):
        return _ANYTHING  # a function of the image: what it wants is unknown
    clauses: list[Clause] = []
    choices = _item_choices(event, views)
    for position, (image, choice_views) in enumerate(choices):
        base = ("dynamodb", image)
        view: Clause = {_VIEW: _sorted(_matcher(name) for name in choice_views)}
        if image == "Keys":
            reads = sorted(
                {part.steps[0] for part in where.walk() if isinstance(part, Comparison)}, key=str
            )
            absent: list[Clause] = [
                {(*base, str(name), letter): (_EXISTS_FALSE,) for letter in _KEY_LETTERS}
                for name in reads
            ]
            options = _or(_clauses(where, base), absent) if reads else _ANYTHING
        else:
            options = _clauses(where, base)
        for clause in options:
            if len(choices) == 1 or (position == 0 and _requires(clause, base)):
                clauses.append(clause)  # it cannot match unless the image is there
            else:
                clauses.extend(_and([clause], [view]))
    return clauses


def _requires(clause: Clause, base: FieldPath) -> bool:
    """Whether *clause* can only match a record that has the image at *base*."""
    return any(
        path[: len(base)] == base and _EXISTS_FALSE not in matchers
        for path, matchers in clause.items()
    )


# --- conditions -> clauses -------------------------------------------------------------------


def _clauses(condition: Condition, base: FieldPath, negated: bool = False) -> list[Clause]:
    """Clauses that together match at least every image where *condition* holds."""
    if isinstance(condition, Not):
        return _clauses(condition.condition, base, not negated)
    if isinstance(condition, (And, Or)):
        parts = [_clauses(part, base, negated) for part in condition.conditions]
        conjunction = isinstance(condition, And) is not negated  # De Morgan
        result = _ANYTHING if conjunction else []
        for part in parts:
            result = _and(result, part) if conjunction else _or(result, part)
        return result
    if isinstance(condition, Comparison):
        return _comparison(condition, base, negated)
    return _ANYTHING  # pragma: no cover - every Condition is one of the above


def _comparison(condition: Comparison, base: FieldPath, negated: bool) -> list[Clause]:
    steps = condition.steps
    if condition.size or any(isinstance(step, int) for step in steps):
        # Patterns match any element of a list, never the one at an index: widen.
        return _ANYTHING
    field = base
    for step in steps[:-1]:
        field += (str(step), "M")
    field += (str(steps[-1]),)
    operator = condition.operator
    if negated:
        operator = {"exists": "not_exists"}.get(operator, "")
    values = condition.values
    if operator == "not_exists":
        # Every leaf type absent. Maps and lists have no leaf of their own, so a map passes
        # too: wider than the condition, never narrower.
        return [{(*field, letter): (_EXISTS_FALSE,) for letter in _SCALAR_LETTERS}]
    if operator == "eq":
        return _equal_any(field, values)
    if operator == "is_in":
        return _equal_any(field, values[0])
    if operator == "begins_with" and isinstance(values[0], str):
        prefix = values[0]
        matcher = _matcher({"prefix": prefix}) if prefix else _EXISTS_TRUE
        return [{(*field, "S"): (matcher,)}]
    if operator == "attribute_type" and values[0] in _SCALAR_LETTERS:
        return [{(*field, values[0]): (_EXISTS_TRUE,)}]
    # exists (a map or list has no leaf to test), ne, lt... (no ranges on text), contains,
    # binary and numbers (N is text in the record: "1.0" and "1" are one number): widen.
    return _ANYTHING


def _equal_any(field: FieldPath, options: Iterable[Any]) -> list[Clause]:
    by_letter: dict[str, list[str]] = {}
    for value in options:
        if isinstance(value, bool):
            by_letter.setdefault("BOOL", []).append(_matcher(value))
        elif isinstance(value, str):
            by_letter.setdefault("S", []).append(_matcher(value))
        elif value is None:
            by_letter.setdefault("NULL", []).append(_matcher(True))
        else:
            return _ANYTHING  # numbers, binary, sets, lists, maps: not by their JSON text
    return [{(*field, letter): _sorted(found)} for letter, found in sorted(by_letter.items())]


# --- clause algebra --------------------------------------------------------------------------


def _matcher(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _sorted(matchers: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(matchers)))


_EXISTS_TRUE = _matcher({"exists": True})
_EXISTS_FALSE = _matcher({"exists": False})


def _is_plain(matchers: tuple[str, ...]) -> bool:
    """Only exact values: two such lists on one field may be intersected or united."""
    return not any(matcher.startswith("{") for matcher in matchers)


def _and(left: list[Clause], right: list[Clause]) -> list[Clause]:
    if len(left) * len(right) > _MAX_CLAUSES:
        # Dropping one side of an AND only widens it.
        return left if len(left) <= len(right) else right
    result = []
    for one in left:
        for other in right:
            both = _conjoin(one, other)
            if both is not None:
                result.append(both)
    return _simplify(result)


def _conjoin(one: Clause, other: Clause) -> Clause | None:
    """Both clauses at once; None when no record can meet both."""
    result = dict(one)
    for path, matchers in other.items():
        mine = result.get(path)
        if mine is None:
            result[path] = matchers
        elif mine != matchers and _is_plain(mine) and _is_plain(matchers):
            # Every path we constrain by value holds one scalar, never an array.
            common = tuple(matcher for matcher in mine if matcher in matchers)
            if not common:
                return None
            result[path] = common
        # else: keep one of the two constraints, which only widens the clause
    return result


def _or(left: list[Clause], right: list[Clause]) -> list[Clause]:
    result = _simplify(left + right)
    while len(result) > _MAX_CLAUSES:
        result = _join_closest(result)
    return result


def _weaker(one: Clause, other: Clause) -> bool:
    """Whether *one* matches every record *other* matches."""
    for path, matchers in one.items():
        theirs = other.get(path)
        if theirs is None:
            return False
        if theirs != matchers and not (
            _is_plain(theirs) and _is_plain(matchers) and set(theirs) <= set(matchers)
        ):
            return False
    return True


def _simplify(clauses: list[Clause]) -> list[Clause]:
    """Without duplicates and clauses implied by others; clauses differing in one field merged."""
    unique = {_key(clause): clause for clause in clauses}
    result = [unique[key] for key in sorted(unique)]
    changed = True
    while changed:
        changed = False
        for i, one in enumerate(result):
            for j, other in enumerate(result):
                if i == j:
                    continue
                if _weaker(one, other):
                    del result[j]
                    changed = True
                    break
                merged = _merge(one, other)
                if merged is not None:
                    result[i] = merged
                    del result[j]
                    changed = True
                    break
            if changed:
                break
    return sorted(result, key=_key)


def _merge(one: Clause, other: Clause) -> Clause | None:
    """The exact OR of two clauses that differ only in the values of one field, else None."""
    if one.keys() != other.keys():
        return None
    differing = [path for path in one if one[path] != other[path]]
    if len(differing) != 1:
        return None
    path = differing[0]
    if _EXISTS_FALSE in one[path] or _EXISTS_FALSE in other[path]:
        return None  # exists: false stands alone in its list
    merged = {**one, path: _sorted(one[path] + other[path])}
    if path == _EVENT and len(merged[path]) == len(EVENT_NAMES):
        del merged[path]  # every event name: no constraint at all
    return merged


def _join(one: Clause, other: Clause) -> Clause:
    """The tightest single clause matching every record either clause matches."""
    result: Clause = {}
    for path, matchers in one.items():
        theirs = other.get(path)
        if theirs == matchers:
            result[path] = matchers
        elif theirs is not None and _EXISTS_FALSE not in matchers + theirs:
            result[path] = _sorted(matchers + theirs)
    return result


def _join_closest(clauses: list[Clause]) -> list[Clause]:
    """Replace the two most alike clauses by their join (fewer clauses, wider)."""
    best: tuple[int, int, int] | None = None
    for i in range(len(clauses)):
        for j in range(i + 1, len(clauses)):
            shared = len(_join(clauses[i], clauses[j]))
            if best is None or shared > best[0]:
                best = (shared, i, j)
    assert best is not None, "joining needs at least two clauses"
    _, i, j = best
    joined = _join(clauses[i], clauses[j])
    rest = [clause for index, clause in enumerate(clauses) if index not in (i, j)]
    return _simplify([*rest, joined])


def _key(clause: Clause) -> str:
    return _matcher(sorted([list(path), list(matchers)] for path, matchers in clause.items()))


# --- patterns --------------------------------------------------------------------------------


def _pack(clauses: list[Clause]) -> list[str] | None:
    """One pattern per clause when there are at most 5, else None (the caller widens).

    Lambda's filter syntax has no OR across fields (EventBridge's ``$or`` is not in it), so
    more clauses than filters are joined into wider clauses rather than combined.
    """
    if len(clauses) > MAX_FILTERS:
        return None
    return [_render(clause) for clause in clauses]  # each fits: see _fit


def _fit(clause: Clause) -> Clause:
    """*clause*, without its longest constraints until it fits in one pattern."""
    while clause and len(_render(clause)) > MAX_PATTERN_LENGTH:
        longest = max(clause, key=lambda path: (len(_matcher(clause[path])), path))
        clause = {path: matchers for path, matchers in clause.items() if path != longest}
    return clause


def _render(clause: Clause) -> str:
    return json.dumps(_tree(clause), sort_keys=True, separators=(",", ":"))


def _tree(clause: Clause) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path, matchers in clause.items():
        node = tree
        for name in path[:-1]:
            node = node.setdefault(name, {})
        node[path[-1]] = [json.loads(matcher) for matcher in matchers]
    return tree
