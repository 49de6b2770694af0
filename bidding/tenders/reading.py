"""Use cases that read tenders: one tender with everything the actor may see of it, and the lists of one's own.

Reading takes the time from the database, as every use case does: the status shown (open for bids, closed) is the
one the database clock decides.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from bidding.db import Connection, Database
from bidding.errors import Forbidden
from bidding.identity import Actor, Role
from bidding.opening import repo as opening_repo
from bidding.tenders import model, policy, questions_repo, repo, search_model, search_repo
from bidding.tenders.model import Status
from bidding.tenders.policy import Access


@dataclasses.dataclass(frozen=True, slots=True)
class CorrectionView:
    """A correction of a published answer (更正): the answer as corrected, and when."""

    id: int
    answer: str
    corrected_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class QuestionView:
    id: int
    pseudonym: str
    question: str
    asked_at: dt.datetime
    #: The answer as first published; with corrections, the newest of them is the answer in force.
    answer: str | None
    answered_at: dt.datetime | None
    #: Asked by the reader's own organisation.
    mine: bool
    #: The asking organisation: supervisors only. Not the agency: questions are anonymous to it as to everyone.
    organisation_id: int | None
    #: Corrections of the answer, oldest first; the original answer stays as published, beside them.
    corrections: list[CorrectionView] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True, slots=True)
class TenderView:
    tender: model.Tender
    #: The status as of ``now``: a published tender past its deadline is closed.
    status: Status
    now: dt.datetime
    access: Access
    #: Every version of every document, by name then newest first.
    documents: list[model.DocumentVersion]
    questions: list[QuestionView]
    amendments: list[model.Amendment]
    #: Only for those who see internals (empty otherwise).
    registrations: list[model.Registration]
    custodians: list[model.Person]
    invited: list[model.Party]
    downloads: dict[int, int]
    #: The recipient bids are sealed to, once the custody ceremony is recorded (published in the notice).
    opening_recipient: str | None = None


async def visible_tender(connection: Connection, actor: Actor, tender_id: int) -> model.Tender:
    """A tender the actor may see: published ones to everyone, drafts to their own staff and supervisors."""
    return policy.check_sees(actor, await repo.select_tender(connection, tender_id))


async def get_tender(db: Database, actor: Actor, tender_id: int) -> TenderView:
    """A tender with everything the actor may see of it; raises NotFound for a draft of someone else's."""
    async with db.connection() as connection:
        tender = await visible_tender(connection, actor, tender_id)
        now = await repo.select_now(connection)
        status = model.effective_status(tender.status, tender.deadline, now)
        organisation_id = policy.bidder_of(actor)
        is_bidder = organisation_id is not None
        registered = is_bidder and await repo.is_registered(connection, tender_id, organisation_id or 0)
        invited = is_bidder and await repo.is_invited(connection, tender_id, organisation_id or 0)
        allowed = policy.access_of(actor, tender, status, now, registered=registered, invited=invited)
        documents = await repo.select_documents(connection, tender_id)
        questions = await questions_repo.select_questions(connection, tender_id, answered_only=False)
        corrections = await questions_repo.select_corrections(connection, tender_id)
        amendments = await repo.select_amendments(connection, tender_id)
        internal = allowed.internals
        registrations = await repo.select_registrations(connection, tender_id) if internal else []
        custodians = await repo.select_custodians(connection, tender_id) if internal else []
        invitees = await repo.select_invited(connection, tender_id) if internal else []
        downloads = await repo.count_downloads(connection, tender_id) if internal else {}
        custody = await opening_repo.select_custody(connection, tender_id)
    supervisor = actor.is_platform or actor.has(Role.SUPERVISOR)
    shown = [
        QuestionView(
            question.id,
            question.pseudonym,
            question.question,
            question.asked_at,
            question.answer,
            question.answered_at,
            mine=is_bidder and question.organisation_id == organisation_id,
            organisation_id=question.organisation_id if supervisor else None,
            corrections=[CorrectionView(c.id, c.answer, c.corrected_at) for c in corrections.get(question.id, [])],
        )
        for question in questions
        if question.answer is not None or internal or (is_bidder and question.organisation_id == organisation_id)
    ]
    return TenderView(
        tender,
        status,
        now,
        allowed,
        documents,
        shown,
        amendments,
        registrations,
        custodians,
        invitees,
        downloads,
        custody.recipient if custody else None,
    )


async def list_own(db: Database, actor: Actor) -> list[search_model.TenderSummary]:
    """The tenders of the actor's organisation: run by it or bought for it, drafts included."""
    principal = actor.principal
    if principal is None or principal.organisation_id is None or not principal.has(Role.AGENCY_STAFF):
        raise Forbidden()
    async with db.connection() as connection:
        return await search_repo.select_organisation_tenders(connection, principal.organisation_id)


async def list_registered(db: Database, actor: Actor) -> list[search_model.TenderSummary]:
    organisation_id = policy.bidder_organisation(actor)
    async with db.connection() as connection:
        return await search_repo.select_registered_tenders(connection, organisation_id)
