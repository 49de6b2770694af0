"""Use cases of the expert pool: administrators add, edit, suspend and retire experts; an expert keeps its own
availability and declared conflicts; and the outbox's messages go out through the configured sender.

Every change is an audit event, sealed in the public log (who is in the pool is nobody else's business: the log
shows the time and a commitment, supervisors the record).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from bidding.accounts import repo as accounts_repo
from bidding.audit import repo as audit_repo
from bidding.audit.model import event
from bidding.db import Connection, Database
from bidding.errors import Forbidden, InvalidInput, NotFound
from bidding.experts import draws, model, repo
from bidding.experts.model import Declarations, NewExpert, ProfileInput, StatusChange
from bidding.i18n import N_
from bidding.identity import Actor, Role
from bidding.settings import Settings
from bidding.tenders import repo as tenders_repo

logger = logging.getLogger(__name__)

#: Experts listed per page of the pool.
PAGE_SIZE = 50
#: Invitations an expert's workspace lists, newest first.
MAX_INVITATIONS = 200


def _admin(actor: Actor) -> None:
    if not actor.is_platform and not actor.has(Role.ADMIN):
        raise Forbidden(N_("Only administrators manage the expert pool."))


def _reader(actor: Actor) -> None:
    if not actor.is_platform and not actor.has(Role.ADMIN, Role.SUPERVISOR):
        raise Forbidden(N_("The pool is kept by administrators and read by supervisors."))


async def _today(connection: Connection, settings: Settings) -> dt.date:
    """Today by the database's clock, in the platform's time zone."""
    return (await tenders_repo.select_now(connection)).astimezone(ZoneInfo(settings.timezone)).date()


def _profile_details(profile: model.Profile) -> dict[str, Any]:
    return {
        "title": profile.title,
        "years": profile.years,
        "region": profile.region,
        "specialties": list(profile.specialties),
        "employer_credit_code": profile.employer_credit_code,
    }


async def create_expert(db: Database, settings: Settings, actor: Actor, new: NewExpert) -> repo.Expert:
    """Add a person who holds the expert role to the pool; raises InvalidInput, Conflict (in the pool already),
    Forbidden."""
    _admin(actor)
    profile, errors = model.check_profile(
        new.profile, draws.classification(settings), draws.regions(settings), new=True
    )
    async with db.transaction() as connection:
        user = await accounts_repo.select_user(connection, new.user_id)
        if user is None:
            errors["user_id"] = N_("There is no such person.")
        elif Role.EXPERT not in user.roles:
            errors["user_id"] = N_("Give this person the expert role first.")
        if errors:
            raise InvalidInput(errors=errors)
        expert_id = await repo.insert_expert(connection, new.user_id, profile)
        details = {"user_id": new.user_id, **_profile_details(profile)}
        await audit_repo.insert_event(
            connection, event(actor, Role.ADMIN, "expert.created", f"expert:{expert_id}", details)
        )
        created = await repo.select_expert(connection, expert_id)
    assert created is not None
    return created


async def update_expert(
    db: Database, settings: Settings, actor: Actor, expert_id: int, changes: ProfileInput
) -> repo.Expert:
    """Replace an expert's profile (the identity number kept unless given); raises InvalidInput, NotFound, Forbidden."""
    _admin(actor)
    profile, errors = model.check_profile(changes, draws.classification(settings), draws.regions(settings), new=False)
    if errors:
        raise InvalidInput(errors=errors)
    async with db.transaction() as connection:
        if await repo.select_expert(connection, expert_id, lock=True) is None:
            raise NotFound(N_("There is no such expert."))
        await repo.update_expert(connection, expert_id, profile)
        await audit_repo.insert_event(
            connection, event(actor, Role.ADMIN, "expert.updated", f"expert:{expert_id}", _profile_details(profile))
        )
        updated = await repo.select_expert(connection, expert_id)
    assert updated is not None
    return updated


async def change_status(
    db: Database, settings: Settings, actor: Actor, expert_id: int, change: StatusChange
) -> repo.Expert:
    """Suspend (with a reason, until a date or until lifted), retire, or return an expert to the pool; raises
    InvalidInput, NotFound, Forbidden."""
    _admin(actor)
    async with db.transaction() as connection:
        today = await _today(connection, settings)
        cleaned, errors = model.check_status(change, today)
        if errors:
            raise InvalidInput(errors=errors)
        if await repo.select_expert(connection, expert_id, lock=True) is None:
            raise NotFound(N_("There is no such expert."))
        await repo.update_status(connection, expert_id, cleaned)
        details = {
            "status": cleaned.status,
            "reason": cleaned.reason,
            "until": cleaned.until.isoformat() if cleaned.until else None,
        }
        action = "expert.reinstated"
        if cleaned.status is model.Status.SUSPENDED:
            action = "expert.suspended"
        elif cleaned.status is model.Status.RETIRED:
            action = "expert.retired"
        await audit_repo.insert_event(connection, event(actor, Role.ADMIN, action, f"expert:{expert_id}", details))
        updated = await repo.select_expert(connection, expert_id)
    assert updated is not None
    return updated


@dataclasses.dataclass(frozen=True, slots=True)
class PoolPage:
    experts: list[repo.Expert]
    total: int
    page: int


async def list_experts(
    db: Database,
    actor: Actor,
    *,
    text: str | None = None,
    specialty: str | None = None,
    status: str | None = None,
    page: int = 1,
) -> PoolPage:
    """A page of the pool for administrators and supervisors."""
    _reader(actor)
    async with db.connection() as connection:
        found, total = await repo.select_experts(
            connection,
            text=(text or "").strip()[:100] or None,
            specialty=specialty or None,
            status=status or None,
            limit=PAGE_SIZE,
            offset=(max(page, 1) - 1) * PAGE_SIZE,
        )
    return PoolPage(found, total, max(page, 1))


@dataclasses.dataclass(frozen=True, slots=True)
class ExpertFile:
    """An expert's profile with its declarations."""

    expert: repo.Expert
    declarations: repo.Declared


async def read_expert(db: Database, actor: Actor, expert_id: int) -> ExpertFile:
    _reader(actor)
    async with db.connection() as connection:
        expert = await repo.select_expert(connection, expert_id)
        if expert is None:
            raise NotFound(N_("There is no such expert."))
        return ExpertFile(expert, await repo.select_declarations(connection, expert_id))


async def _own_expert(connection: Connection, actor: Actor) -> repo.Expert:
    if not actor.has(Role.EXPERT) or actor.principal is None:
        raise Forbidden(N_("Only experts have a place in the pool."))
    expert = await repo.select_expert_of_user(connection, actor.principal.user_id)
    if expert is None:
        raise NotFound(N_("You are not in the expert pool yet: an administrator adds you."))
    return expert


async def my_file(db: Database, actor: Actor) -> ExpertFile:
    """The signed-in expert's own profile and declarations."""
    async with db.connection() as connection:
        expert = await _own_expert(connection, actor)
        return ExpertFile(expert, await repo.select_declarations(connection, expert.id))


async def update_declarations(db: Database, settings: Settings, actor: Actor, declarations: Declarations) -> ExpertFile:
    """Replace the signed-in expert's unavailable days and declared conflicts; raises InvalidInput, Forbidden."""
    async with db.transaction() as connection:
        expert = await _own_expert(connection, actor)
        today = await _today(connection, settings)
        (days, conflicts), errors = model.check_declarations(declarations, today)
        if errors:
            raise InvalidInput(errors=errors)
        await repo.replace_declarations(connection, expert.id, days, conflicts)
        details = {"unavailable": len(days), "conflicts": [c.credit_code for c in conflicts]}
        await audit_repo.insert_event(
            connection, event(actor, Role.EXPERT, "expert.declarations_changed", f"expert:{expert.id}", details)
        )
        return ExpertFile(
            await repo.select_expert(connection, expert.id) or expert,
            await repo.select_declarations(connection, expert.id),
        )


# --- The workspace ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Party:
    name: str
    name_en: str | None
    credit_code: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class WorkspaceInvitation:
    invitation: repo.Invitation
    evaluation_at: dt.datetime
    #: Named once the expert has accepted (before that, the project is not disclosed).
    project: repo.Project | None
    purchaser: Party | None
    agency: Party | None
    bidders: list[Party]

    @property
    def reference(self) -> str | None:
        return self.project.reference if self.project else None

    @property
    def title(self) -> str | None:
        return self.project.title if self.project else None


#: The invitations after which the expert has seen the project.
DISCLOSED = ("accepted", "declared", "recused")


async def workspace(db: Database, actor: Actor) -> tuple[repo.Expert, list[WorkspaceInvitation]]:
    """The signed-in expert's invitations, newest first: pending with the time left, accepted (with the project's
    purchaser and bidders), declined, expired or recused; four queries however many there are."""
    async with db.connection() as connection:
        expert = await _own_expert(connection, actor)
        invitations = await repo.select_expert_invitations(connection, expert.id, limit=MAX_INVITATIONS)
        times = await repo.select_evaluation_times(connection, [i.draw_id for i in invitations])
        disclosed = sorted({i.tender_id for i in invitations if i.status in DISCLOSED})
        projects = await repo.select_projects(connection, disclosed)
        parties = await repo.select_tenders_parties(connection, disclosed)

    def party(found: repo.Party) -> Party:
        return Party(found.name, found.name_en, found.credit_code)

    found: list[WorkspaceInvitation] = []
    for invitation in invitations:
        evaluation_at = times[invitation.draw_id]
        if invitation.status not in DISCLOSED:
            found.append(WorkspaceInvitation(invitation, evaluation_at, None, None, None, []))
            continue
        named = parties[invitation.tender_id]
        found.append(
            WorkspaceInvitation(
                invitation,
                evaluation_at,
                projects[invitation.tender_id],
                party(named.purchaser),
                party(named.agency),
                [party(bidder) for bidder in named.bidders],
            )
        )
    return expert, found


# --- The outbox ------------------------------------------------------------------------------------------------

#: A sender delivers one message (channel, address, kind, payload) and returns whether it went out.
Sender = Callable[[str, str, str, dict[str, Any]], Awaitable[bool]]
#: Messages sent per round of the outbox.
OUTBOX_BATCH = 100


async def log_sender(channel: str, address: str, kind: str, payload: dict[str, Any]) -> bool:
    """The default sender: writes the message to the server's log, for an operator without a gateway."""
    masked = address[:3] + "****" + address[-4:] if len(address) > 7 else "****"
    logger.info("outbox: %s to %s: %s %s", channel, masked, kind, payload)
    return True


async def send_outbox(db: Database, sender: Sender = log_sender) -> int:
    """Send what the outbox holds; returns how many went out. A message that fails is tried again next time."""
    sent = 0
    async with db.transaction() as connection:
        for message in await repo.claim_outbox(connection, limit=OUTBOX_BATCH):
            try:
                ok = await sender(message.channel, message.address, message.kind, message.payload)
            except Exception:  # a gateway's failure is the message's, never the platform's
                logger.exception("outbox: message %d could not be sent", message.id)
                ok = False
            await repo.mark_outbox(connection, message.id, sent=ok)
            sent += ok
    return sent


async def run_background(db: Database, settings: Settings, stopping: asyncio.Event, interval: float) -> None:
    """The experts' clock: time-outs of draws and invitations, then the outbox, every ``interval`` seconds."""
    while not stopping.is_set():
        try:
            await draws.sweep(db, settings)
            await send_outbox(db)
        except Exception:
            logger.exception("experts: the sweep failed; it runs again in %s s", interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), interval)
