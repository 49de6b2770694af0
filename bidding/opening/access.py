"""The person acting on a tender's opening, and the tender they act on (who may act: :mod:`bidding.tenders.policy`)."""

from __future__ import annotations

from bidding.db import Connection
from bidding.errors import NotFound
from bidding.i18n import N_
from bidding.identity import Actor
from bidding.tenders import model as tenders_model
from bidding.tenders import repo as tenders_repo


def user_id(actor: Actor) -> int:
    assert actor.principal is not None
    return actor.principal.user_id


async def tender(connection: Connection, tender_id: int, *, for_update: bool = False) -> tenders_model.Tender:
    """The tender, or NotFound."""
    found = await (tenders_repo.lock_tender if for_update else tenders_repo.select_tender)(connection, tender_id)
    if found is None:
        raise NotFound(N_("There is no such tender."))
    return found
