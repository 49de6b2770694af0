"""Reading the audit trail, and the public log: checkpoints, tiles, receipts and private records."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bidding.audit import log, repo
from bidding.audit.model import RecordedEvent, StoredEvent, private_record
from bidding.db import Connection, Database
from bidding.errors import Forbidden, InvalidTransition, NotFound
from bidding.i18n import N_
from bidding.identity import Actor, Role
from bidding.settings import Settings
from crypto import tiles
from crypto.merkle import HASH_SIZE

#: The most events one read returns.
MAX_EVENTS = 500


async def recent_events(db: Database, actor: Actor, *, limit: int) -> list[RecordedEvent]:
    """The newest events, newest first; for supervisors, who watch everything."""
    if not actor.has(Role.SUPERVISOR):
        raise Forbidden()
    async with db.connection() as connection:
        return await repo.select_recent_events(connection, limit=min(limit, MAX_EVENTS))


# --- The public log -------------------------------------------------------------------------------------------

#: The longest a caller may ask to wait for an event's receipt, in seconds.
MAX_RECEIPT_WAIT = 10.0
#: How often a waiting caller looks again.
RECEIPT_POLL = 0.05


async def published_checkpoint(db: Database, settings: Settings) -> repo.StoredCheckpoint:
    """The newest checkpoint cosigned by as many witnesses as the settings require; raises NotFound before any."""
    async with db.connection() as connection:
        checkpoint = await repo.select_latest_checkpoint(connection, quorum=settings.quorum)
    if checkpoint is None:
        raise NotFound(N_("The log has no published checkpoint yet."))
    return checkpoint


async def read_tile(db: Database, path: str) -> bytes:
    """A hash tile or entry bundle at a C2SP tlog-tiles path (``tile/0/x001/234.p/7``); raises NotFound.

    A partial tile is served from the stored tile as long as the stored one has grown to it: it is its prefix.
    """
    try:
        wanted = tiles.parse_path(path)
    except tiles.TileError:
        raise NotFound(
            N_("Tile paths are tile/<level>/<index>[.p/<width>] or tile/entries/<index>[.p/<width>] (C2SP tlog-tiles).")
        ) from None
    async with db.connection() as connection:
        if isinstance(wanted, tiles.Bundle):
            bundle = await repo.select_bundle(connection, wanted.index)
            if bundle is not None and bundle[0] >= wanted.width:
                return (
                    bundle[1]
                    if bundle[0] == wanted.width
                    else tiles.bundle_bytes(tiles.bundle_entries(bundle[1], bundle[0])[: wanted.width])
                )
        else:
            stored = await repo.select_tiles(connection, [(wanted.level, wanted.index)])
            hashes = stored.get((wanted.level, wanted.index), b"")
            if len(hashes) >= wanted.width * HASH_SIZE:
                return hashes[: wanted.width * HASH_SIZE]
    raise NotFound(N_("The log has no such tile yet."))


def _may_see(actor: Actor, event: StoredEvent) -> bool:
    """Supervisors see every event's private record and receipt; a person those of what they did."""
    principal = actor.principal
    if principal is None:
        return actor.is_platform
    return principal.has(Role.SUPERVISOR) or event.actor_user_id == principal.user_id


async def _visible_event(connection: Connection, actor: Actor, event_id: int) -> StoredEvent:
    event = await repo.select_stored_event(connection, event_id)
    # Not found, rather than forbidden, so that nobody learns which events exist.
    if event is None or not _may_see(actor, event):
        raise NotFound(N_("There is no such event, or it is not yours to see."))
    return event


async def event_record(db: Database, actor: Actor, event_id: int) -> dict[str, Any]:
    """An event's private record (who, whence, the salt): with it, its entry's commitment can be checked."""
    async with db.connection() as connection:
        return private_record(await _visible_event(connection, actor, event_id))


async def receipt(db: Database, settings: Settings, actor: Actor, event_id: int, *, wait: float = 0) -> bytes:
    """The tlog-proof receipt of an event in the published checkpoint, waiting up to ``wait`` seconds for it.

    Raises NotFound, or InvalidTransition (with ``Retry-After``) when the event is not yet in a published
    checkpoint by then: sequencing takes well under a second; witnesses may take longer.
    """
    deadline = time.monotonic() + min(max(wait, 0), MAX_RECEIPT_WAIT)
    while True:
        async with db.connection() as connection:
            event = await _visible_event(connection, actor, event_id)
            if event.log_index is not None:
                checkpoint = await repo.select_latest_checkpoint(connection, quorum=settings.quorum)
                if checkpoint is not None and checkpoint.size > event.log_index:
                    return await log.receipt(connection, event, checkpoint)
        if time.monotonic() >= deadline:
            raise InvalidTransition(
                N_("The event is not in a published checkpoint yet. Ask again in a moment."),
                headers={"Retry-After": "1"},
            )
        await asyncio.sleep(RECEIPT_POLL)
