"""The world of ``bench/bids.py``: an agency and its agent, a purchaser, custodians and bidders with their keys and
API tokens, and tenders whose custody ceremonies were run, all made through the platform's use cases as an
operator's script would make them (:func:`set_up`); and a bid sealed as the bidder's own machine seals it
(:func:`seal`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from bidding.accounts import service as accounts
from bidding.accounts.model import NewOrganisation, NewUser, credit_code_check_character
from bidding.blobs import BlobStore
from bidding.db import Database
from bidding.demo.bids import run_ceremony
from bidding.identity import PLATFORM, Actor, OrganisationKind, Role
from bidding.keys import service as keys
from bidding.keys.model import Purpose
from bidding.settings import Settings, ensure_secret_key
from bidding.tenders import documents as tenders_documents
from bidding.tenders import drafting as tenders_drafting
from bidding.tenders import questions as tenders_questions
from bidding.tenders.model import Category, Contact, Criterion, LocalText, LotInput, Method, Procedure, TenderInput
from crypto import age, envelope, keyfile
from crypto.statement import PriceSheet

AGENT = "bench-agent"
#: Every bench user's password.
PASSWORD = "bench-password-不用于生产"  # noqa: S105  # a throwaway database, removed at the end
REGION = "示范市"
#: The one criterion of each lot (lowest evaluated price: a pass/fail check, then the price decides).
QUALIFICATION = Criterion(LocalText("资格审查", "Qualification review"), kind="check")


@dataclasses.dataclass(frozen=True)
class Bidder:
    login: str
    credit_code: str
    keys: keyfile.KeyFile
    token: str


@dataclasses.dataclass(frozen=True)
class Tender:
    id: int
    reference: str
    recipient: age.HybridRecipient
    #: The opening identity, which a real ceremony never keeps: here it is the bare loop's key.
    identity: age.HybridIdentity


@dataclasses.dataclass(frozen=True)
class World:
    settings: Settings
    bidders: list[Bidder]
    agent_token: str
    #: Login, API token and key file of each custodian, in the ceremony's order.
    custodians: list[tuple[str, str, keyfile.KeyFile]]
    #: For the uploads and the burst (two lots: the burst bids on lot 1, the lone upload on lot 2).
    burst: Tender
    #: For the opening.
    opening: Tender


def credit_code(serial: int) -> str:
    """A valid unified social credit code (GB 32100-2015) of its own for each bench bidder."""
    first17 = f"91320599BE{serial:07d}"
    return first17 + credit_code_check_character(first17)


def tender_input(purchaser_id: int, custodian_ids: list[int], lots: int, title: str, now: dt.datetime) -> TenderInput:
    """An open goods tender of ``lots`` lots by lowest evaluated price, the deadline 30 days from ``now``."""
    deadline = (now + dt.timedelta(days=30)).replace(hour=9, minute=30, second=0, microsecond=0)
    return TenderInput(
        title=LocalText(f"基准测试：{title}", f"Benchmark: {title}"),
        description=LocalText("bench/bids.py 生成的招标项目。", "A tender made by bench/bids.py."),
        category=Category.GOODS,
        procedure=Procedure.OPEN,
        purchaser_id=purchaser_id,
        region=REGION,
        lots=[
            LotInput(n, LocalText(f"第{n}包", f"Lot {n}"), "1000000.00", "0", Method.LOWEST_PRICE, [QUALIFICATION])
            for n in range(1, lots + 1)
        ],
        documents_from=now,
        questions_until=deadline - dt.timedelta(days=10),
        deadline=deadline,
        evaluation_at=deadline + dt.timedelta(hours=1),
        custodian_ids=custodian_ids,
        custody_threshold=2,
        contact=Contact("基准测试", "0512-6888 1234", "bench@example.com"),
    )


async def one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def publish_tender(
    db: Database, settings: Settings, agent: Actor, terms: TenderInput, bidders: Sequence[Actor]
) -> Tender:
    """Draft, run the custody ceremony as the offline command does, add a document, publish, register bidders."""
    tender_id = await tenders_drafting.create_draft(db, settings, agent, terms)
    made, identity = await run_ceremony(db, agent, tender_id)
    document = b"%PDF-1.7\n% tender documents made by bench/bids.py\n"
    await tenders_documents.upload_document(
        db, settings, BlobStore(settings.blobs), agent, tender_id, filename="招标文件.pdf", chunks=one_chunk(document)
    )
    await tenders_drafting.publish(db, settings, agent, tender_id)
    for bidder in bidders:
        await tenders_questions.register(db, bidder, tender_id)
    return Tender(tender_id, made.tender, made.recipient, identity)


async def make_bidder(db: Database, serial: int) -> tuple[Actor, Bidder]:
    """A bidder organisation with one user, a registered key and an API token, each through its use case."""
    code = credit_code(serial)
    organisation = await accounts.create_organisation(
        db,
        PLATFORM,
        NewOrganisation(OrganisationKind.BIDDER, f"基准投标人{serial:03d}有限公司", REGION, code),
    )
    login = f"bench-bidder-{serial:03d}"
    await accounts.create_user(
        db, PLATFORM, NewUser(login, f"投标人{serial:03d}", PASSWORD, [Role.BIDDER], organisation.id)
    )
    actor = await accounts.act_as(db, login)
    key_file = keyfile.generate_key_file(f"bidder-{code}")
    await keys.register_key(
        db, actor, Purpose.BIDDER, verifier_key=key_file.verifier_key, recipient=key_file.recipient.encode()
    )
    token = await accounts.create_api_token(db, actor, "bench")
    return actor, Bidder(login, code, key_file, token.secret)


async def make_person(db: Database, login: str, name: str, role: Role, organisation_id: int) -> Actor:
    await accounts.create_user(db, PLATFORM, NewUser(login, name, PASSWORD, [role], organisation_id))
    return await accounts.act_as(db, login)


async def set_up(url: str, data_dir: Path, bidder_count: int, opening_lots: int) -> World:
    """The people and tenders of every part, made through the platform's use cases as an operator's script
    would make them."""
    settings = ensure_secret_key(Settings(data_dir=data_dir, database_url=url))
    db = await Database.connect(url, max_size=8)
    try:
        agency = await accounts.create_organisation(
            db, PLATFORM, NewOrganisation(OrganisationKind.AGENCY, "示范市基准招标代理有限公司", REGION)
        )
        purchaser = await accounts.create_organisation(
            db, PLATFORM, NewOrganisation(OrganisationKind.PURCHASER, "示范市基准采购人", REGION)
        )
        agent = await make_person(db, AGENT, "代理人", Role.AGENCY_STAFF, agency.id)
        custodians = []
        for number, organisation in enumerate((agency, agency, purchaser), start=1):
            login = f"bench-custodian{number}"
            actor = await make_person(db, login, f"保管人{number}", Role.CUSTODIAN, organisation.id)
            key_file = keyfile.generate_key_file(f"custodian-{login}")
            await keys.register_key(
                db, actor, Purpose.CUSTODIAN, verifier_key=key_file.verifier_key, recipient=key_file.recipient.encode()
            )
            custodians.append((login, (await accounts.create_api_token(db, actor, "bench")).secret, key_file, actor))
        # Eight at a time: each user's password is hashed (Argon2id, 64 MiB) on a worker thread.
        limit = asyncio.Semaphore(8)

        async def bounded(serial: int) -> tuple[Actor, Bidder]:
            async with limit:
                return await make_bidder(db, serial)

        made = await asyncio.gather(*(bounded(serial) for serial in range(1, bidder_count + 1)))
        custodian_ids = [actor.principal.user_id for *_, actor in custodians if actor.principal is not None]
        now = dt.datetime.now(ZoneInfo(settings.timezone))
        actors = [actor for actor, _ in made]
        burst = await publish_tender(
            db, settings, agent, tender_input(purchaser.id, custodian_ids, 2, "投标高峰", now), actors
        )
        opened = await publish_tender(
            db, settings, agent, tender_input(purchaser.id, custodian_ids, opening_lots, "千标开标", now), actors
        )
        agent_token = (await accounts.create_api_token(db, agent, "bench")).secret
    finally:
        await db.close()
    return World(
        settings,
        [bidder for _, bidder in made],
        agent_token,
        [(login, token, key_file) for login, token, key_file, _ in custodians],
        burst,
        opened,
    )


def seal(tender: Tender, bidder: Bidder, lot: int, document: bytes, total: str) -> tuple[bytes, bytes]:
    """An envelope of one document and its signed statement, sealed as the bidder's own machine seals them."""
    target = io.BytesIO()
    sealed = envelope.seal_envelope(
        target,
        [("投标文件.pdf", io.BytesIO(document))],
        tender=tender.reference,
        lot=str(lot),
        bidder=bidder.credit_code,
        slot="single",
        price_sheet=PriceSheet("CNY", total, duration_days=90, bid_security="0"),
        recipients=[tender.recipient, bidder.keys.recipient],
        signer=bidder.keys.signer,
        created="2026-11-21T09:00:00Z",
    )
    return target.getvalue(), sealed.signed_statement
