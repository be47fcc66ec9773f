"""No silent skips: every view type x every event x every filter kind, in both failure modes.

SPEC: ``None`` means the change has no such image; an image the change has but the stream
does not carry is an error. A filter that needs such an image fails the record with
``MissingImageError``; ``where=`` falls back to the keys only when it reads key attributes
only. ``filter_criteria()`` lets every record through that a route would run or fail on.
"""

from __future__ import annotations

from typing import Any

import pytest

from ddbstream import App, Attr, Record
from ddbstream._record import IMAGES_OF_EVENT, VIEW_IMAGES
from ddbstream.errors import MissingImageError, SetupError
from ddbstream.testing import event, insert, modify, remove
from test_criteria import passes

OLD = {"pk": "order#1", "status": "NEW", "total": 5}
NEW = {"pk": "order#1", "status": "SHIPPED", "total": 5}

# Filter kinds: the filter, and the images it needs (None: it never needs one).
FILTERS: dict[str, tuple[dict[str, Any], tuple[str, ...] | None]] = {
    "where on an attribute": ({"where": Attr("total").eq(5)}, ("item",)),
    "where on the key": ({"where": Attr("pk").begins_with("order#")}, None),
    "new": ({"new": Attr("total").exists()}, ("NewImage",)),
    "old": ({"old": Attr("total").exists()}, ("OldImage",)),
    "changed": ({"changed": ["status", "total"]}, ("NewImage", "OldImage")),
    "table": ({"table": "Orders"}, None),
    "ttl": ({"ttl": False}, None),
    "none": ({}, None),
}


def raw_record(event_name: str, view: str) -> dict[str, Any]:
    """A record of *event_name* on a stream of view type *view* (status changes)."""
    options: dict[str, Any] = {"view_type": view, "key_names": "pk", "table": "Orders"}
    if event_name == "INSERT":
        return insert(NEW, **options)
    if event_name == "MODIFY":
        return modify(OLD, NEW, **options)
    return remove(OLD, **options)


def expected(event_name: str, view: str, kind: str) -> str:
    """What SPEC says: "refused" (at registration), "match" or "missing" (the record fails)."""
    filters, needs = FILTERS[kind]
    has = IMAGES_OF_EVENT[event_name]
    carried = VIEW_IMAGES[view]
    if ("new" in filters and "NewImage" not in has) or ("old" in filters and "OldImage" not in has):
        return "refused"  # new= on a REMOVE-only route, old= on an INSERT-only one
    if "ttl" in filters and event_name != "REMOVE":
        return "refused"
    if needs is None:
        return "match"
    if needs == ("item",):
        return "match" if any(image in carried for image in has) else "missing"
    wanted = [image for image in needs if image in has]
    return "match" if all(image in carried for image in wanted) else "missing"


@pytest.mark.parametrize("report", [False, True], ids=["raise", "report"])
@pytest.mark.parametrize("kind", sorted(FILTERS))
@pytest.mark.parametrize("view", sorted(VIEW_IMAGES))
@pytest.mark.parametrize("event_name", ["INSERT", "MODIFY", "REMOVE"])
def test_error_or_match(event_name: str, view: str, kind: str, report: bool) -> None:
    """The route runs, or the record fails naming the view type and the fix; never a skip."""
    app = App(report_batch_item_failures=report)
    ran: list[Record] = []
    filters = FILTERS[kind][0]
    outcome = expected(event_name, view, kind)
    if outcome == "refused":
        with pytest.raises(SetupError, match=r"can never match|ttl= applies to REMOVE"):
            app.on(event_name, **filters)(ran.append)
        return
    app.on(event_name, **filters)(ran.append)
    raw = raw_record(event_name, view)

    if outcome == "match":
        assert app.handler(event(raw), None) == {"batchItemFailures": []}
        assert [record.event_name for record in ran] == [event_name]
    elif report:
        response = app.handler(event(raw), None)
        sequence_number = raw["dynamodb"]["SequenceNumber"]
        assert response == {"batchItemFailures": [{"itemIdentifier": sequence_number}]}
        assert ran == []
    else:
        with pytest.raises(MissingImageError) as caught:
            app.handler(event(raw), None)
        assert f"view type is {view}" in str(caught.value)
        assert "set StreamViewType to NEW_AND_OLD_IMAGES" in str(caught.value)
        assert caught.value.event_id == raw["eventID"]
        assert ran == []
    # Whatever the function would run or fail on must reach it through the FilterCriteria.
    assert passes(app.filter_criteria(), raw)
    assert passes(app.filter_criteria(stream_view_type=view), raw)
