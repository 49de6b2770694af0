"""Use cases of the opening key's custody, before the opening.

The agency runs the ceremony in its browser or with ``bidding custody ceremony`` and hands in the resulting file:
the opening recipient, k, and one share per custodian sealed to that custodian's registered key. The platform
checks its form against the tender (the custodians, k, the reference), stores it, logs every commitment, and
publishes the recipient in the notice; a tender is published only once it has one. The platform never sees the
opening key. A custodian fetches its sealed share at any time to check it opens with its key, on its own machine,
and may then say that it did: the platform records when, so that the agency (and the custodian's dashboard) know
whose shares are known to open before the opening needs them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

from bidding.audit import repo as audit_repo
from bidding.audit.model import event
from bidding.db import Database
from bidding.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from bidding.i18n import N_
from bidding.identity import Actor, Role
from bidding.keys import repo as keys_repo
from bidding.keys.model import Purpose
from bidding.opening import access, repo
from bidding.tenders import policy
from bidding.tenders import repo as tenders_repo
from bidding.tenders.model import Status, effective_status
from crypto import custody


@dataclasses.dataclass(frozen=True, slots=True)
class CustodianKey:
    user_id: int
    login: str
    display_name: str
    #: The custodian's current recipient, or ``None`` if the custodian has registered no key yet.
    recipient: str | None
    display_name_en: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class CustodyView:
    tender_id: int
    reference: str
    threshold: int
    custodians: list[CustodianKey]
    custody: repo.Custody | None
    shares: list[repo.Share]


async def custody_view(db: Database, actor: Actor, tender_id: int) -> CustodyView:
    """What the ceremony needs (the custodians' recipients, k) and, once run, what it published.

    For the tender's staff, its custodians and supervisors.
    """
    async with db.connection() as connection:
        tender = await access.tender(connection, tender_id)
        custodians = await tenders_repo.select_custodians(connection, tender_id)
        if not policy.keeps_custody(actor, tender):
            raise NotFound(N_("There is no such tender."))
        keys = await keys_repo.select_current_keys(connection, Purpose.CUSTODIAN, tender.custodian_ids)
        stored = await repo.select_custody(connection, tender_id)
        shares = await repo.select_shares(connection, tender_id)
    return CustodyView(
        tender_id,
        tender.reference,
        tender.custody_threshold,
        [
            CustodianKey(
                c.id, c.login, c.display_name, keys[c.id].recipient if c.id in keys else None, c.display_name_en
            )
            for c in custodians
        ],
        stored,
        shares,
    )


async def record_ceremony(db: Database, actor: Actor, tender_id: int, data: bytes) -> repo.Custody:
    """Store a ceremony's outcome for a draft (replacing an earlier one); raises InvalidInput saying what differs.

    The shares are sealed to each custodian's current key: which key, the platform records, so a custodian who
    rotates keys later still knows which key file opens its share.
    """
    try:
        ceremony = custody.parse_ceremony(data)
    except custody.CustodyError as error:
        raise InvalidInput(
            errors={"ceremony": N_("The ceremony file is not valid: %(reason)s", reason=str(error))}
        ) from None
    async with db.transaction() as connection:
        tender = await access.lock_tender(connection, tender_id)
        if not policy.runs(actor, tender):
            raise Forbidden(N_("Only the agency running this tender can record its custody ceremony."))
        # On a draft the ceremony may be run again (the custodians or k changed, say); publication fixes it.
        if tender.status is not Status.DRAFT:
            raise InvalidTransition(N_("The custody ceremony is run before publication."))
        custodians = await tenders_repo.select_custodians(connection, tender_id)
        keys = await keys_repo.select_current_keys(connection, Purpose.CUSTODIAN, tender.custodian_ids)
        problem = None
        if ceremony.tender != tender.reference:
            problem = N_(
                "The ceremony is for tender %(other)s, not %(this)s.", other=ceremony.tender, this=tender.reference
            )
        elif ceremony.threshold != tender.custody_threshold:
            problem = N_(
                "The ceremony needs %(k)d shares to open; the tender says %(t)d.",
                k=ceremony.threshold,
                t=tender.custody_threshold,
            )
        elif [s.custodian for s in ceremony.shares] != [c.login for c in custodians]:
            problem = N_("The ceremony's custodians are not the tender's, in its order: run it again.")
        elif any(c.id not in keys for c in custodians):
            problem = N_("Every custodian must register a key before the ceremony.")
        if problem is not None:
            raise InvalidInput(errors={"ceremony": problem})
        await repo.delete_custody(connection, tender_id)
        await repo.insert_custody(
            connection,
            tender_id,
            ceremony.recipient.encode(),
            ceremony.threshold,
            hashlib.sha256(data).digest(),
            policy.user_id(actor),
        )
        for share, custodian in zip(ceremony.shares, custodians, strict=True):
            await repo.insert_share(
                connection,
                tender_id,
                custodian.id,
                share.member,
                keys[custodian.id].id,
                share.sealed,
                share.sealed_digest,
                share.share_digest,
            )
        details = {
            "recipient": ceremony.recipient.encode(),
            "threshold": ceremony.threshold,
            "ceremony_sha256": hashlib.sha256(data).hexdigest(),
            "shares": [
                {
                    "member": share.member,
                    "custodian": custodian.id,
                    "key": keys[custodian.id].verifier_key,
                    "sealed_sha256": share.sealed_digest.hex(),
                    "share_sha256": share.share_digest.hex(),
                }
                for share, custodian in zip(ceremony.shares, custodians, strict=True)
            ],
        }
        await audit_repo.insert_event(
            connection, event(actor, Role.AGENCY_STAFF, "tender.custody_recorded", f"tender:{tender_id}", details)
        )
        stored = await repo.select_custody(connection, tender_id)
    assert stored is not None
    return stored


async def own_sealed_share(db: Database, actor: Actor, tender_id: int) -> repo.Share:
    """A custodian's own sealed share of a tender, to check at any time that its key file opens it."""
    async with db.connection() as connection:
        for share in await repo.select_shares(connection, tender_id):
            if actor.principal is not None and share.user_id == actor.principal.user_id:
                return share
    raise NotFound(N_("You hold no share of this tender."))


async def record_share_check(db: Database, actor: Actor, tender_id: int) -> dt.datetime:
    """A custodian says its sealed share opened with its key file and matched its published digest; returns when.

    The check itself runs on the custodian's machine (the share must not reach the platform before the opening), so
    this records the custodian's word, with an audit event. Raises NotFound unless the custodian holds a share of
    the tender, InvalidTransition once it was handed in (nothing is left to check).
    """
    principal = actor.principal
    if principal is None or not principal.has(Role.CUSTODIAN):
        raise Forbidden(N_("Only key custodians check their shares."))
    async with db.transaction() as connection:
        await access.lock_tender(connection, tender_id)
        share = next(
            (s for s in await repo.select_shares(connection, tender_id) if s.user_id == principal.user_id), None
        )
        if share is None:
            raise NotFound(N_("You hold no share of this tender."))
        if share.handed_in_at is not None:
            raise InvalidTransition(N_("Your share is handed in already."))
        checked_at = await repo.set_share_checked(connection, tender_id, principal.user_id)
        assert checked_at is not None
        details = {"member": share.member, "share_sha256": share.share_sha256.hex()}
        await audit_repo.insert_event(
            connection, event(actor, Role.CUSTODIAN, "custody.share_checked", f"tender:{tender_id}", details)
        )
    return checked_at


@dataclasses.dataclass(frozen=True, slots=True)
class HeldShare:
    share: repo.HeldShare
    #: The tender's status as of now (a published tender past its deadline is closed).
    status: Status
    deadline_passed: bool


async def held_shares(db: Database, actor: Actor) -> list[HeldShare]:
    """The shares of opening keys the custodian holds, of published tenders, with their tenders' state now."""
    principal = actor.principal
    if principal is None or not principal.has(Role.CUSTODIAN):
        raise Forbidden(N_("Only key custodians hold shares."))
    async with db.connection() as connection:
        shares = await repo.select_held_shares(connection, principal.user_id)
        now = await tenders_repo.select_now(connection)
    return [
        HeldShare(share, effective_status(share.status, share.deadline, now), now >= share.deadline) for share in shares
    ]
