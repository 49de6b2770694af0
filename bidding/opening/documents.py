"""Opened documents: what an opened bid holds, and one of its documents, decrypted again for those who may read it."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from bidding.bids import repo as bids_repo
from bidding.bids.model import Bid, BidStatus
from bidding.blobs import BlobStore
from bidding.db import Database
from bidding.errors import InvalidTransition, NotFound
from bidding.i18n import N_
from bidding.identity import Actor, Role
from bidding.keys import repo as keys_repo
from bidding.opening import reading
from crypto import age, envelope
from crypto.note import parse_verifier_key
from crypto.statement import parse_unverified_statement


@dataclasses.dataclass(frozen=True, slots=True)
class OpenedDocument:
    name: str
    size: int
    sha256: bytes


async def _opened_bid(db: Database, actor: Actor, bid_id: int) -> tuple[Bid, str, age.HybridIdentity]:
    """An opened bid, its verifier key and the rebuilt opening key, for those who may read opened bids.

    Supervisors may, once a bid is opened; the evaluation committee will, once drawn. Nobody reads a bid before
    its opening: the key does not exist on the platform until k custodians have handed in their shares.
    """
    if not actor.has(Role.SUPERVISOR):
        raise NotFound(N_("There is no such bid, or it is not yours to read."))
    async with db.connection() as connection:
        bid = await bids_repo.select_bid(connection, bid_id)
        if bid is None or bid.status is not BidStatus.OPENED:
            raise NotFound(N_("There is no such bid, or it is not yours to read."))
        identity = await reading.opening_identity(connection, bid.tender_id)
        key = await keys_repo.select_key(connection, bid.key_id)
    if identity is None or key is None:
        raise InvalidTransition(N_("This bid was opened with its bidder's file key; it cannot be read again here."))
    return bid, key.verifier_key, identity


async def opened_documents(db: Database, blobs: BlobStore, actor: Actor, bid_id: int) -> list[OpenedDocument]:
    """The documents an opened bid's manifest lists (decrypting the envelope again, on a worker thread)."""
    bid, verifier_key, identity = await _opened_bid(db, actor, bid_id)
    manifest = await asyncio.to_thread(reading.open_bid, blobs, bid, verifier_key, [identity], None)
    return [OpenedDocument(d.name, d.size, d.sha256) for d in manifest.documents]


async def extract_document(db: Database, blobs: BlobStore, actor: Actor, bid_id: int, name: str, target: Any) -> int:
    """Decrypt an opened bid and copy one of its documents into ``target`` (a binary file); returns its size.

    The envelope is checked whole again (signature, every hash) before a byte is copied. Raises NotFound for a
    name the manifest does not list.
    """
    bid, verifier_key, identity = await _opened_bid(db, actor, bid_id)

    def extract() -> int:
        statement = parse_unverified_statement(bid.statement)
        with (
            blobs.open(bid.envelope_sha256.hex()) as source,
            envelope.open_envelope(source, statement, parse_verifier_key(verifier_key), [identity]) as opened,
        ):
            if name not in {d.name for d in opened.manifest.documents}:
                raise KeyError(name)
            copied = 0
            with opened.open_document(name) as document:
                while chunk := document.read(envelope.COPY_SIZE):
                    target.write(chunk)
                    copied += len(chunk)
            return copied

    try:
        return await asyncio.to_thread(extract)
    except KeyError:
        raise NotFound(N_("This bid has no document of that name.")) from None
