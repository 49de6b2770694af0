"""Demo data: a trading centre with one person for every role and a living notice board, so that a newcomer
can click through.

Every demo user shares :data:`DEMO_PASSWORD`, printed by ``bidding seed-demo`` and ``make run``; never seed a
production database. The credit codes are made up, with valid check characters.

The tenders (:data:`TENDERS`) go through the same use cases as people's: drafted, given documents, published,
registered for, asked about, answered, amended and cancelled, so that every audit event and open data release
they imply is there too. Their deadlines are counted from the day of seeding. The expert pool
(:mod:`bidding.demo.experts`) is seeded before them, so that the opened tenders' committees are drawn from it.
Seeding again adds nothing: people are found by login and credit code, experts by their person, tenders by their
reference among the demo agency's own.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import textwrap
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

import msgspec

from bidding.accounts import service
from bidding.accounts.model import NewOrganisation, NewUser
from bidding.blobs import BlobStore, blob_store
from bidding.db import Database
from bidding.demo import bids as demo_bids
from bidding.demo import experts as demo_experts
from bidding.demo.tenders import AGENCY_CONTACT, PURCHASER_CONTACTS, REGION, TENDERS, DemoTender
from bidding.errors import NotFound
from bidding.identity import PLATFORM, Actor, OrganisationKind, Role
from bidding.keys.model import Purpose
from bidding.settings import Language, Settings
from bidding.tenders import documents as tenders_documents
from bidding.tenders import drafting as tenders_drafting
from bidding.tenders import model as tenders_model
from bidding.tenders import questions
from bidding.tenders import reading as tenders_reading
from bidding.tenders.model import CATEGORY_NAMES, Category, Contact, Method, Procedure, TenderInput
from crypto.keyfile import KeyFile

DEMO_PASSWORD = "demo-password"  # noqa: S105  # published on purpose: demo data only

#: (key, kind, name, English name, credit code)
ORGANISATIONS = [
    (
        "centre",
        OrganisationKind.PLATFORM,
        "示范市公共资源交易中心",
        "Demo City Public Resource Trading Centre",
        "113205000141005804",
    ),
    (
        "agency",
        OrganisationKind.AGENCY,
        "示范市明诚招标代理有限公司",
        "Mingcheng Tendering Agency Co., Ltd.",
        "91320594MA1X2H6B9N",
    ),
    (
        "hospital",
        OrganisationKind.PURCHASER,
        "示范市第一人民医院",
        "Demo City First People's Hospital",
        "123205004662837263",
    ),
    (
        "resources",
        OrganisationKind.PURCHASER,
        "示范市自然资源和规划局",
        "Demo City Natural Resources and Planning Bureau",
        "11320500MB0A7K3Q2G",
    ),
    (
        "citygroup",
        OrganisationKind.PURCHASER,
        "示范市城市建设投资集团有限公司",
        "Demo City Urban Construction Investment Group Co., Ltd.",
        "91320500MA1W8RT6XH",
    ),
    (
        "huajian",
        OrganisationKind.BIDDER,
        "华建工程集团有限公司",
        "Huajian Engineering Group Co., Ltd.",
        "91320505MA1MXK7U5E",
    ),
    (
        "qiming",
        OrganisationKind.BIDDER,
        "启明信息技术股份有限公司",
        "Qiming Information Technology Co., Ltd.",
        "91320506MA20R8DN48",
    ),
    (
        "lvyuan",
        OrganisationKind.BIDDER,
        "绿源环境科技有限公司",
        "Lvyuan Environmental Technology Co., Ltd.",
        "91320583MA1NQ6C375",
    ),
]

#: (login, name, roles, organisation key or None, language)
USERS: list[tuple[str, str, list[Role], str | None, Language]] = [
    ("admin", "周敏", [Role.ADMIN], "centre", "zh-CN"),
    ("supervisor1", "陈立", [Role.SUPERVISOR], "centre", "zh-CN"),
    ("supervisor2", "Helen Zhao", [Role.SUPERVISOR], "centre", "en"),
    ("agent", "李娜", [Role.AGENCY_STAFF], "agency", "zh-CN"),
    ("purchaser", "王强", [Role.AGENCY_STAFF], "hospital", "zh-CN"),
    ("custodian1", "刘洋", [Role.CUSTODIAN], "agency", "zh-CN"),
    ("custodian2", "孙悦", [Role.CUSTODIAN], "hospital", "zh-CN"),
    ("custodian3", "郑凯", [Role.CUSTODIAN], "centre", "zh-CN"),
    ("expert1", "杨志远", [Role.EXPERT], None, "zh-CN"),
    ("expert2", "黄静", [Role.EXPERT], None, "zh-CN"),
    ("expert3", "吴建华", [Role.EXPERT], None, "zh-CN"),
    ("expert4", "徐丽", [Role.EXPERT], None, "zh-CN"),
    ("expert5", "David Lin", [Role.EXPERT], None, "en"),
    ("bidder1", "赵刚", [Role.BIDDER], "huajian", "zh-CN"),
    ("bidder2", "钱芳", [Role.BIDDER], "qiming", "zh-CN"),
    ("bidder3", "Grace Sun", [Role.BIDDER], "lvyuan", "en"),
]

#: The English names of the demo people whose names are Chinese, shown on English pages.
ENGLISH_NAMES: Mapping[str, str] = {
    "admin": "Zhou Min",
    "supervisor1": "Chen Li",
    "agent": "Li Na",
    "purchaser": "Wang Qiang",
    "custodian1": "Liu Yang",
    "custodian2": "Sun Yue",
    "custodian3": "Zheng Kai",
    "expert1": "Yang Zhiyuan",
    "expert2": "Huang Jing",
    "expert3": "Wu Jianhua",
    "expert4": "Xu Li",
    "bidder1": "Zhao Gang",
    "bidder2": "Qian Fang",
}

#: Who runs the demo tenders, and who holds their opening keys (any two of the three open the bids).
AGENT = "agent"
CUSTODIANS = ("custodian1", "custodian2", "custodian3")
BIDDERS = ("bidder1", "bidder2", "bidder3")


# --- Documents ------------------------------------------------------------------------------------------------


#: The tender documents are called so in a sale (出让, 转让); in procurement they are 招标文件.
MAIN_DOCUMENTS = {Category.LAND_USE: "出让文件.pdf", Category.STATE_PROPERTY: "转让文件.pdf"}
#: Characters per line that fit the width of an A4 page in 11-point Helvetica, with margins.
PDF_LINE_LENGTH = 85


def _pdf_string(text: str) -> str:
    """A PDF literal string of ASCII text: backslashes and parentheses escaped, anything else replaced."""
    ascii_text = text.encode("ascii", "replace").decode("ascii")
    return "(" + ascii_text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def minimal_pdf(lines: Sequence[str]) -> bytes:
    """A valid one-page PDF 1.4 (A4, Helvetica) showing ``lines`` of ASCII text, with an exact cross-reference table.

    Enough for a demo document to open in any reader. Lines longer than :data:`PDF_LINE_LENGTH` are wrapped;
    non-ASCII characters show as "?"; what does not fit on the page is cut off.
    """
    wrapped = [
        piece for line in lines for piece in textwrap.wrap(line, PDF_LINE_LENGTH, subsequent_indent="    ") or [""]
    ]
    text = ["BT", "/F1 11 Tf", "14 TL", "56 780 Td"]
    for index, line in enumerate(wrapped):
        text.append(("" if index == 0 else "T* ") + _pdf_string(line) + " Tj")
    text.append("ET")
    stream = "\n".join(text).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _tender_document(spec: DemoTender, version: int) -> bytes:
    lines = [
        "TENDER DOCUMENTS",
        "",
        spec.title.en,
        f"Reference: {spec.reference}",
        f"Category: {CATEGORY_NAMES[spec.category].text}",
        f"Procedure: {'invited' if spec.procedure is Procedure.INVITED else 'open'} tendering",
        "",
    ]
    for lot in spec.lots:
        method = "comprehensive scoring" if lot.method is Method.COMPREHENSIVE else "lowest evaluated price"
        budget, security = Decimal(lot.budget), Decimal(lot.bid_security)
        lines.append(f"Lot {lot.number}: {lot.title.en}")
        lines.append(f"    budget CNY {budget:,.2f}, bid security CNY {security:,.2f}, {method}")
    lines += [
        "",
        "Bids are sealed on the bidder's own machine (age, post-quantum) to the tender's opening key,",
        "and nobody can open them before the public opening. See the notice for the timetable.",
    ]
    if version > 1 and spec.new_version is not None:
        lines += ["", f"Version {version}: {spec.new_version[1]}."]
    lines += ["", "Demo data of the electronic bidding platform: this is not a real tender."]
    return minimal_pdf(lines)


def table_csv(rows: Sequence[Sequence[str]]) -> bytes:
    """CSV in UTF-8 with a byte-order mark, so that spreadsheet programs show the Chinese as it is."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


# --- Seeding --------------------------------------------------------------------------------------------------


async def seed(database: Database, settings: Settings) -> str:
    """Add whatever demo organisations, users and tenders are missing; return the sign-in table to print.

    Tender documents go to the blob store of ``settings``; the tenders' times follow its time zone and rules.
    """
    await _seed_people(database)
    organisations = {key: (name, credit_code) for key, _, name, _, credit_code in ORGANISATIONS}
    await demo_experts.seed_pool(database, settings, DEMO_PASSWORD, organisations)
    await _seed_tenders(database, settings)
    return "\n".join(
        [
            sign_in_table(),
            demo_bids.key_table(settings, (*CUSTODIANS, *BIDDERS)),
            await invitation_table(database, settings),
        ]
    )


async def _seed_people(database: Database) -> None:
    ids = {}
    for key, kind, name, name_en, credit_code in ORGANISATIONS:
        found = await service.find_organisation(database, credit_code)
        if found is None:
            found = await service.create_organisation(
                database, PLATFORM, NewOrganisation(kind, name, REGION, credit_code, name_en)
            )
        ids[key] = found.id
    for login, display_name, roles, organisation, language in USERS:
        try:
            await service.act_as(database, login)
        except NotFound:
            organisation_id = ids[organisation] if organisation else None
            new_user = NewUser(
                login, display_name, DEMO_PASSWORD, roles, organisation_id, language, ENGLISH_NAMES.get(login)
            )
            await service.create_user(database, PLATFORM, new_user)


@dataclasses.dataclass(frozen=True, slots=True)
class Cast:
    """Who the demo tenders name, found by login and credit code: the agent running them, the bidders acting on
    them, purchasers by their key in :data:`ORGANISATIONS`, the key custodians, the bidders' organisations."""

    agent: Actor
    bidders: dict[str, Actor]
    purchaser_ids: dict[str, int]
    custodian_ids: list[int]
    bidder_organisation_ids: list[int]


async def _cast(database: Database) -> Cast:
    def user_id(actor: Actor) -> int:
        assert actor.principal is not None, "act_as gives a person"
        return actor.principal.user_id

    def organisation_id(actor: Actor) -> int:
        assert actor.principal is not None and actor.principal.organisation_id is not None, "bidders have one"
        return actor.principal.organisation_id

    bidders = {login: await service.act_as(database, login) for login in BIDDERS}
    purchaser_ids = {}
    for key, kind, _, _, credit_code in ORGANISATIONS:
        if kind is OrganisationKind.PURCHASER:
            found = await service.find_organisation(database, credit_code)
            assert found is not None, "seeded just before"
            purchaser_ids[key] = found.id
    return Cast(
        agent=await service.act_as(database, AGENT),
        bidders=bidders,
        purchaser_ids=purchaser_ids,
        custodian_ids=[user_id(await service.act_as(database, login)) for login in CUSTODIANS],
        bidder_organisation_ids=[organisation_id(actor) for actor in bidders.values()],
    )


async def _seed_tenders(database: Database, settings: Settings) -> None:
    cast = await _cast(database)
    existing = {summary.reference for summary in await tenders_reading.list_own(database, cast.agent)}
    blobs = blob_store(settings)
    now = dt.datetime.now(ZoneInfo(settings.timezone))
    purposes = {login: Purpose.CUSTODIAN for login in CUSTODIANS} | {login: Purpose.BIDDER for login in BIDDERS}
    key_files = await demo_bids.seed_keys(database, settings, purposes)
    # The board lists the newest first: the first of TENDERS, the richest, is published last to head it.
    for spec in reversed(TENDERS):
        if spec.reference not in existing:
            await _seed_tender(database, settings, blobs, cast, spec, now, key_files)


def tender_input(spec: DemoTender, now: dt.datetime, cast: Cast) -> TenderInput:
    """The terms of a demo tender with its timetable counted from ``now``: documents at once, the deadline at the
    first 09:30 at least ``spec.days`` days later, questions until ten days before it, evaluation
    ``spec.evaluation_after`` it."""
    deadline = (now + dt.timedelta(days=spec.days)).replace(hour=9, minute=30, second=0, microsecond=0)
    if deadline < now + dt.timedelta(days=spec.days):
        deadline += dt.timedelta(days=1)
    return TenderInput(
        title=spec.title,
        description=spec.description,
        category=spec.category,
        procedure=spec.procedure,
        purchaser_id=cast.purchaser_ids[spec.purchaser],
        region=spec.region,
        lots=spec.lots,
        documents_from=now,
        questions_until=(deadline - dt.timedelta(days=10)).replace(hour=17, minute=0),
        deadline=deadline,
        evaluation_at=deadline + spec.evaluation_after,
        committee_size=spec.committee_size,
        specialties=spec.specialties,
        custodian_ids=cast.custodian_ids,
        custody_threshold=2,
        invited_ids=cast.bidder_organisation_ids if spec.procedure is Procedure.INVITED else [],
        reference=spec.reference,
        contact=AGENCY_CONTACT,
        purchaser_contact=PURCHASER_CONTACTS.get(spec.purchaser, Contact()),
    )


async def _seed_tender(
    database: Database,
    settings: Settings,
    blobs: BlobStore,
    cast: Cast,
    spec: DemoTender,
    now: dt.datetime,
    key_files: Mapping[str, KeyFile],
) -> None:
    """Take one demo tender from a draft to its outcome, each step through the use case people's pages call."""
    agent = cast.agent
    main_document = MAIN_DOCUMENTS.get(spec.category, "招标文件.pdf")
    tender_id = await tenders_drafting.create_draft(database, settings, agent, tender_input(spec, now, cast))
    documents = [(main_document, _tender_document(spec, 1))]
    if spec.table is not None:
        documents.append((spec.table[0], table_csv(spec.table[1])))
    for name, data in documents:
        await tenders_documents.upload_document(
            database, settings, blobs, agent, tender_id, filename=name, chunks=_chunks(data)
        )
    if spec.outcome == "draft":
        return
    await demo_bids.run_ceremony(database, agent, tender_id)
    await tenders_drafting.publish(database, settings, agent, tender_id)
    for login in spec.registrations:
        await questions.register(database, cast.bidders[login], tender_id)
    for question in spec.questions:
        asked = await questions.ask(database, cast.bidders[question.asker], tender_id, question.question)
        if question.answer is not None:
            await questions.answer(database, agent, tender_id, asked.id, question.answer)
        if question.correction is not None:
            await questions.correct_answer(database, agent, tender_id, asked.id, question.correction)
    if spec.new_version is not None:
        await tenders_documents.upload_document(
            database,
            settings,
            blobs,
            agent,
            tender_id,
            filename=main_document,
            chunks=_chunks(_tender_document(spec, 2)),
            summary=spec.new_version[0],
        )
    if spec.extension is not None:
        days, summary = spec.extension
        view = await tenders_reading.get_tender(database, agent, tender_id)
        terms = tenders_model.tender_input(view.tender)
        later = dt.timedelta(days=days)
        extended = msgspec.structs.replace(
            terms,
            questions_until=terms.questions_until + later,
            deadline=terms.deadline + later,
            evaluation_at=terms.evaluation_at + later,
        )
        await tenders_drafting.amend(database, settings, agent, tender_id, extended, summary=summary, substantive=False)
    if spec.bids:
        await demo_bids.submit_bids(database, settings, tender_id, cast.bidders, key_files, spec.bids)
    if spec.outcome == "cancelled":
        await tenders_drafting.cancel(database, settings, agent, tender_id, spec.cancel_reason)
    if spec.outcome == "opened":
        await demo_bids.open_tender(database, settings, agent, tender_id, key_files, CUSTODIANS[:2])
        if spec.committee != "none":
            await demo_experts.seed_committee(database, settings, agent, tender_id, spec.specialties, spec.committee)


def sign_in_table() -> str:
    names = {key: name_en for key, _, _, name_en, _ in ORGANISATIONS}
    lines = [f"Demo sign-ins (every password is {DEMO_PASSWORD!r}):"]
    for login, _, roles, organisation, _ in USERS:
        where = names[organisation] if organisation else "(independent)"
        lines.append(f"  {login:<12} {', '.join(roles):<14} {where}")
    generated = demo_experts.pool()[len(demo_experts.NAMED) :]
    lines.append(
        f"  and {generated[0].login} to {generated[-1].login}, {Role.EXPERT}s (independent): the rest of the pool"
    )
    return "\n".join(lines)


async def invitation_table(database: Database, settings: Settings) -> str:
    """Which experts have an invitation to answer, by tender: sign in as one of them to accept it."""
    agent = await service.act_as(database, AGENT)
    minutes = settings.draw_rules.invitation_minutes
    lines = [f"Expert invitations awaiting an answer (within {minutes} minutes of the draw; then a reserve is called):"]
    for summary in await tenders_reading.list_own(database, agent):
        if logins := await demo_experts.pending_logins(database, summary.id):
            lines.append(f"  {summary.reference:<18} {', '.join(logins)}")
    if len(lines) == 1:
        lines.append("  (none)")
    return "\n".join(lines)
