# test_orders.py (run with: pytest)
import orders
import pytest

from ddbstream.testing import insert, modify, remove, run

ORDER = {"orderId": "o-1", "email": "ana@example.com", "status": "NEW", "total": 25.5}


@pytest.fixture
def outbox(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The mails the handlers send, captured instead of sent."""
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(orders, "send_mail", lambda to, text: sent.append((to, text)))
    return sent


def test_new_order_gets_a_welcome_mail(outbox: list[tuple[str, str]]) -> None:
    result = run(orders.app, insert(ORDER, key_names="orderId"))

    assert result.ran == ["welcome"]
    assert outbox == [("ana@example.com", "Thanks for your order!")]


def test_only_shipping_sends_a_mail(outbox: list[tuple[str, str]]) -> None:
    paid = {**ORDER, "status": "PAID"}
    shipped = {**ORDER, "status": "SHIPPED"}

    result = run(
        orders.app,
        modify(ORDER, paid, key_names="orderId"),
        modify(paid, shipped, key_names="orderId"),
    )

    assert result.ran_per_record == [[], ["shipped"]]
    assert outbox == [("ana@example.com", "Order o-1 is on its way.")]


def test_expired_carts_are_told_deleted_orders_are_not(outbox: list[tuple[str, str]]) -> None:
    result = run(
        orders.app,
        remove(ORDER, ttl=True, key_names="orderId"),
        remove(ORDER, key_names="orderId"),
    )

    assert result.ran_per_record == [["expired"], []]
    assert len(outbox) == 1


def test_a_failed_mail_is_retried_from_that_record(monkeypatch: pytest.MonkeyPatch) -> None:
    def mail_service_down(to: str, text: str) -> None:
        raise ConnectionError("SES is unavailable")

    monkeypatch.setattr(orders, "send_mail", mail_service_down)
    first = insert(ORDER, key_names="orderId")
    second = insert({**ORDER, "orderId": "o-2"}, key_names="orderId")

    result = run(orders.app, first, second)

    assert isinstance(result.error, ConnectionError)
    assert result.response == {
        "batchItemFailures": [{"itemIdentifier": first["dynamodb"]["SequenceNumber"]}]
    }
    assert result.processed == 0  # the second record was not started: Lambda sends it again
