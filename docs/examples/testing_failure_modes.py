import pytest

from ddbstream import App, Record
from ddbstream.testing import insert, run


def save(record: Record) -> None:
    raise ConnectionError("database unavailable")


def test_by_default_the_handler_raises() -> None:
    app = App()
    app.on_insert(save)

    result = run(app, insert({"pk": "a"}), insert({"pk": "b"}))

    assert isinstance(result.error, ConnectionError)
    assert result.failures == [{"itemIdentifier": result.records[0].sequence_number}]
    with pytest.raises(ConnectionError):  # as app.handler raises, for Lambda to retry the batch
        result.response  # noqa: B018 - reading it raises


def test_with_reporting_the_handler_names_the_failed_record() -> None:
    app = App(report_batch_item_failures=True)
    app.on_insert(save)
    first = insert({"pk": "a"})

    result = run(app, first, insert({"pk": "b"}))

    assert result.response == {
        "batchItemFailures": [{"itemIdentifier": first["dynamodb"]["SequenceNumber"]}]
    }
    assert result.processed == 0  # Lambda retries from the first record
