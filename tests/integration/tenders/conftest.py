"""The people of a tender: an agency and its purchaser, another agency, three bidders, custodians, a supervisor."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bidding.accounts import passwords
from bidding.accounts import repo as accounts_repo
from bidding.accounts import service as accounts
from bidding.accounts.model import NewUser
from bidding.accounts.repo import Organisation
from bidding.blobs import BlobStore
from bidding.db import Database
from bidding.demo.bids import run_ceremony as run_ceremony_here
from bidding.identity import Actor, OrganisationKind, Role
from bidding.keys import service as keys
from bidding.keys.model import Purpose
from bidding.opening import ceremony
from bidding.settings import Settings
from bidding.tenders import documents, drafting
from bidding.tenders.model import TenderInput
from crypto import age, keyfile
from tests.integration.conftest import PASSWORD, MakeOrganisation
from tests.samples import sample_tender


@dataclasses.dataclass
class Cast:
    settings: Settings
    blobs: BlobStore
    now: dt.datetime
    agent: Actor
    other_agent: Actor
    purchaser_staff: Actor
    bidders: list[Actor]
    supervisor: Actor
    admin: Actor
    expert: Actor
    purchaser_id: int
    bidder_ids: list[int]
    custodian_ids: list[int]

    def tender(self, **changes: object) -> TenderInput:
        values: dict[str, Any] = {"purchaser_id": self.purchaser_id, "custodian_ids": self.custodian_ids} | changes
        return sample_tender(self.now, **values)


@functools.cache
def _password_hash() -> str:
    return passwords.hash_password(PASSWORD)


async def new_actor(db: Database, login: str, role: Role, organisation: Organisation | None = None) -> Actor:
    """A user made without hashing a password each time (one real hash serves them all), acting as itself."""
    async with db.transaction() as connection:
        user = NewUser(login, login.title(), PASSWORD, [role], organisation.id if organisation else None)
        await accounts_repo.insert_user(connection, user, _password_hash())
    return await accounts.act_as(db, login)


@pytest.fixture
async def cast(
    db: Database,
    connection: asyncpg.Connection,
    make_organisation: MakeOrganisation,
    tmp_path: Path,
) -> Cast:
    agency = await make_organisation(OrganisationKind.AGENCY, "明诚招标代理")
    other_agency = await make_organisation(OrganisationKind.AGENCY, "另一家代理")
    purchaser = await make_organisation(OrganisationKind.PURCHASER, "第一人民医院")
    platform = await make_organisation(OrganisationKind.PLATFORM, "交易中心")
    bidder_organisations = [await make_organisation(OrganisationKind.BIDDER, f"投标人{i}") for i in range(1, 4)]
    custodians = []
    for index, organisation in enumerate((agency, purchaser, platform), start=1):
        custodian = await new_actor(db, f"custodian{index}", Role.CUSTODIAN, organisation)
        assert custodian.principal is not None
        custodians.append(custodian.principal.user_id)
    return Cast(
        settings=Settings(database_url="postgresql://unused", secret_key="t" * 64, data_dir=tmp_path),
        blobs=BlobStore(tmp_path / "blobs"),
        now=await connection.fetchval("SELECT now()"),
        agent=await new_actor(db, "agent", Role.AGENCY_STAFF, agency),
        other_agent=await new_actor(db, "other-agent", Role.AGENCY_STAFF, other_agency),
        purchaser_staff=await new_actor(db, "buyer", Role.AGENCY_STAFF, purchaser),
        bidders=[
            await new_actor(db, f"bidder{i}", Role.BIDDER, organisation)
            for i, organisation in enumerate(bidder_organisations, start=1)
        ],
        supervisor=await new_actor(db, "watcher", Role.SUPERVISOR, platform),
        admin=await new_actor(db, "root", Role.ADMIN, platform),
        expert=await new_actor(db, "expert", Role.EXPERT),
        purchaser_id=purchaser.id,
        bidder_ids=[organisation.id for organisation in bidder_organisations],
        custodian_ids=custodians,
    )


async def chunks_of(data: bytes, size: int = 64 * 1024):  # type: ignore[no-untyped-def]  # an async generator, typed by its callers
    for start in range(0, len(data), size):
        yield data[start : start + size]


def key_file(name: str, number: int) -> keyfile.KeyFile:
    return keyfile.key_file_from_parts(name, bytes([number]) * 32, bytes([number + 100]) * 32)


async def run_ceremony(db: Database, cast: Cast, tender_id: int) -> tuple[age.HybridRecipient, list[keyfile.KeyFile]]:
    """Record a custody ceremony for a draft, made as the offline command makes it, for the tender's custodians.

    Custodians without a key register one first (``custodian-N``, the same for every tender of a test).
    """
    view = await ceremony.custody_view(db, cast.agent, tender_id)
    custodian_keys = []
    for custodian in view.custodians:
        keys_file = key_file(custodian.login, 50 + custodian.user_id % 50)
        if custodian.recipient is None:
            await keys.register_key(
                db,
                await accounts.act_as(db, custodian.login),
                Purpose.CUSTODIAN,
                verifier_key=keys_file.verifier_key,
                recipient=keys_file.recipient.encode(),
            )
        custodian_keys.append(keys_file)
    made, _ = await run_ceremony_here(db, cast.agent, tender_id)
    return made.recipient, custodian_keys


async def publish(db: Database, cast: Cast, tender_id: int, settings: Settings | None = None) -> None:
    """Run the custody ceremony and publish, as the agent does."""
    await run_ceremony(db, cast, tender_id)
    await drafting.publish(db, settings or cast.settings, cast.agent, tender_id)


async def published_tender(db: Database, cast: Cast, **changes: object) -> int:
    """A tender drafted, given a document, its ceremony run and published by the agent."""
    tender_id = await drafting.create_draft(db, cast.settings, cast.agent, cast.tender(**changes))
    await documents.upload_document(
        db, cast.settings, cast.blobs, cast.agent, tender_id, filename="招标文件.pdf", chunks=chunks_of(b"%PDF-1.7 v1")
    )
    await publish(db, cast, tender_id)
    return tender_id
