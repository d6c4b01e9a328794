"""What the integration API keeps: its bearer tokens (as SHA-256 hashes) and the answers to
writes sent with an `Idempotency-Key`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.db import Database
from storage.models import ApiIdempotencyRow, ApiTokenRow

# A key is remembered this long; a retry later than that is a new request.
IDEMPOTENCY_KEPT = timedelta(hours=24)
# A request still unanswered after this long is taken to have died with its process (a crash,
# kill -9): a retry under its key runs it again instead of getting 409 for the rest of the day.
# A ticket it opened and the notifications it queued are named by the key
# (`adapters/api/service.py`), so the second run repeats neither.
IDEMPOTENCY_IN_PROGRESS = timedelta(minutes=2)


class TokenNameTaken(ValueError):
    """A token of that name exists (revoked ones too: names stay unique in the event logs)."""


class ApiTokens:
    """Bearer tokens of the integration API."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(
        self,
        *,
        name: str,
        token_hash: str,
        scopes: Sequence[str],
        customer_key: str | None,
        now: datetime,
    ) -> ApiTokenRow:
        """Store a new token's hash; `TokenNameTaken` when the name is in use."""
        row = ApiTokenRow(
            name=name,
            token_hash=token_hash,
            scopes=list(scopes),
            customer_key=customer_key,
            created_at=now,
        )
        try:
            async with self._db.session() as session:
                session.add(row)
        except IntegrityError:
            raise TokenNameTaken(name) from None
        return row

    async def by_hash(self, token_hash: str) -> ApiTokenRow | None:
        """The token with this hash that is not revoked, if any."""
        async with self._db.session() as session:
            query = select(ApiTokenRow).where(
                col(ApiTokenRow.token_hash) == token_hash, col(ApiTokenRow.revoked_at).is_(None)
            )
            return (await session.scalars(query)).one_or_none()

    async def all(self) -> Sequence[ApiTokenRow]:
        """Every token, revoked ones too, in the order they were created."""
        async with self._db.session() as session:
            return (await session.scalars(select(ApiTokenRow).order_by(col(ApiTokenRow.id)))).all()

    async def revoke(self, *, name: str, now: datetime) -> bool:
        """Revoke the token of this name; False when there is no such live token."""
        async with self._db.session() as session:
            result = await session.execute(
                update(ApiTokenRow)
                .where(col(ApiTokenRow.name) == name, col(ApiTokenRow.revoked_at).is_(None))
                .values(revoked_at=now)
            )
        return bool(getattr(result, "rowcount", 0))


@dataclass(frozen=True, slots=True)
class Remembered:
    """What an earlier request under the same key left: its digest and, once it was answered,
    the answer (`status` None: still being worked on)."""

    request_digest: str
    status: int | None
    response: dict[str, Any]


class IdempotencyKeys:
    """The answers to writes sent with an `Idempotency-Key`, per token, kept for a day."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def begin(
        self, *, token_name: str, key: str, request_digest: str, now: datetime
    ) -> Remembered | None:
        """Claim the key for this request: None when it is new (go ahead), else what the
        earlier request under it left."""
        async with self._db.session() as session:
            await session.execute(
                delete(ApiIdempotencyRow).where(
                    col(ApiIdempotencyRow.created_at) < now - IDEMPOTENCY_KEPT
                )
            )
        statement = (
            self._db.insert(ApiIdempotencyRow)
            .values(
                token_name=token_name,
                key=key,
                request_digest=request_digest,
                response={},
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["token_name", "key"])
        )
        async with self._db.session() as session:
            result = await session.execute(statement)
        if getattr(result, "rowcount", 0) == 1:
            return None
        async with self._db.session() as session:
            row = (
                await session.scalars(
                    select(ApiIdempotencyRow).where(
                        col(ApiIdempotencyRow.token_name) == token_name,
                        col(ApiIdempotencyRow.key) == key,
                    )
                )
            ).one_or_none()
        if row is None:  # pruned between the two statements: a day-old key, try once more
            return await self.begin(
                token_name=token_name, key=key, request_digest=request_digest, now=now
            )
        if (
            row.status is None
            and row.request_digest == request_digest
            and await self._take_over(token_name, key, now)
        ):
            return None
        return Remembered(row.request_digest, row.status, row.response)

    async def _take_over(self, token_name: str, key: str, now: datetime) -> bool:
        """Claim a key whose request has been unanswered too long; one retry wins."""
        async with self._db.session() as session:
            result = await session.execute(
                update(ApiIdempotencyRow)
                .where(
                    col(ApiIdempotencyRow.token_name) == token_name,
                    col(ApiIdempotencyRow.key) == key,
                    col(ApiIdempotencyRow.status).is_(None),
                    col(ApiIdempotencyRow.created_at) < now - IDEMPOTENCY_IN_PROGRESS,
                )
                .values(created_at=now)
            )
        return getattr(result, "rowcount", 0) == 1

    async def finish(
        self, *, token_name: str, key: str, status: int, response: dict[str, Any]
    ) -> None:
        """Remember the answer given under the key."""
        async with self._db.session() as session:
            await session.execute(
                update(ApiIdempotencyRow)
                .where(
                    col(ApiIdempotencyRow.token_name) == token_name,
                    col(ApiIdempotencyRow.key) == key,
                )
                .values(status=status, response=response)
            )

    async def forget(self, *, token_name: str, key: str) -> None:
        """Let the key go (the request failed without an answer worth repeating)."""
        async with self._db.session() as session:
            await session.execute(
                delete(ApiIdempotencyRow).where(
                    col(ApiIdempotencyRow.token_name) == token_name,
                    col(ApiIdempotencyRow.key) == key,
                    col(ApiIdempotencyRow.status).is_(None),
                )
            )
