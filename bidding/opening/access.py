"""The tender an opening acts on (who may act, and who is acting: :mod:`bidding.tenders.policy`)."""

from __future__ import annotations

from bidding.db import Connection
from bidding.errors import NotFound
from bidding.i18n import N_
from bidding.tenders import model as tenders_model
from bidding.tenders import repo as tenders_repo


async def tender(connection: Connection, tender_id: int, *, for_update: bool = False) -> tenders_model.Tender:
    """The tender, or NotFound."""
    found = await (tenders_repo.lock_tender if for_update else tenders_repo.select_tender)(connection, tender_id)
    if found is None:
        raise NotFound(N_("There is no such tender."))
    return found
