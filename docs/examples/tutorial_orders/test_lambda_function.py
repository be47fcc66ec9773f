from decimal import Decimal

import lambda_function
import pytest

from ddbstream.testing import insert, modify, run

ORDER = {"orderId": "o-1", "email": "ada@example.com", "status": "NEW", "total": Decimal("42.5")}


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Replace send_email with a fake that records the mails."""
    mails: list[tuple[str, str]] = []
    monkeypatch.setattr(
        lambda_function, "send_email", lambda to, subject: mails.append((to, subject))
    )
    return mails


def test_new_order_is_confirmed(sent: list[tuple[str, str]]) -> None:
    result = run(lambda_function.app, insert(ORDER, key_names="orderId"))

    assert result.ran == ["confirm"]
    assert sent == [("ada@example.com", "Order o-1 received: 42.5 EUR")]


def test_only_shipping_sends_a_mail(sent: list[tuple[str, str]]) -> None:
    packed = {**ORDER, "status": "PACKED"}
    shipped = {**ORDER, "status": "SHIPPED"}

    result = run(
        lambda_function.app,
        modify(ORDER, packed, key_names="orderId"),
        modify(packed, shipped, key_names="orderId"),
    )

    assert result.ran == ["shipped"]
    assert sent == [("ada@example.com", "Order o-1 is on its way")]


def test_a_failing_mail_is_reported_for_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(to: str, subject: str) -> None:
        raise ConnectionError("mail service down")

    monkeypatch.setattr(lambda_function, "send_email", broken)

    result = run(lambda_function.app, insert(ORDER, key_names="orderId"))

    assert result.response == {
        "batchItemFailures": [{"itemIdentifier": result.records[0].sequence_number}]
    }
