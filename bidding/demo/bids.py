"""The demo's keys and bids: key files for the demo bidders and custodians, the custody ceremony of each demo tender,
sealed bids in a tender open for bids, and a tender already opened with its record.

Key files are written to ``DATA_DIR/demo-keys/<login>.age`` under one passphrase, printed with the sign-ins, so a
newcomer can act as a bidder (seal a bid in the browser) or a custodian (hand in a share). Everything goes through
the use cases people's pages call, with one exception said where it is made: the opened tender's recorded history is
moved back in time until its deadline has passed, which nobody can do on the platform itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from bidding import workers
from bidding.accounts import service as accounts
from bidding.bids import repo as bids_repo
from bidding.bids import service as bids
from bidding.blobs import blob_store
from bidding.db import Database
from bidding.identity import Actor
from bidding.keys import service as keys
from bidding.keys.model import Purpose
from bidding.opening import ceremony, hall
from bidding.opening import repo as opening_repo
from bidding.settings import Settings
from bidding.tenders import reading as tenders_reading
from bidding.tenders import repo as tenders_repo
from crypto import age, custody, envelope, keyfile
from crypto.statement import PriceSheet

#: The passphrase of every demo key file (a real one is chosen by its owner and never told to anyone).
DEMO_KEY_PASSPHRASE = "demo-key-passphrase"  # noqa: S105  # printed for the demo, on purpose
#: scrypt work factor of the demo key files: the default, so they open in the browser as a real one would.
_WORK_FACTOR = age.recipients.DEFAULT_WORK_FACTOR


def key_folder(settings: Settings) -> Path:
    return settings.data_dir / "demo-keys"


def _key_name(login: str) -> str:
    return f"demo-{login}"


async def seed_keys(
    database: Database, settings: Settings, logins: Mapping[str, Purpose]
) -> dict[str, keyfile.KeyFile]:
    """Each login's key file, made and registered the first time, read back from its file after."""
    folder = key_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    found = {}
    for login, purpose in logins.items():
        path = folder / f"{login}.age"
        if path.exists():
            found[login] = keyfile.open_key_file(path.read_bytes(), DEMO_KEY_PASSPHRASE.encode())
            continue
        made = keyfile.generate_key_file(_key_name(login))
        path.write_bytes(keyfile.seal_key_file(made, DEMO_KEY_PASSPHRASE.encode(), work_factor=_WORK_FACTOR))
        actor = await accounts.act_as(database, login)
        await keys.register_key(
            database, actor, purpose, verifier_key=made.verifier_key, recipient=made.recipient.encode()
        )
        found[login] = made
    return found


async def run_ceremony(database: Database, agent: Actor, tender_id: int) -> tuple[custody.Ceremony, age.HybridIdentity]:
    """The custody ceremony as the offline command runs it, here in the process (the demo's, a test's, a
    benchmark's): the opening key is split, and the ceremony recorded. Returns it and the key, which the demo drops
    at once; a test or a benchmark may keep it to check what the custodians' shares rebuild."""
    view = await ceremony.custody_view(database, agent, tender_id)
    custodians = []
    for custodian in view.custodians:
        recipient = age.parse_recipient(custodian.recipient or "")
        assert isinstance(recipient, age.HybridRecipient), "demo custodians have post-quantum keys"
        custodians.append((custodian.login, recipient))
    made, identity = custody.split_opening_key(view.reference, custodians, view.threshold)
    await ceremony.record_ceremony(database, agent, tender_id, custody.encode_ceremony(made))
    return made, identity


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


@dataclasses.dataclass(frozen=True, slots=True)
class DemoBid:
    login: str
    total: str
    duration_days: int
    bid_security: str
    remarks: str = ""
    lot: int = 1


async def submit_bids(
    database: Database,
    settings: Settings,
    tender_id: int,
    bidders: Mapping[str, Actor],
    key_files: Mapping[str, keyfile.KeyFile],
    demo_bids: tuple[DemoBid, ...],
) -> None:
    """Seal and submit each demo bid as its bidder's browser would, through a resumable upload."""
    blobs = blob_store(settings)
    view = await tenders_reading.get_tender(database, bidders[demo_bids[0].login], tender_id)
    recipient = age.parse_recipient(view.opening_recipient or "")
    for bid in demo_bids:
        actor = bidders[bid.login]
        assert actor.principal is not None and actor.principal.organisation_name is not None
        organisation = await accounts.get_organisation(database, actor, actor.principal.organisation_id or 0)
        credit_code = organisation.credit_code or ""
        documents = [
            ("投标函.pdf", io.BytesIO(_letter(actor.principal.organisation_name, view.tender.reference, bid))),
            ("报价明细表.csv", io.BytesIO(f"\ufeff项目,金额（元）\n投标总价,{bid.total}\n".encode())),
        ]
        target = io.BytesIO()
        sealed = envelope.seal_envelope(
            target,
            documents,
            tender=view.tender.reference,
            lot=str(bid.lot),
            bidder=credit_code,
            slot="single",
            price_sheet=PriceSheet("CNY", bid.total, bid.duration_days, bid.bid_security, bid.remarks),
            recipients=[recipient, key_files[bid.login].recipient],
            signer=key_files[bid.login].signer,
            created=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        data = target.getvalue()
        upload_id = await bids.create_upload(database, blobs, actor, tender_id, len(data))
        await bids.append_upload(database, blobs, actor, upload_id, 0, _chunks(data))
        await bids.submit_bid(
            database,
            settings,
            blobs,
            actor,
            tender_id,
            upload_id=upload_id,
            signed_statement=sealed.signed_statement,
            receipt_wait=0,
        )


def _letter(organisation: str, reference: str, bid: DemoBid) -> bytes:
    """A short text standing in for the bid letter (a real one is a signed PDF)."""
    terms = f"投标总价 {bid.total} 元，工期 {bid.duration_days} 日历天。"
    return f"%PDF-1.4\n% 投标函 {reference}\n% {organisation}\n% {terms}\n".encode()


async def open_tender(
    database: Database,
    settings: Settings,
    agent: Actor,
    tender_id: int,
    key_files: Mapping[str, keyfile.KeyFile],
    custodians: tuple[str, ...],
) -> None:
    """Open a demo tender now. The demo's one shortcut comes first: everything recorded of the tender so far (its
    timeline, publication, documents, questions, bids, ceremony) is moved back together until its deadline passed
    an hour ago, as though it had been published weeks before; on the platform a deadline only ever moves out. The
    log and the open data releases keep the moments of seeding. Then the custodians hand in their shares."""
    async with database.transaction() as connection:
        tender = await tenders_repo.lock_tender(connection, tender_id)
        assert tender is not None
        by = tender.deadline - (await tenders_repo.select_now(connection) - dt.timedelta(hours=1))
        await tenders_repo.backdate_tender(connection, tender_id, by)
        await bids_repo.backdate_bids(connection, tender_id, by)
        await opening_repo.backdate_custody(connection, tender_id, by)
    await hall.start_opening(database, settings, agent, tender_id)
    blobs = blob_store(settings)
    async with database.connection() as connection:
        shares = {share.login: share for share in await opening_repo.select_shares(connection, tender_id)}
    for login in custodians:
        mnemonic = custody.open_sealed_share(shares[login].sealed, key_files[login].identity, tender.reference)
        custodian = await accounts.act_as(database, login)
        await hall.hand_in_share(database, settings, blobs, custodian, tender_id, mnemonic)
    workers.stop()  # the demo is seeded before the server starts: its processes need none kept idle


def key_table(settings: Settings, logins: tuple[str, ...]) -> str:
    lines = [f"Demo key files (passphrase {DEMO_KEY_PASSPHRASE!r}), to seal a bid or hand in a share:"]
    lines += [f"  {login:<12} {key_folder(settings) / f'{login}.age'}" for login in logins]
    return "\n".join(lines)
