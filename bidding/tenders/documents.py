"""Use cases of a tender's documents: uploading a document or a new version of one (on a published tender, an
amendment), and downloading one, each download recorded.

The file is streamed to the blob store before the transaction that records it, so that no lock is held while it
arrives; the tender is checked again, locked, once it has.
"""

from __future__ import annotations

from collections.abc import AsyncIterable

from bidding.audit import repo as audit_repo
from bidding.audit.model import event
from bidding.blobs import BlobMismatch, BlobStore, BlobTooLarge, drain
from bidding.db import Database
from bidding.errors import Forbidden, InvalidInput, NotFound, TooLarge
from bidding.i18n import N_
from bidding.identity import Actor, Role
from bidding.settings import Settings
from bidding.tenders import model, policy, repo, validation
from bidding.tenders.drafting import MAX_SUMMARY_LENGTH, check_amendable, lock_own_tender, record_amendment
from bidding.tenders.model import Status
from bidding.tenders.reading import visible_tender


async def upload_document(
    db: Database,
    settings: Settings,
    blobs: BlobStore,
    actor: Actor,
    tender_id: int,
    *,
    filename: str,
    chunks: AsyncIterable[bytes],
    declared_sha256: bytes | None = None,
    summary: str | None = None,
    substantive: bool = True,
) -> model.DocumentVersion:
    """Add a document, or a new version of one, streamed to the blob store.

    On a draft it is simply added. On a published tender it is an amendment, with ``summary`` saying what
    changed, and counts as substantive unless said otherwise. Raises InvalidInput (name, kind, hash), TooLarge,
    InvalidTransition, Forbidden or NotFound; nothing is recorded unless the whole file arrived intact.
    """
    name, content_type = validation.document_type(filename)
    async with db.connection() as connection:
        tender = policy.check_runs(actor, await repo.select_tender(connection, tender_id))
        now = await repo.select_now(connection)
    if tender.status is not Status.DRAFT:
        check_amendable(tender, now)
        summary = validation.clean_text("summary", summary or "", MAX_SUMMARY_LENGTH)
    try:
        blob = await blobs.put_stream(chunks, max_size=settings.max_document_size, expected_sha256=declared_sha256)
    except BlobTooLarge:
        await drain(chunks)
        raise document_too_large(settings) from None
    except BlobMismatch:
        raise InvalidInput(
            errors={"file": N_("The file's SHA-256 is not the one declared: it was changed or cut short on the way.")}
        ) from None
    async with db.transaction() as connection:
        tender = await lock_own_tender(connection, actor, tender_id)
        now = await repo.select_now(connection)
        previous = next((d for d in await repo.select_documents(connection, tender_id) if d.name == name), None)
        if tender.status is not Status.DRAFT:
            check_amendable(tender, now)
        document = await repo.insert_document(
            connection, tender_id, name, blob.sha256, blob.size, content_type, policy.user_id(actor)
        )
        details = {"name": name, "version": document.version, "sha256": blob.key, "size": blob.size}
        await audit_repo.insert_event(
            connection, event(actor, Role.AGENCY_STAFF, "tender.document_uploaded", f"tender:{tender_id}", details)
        )
        if tender.status is not Status.DRAFT:
            assert summary is not None
            plan = model.plan_amendment(
                status=tender.status,
                current_deadline=tender.deadline,
                proposed_deadline=tender.deadline,
                substantive=substantive,
                now=now,
                rules=settings.rules_for(tender.procedure),
            )
            if plan.pushed:
                await repo.set_deadline(
                    connection, tender_id, plan.deadline, tender.evaluation_at + (plan.deadline - tender.deadline)
                )
            changes: dict[str, dict[str, object]] = {
                f"documents.{name}": {"before": previous.sha256.hex() if previous else None, "after": blob.key}
            }
            if plan.pushed:
                changes["deadline"] = {"before": tender.deadline.isoformat(), "after": plan.deadline.isoformat()}
            await record_amendment(
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
    return document


def document_too_large(settings: Settings) -> TooLarge:
    size = settings.max_document_size
    shown = f"{size / 1024**2:.0f} MiB" if size >= 1024**2 else f"{size} B"
    return TooLarge(N_("A tender document can have at most %(size)s.", size=shown))


async def open_document(db: Database, actor: Actor, tender_id: int, document_id: int) -> model.DocumentVersion:
    """Check that the actor may download a document version, and record the download (who, which, when).

    Registered bidders, the tender's own staff, supervisors and administrators may download; everyone else is
    told to register. The caller then streams the blob named by the version's SHA-256.
    """
    async with db.transaction() as connection:
        tender = await visible_tender(connection, actor, tender_id)
        document = await repo.select_document(connection, document_id)
        if document is None or document.tender_id != tender_id:
            raise NotFound(N_("There is no such document."))
        principal = actor.principal
        if principal is None:
            raise Forbidden(N_("Sign in and register for the tender to download its documents."))
        organisation_id = policy.bidder_of(actor)
        registered = organisation_id is not None and await repo.is_registered(connection, tender_id, organisation_id)
        if not policy.may_download(actor, tender, registered=registered):
            raise Forbidden(N_("Register for the tender to download its documents."))
        await repo.insert_download(connection, document_id, principal.organisation_id, principal.user_id)
        role = next(r for r in (Role.BIDDER, Role.SUPERVISOR, Role.AGENCY_STAFF, Role.ADMIN) if principal.has(r))
        details = {"document_id": document_id, "name": document.name, "version": document.version}
        details["sha256"] = document.sha256.hex()
        await audit_repo.insert_event(
            connection, event(actor, role, "tender.document_downloaded", f"tender:{tender_id}", details)
        )
    return document
