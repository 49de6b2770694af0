"""Who acts on a tender's opening: the staff of the agency that runs the tender, and the tender they act on."""

from __future__ import annotations

from bidding.db import Connection
from bidding.errors import NotFound
from bidding.i18n import N_
from bidding.identity import Actor, Role
from bidding.tenders import model as tenders_model
from bidding.tenders import repo as tenders_repo


def user_id(actor: Actor) -> int:
    assert actor.principal is not None
    return actor.principal.user_id


def runs(actor: Actor, tender: tenders_model.Tender) -> bool:
    """Whether ``actor`` is staff of the agency running ``tender``."""
    principal = actor.principal
    return principal is not None and principal.has(Role.AGENCY_STAFF) and principal.organisation_id == tender.agency.id


async def tender(connection: Connection, tender_id: int, *, for_update: bool = False) -> tenders_model.Tender:
    """The tender, or NotFound."""
    found = await (tenders_repo.lock_tender if for_update else tenders_repo.select_tender)(connection, tender_id)
    if found is None:
        raise NotFound(N_("There is no such tender."))
    return found
