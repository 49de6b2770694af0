"""The public log's use cases: its checkpoint and tiles for anyone, and an event's private record and receipt
for those entitled to them."""

from __future__ import annotations

import time
from typing import Any

from bidding.bulletin import PollingBulletin, Wakeups
from bidding.db import Connection, Database
from bidding.errors import InvalidTransition, NotFound
from bidding.i18n import N_
from bidding.identity import Actor, Role
from bidding.log import repo, tree
from bidding.log.model import StoredEvent, private_record
from bidding.settings import Settings
from crypto import tiles
from crypto.merkle import HASH_SIZE

#: The longest a caller may ask to wait for an event's receipt, in seconds.
MAX_RECEIPT_WAIT = 10.0
#: How often a waiting caller looks again when no bulletin wakes it at each checkpoint (a test's single connection).
RECEIPT_POLL = 0.05
#: What a waiter without the application's bulletin uses (a command, a test): it looks again every RECEIPT_POLL.
POLLING = PollingBulletin(RECEIPT_POLL)


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
    """Supervisors see every event's private record and receipt; a person those of what they did, and a bidder
    those of what its organisation did as a bidder (a colleague's bid receipt)."""
    principal = actor.principal
    if principal is None:
        return actor.is_platform
    return (
        principal.has(Role.SUPERVISOR)
        or event.actor_user_id == principal.user_id
        or (
            event.actor_role == Role.BIDDER
            and principal.has(Role.BIDDER)
            and principal.organisation_id is not None
            and event.organisation_id == principal.organisation_id
        )
    )


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


async def receipt(
    db: Database, settings: Settings, actor: Actor, event_id: int, *, wait: float = 0, bulletin: Wakeups = POLLING
) -> bytes:
    """The tlog-proof receipt of an event in the published checkpoint, waiting up to ``wait`` seconds for it.

    Raises NotFound, or InvalidTransition (with ``Retry-After``) when the event is not yet in a published
    checkpoint by then: sequencing takes well under a second; witnesses may take longer.
    """
    deadline = time.monotonic() + min(max(wait, 0), MAX_RECEIPT_WAIT)
    while True:
        # Taken before looking, so that a checkpoint published meanwhile still wakes the wait below.
        woken = bulletin.event(repo.CHECKPOINT_CHANNEL, "log")
        async with db.connection() as connection:
            event = await _visible_event(connection, actor, event_id)
            if event.log_index is not None:
                checkpoint = await repo.select_latest_checkpoint(connection, quorum=settings.quorum)
                if checkpoint is not None and checkpoint.size > event.log_index:
                    return await tree.receipt(connection, event, checkpoint)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise InvalidTransition(
                N_("The event is not in a published checkpoint yet. Ask again in a moment."),
                headers={"Retry-After": "1"},
            )
        await bulletin.wait(woken, remaining)
