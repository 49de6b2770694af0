"""Use cases of a tender's terms: drafting, publication, amendments and cancellation.

Each use case opens its own transaction, takes the time from the database (the only clock that decides), locks
the tender's row when it changes the tender, and records its audit event in the same transaction. The open data
release of a change is written in that transaction too, so the public record never disagrees with the tender.
Notices to the bidders concerned (invited, registered) are written in it as well.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import msgspec

from bidding.accounts import repo as accounts_repo
from bidding.audit import repo as audit_repo
from bidding.audit.model import event
from bidding.db import Connection, Database
from bidding.errors import Forbidden, InvalidInput, InvalidTransition
from bidding.i18n import N_, Message
from bidding.identity import Actor, OrganisationKind, Role
from bidding.notifications import repo as notifications_repo
from bidding.opendata import service as opendata
from bidding.opening import repo as opening_repo
from bidding.settings import Settings
from bidding.tenders import model, policy, repo, search_model, validation
from bidding.tenders.model import Status, TenderInput

#: The longest summary of an amendment, and of a reason for cancelling.
MAX_SUMMARY_LENGTH = 2000


@dataclasses.dataclass(frozen=True, slots=True)
class DraftChoices:
    """Who a tender may name: purchasers, key custodians and, for invited tenders, bidders."""

    purchasers: list[accounts_repo.Organisation]
    custodians: list[accounts_repo.User]
    bidders: list[accounts_repo.Organisation]
    #: Set when the agency is itself the purchaser (a purchaser running its own tender).
    own_purchaser: int | None


def _agency(actor: Actor) -> tuple[int, OrganisationKind]:
    principal = actor.principal
    if (
        principal is None
        or not principal.has(Role.AGENCY_STAFF)
        or principal.organisation_id is None
        or principal.organisation_kind not in (OrganisationKind.AGENCY, OrganisationKind.PURCHASER)
    ):
        raise Forbidden(N_("Only staff of a tendering agency or a purchaser can draft tenders."))
    return principal.organisation_id, principal.organisation_kind


async def draft_choices(db: Database, actor: Actor) -> DraftChoices:
    organisation_id, kind = _agency(actor)
    async with db.connection() as connection:
        organisations = await accounts_repo.select_organisations(connection)
        custodians = await accounts_repo.select_users(connection, role=Role.CUSTODIAN)
    own = organisation_id if kind is OrganisationKind.PURCHASER else None
    return DraftChoices(
        purchasers=[o for o in organisations if o.kind is OrganisationKind.PURCHASER and own in (None, o.id)],
        custodians=custodians,
        bidders=[o for o in organisations if o.kind is OrganisationKind.BIDDER],
        own_purchaser=own,
    )


# --- Drafting -------------------------------------------------------------------------------------------------


async def _check_parties(connection: Connection, tender: TenderInput, own_purchaser: int | None) -> None:
    """The purchaser, custodians and invited bidders named exist and are of the right kind."""
    errors: dict[str, Message] = {}
    ids = [tender.purchaser_id, *tender.invited_ids]
    kinds = await repo.select_organisation_kinds(connection, ids)
    if own_purchaser is not None and tender.purchaser_id != own_purchaser:
        errors["purchaser_id"] = N_("A purchaser runs tenders for itself only.")
    elif kinds.get(tender.purchaser_id) != OrganisationKind.PURCHASER:
        errors["purchaser_id"] = N_("Choose a purchaser registered on the platform.")
    if any(kinds.get(i) != OrganisationKind.BIDDER for i in tender.invited_ids):
        errors["invited_ids"] = N_("Invite bidders registered on the platform.")
    holders = await repo.select_role_holders(connection, tender.custodian_ids, Role.CUSTODIAN)
    if holders != set(tender.custodian_ids):
        errors["custodian_ids"] = N_("Choose key custodians registered on the platform.")
    if errors:
        raise InvalidInput(errors=errors)


def _check_future_deadline(tender: TenderInput, now: dt.datetime) -> None:
    if tender.deadline <= now:
        raise InvalidInput(errors={"deadline": N_("The bid deadline is in the past.")})


def _lots(tender: TenderInput) -> list[model.Lot]:
    return [
        model.Lot(
            lot.number,
            lot.title,
            Decimal(lot.budget),
            Decimal(lot.bid_security),
            lot.method,
            msgspec.to_builtins(lot.criteria),
        )
        for lot in tender.lots
    ]


async def _save_terms(connection: Connection, tender_id: int, tender: TenderInput, *, parties: bool) -> None:
    """Write lots, search terms and (while a draft) custodians and invitations, after the tender's row."""
    await repo.replace_lots(connection, tender_id, _lots(tender))
    if parties:
        await repo.replace_custodians(connection, tender_id, tender.custodian_ids)
        await repo.replace_invitations(connection, tender_id, tender.invited_ids)
    terms = search_model.tender_search_terms(
        tender.reference or "", tender.region, tender.title, tender.description, (lot.title for lot in tender.lots)
    )
    await repo.set_search_terms(connection, tender_id, terms)


async def create_draft(db: Database, settings: Settings, actor: Actor, unverified: TenderInput) -> int:
    """Save a new draft; raises InvalidInput (listing every problem), Conflict (reference taken) or Forbidden."""
    agency_id, kind = _agency(actor)
    tender = validation.validate_tender(unverified, settings.rules_for(unverified.procedure))
    async with db.transaction() as connection:
        now = await repo.select_now(connection)
        _check_future_deadline(tender, now)
        await _check_parties(connection, tender, agency_id if kind is OrganisationKind.PURCHASER else None)
        if tender.reference is None:
            year = now.astimezone(ZoneInfo(settings.timezone)).year
            serial = await repo.next_reference_serial(connection)
            tender = msgspec.structs.replace(tender, reference=model.make_reference(tender.category, year, serial))
        tender_id = await repo.insert_tender(connection, tender, agency_id, policy.user_id(actor))
        await _save_terms(connection, tender_id, tender, parties=True)
        details = {"reference": tender.reference, "after": model.digest(model.snapshot(tender))}
        await audit_repo.insert_event(
            connection, event(actor, Role.AGENCY_STAFF, "tender.drafted", f"tender:{tender_id}", details)
        )
    return tender_id


async def lock_own_tender(connection: Connection, actor: Actor, tender_id: int) -> model.Tender:
    """Lock a tender the actor runs, for a change; raises NotFound or Forbidden."""
    return policy.check_runs(actor, await repo.lock_tender(connection, tender_id))


async def update_draft(db: Database, settings: Settings, actor: Actor, tender_id: int, unverified: TenderInput) -> None:
    """Replace a draft's terms; raises InvalidInput, Conflict, Forbidden, NotFound or InvalidTransition."""
    agency_id, kind = _agency(actor)
    tender = validation.validate_tender(unverified, settings.rules_for(unverified.procedure))
    async with db.transaction() as connection:
        stored = await lock_own_tender(connection, actor, tender_id)
        if stored.status is not Status.DRAFT:
            raise InvalidTransition(N_("Only a draft can be edited; a published tender is amended."))
        now = await repo.select_now(connection)
        _check_future_deadline(tender, now)
        await _check_parties(connection, tender, agency_id if kind is OrganisationKind.PURCHASER else None)
        tender = msgspec.structs.replace(tender, reference=tender.reference or stored.reference)
        before = model.digest(model.snapshot(model.tender_input(stored)))
        await repo.update_tender(connection, tender_id, tender)
        await _save_terms(connection, tender_id, tender, parties=True)
        details = {"before": before, "after": model.digest(model.snapshot(tender))}
        await audit_repo.insert_event(
            connection, event(actor, Role.AGENCY_STAFF, "tender.draft_updated", f"tender:{tender_id}", details)
        )


# --- Publication, amendments and cancellation ------------------------------------------------------------------


async def publish(db: Database, settings: Settings, actor: Actor, tender_id: int) -> None:
    """Publish a draft; raises InvalidTransition when the clock or the draft does not allow it."""
    async with db.transaction() as connection:
        tender = await lock_own_tender(connection, actor, tender_id)
        now = await repo.select_now(connection)
        rules = settings.rules_for(tender.procedure)
        model.transition(tender.status, "publish", model.Clock(now, tender.deadline), rules)
        documents_from = model.check_publication(tender.documents_from, tender.deadline, now, rules)
        documents = await repo.select_documents(connection, tender_id)
        if not documents:
            raise InvalidTransition(N_("Upload the tender documents before publishing."))
        if validation.missing_contact(tender.contact):
            raise InvalidTransition(
                N_(
                    "Give the notice's contact person, with a telephone number and an e-mail address, before "
                    "publishing: edit the draft."
                )
            )
        await _check_custody(connection, tender)
        await repo.set_published(connection, tender_id, documents_from)
        if tender.invited_ids:
            await notifications_repo.insert_notifications(
                connection, tender.invited_ids, "tender.invited", tender_id, {"reference": tender.reference}
            )
        published = await _reload(connection, tender_id)
        release_id = await opendata.record_release(connection, settings, published, "tender", now)
        details = {
            "version": 1,
            "after": model.digest(model.snapshot(model.tender_input(published))),
            "documents": sorted(d.sha256.hex() for d in documents if d.current),
            "release": release_id,
        }
        await audit_repo.insert_event(
            connection, event(actor, Role.AGENCY_STAFF, "tender.published", f"tender:{tender_id}", details)
        )


async def _check_custody(connection: Connection, tender: model.Tender) -> None:
    """A tender is published with its opening recipient: the custody ceremony, run for its custodians and k."""
    custody = await opening_repo.select_custody(connection, tender.id)
    if custody is None:
        raise InvalidTransition(
            N_("Run the custody ceremony before publishing: it makes the key the bids are sealed to.")
        )
    shares = await opening_repo.select_shares(connection, tender.id)
    if custody.threshold != tender.custody_threshold or [s.user_id for s in shares] != list(tender.custodian_ids):
        raise InvalidTransition(
            N_("The custodians or their number needed to open changed since the ceremony: run it again.")
        )


async def _reload(connection: Connection, tender_id: int) -> model.Tender:
    tender = await repo.select_tender(connection, tender_id)
    assert tender is not None, "the tender is locked by this transaction"
    return tender


def check_amendable(tender: model.Tender, now: dt.datetime) -> None:
    if model.effective_status(tender.status, tender.deadline, now) is not Status.PUBLISHED:
        raise InvalidTransition(N_("A tender can be amended only while it is open for bids, before the deadline."))


async def record_amendment(
    connection: Connection,
    settings: Settings,
    actor: Actor,
    before: model.Tender,
    *,
    changes: dict[str, dict[str, object]],
    summary: str,
    substantive: bool,
    plan: model.AmendmentPlan,
    now: dt.datetime,
) -> model.Amendment:
    """What every amendment does once the tender's terms are written: version, history, notices, open data."""
    version = await repo.set_amended(connection, before.id)
    await repo.insert_amendment(
        connection,
        before.id,
        version,
        summary,
        substantive,
        changes,
        before.deadline,
        plan.deadline,
        plan.pushed,
        policy.user_id(actor),
    )
    payload = {"reference": before.reference, "version": version, "deadline": plan.deadline.isoformat()}
    await notifications_repo.insert_registered_notifications(connection, before.id, "tender.amended", payload)
    after = await _reload(connection, before.id)
    release_id = await opendata.record_release(connection, settings, after, "tenderAmendment", now)
    details = {
        "version": version,
        "before": model.digest(model.snapshot(model.tender_input(before))),
        "after": model.digest(model.snapshot(model.tender_input(after))),
        "changed": sorted(changes),
        "substantive": substantive,
        "deadline_pushed": plan.pushed,
        "release": release_id,
    }
    await audit_repo.insert_event(
        connection, event(actor, Role.AGENCY_STAFF, "tender.amended", f"tender:{before.id}", details)
    )
    amendments = await repo.select_amendments(connection, before.id)
    return amendments[-1]


async def amend(
    db: Database,
    settings: Settings,
    actor: Actor,
    tender_id: int,
    unverified: TenderInput,
    *,
    summary: str,
    substantive: bool,
) -> model.Amendment:
    """Change a published tender before its deadline, pushing the deadline out if the notice period needs it.

    Raises InvalidTransition (after the deadline), InvalidInput (bad terms, fixed terms changed, nothing
    changed), Forbidden or NotFound.
    """
    summary = validation.clean_text("summary", summary, MAX_SUMMARY_LENGTH)
    async with db.transaction() as connection:
        tender = await lock_own_tender(connection, actor, tender_id)
        now = await repo.select_now(connection)
        check_amendable(tender, now)
        rules = settings.rules_for(tender.procedure)
        current = model.tender_input(tender)
        amended = validation.validate_tender(msgspec.structs.replace(unverified, reference=tender.reference), rules)
        model.check_amendment(current, amended)
        validation.check_contact_given(amended.contact)
        changes = model.diff(model.snapshot(current), model.snapshot(amended))
        if not changes:
            raise InvalidInput(N_("The amendment changes nothing."))
        substantive = model.is_substantive(changes, declared=substantive)
        plan = model.plan_amendment(
            status=tender.status,
            current_deadline=tender.deadline,
            proposed_deadline=amended.deadline,
            substantive=substantive,
            now=now,
            rules=rules,
        )
        if plan.pushed:
            amended = msgspec.structs.replace(
                amended,
                deadline=plan.deadline,
                evaluation_at=amended.evaluation_at + (plan.deadline - amended.deadline),
            )
            changes = model.diff(model.snapshot(current), model.snapshot(amended))
        await repo.update_tender(connection, tender_id, amended)
        await _save_terms(connection, tender_id, amended, parties=False)
        return await record_amendment(
            connection,
            settings,
            actor,
            tender,
            changes=changes,
            summary=summary,
            substantive=substantive,
            plan=plan,
            now=now,
        )


async def cancel(db: Database, settings: Settings, actor: Actor, tender_id: int, reason: str) -> None:
    """Cancel a tender, with a public reason; registered bidders are notified."""
    reason = validation.clean_text("reason", reason, model.MAX_REASON_LENGTH)
    async with db.transaction() as connection:
        tender = await lock_own_tender(connection, actor, tender_id)
        now = await repo.select_now(connection)
        model.transition(
            tender.status, "cancel", model.Clock(now, tender.deadline), settings.rules_for(tender.procedure)
        )
        await repo.set_cancelled(connection, tender_id, reason)
        release_id = None
        if tender.published_at is not None:
            await notifications_repo.insert_registered_notifications(
                connection, tender_id, "tender.cancelled", {"reference": tender.reference}
            )
            cancelled = await _reload(connection, tender_id)
            release_id = await opendata.record_release(connection, settings, cancelled, "tenderCancellation", now)
        details = {"status_before": str(tender.status), "reason_sha256": model.digest(reason), "release": release_id}
        await audit_repo.insert_event(
            connection, event(actor, Role.AGENCY_STAFF, "tender.cancelled", f"tender:{tender_id}", details)
        )
