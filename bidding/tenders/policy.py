"""Who may run a tender, see it, see its internals, download its documents, attend its opening, take part in it.

Pure functions of the actor and the tender as stored (and, where it matters, whether the actor's organisation is
registered: the caller reads that). Every domain that acts on a tender asks here, so that the answer is the same
on the notice, in the API, in the custody ceremony and in the opening hall; the pages show what :class:`Access`
allows and the use cases check it again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from bidding.errors import Forbidden, NotFound
from bidding.i18n import N_, Message
from bidding.identity import Actor, Role
from bidding.tenders.model import TRANSITIONS, Procedure, Status, Tender


def user_id(actor: Actor) -> int:
    """The person acting, once a permission check has established that someone signed in is."""
    assert actor.principal is not None, "checked by the use case's permission check"
    return actor.principal.user_id


def runs(actor: Actor, tender: Tender) -> bool:
    """Staff of the organisation running the tender: the only people who change it, and who run its opening."""
    principal = actor.principal
    return principal is not None and principal.has(Role.AGENCY_STAFF) and principal.organisation_id == tender.agency.id


def sees_internals(actor: Actor, tender: Tender) -> bool:
    """Staff of the agency or the purchaser, supervisors, and the platform itself see drafts and registrations."""
    principal = actor.principal
    if principal is None:
        return actor.is_platform
    if principal.has(Role.SUPERVISOR):
        return True
    return principal.has(Role.AGENCY_STAFF) and principal.organisation_id in (tender.agency.id, tender.purchaser.id)


def sees(actor: Actor, tender: Tender) -> bool:
    """Published tenders are public; a draft is seen only by those who see internals."""
    return tender.published_at is not None or sees_internals(actor, tender)


def check_sees(actor: Actor, tender: Tender | None) -> Tender:
    """The tender, if the actor may see it; raises NotFound otherwise (a draft of someone else's does not exist)."""
    if tender is None or not sees(actor, tender):
        raise NotFound(N_("There is no such tender."))
    return tender


def check_runs(actor: Actor, tender: Tender | None) -> Tender:
    """The tender, if the actor runs it; raises NotFound (for a draft it may not even see) or Forbidden."""
    tender = check_sees(actor, tender)
    if not runs(actor, tender):
        raise Forbidden(N_("Only the staff of the organisation running this tender can change it."))
    return tender


def bidder_of(actor: Actor) -> int | None:
    """The organisation the actor bids for, if the actor is a bidder."""
    principal = actor.principal
    if principal is None or not principal.has(Role.BIDDER):
        return None
    return principal.organisation_id


def bidder_organisation(actor: Actor) -> int:
    """The actor's organisation, if the actor is a bidder; raises Forbidden otherwise."""
    organisation_id = bidder_of(actor)
    if organisation_id is None:
        raise Forbidden(N_("Only bidders can do this, for their organisation."))
    return organisation_id


def may_download(actor: Actor, tender: Tender, *, registered: bool) -> bool:
    """Documents go to registered bidders, the tender's own staff, supervisors and administrators, all signed in:
    each download is recorded against a person."""
    if actor.principal is None:
        return False
    return sees_internals(actor, tender) or actor.has(Role.ADMIN) or registered


def keeps_custody(actor: Actor, tender: Tender) -> bool:
    """Who takes part in the custody ceremony: the tender's staff, its key custodians, and supervisors."""
    principal = actor.principal
    return (
        runs(actor, tender)
        or actor.has(Role.SUPERVISOR)
        or (principal is not None and principal.user_id in tender.custodian_ids)
    )


def attends(actor: Actor, tender: Tender, *, registered: bool) -> bool:
    """Who may attend a published tender's opening hall: its registered bidders, its agency's staff, its
    custodians, and supervisors."""
    if actor.principal is None or tender.published_at is None:
        return False
    return keeps_custody(actor, tender) or (bidder_of(actor) is not None and registered)


@dataclasses.dataclass(frozen=True, slots=True)
class Access:
    """What the actor may do with one tender now: the pages show these actions, the use cases check them again."""

    internals: bool = False
    edit: bool = False
    publish: bool = False
    amend: bool = False
    cancel: bool = False
    answer: bool = False
    register: bool = False
    registered: bool = False
    ask: bool = False
    download: bool = False
    #: Why a bidder cannot register, if it cannot (not invited, deadline passed).
    register_refusal: Message | None = None


def access_of(
    actor: Actor, tender: Tender, status: Status, now: dt.datetime, *, registered: bool, invited: bool
) -> Access:
    """What ``actor`` may do with ``tender`` at ``now``, its status being ``status`` as people see it."""
    runs_it = runs(actor, tender)
    open_for_bids = status is Status.PUBLISHED
    is_bidder = bidder_of(actor) is not None
    refusal = None
    if is_bidder and not registered:
        if not open_for_bids:
            refusal = N_("Registration closed at the deadline.")
        elif tender.procedure is Procedure.INVITED and not invited:
            refusal = N_("This is an invited tender: only the bidders invited may register.")
    return Access(
        internals=sees_internals(actor, tender),
        edit=runs_it and status is Status.DRAFT,
        publish=runs_it and status is Status.DRAFT,
        amend=runs_it and open_for_bids,
        cancel=runs_it and "cancel" in TRANSITIONS[status],
        answer=runs_it and open_for_bids,
        register=is_bidder and not registered and refusal is None,
        registered=registered,
        ask=registered and open_for_bids and now < tender.questions_until,
        download=may_download(actor, tender, registered=registered),
        register_refusal=refusal,
    )
