"""Who may do what with a tender: run it, see its internals, take part in it as a bidder.

Plain functions of the actor and the tender as stored; the use cases of :mod:`bidding.tenders.service` call them,
and the pages show what :class:`Access` allows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from bidding.errors import Forbidden
from bidding.i18n import N_, Message
from bidding.identity import Actor, Role
from bidding.tenders import model
from bidding.tenders.model import Status


def runs(actor: Actor, tender: model.Tender) -> bool:
    """Staff of the organisation running the tender: the only people who change it."""
    principal = actor.principal
    return principal is not None and principal.has(Role.AGENCY_STAFF) and principal.organisation_id == tender.agency.id


def sees_internals(actor: Actor, tender: model.Tender) -> bool:
    """Staff of the agency or the purchaser, supervisors, and the platform itself see drafts and registrations."""
    principal = actor.principal
    if principal is None:
        return actor.is_platform
    if principal.has(Role.SUPERVISOR):
        return True
    return principal.has(Role.AGENCY_STAFF) and principal.organisation_id in (tender.agency.id, tender.purchaser.id)


def bidder_organisation(actor: Actor) -> int:
    """The actor's organisation, if the actor is a bidder; raises Forbidden otherwise."""
    principal = actor.principal
    if principal is None or not principal.has(Role.BIDDER) or principal.organisation_id is None:
        raise Forbidden(N_("Only bidders can do this, for their organisation."))
    return principal.organisation_id


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
    actor: Actor, tender: model.Tender, status: Status, now: dt.datetime, *, registered: bool, invited: bool
) -> Access:
    """What ``actor`` may do with ``tender`` at ``now``, its status being ``status`` as people see it."""
    runs_it = runs(actor, tender)
    internals = sees_internals(actor, tender)
    open_for_bids = status is Status.PUBLISHED
    is_bidder = actor.has(Role.BIDDER) and actor.principal is not None and actor.principal.organisation_id is not None
    refusal = None
    if is_bidder and not registered:
        if not open_for_bids:
            refusal = N_("Registration closed at the deadline.")
        elif tender.procedure is model.Procedure.INVITED and not invited:
            refusal = N_("This is an invited tender: only the bidders invited may register.")
    return Access(
        internals=internals,
        edit=runs_it and status is Status.DRAFT,
        publish=runs_it and status is Status.DRAFT,
        amend=runs_it and open_for_bids,
        cancel=runs_it and "cancel" in model.TRANSITIONS[status],
        answer=runs_it and open_for_bids,
        register=is_bidder and not registered and refusal is None,
        registered=registered,
        ask=registered and open_for_bids and now < tender.questions_until,
        download=(internals and actor.principal is not None) or registered or actor.has(Role.ADMIN),
        register_refusal=refusal,
    )
