"""The record ledger: a route's side effects once per record, kept in a DynamoDB table.

Lambda delivers stream records at least once. A :class:`Ledger` remembers, per route and
record (the route's stable name and the record's ``eventID``), that the route has run, so a
redelivered record skips the routes that already ran for it. One entry per route and record:

- before the handler, a conditional put of an ``IN_PROGRESS`` entry that expires a little
  after the invocation's remaining time. An unexpired ``COMPLETED`` entry: the handler is
  skipped and the record counts as a duplicate. An unexpired ``IN_PROGRESS`` entry (another
  invocation is running it): the record fails with
  :class:`~ddbstream.errors.RecordInProgressError` and Lambda retries it later. An expired
  entry of either kind is taken over;
- the handler returns: the entry becomes ``COMPLETED``, expiring after ``expires_after``
  (should DynamoDB refuse that write, the error is logged and the record is not failed:
  its retry would run the handler again);
- the handler raises: the entry is deleted, so that the retry runs the handler again.

With ``idempotent="transaction"`` the ledger only reads before the handler; the handler puts
:meth:`Ledger.transact_item` into its own ``TransactWriteItems``, so the effect and the
``COMPLETED`` entry commit together or not at all.

boto3 is imported when a ledger first talks to DynamoDB (the ``aws`` extra), never by
``import ddbstream``.
"""

from __future__ import annotations

import os
import time

from .errors import LedgerError, RecordInProgressError, SetupError, describe_record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import timedelta
    from typing import Any

    from ._record import Record

    Call = Callable[[Record[Any]], object]

__all__ = ["COMPLETED", "IN_PROGRESS", "Ledger"]

IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"

# An IN_PROGRESS entry outlives its invocation by this much: Lambda stops the invocation when
# its time is up, and clocks of different hosts may differ a little.
_LEASE_MARGIN_S = 10
# Without a Lambda context (tests, scripts): Lambda's longest timeout.
_DEFAULT_LEASE_S = 900
_TAKE_OVER = "attribute_not_exists(#id) OR #expires < :now"
_THROTTLED = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
}


class Ledger:
    """Which route has run for which record, in a DynamoDB table.

    The table has the partition key ``id`` (a string) and Time to Live on the ``expires``
    attribute; :meth:`create_table` makes one for local development, and the deployment
    recipes show it in SAM, CDK and Terraform. Give the ledger to the app and mark routes
    idempotent: ``App(ledger=Ledger("orders-ledger"))`` and
    ``@app.on_insert(idempotent=True)`` (or ``App(..., idempotent=True)`` for every route).

    Args:
        table_name: the ledger table.
        client: a boto3 DynamoDB client (``boto3.client("dynamodb")``); by default one is made
            when the ledger is first used.
        expires_after: how long a ``COMPLETED`` entry is kept (seconds or a
            :class:`~datetime.timedelta`); a record redelivered later than that runs again.
            Default 24 hours, the retention of a DynamoDB stream.
        in_progress_expires_after: how long an ``IN_PROGRESS`` entry is kept when the
            invocation has no Lambda context to tell its remaining time (seconds or a
            timedelta); default 900, Lambda's longest timeout.
        clock: the time in seconds since the epoch; ``time.time`` by default (tests inject
            their own).

    Raises:
        SetupError: an option is invalid.
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: Any = None,
        expires_after: float | timedelta = 24 * 3600,
        in_progress_expires_after: float | timedelta = _DEFAULT_LEASE_S,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if not isinstance(table_name, str) or not table_name:
            raise SetupError(f"Ledger takes the name of a DynamoDB table, got {table_name!r}.")
        self.table_name = table_name
        self.expires_after = _seconds(expires_after, "expires_after")
        self.in_progress_expires_after = _seconds(
            in_progress_expires_after, "in_progress_expires_after"
        )
        self._client = client
        self._clock = clock if clock is not None else time.time
        self._transactions: dict[int, str] = {}  # id(record) -> key, while a route runs

    @property
    def client(self) -> Any:
        """The boto3 DynamoDB client the ledger uses (made on first use)."""
        if self._client is None:
            import boto3  # the aws extra; only when a ledger is used

            self._client = boto3.client("dynamodb")
        return self._client

    # --- the entries ------------------------------------------------------------------------

    def key(self, route: str, record: Record[Any]) -> str:
        """The ledger key of *record* for the route named *route*: ``route#eventID``.

        Raises:
            LedgerError: the record has no ``eventID``.
        """
        event_id = record.event_id
        if not isinstance(event_id, str) or not event_id:
            raise LedgerError(
                f"Record has no eventID, so ledger table {self.table_name!r} cannot tell a "
                f"redelivery of it apart for route {route!r}; idempotent routes need records "
                "as Lambda delivers them.",
                table_name=self.table_name,
                route=route,
                sequence_number=record.sequence_number,
            )
        return f"{route}#{event_id}"

    def begin(self, route: str, record: Record[Any], remaining_ms: int | None = None) -> str | None:
        """Claim *record* for *route*; None when the route already completed it (a duplicate).

        Args:
            route: the route's stable name.
            record: the record.
            remaining_ms: the invocation's remaining time; the claim expires a little after.

        Returns:
            The claim's owner token, for :meth:`complete` and :meth:`abandon`; None for a
            duplicate.

        Raises:
            RecordInProgressError: another invocation holds an unexpired claim.
            LedgerError: DynamoDB refused the write.
        """
        key = self.key(route, record)
        now = self._clock()
        lease = (
            remaining_ms / 1000 + _LEASE_MARGIN_S
            if remaining_ms is not None
            else self.in_progress_expires_after
        )
        owner = os.urandom(8).hex()
        request = {
            "TableName": self.table_name,
            "Item": {
                "id": {"S": key},
                "status": {"S": IN_PROGRESS},
                "expires": {"N": str(int(now + lease) + 1)},
                "owner": {"S": owner},
            },
            "ConditionExpression": _TAKE_OVER,
            "ExpressionAttributeNames": {"#id": "id", "#expires": "expires"},
            "ExpressionAttributeValues": {":now": {"N": str(int(now))}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        try:
            self.client.put_item(**request)
        except Exception as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise self._error(error, "PutItem", route, record) from error
            entry = getattr(error, "response", {}).get("Item") or self._read(key, route, record)
            if entry is None:  # gone between the put and the read: expired and deleted
                return self.begin(route, record, remaining_ms)
            if entry.get("status", {}).get("S") == COMPLETED:
                return None
            until = entry.get("expires", {}).get("N", "?")
            raise RecordInProgressError(
                f"Route {route!r} is already running this record in another invocation "
                f"(ledger table {self.table_name!r}, entry {key!r} in progress until {until} "
                "seconds since the epoch). The record fails and Lambda retries it; the entry "
                "is taken over once it expires.",
                table_name=self.table_name,
                route=route,
                event_id=record.event_id,
                sequence_number=record.sequence_number,
            ) from None
        return owner

    def complete(self, route: str, record: Record[Any]) -> None:
        """Mark *record* done for *route*: ``COMPLETED``, kept for ``expires_after``.

        Raises:
            LedgerError: DynamoDB refused the write.
        """
        key = self.key(route, record)
        try:
            self.client.put_item(TableName=self.table_name, Item=self._completed(key))
        except Exception as error:
            raise self._error(error, "PutItem", route, record) from error

    def abandon(self, route: str, record: Record[Any], owner: str) -> None:
        """Delete the claim *owner* holds, so that the record's retry runs *route* again.

        A claim another invocation has taken over since is left alone.

        Raises:
            LedgerError: DynamoDB refused the delete.
        """
        key = self.key(route, record)
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key={"id": {"S": key}},
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except Exception as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise self._error(error, "DeleteItem", route, record) from error

    def is_completed(self, route: str, record: Record[Any]) -> bool:
        """Whether *route* has completed *record* (an unexpired ``COMPLETED`` entry).

        Raises:
            LedgerError: DynamoDB refused the read.
        """
        entry = self._read(self.key(route, record), route, record)
        return (
            entry is not None
            and entry.get("status", {}).get("S") == COMPLETED
            and int(entry.get("expires", {}).get("N", "0")) >= int(self._clock())
        )

    def transact_item(self, record: Record[Any]) -> dict[str, Any]:
        """The ``Put`` that marks *record* done, for the handler's own ``TransactWriteItems``.

        Call it from a route registered with ``idempotent="transaction"``, and put it into
        the same ``TransactWriteItems`` call as the handler's writes, so that the effect and
        the mark commit together. Its condition fails (and with it the whole transaction)
        when another invocation has completed the record first. The item is in the form of
        the low-level client (``boto3.client("dynamodb").transact_write_items``).

        Raises:
            SetupError: no ``idempotent="transaction"`` route is running *record*.
        """
        key = self._transactions.get(id(record))
        if key is None:
            raise SetupError(
                f"transact_item() was called for {record!r} outside a route registered with "
                "idempotent='transaction'; register the route that calls it with "
                "idempotent='transaction'."
            )
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": self._completed(key),
                "ConditionExpression": _TAKE_OVER,
                "ExpressionAttributeNames": {"#id": "id", "#expires": "expires"},
                "ExpressionAttributeValues": {":now": {"N": str(int(self._clock()))}},
            }
        }

    def create_table(self, *, wait: bool = True) -> None:
        """Create the ledger table (on-demand capacity, TTL on ``expires``), for local use.

        In AWS, let the deployment create it (see the deployment recipes). A table that
        exists already is left as it is.
        """
        client = self.client
        try:
            client.create_table(
                TableName=self.table_name,
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        except Exception as error:
            if _code(error) != "ResourceInUseException":
                raise
            return
        if wait:
            client.get_waiter("table_exists").wait(TableName=self.table_name)
        client.update_time_to_live(
            TableName=self.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"},
        )

    # --- wrapping a route -------------------------------------------------------------------

    def wrap(
        self,
        call: Call,
        *,
        route: str,
        is_async: bool,
        transaction: bool,
        remaining_ms: Callable[[], int | None],
        on_duplicate: Callable[[Record[Any], str], None],
    ) -> Call:
        """*call* (a route's handler, called with the record) guarded by the ledger.

        The app calls this once per idempotent route when it starts. For ``async def``
        handlers the DynamoDB calls run in a worker thread (``asyncio.to_thread``), so that
        other records go on while the ledger waits on the network.
        """
        if is_async:
            return self._wrap_async(call, route, transaction, remaining_ms, on_duplicate)
        ledger = self
        running = self._transactions

        if transaction:

            def run_transaction(record: Record[Any]) -> object:
                if ledger.is_completed(route, record):
                    on_duplicate(record, route)
                    return None
                running[id(record)] = ledger.key(route, record)
                try:
                    return call(record)
                finally:
                    del running[id(record)]

            return run_transaction

        def run(record: Record[Any]) -> object:
            owner = ledger.begin(route, record, remaining_ms())
            if owner is None:
                on_duplicate(record, route)
                return None
            try:
                result = call(record)
            except Exception as error:
                ledger._abandon_after(error, route, record, owner)
                raise
            if result is not None and hasattr(result, "__await__"):
                # An async handler behind a plain function: finish once it has run.
                return ledger._finish(result, route, record, owner)
            ledger._complete_or_log(route, record)
            return result

        return run

    def _wrap_async(
        self,
        call: Call,
        route: str,
        transaction: bool,
        remaining_ms: Callable[[], int | None],
        on_duplicate: Callable[[Record[Any], str], None],
    ) -> Call:
        import asyncio  # async apps have it loaded already

        ledger = self
        running = self._transactions

        if transaction:

            async def run_transaction(record: Record[Any]) -> object:
                if await asyncio.to_thread(ledger.is_completed, route, record):
                    on_duplicate(record, route)
                    return None
                running[id(record)] = ledger.key(route, record)
                try:
                    return await call(record)  # type: ignore[misc]  # an async def's coroutine
                finally:
                    del running[id(record)]

            return run_transaction

        async def run(record: Record[Any]) -> object:
            owner = await asyncio.to_thread(ledger.begin, route, record, remaining_ms())
            if owner is None:
                on_duplicate(record, route)
                return None
            return await ledger._finish(call(record), route, record, owner)

        return run

    async def _finish(self, awaitable: Any, route: str, record: Record[Any], owner: str) -> object:
        import asyncio

        try:
            result = await awaitable
        except Exception as error:
            await asyncio.to_thread(self._abandon_after, error, route, record, owner)
            raise
        await asyncio.to_thread(self._complete_or_log, route, record)
        return result

    def _complete_or_log(self, route: str, record: Record[Any]) -> None:
        """Mark the record done; when DynamoDB refuses, say so in the log and go on.

        The handler's effect has happened: failing the record now would make Lambda's retry
        run it again (once the claim expires), the very repeat the ledger is there to avoid.
        """
        try:
            self.complete(route, record)
        except LedgerError as problem:
            import logging  # only on this error path

            logging.getLogger("ddbstream").error(
                "Route %r ran, but could not be marked COMPLETED: %s A redelivery of the "
                "record after the claim expires runs the route again.",
                route,
                problem,
            )

    def _abandon_after(self, error: Exception, route: str, record: Record[Any], owner: str) -> None:
        """Delete the claim after the handler raised *error*; a failed delete becomes a note."""
        try:
            self.abandon(route, record, owner)
        except LedgerError as problem:
            from ._batch import add_note

            add_note(
                error,
                f"ddbstream: and the ledger entry could not be deleted ({problem}); retries of "
                "the record fail as in progress until it expires",
            )

    # --- DynamoDB ---------------------------------------------------------------------------

    def _completed(self, key: str) -> dict[str, Any]:
        expires = int(self._clock() + self.expires_after) + 1
        return {"id": {"S": key}, "status": {"S": COMPLETED}, "expires": {"N": str(expires)}}

    def _read(self, key: str, route: str, record: Record[Any]) -> dict[str, Any] | None:
        try:
            response = self.client.get_item(
                TableName=self.table_name, Key={"id": {"S": key}}, ConsistentRead=True
            )
        except Exception as error:
            raise self._error(error, "GetItem", route, record) from error
        item: dict[str, Any] | None = response.get("Item")
        return item

    def _error(self, error: Exception, action: str, route: str, record: Record[Any]) -> LedgerError:
        code = _code(error)
        table = self.table_name
        if code == "ResourceNotFoundException":
            advice = (
                f"ledger table {table!r} does not exist in this account and region; create it "
                "(partition key 'id' of type string, Time to Live on 'expires'), as the "
                "deployment recipes do, or with Ledger.create_table() for local development"
            )
        elif code in ("AccessDeniedException", "UnrecognizedClientException"):
            advice = (
                f"the function may not call {action} on ledger table {table!r}; grant its role "
                "dynamodb:PutItem, dynamodb:GetItem and dynamodb:DeleteItem on the table"
            )
        elif code in _THROTTLED:
            advice = (
                f"DynamoDB throttled {action} on ledger table {table!r} after boto3's retries; "
                "the record is retried. Use on-demand capacity for the table, or raise its "
                "write capacity"
            )
        else:
            advice = f"{action} on ledger table {table!r} failed: {error}"
        named = describe_record(record.event_id, record.sequence_number)
        return LedgerError(
            f"{advice[0].upper()}{advice[1:]} (route {route!r}, {named}).",
            table_name=table,
            route=route,
            event_id=record.event_id,
            sequence_number=record.sequence_number,
        )

    def __repr__(self) -> str:
        return f"Ledger({self.table_name!r}, expires_after={self.expires_after!r})"


def _code(error: BaseException) -> str | None:
    """The AWS error code of a botocore ``ClientError``, without importing botocore."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return code if isinstance(code, str) else None
    return None


def _seconds(value: object, option: str) -> float:
    seconds = value.total_seconds() if hasattr(value, "total_seconds") else value
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
        raise SetupError(f"{option} must be a positive number of seconds or a timedelta: {value!r}")
    return float(seconds)
