"""Who may run, see, download from, keep custody of and attend a tender: one answer for every domain."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bidding.errors import Forbidden, NotFound
from bidding.identity import PLATFORM, Actor, OrganisationKind, Principal, Role
from bidding.tenders import policy
from bidding.tenders.model import Party, Procedure, Status, Tender
from tests.samples import tender_record

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
AGENCY, PURCHASER, BIDDER, OTHER_AGENCY = 1, 2, 3, 4
CUSTODIAN_ID = 50


def _actor(user_id: int, organisation_id: int | None, *roles: Role) -> Actor:
    kinds = {AGENCY: OrganisationKind.AGENCY, PURCHASER: OrganisationKind.PURCHASER, BIDDER: OrganisationKind.BIDDER}
    principal = Principal(
        user_id=user_id,
        login=f"user{user_id}",
        display_name=f"User {user_id}",
        language="en",
        roles=frozenset(roles),
        organisation_id=organisation_id,
        organisation_kind=kinds.get(organisation_id or 0),
        organisation_name=None,
        via="session",
        credential_hash=b"",
    )
    return Actor(principal)


AGENT = _actor(10, AGENCY, Role.AGENCY_STAFF)
PURCHASER_STAFF = _actor(11, PURCHASER, Role.AGENCY_STAFF)
OTHER_AGENT = _actor(12, OTHER_AGENCY, Role.AGENCY_STAFF)
BIDDER_STAFF = _actor(13, BIDDER, Role.BIDDER)
SUPERVISOR = _actor(14, None, Role.SUPERVISOR)
ADMIN = _actor(15, None, Role.ADMIN)
CUSTODIAN = _actor(CUSTODIAN_ID, OTHER_AGENCY, Role.CUSTODIAN)
NOBODY = Actor(None)


def _tender(*, published: bool = True) -> Tender:
    return tender_record(
        status=Status.PUBLISHED if published else Status.DRAFT,
        custodian_ids=(CUSTODIAN_ID,),
        version=1 if published else 0,
        agency=Party(AGENCY, "代理", None, None),
        purchaser=Party(PURCHASER, "采购人", None, None),
        published_at=NOW if published else None,
    )


def test_only_the_running_organisations_staff_run_a_tender() -> None:
    tender = _tender()
    assert policy.runs(AGENT, tender)
    assert not any(policy.runs(a, tender) for a in (PURCHASER_STAFF, OTHER_AGENT, SUPERVISOR, ADMIN, NOBODY))


def test_a_draft_is_seen_by_the_agency_the_purchaser_supervisors_and_the_platform_only() -> None:
    draft = _tender(published=False)
    assert all(policy.sees(a, draft) for a in (AGENT, PURCHASER_STAFF, SUPERVISOR, PLATFORM))
    assert not any(policy.sees(a, draft) for a in (OTHER_AGENT, BIDDER_STAFF, ADMIN, NOBODY))
    assert all(policy.sees(a, _tender()) for a in (OTHER_AGENT, BIDDER_STAFF, NOBODY))


def test_changing_someone_elses_tender_is_forbidden_and_their_draft_does_not_exist() -> None:
    with pytest.raises(Forbidden):
        policy.check_runs(OTHER_AGENT, _tender())
    with pytest.raises(NotFound):
        policy.check_runs(OTHER_AGENT, _tender(published=False))
    with pytest.raises(NotFound):
        policy.check_runs(AGENT, None)
    assert policy.check_runs(AGENT, _tender()).id == 7


def test_only_a_bidder_acts_for_a_bidder_organisation() -> None:
    assert policy.bidder_of(BIDDER_STAFF) == BIDDER
    assert policy.bidder_of(AGENT) is None
    with pytest.raises(Forbidden):
        policy.bidder_organisation(AGENT)


def test_documents_go_to_registered_bidders_staff_supervisors_and_administrators_signed_in() -> None:
    tender = _tender()
    assert not policy.may_download(BIDDER_STAFF, tender, registered=False)
    assert policy.may_download(BIDDER_STAFF, tender, registered=True)
    assert all(policy.may_download(a, tender, registered=False) for a in (AGENT, PURCHASER_STAFF, SUPERVISOR, ADMIN))
    assert not policy.may_download(PLATFORM, tender, registered=False), "every download is recorded against a person"
    assert not policy.may_download(OTHER_AGENT, tender, registered=False)


def test_the_opening_hall_admits_staff_custodians_supervisors_and_registered_bidders_once_published() -> None:
    tender = _tender()
    assert all(policy.attends(a, tender, registered=False) for a in (AGENT, CUSTODIAN, SUPERVISOR))
    assert policy.attends(BIDDER_STAFF, tender, registered=True)
    assert not policy.attends(BIDDER_STAFF, tender, registered=False)
    assert not any(policy.attends(a, tender, registered=False) for a in (PURCHASER_STAFF, ADMIN, NOBODY))
    assert not policy.attends(AGENT, _tender(published=False), registered=False)


def test_the_custody_ceremony_is_for_staff_custodians_and_supervisors() -> None:
    tender = _tender()
    assert all(policy.keeps_custody(a, tender) for a in (AGENT, CUSTODIAN, SUPERVISOR))
    assert not any(policy.keeps_custody(a, tender) for a in (BIDDER_STAFF, PURCHASER_STAFF, ADMIN, NOBODY))


def test_access_offers_a_bidder_registration_only_while_it_may_register() -> None:
    tender = _tender()
    open_access = policy.access_of(BIDDER_STAFF, tender, Status.PUBLISHED, NOW, registered=False, invited=False)
    assert open_access.register and open_access.register_refusal is None and not open_access.download
    closed = policy.access_of(BIDDER_STAFF, tender, Status.CLOSED, NOW, registered=False, invited=False)
    assert not closed.register and closed.register_refusal is not None
    invited_only = dataclasses.replace(tender, procedure=Procedure.INVITED)
    refused = policy.access_of(BIDDER_STAFF, invited_only, Status.PUBLISHED, NOW, registered=False, invited=False)
    assert not refused.register and refused.register_refusal is not None
    agent = policy.access_of(AGENT, tender, Status.PUBLISHED, NOW, registered=False, invited=False)
    assert agent.amend and agent.answer and agent.internals and not agent.edit and not agent.register
