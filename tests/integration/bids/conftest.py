"""A published tender with its custody ceremony run, registered bidders with keys, and sealing at hand."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import pytest

from bidding.bids import service as bids
from bidding.db import Database
from bidding.keys import service as keys
from bidding.keys.model import Purpose
from bidding.tenders import documents as tenders_documents
from bidding.tenders import drafting as tenders_drafting
from bidding.tenders import questions as tenders_questions
from bidding.tenders import reading as tenders_reading
from crypto import age, envelope, keyfile
from crypto.statement import PriceSheet
from tests.integration.tenders.conftest import Cast, cast, chunks_of, key_file, published_tender, run_ceremony


@dataclasses.dataclass
class Bidding:
    cast: Cast
    db: Database
    tender_id: int
    reference: str
    recipient: age.HybridRecipient
    bidder_keys: list[keyfile.KeyFile]
    custodian_keys: list[keyfile.KeyFile]
    credit_codes: list[str]

    def seal(
        self, index: int, total: str = "1000000.00", *, lot: str = "1", recipient: Any = None, signer: Any = None
    ) -> tuple[bytes, bytes]:
        """An envelope and its signed statement, sealed as bidder ``index`` would."""
        keys = self.bidder_keys[index]
        target = io.BytesIO()
        sealed = envelope.seal_envelope(
            target,
            [("投标文件.pdf", io.BytesIO(b"%PDF-1.7 " + total.encode() * 100))],
            tender=self.reference,
            lot=lot,
            bidder=self.credit_codes[index],
            slot="single",
            price_sheet=PriceSheet("CNY", total, duration_days=180, bid_security="20000.00"),
            recipients=[recipient or self.recipient, keys.recipient],
            signer=signer or keys.signer,
            created="2026-11-21T08:00:00Z",
        )
        return target.getvalue(), sealed.signed_statement

    async def upload(self, index: int, data: bytes) -> str:
        actor = self.cast.bidders[index]
        upload_id = await bids.create_upload(self.db, self.cast.blobs, actor, self.tender_id, len(data))
        await bids.append_upload(self.db, self.cast.blobs, actor, upload_id, 0, chunks_of(data))
        return upload_id

    async def submit(self, index: int, data: bytes, statement: bytes, *, replaces: int | None = None) -> bids.Submitted:
        upload_id = await self.upload(index, data)
        return await bids.submit_bid(
            self.db,
            self.cast.settings,
            self.cast.blobs,
            self.cast.bidders[index],
            self.tender_id,
            upload_id=upload_id,
            signed_statement=statement,
            replaces=replaces,
        )


@pytest.fixture
async def bidding(db: Database, cast: Cast) -> Bidding:
    tender_id = await tenders_drafting.create_draft(db, cast.settings, cast.agent, cast.tender())
    recipient, custodian_keys = await run_ceremony(db, cast, tender_id)
    await tenders_documents.upload_document(
        db, cast.settings, cast.blobs, cast.agent, tender_id, filename="招标文件.pdf", chunks=chunks_of(b"%PDF-1.7 v1")
    )
    await tenders_drafting.publish(db, cast.settings, cast.agent, tender_id)
    view = await tenders_reading.get_tender(db, cast.agent, tender_id)
    bidder_keys, codes = [], []
    for index, bidder in enumerate(cast.bidders):
        await tenders_questions.register(db, bidder, tender_id)
        keys_file = key_file(f"bidder-{index}", 10 + index)
        await keys.register_key(
            db, bidder, Purpose.BIDDER, verifier_key=keys_file.verifier_key, recipient=keys_file.recipient.encode()
        )
        bidder_keys.append(keys_file)
        assert bidder.principal is not None and bidder.principal.organisation_id is not None
        async with db.connection() as connection:
            codes.append(
                await connection.fetchval(
                    "SELECT credit_code FROM organisations WHERE id = $1", bidder.principal.organisation_id
                )
            )
    return Bidding(cast, db, tender_id, view.tender.reference, recipient, bidder_keys, custodian_keys, codes)


__all__ = ["Bidding", "cast", "key_file", "published_tender", "run_ceremony"]
