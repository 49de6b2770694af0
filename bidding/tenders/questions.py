"""Use cases of taking part before the deadline: a bidder registering for a tender, its questions, and the
agency's answers (asking, answering, and correcting an answer).

Registration comes first: only a registered bidder downloads the documents and asks questions. On an invited
tender only the bidders invited may register (Tendering and Bidding Law, art. 17).

A question is published with its answer under the asker's pseudonym (Bidder A, B, …), never a name. An answer goes
to everyone and cannot be taken back, so the pages show it to the agency as it will be published before publishing
it (:func:`check_answer`, :func:`check_correction` check everything publishing would, and write nothing). A mistake
is put right by a correction (更正): published as such, with its time, beside the answer it corrects, which stays
visible; registered bidders are notified of each, as of the answer. Answers and corrections are given while the
tender is open for bids; one that changes what the tender requires is an amendment instead (Tendering Law art. 23).
"""

from __future__ import annotations

import dataclasses

from bidding.audit import repo as audit_repo
from bidding.audit.model import event
from bidding.db import Connection, Database
from bidding.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from bidding.i18n import N_
from bidding.identity import Actor, Role
from bidding.notifications import repo as notifications_repo
from bidding.tenders import model, policy, questions_repo, repo, validation
from bidding.tenders.drafting import lock_own_tender
from bidding.tenders.model import Status
from bidding.tenders.reading import CorrectionView, QuestionView, visible_tender


async def ask(db: Database, actor: Actor, tender_id: int, text: str) -> QuestionView:
    """Ask a question as the actor's organisation, under its pseudonym for this tender."""
    organisation_id = policy.bidder_organisation(actor)
    async with db.transaction() as connection:
        # Locked so that two organisations asking at once cannot take the same pseudonym.
        tender = await repo.lock_tender(connection, tender_id)
        if tender is None or tender.published_at is None:
            raise NotFound(N_("There is no such tender."))
        now = await repo.select_now(connection)
        registered = await repo.is_registered(connection, tender_id, organisation_id)
        status = model.effective_status(tender.status, tender.deadline, now)
        question = validation.check_question(
            text, registered=registered, status=status, questions_until=tender.questions_until, now=now
        )
        existing, askers = await questions_repo.select_pseudonym_order(connection, tender_id, organisation_id)
        pseudonym = existing or validation.pseudonym(askers)
        question_id = await questions_repo.insert_question(
            connection, tender_id, organisation_id, policy.user_id(actor), pseudonym, question
        )
        details = {"question_id": question_id, "pseudonym": pseudonym, "sha256": model.digest(question)}
        await audit_repo.insert_event(
            connection, event(actor, Role.BIDDER, "tender.question_asked", f"tender:{tender_id}", details)
        )
    return QuestionView(question_id, pseudonym, question, now, None, None, mine=True, organisation_id=None)


@dataclasses.dataclass(frozen=True, slots=True)
class Draft:
    """An answer or a correction as it would be published, checked, before it is."""

    tender: model.Tender
    question: model.Question
    #: The corrections published so far, oldest first (the newest is the answer in force).
    corrections: list[model.Correction]
    #: The text as it will be published (cleaned: spaces at the ends trimmed).
    text: str

    @property
    def in_force(self) -> str | None:
        """The answer in force now: the newest correction, else the answer as published."""
        return self.corrections[-1].answer if self.corrections else self.question.answer


async def _draft(
    connection: Connection, actor: Actor, tender_id: int, question_id: int, text: str, *, correcting: bool
) -> Draft:
    """Check an answer (or, ``correcting``, a correction) as publishing it would, holding the tender's row."""
    cleaned = validation.clean_text("answer", text, model.MAX_ANSWER_LENGTH)
    tender = await lock_own_tender(connection, actor, tender_id)
    found = await questions_repo.lock_question(connection, question_id)
    if found is None or found[0] != tender_id:
        raise NotFound(N_("There is no such question."))
    question = found[1]
    now = await repo.select_now(connection)
    if model.effective_status(tender.status, tender.deadline, now) is not Status.PUBLISHED:
        raise InvalidTransition(N_("Questions are answered, and answers corrected, before the deadline."))
    corrections = (await questions_repo.select_corrections(connection, tender_id)).get(question_id, [])
    draft = Draft(tender, question, corrections, cleaned)
    if not correcting and question.answer is not None:
        raise InvalidTransition(
            N_("This question is answered already: publish a correction of the answer to change it.")
        )
    if correcting and question.answer is None:
        raise InvalidTransition(N_("This question has no published answer to correct yet."))
    if correcting and cleaned == draft.in_force:
        raise InvalidInput(errors={"answer": N_("The correction says what the answer in force says already.")})
    return draft


async def check_answer(db: Database, actor: Actor, tender_id: int, question_id: int, text: str) -> Draft:
    """The answer as :func:`answer` would publish it now, or the error it would raise; nothing is written."""
    async with db.transaction() as connection:
        return await _draft(connection, actor, tender_id, question_id, text, correcting=False)


async def check_correction(db: Database, actor: Actor, tender_id: int, question_id: int, text: str) -> Draft:
    """The correction as :func:`correct_answer` would publish it now, or the error it would raise; nothing is
    written."""
    async with db.transaction() as connection:
        return await _draft(connection, actor, tender_id, question_id, text, correcting=True)


async def answer(db: Database, actor: Actor, tender_id: int, question_id: int, text: str) -> None:
    """Answer a question; the answer is published to everyone and registered bidders are notified.

    Raises InvalidInput (empty or longer than 5,000 characters), InvalidTransition (after the deadline, or answered
    already: correct it instead), NotFound or Forbidden.
    """
    async with db.transaction() as connection:
        draft = await _draft(connection, actor, tender_id, question_id, text, correcting=False)
        if not await questions_repo.answer_question(connection, question_id, draft.text, policy.user_id(actor)):
            raise InvalidTransition(
                N_("This question is answered already: publish a correction of the answer to change it.")
            )
        payload = {"reference": draft.tender.reference, "question_id": question_id}
        await notifications_repo.insert_registered_notifications(connection, tender_id, "tender.answered", payload)
        details = {"question_id": question_id, "sha256": model.digest(draft.text)}
        await audit_repo.insert_event(
            connection, event(actor, Role.AGENCY_STAFF, "tender.question_answered", f"tender:{tender_id}", details)
        )


async def correct_answer(db: Database, actor: Actor, tender_id: int, question_id: int, text: str) -> CorrectionView:
    """Publish a correction of a question's answer: shown as such beside the answer, which stays as it was;
    registered bidders are notified.

    Raises InvalidInput (empty, longer than 5,000 characters, or what the answer in force says already),
    InvalidTransition (after the deadline, or no answer yet), NotFound or Forbidden.
    """
    async with db.transaction() as connection:
        draft = await _draft(connection, actor, tender_id, question_id, text, correcting=True)
        correction = await questions_repo.insert_correction(connection, question_id, draft.text, policy.user_id(actor))
        payload = {"reference": draft.tender.reference, "question_id": question_id, "correction_id": correction.id}
        await notifications_repo.insert_registered_notifications(
            connection, tender_id, "tender.answer_corrected", payload
        )
        details = {
            "question_id": question_id,
            "correction_id": correction.id,
            "sha256": model.digest(draft.text),
            "corrects_sha256": model.digest(draft.in_force),
        }
        await audit_repo.insert_event(
            connection, event(actor, Role.AGENCY_STAFF, "tender.answer_corrected", f"tender:{tender_id}", details)
        )
    return CorrectionView(correction.id, correction.answer, correction.corrected_at)


# --- Registration ----------------------------------------------------------------------------------------------


async def register(db: Database, actor: Actor, tender_id: int) -> bool:
    """Register the actor's organisation for a tender; ``False`` if it already was."""
    organisation_id = policy.bidder_organisation(actor)
    async with db.transaction() as connection:
        tender = await visible_tender(connection, actor, tender_id)
        now = await repo.select_now(connection)
        if model.effective_status(tender.status, tender.deadline, now) is not Status.PUBLISHED:
            raise InvalidTransition(N_("Registration closed at the deadline."))
        if tender.procedure is model.Procedure.INVITED and not await repo.is_invited(
            connection, tender_id, organisation_id
        ):
            raise Forbidden(N_("This is an invited tender: only the bidders invited may register."))
        added = await repo.insert_registration(connection, tender_id, organisation_id, policy.user_id(actor))
        if added:
            await audit_repo.insert_event(
                connection,
                event(
                    actor, Role.BIDDER, "tender.registered", f"tender:{tender_id}", {"organisation_id": organisation_id}
                ),
            )
    return added
