"""The tender an opening acts on (who may act, and who is acting: :mod:`bidding.tenders.policy`)."""

from __future__ import annotations

from bidding.db import Connection
from bidding.errors import NotFound
from bidding.i18n import N_
from bidding.tenders import model as tenders_model
from bidding.tenders import repo as tenders_repo


async def tender(connection: Connection, tender_id: int) -> tenders_model.Tender:
    """The tender, or NotFound."""
    return _found(await tenders_repo.select_tender(connection, tender_id))


async def lock_tender(connection: Connection, tender_id: int) -> tenders_model.Tender:
    """The tender, its row locked until the transaction ends (the opening's steps take turns on it), or NotFound."""
    return _found(await tenders_repo.lock_tender(connection, tender_id))


def _found(tender: tenders_model.Tender | None) -> tenders_model.Tender:
    if tender is None:
        raise NotFound(N_("There is no such tender."))
    return tender
