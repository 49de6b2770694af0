"""The supervisors' console on a real PostgreSQL: searching the trail, timelines, an event held against the log,
and exports that ``bidding log proof`` verifies offline (and that fail once anything in them is changed)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from bidding.db import Database
from bidding.errors import Forbidden, InvalidInput, NotFound, TooLarge
from bidding.identity import Actor
from bidding.log import repo, tree
from bidding.log.model import EXPORT_FORMAT
from bidding.offline.verify import VerifyError, verify_export
from bidding.settings import Settings
from bidding.supervision import service
from bidding.supervision.service import EventQuery
from bidding.tenders import questions
from crypto import note, tiles
from tests.integration.tenders.conftest import Cast, published_tender

SHANGHAI = ZoneInfo("Asia/Shanghai")
ORIGIN = "bids.example.org/log"


@pytest.fixture
def key(db: Database, tmp_path: Path) -> tree.LogKey:
    return tree.load_log_key(Settings(data_dir=tmp_path, log_origin=ORIGIN))


@dataclasses.dataclass
class Story:
    """A tender published by the agent, registered for and asked about by a bidder, and the tender's events."""

    tender_id: int
    other_tender_id: int


@pytest.fixture
async def story(db: Database, cast: Cast) -> Story:
    tender_id = await published_tender(db, cast)
    other_tender_id = await published_tender(db, cast, reference="ZB-OTHER-1")
    await questions.register(db, cast.bidders[0], tender_id)
    await questions.ask(db, cast.bidders[0], tender_id, "工期可以延长吗？")
    return Story(tender_id, other_tender_id)


async def _search(db: Database, cast: Cast, **filters: object) -> service.EventPage:
    return await service.search_events(db, cast.settings, cast.supervisor, EventQuery(**filters))  # type: ignore[arg-type]  # each test passes the query's own fields


def _user_id(actor: Actor) -> int:
    assert actor.principal is not None
    return actor.principal.user_id


def _organisation_id(actor: Actor) -> int:
    assert actor.principal is not None and actor.principal.organisation_id is not None
    return actor.principal.organisation_id


# --- Searching ------------------------------------------------------------------------------------------------


async def test_the_search_pages_through_every_event_newest_first(db: Database, cast: Cast, story: Story) -> None:
    everything = await _search(db, cast, limit=500)
    assert everything.next_cursor is None
    keys = [(event.at, event.id) for event in everything.items]
    assert keys == sorted(keys, reverse=True) and len(keys) > 10
    seen = []
    cursor = None
    while True:
        page = await _search(db, cast, limit=4, cursor=cursor)
        assert len(page.items) <= 4
        seen += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [event.id for event in seen] == [event.id for event in everything.items]


async def test_filters_by_action_exactly_or_by_kind(db: Database, cast: Cast, story: Story) -> None:
    published = await _search(db, cast, action="tender.published")
    assert [event.subject for event in published.items] == [
        f"tender:{story.other_tender_id}",
        f"tender:{story.tender_id}",
    ]
    of_tenders = await _search(db, cast, action="tender.", limit=500)
    assert {event.action for event in of_tenders.items} == {
        "tender.drafted",
        "tender.document_uploaded",
        "tender.custody_recorded",
        "tender.published",
        "tender.registered",
        "tender.question_asked",
    }
    assert (await _search(db, cast, action="tender")).items == of_tenders.items[:100]


async def test_filters_by_subject_actor_role_and_organisation(db: Database, cast: Cast, story: Story) -> None:
    subject = await _search(db, cast, subject=f"tender:{story.tender_id}")
    assert [event.action for event in subject.items] == [
        "tender.question_asked",
        "tender.registered",
        "tender.published",
        "tender.custody_recorded",
        "tender.document_uploaded",
        "tender.drafted",
    ]
    bidder = cast.bidders[0]
    assert bidder.principal is not None
    by_bidder = await _search(db, cast, actor=bidder.principal.login.upper())
    assert [event.action for event in by_bidder.items] == ["tender.question_asked", "tender.registered"]
    assert all(event.actor_login == bidder.principal.login for event in by_bidder.items)
    by_role = await _search(db, cast, role="bidder", subject=f"tender:{story.tender_id}")
    assert by_role.items == by_bidder.items
    by_organisation = await _search(db, cast, organisation=str(_organisation_id(cast.agent)), limit=500)
    assert {event.subject for event in by_organisation.items} == {
        f"tender:{story.tender_id}",
        f"tender:{story.other_tender_id}",
        f"user:{cast.custodian_ids[0]}",  # the agency's custodian registered a key for the ceremonies
    }
    platform = await _search(db, cast, role="platform", action="organisation.created")
    assert len(platform.items) == 7 and all(event.actor_user_id is None for event in platform.items)
    nothing = await _search(db, cast, role="expert")
    assert nothing.items == [] and nothing.next_cursor is None


async def test_filters_by_a_period_in_the_platform_time_zone(
    db: Database, connection: asyncpg.Connection, cast: Cast, story: Story
) -> None:
    """Every event of one transaction has one time; these are moved to the edges of 1 July 2026, Shanghai time."""
    published = (await _search(db, cast, action="tender.published", subject=f"tender:{story.tender_id}")).items[0]
    asked = (await _search(db, cast, action="tender.question_asked")).items[0]
    first_of_july = dt.datetime(2026, 7, 1, tzinfo=SHANGHAI)
    await connection.execute("UPDATE audit_events SET at = $2 WHERE id = $1", published.id, first_of_july)
    last_moment = first_of_july + dt.timedelta(days=1, microseconds=-1)
    await connection.execute("UPDATE audit_events SET at = $2 WHERE id = $1", asked.id, last_moment)

    def ids(page: service.EventPage) -> list[int]:
        return [event.id for event in page.items]

    assert ids(await _search(db, cast, since="2026-07-01", until="2026-07-01")) == [asked.id, published.id]
    assert ids(await _search(db, cast, since="2026-07-01 00:01", until="2026-07-01")) == [asked.id]
    assert ids(await _search(db, cast, since="2026-06-01", until="2026-07-01 00:00")) == [published.id]
    assert ids(await _search(db, cast, since="2026-06-30T16:00:00Z", until="2026-06-30T16:00:00Z")) == [published.id]
    assert ids(await _search(db, cast, until="2026-06-30")) == []


async def test_filters_that_cannot_be_read_are_all_named(db: Database, cast: Cast, story: Story) -> None:
    with pytest.raises(InvalidInput) as refused:
        await _search(
            db,
            cast,
            since="yesterday",
            until="2026-13-40",
            actor="nobody-has-this",
            role="king",
            action="tender%",
            subject="tender 17",
            organisation="five",
            cursor="not a cursor",
            limit=0,
        )
    assert set(refused.value.errors) == {
        "since",
        "until",
        "actor",
        "role",
        "action",
        "subject",
        "organisation",
        "cursor",
        "limit",
    }
    with pytest.raises(InvalidInput) as backwards:
        await _search(db, cast, since="2026-07-02", until="2026-07-01")
    assert set(backwards.value.errors) == {"until"}


async def test_only_supervisors_read_the_trail(db: Database, cast: Cast, story: Story) -> None:
    for actor in (cast.agent, cast.bidders[0], cast.admin, cast.expert, Actor(None)):
        with pytest.raises(Forbidden):
            await service.search_events(db, cast.settings, actor, EventQuery())
        with pytest.raises(Forbidden):
            await service.tender_events(db, actor, story.tender_id)
        with pytest.raises(Forbidden):
            await service.organisation_events(db, actor, _organisation_id(cast.agent))
        with pytest.raises(Forbidden):
            await service.user_events(db, actor, _user_id(cast.agent))
        with pytest.raises(Forbidden):
            await service.inspect_event(db, cast.settings, actor, 1)
        with pytest.raises(Forbidden):
            await service.export_subject(db, cast.settings, actor, f"tender:{story.tender_id}")


# --- Timelines ------------------------------------------------------------------------------------------------


async def test_a_tender_timeline_is_every_event_whose_subject_is_the_tender(
    db: Database, cast: Cast, story: Story
) -> None:
    timeline = await service.tender_events(db, cast.supervisor, story.tender_id)
    assert {event.subject for event in timeline.items} == {f"tender:{story.tender_id}"}
    assert len(timeline.items) == 6
    first = await service.tender_events(db, cast.supervisor, story.tender_id, limit=3)
    rest = await service.tender_events(db, cast.supervisor, story.tender_id, cursor=first.next_cursor)
    assert first.items + rest.items == timeline.items and rest.next_cursor is None


async def test_an_organisation_timeline_is_what_it_did_and_what_was_done_to_it(
    db: Database, cast: Cast, story: Story
) -> None:
    bidder_organisation = _organisation_id(cast.bidders[0])
    timeline = await service.organisation_events(db, cast.supervisor, bidder_organisation)
    assert [(event.action, event.subject) for event in timeline.items] == [
        ("tender.question_asked", f"tender:{story.tender_id}"),
        ("tender.registered", f"tender:{story.tender_id}"),
        ("organisation.created", f"organisation:{bidder_organisation}"),
    ]


async def test_a_person_timeline_is_what_they_did_and_what_was_done_to_their_account(
    db: Database, cast: Cast, story: Story
) -> None:
    bidder = _user_id(cast.bidders[0])
    await questions.register(db, cast.bidders[1], story.tender_id)
    await questions.ask(db, cast.bidders[1], story.tender_id, "另一个问题")
    timeline = await service.user_events(db, cast.supervisor, bidder)
    assert [(event.action, event.actor_user_id) for event in timeline.items] == [
        ("tender.question_asked", bidder),
        ("tender.registered", bidder),
    ]
    await service.user_events(db, cast.supervisor, 10**12)  # nobody: an empty timeline, not an error
    with pytest.raises(InvalidInput):
        await service.user_events(db, cast.supervisor, bidder, limit=10_000)


# --- One event against the log --------------------------------------------------------------------------------


async def _published_event(db: Database, cast: Cast, story: Story) -> int:
    page = await _search(db, cast, action="tender.published", subject=f"tender:{story.tender_id}")
    return page.items[0].id


async def test_an_event_matches_the_log_once_sequenced(
    db: Database, connection: asyncpg.Connection, cast: Cast, story: Story, key: tree.LogKey
) -> None:
    event_id = await _published_event(db, cast, story)
    before = await service.inspect_event(db, cast.settings, cast.supervisor, event_id)
    assert not before.sequenced and not before.matches and before.logged_entry is None
    await tree.sequence(connection, key)
    inspection = await service.inspect_event(db, cast.settings, cast.supervisor, event_id)
    assert inspection.sequenced and inspection.matches and inspection.in_tree
    assert inspection.logged_entry == inspection.rebuilt_entry
    assert json.loads(inspection.rebuilt_entry)["private"] == inspection.commitment
    agent = _user_id(cast.agent)
    assert inspection.names.people[agent].login == "agent" and inspection.record["event_id"] == event_id
    assert inspection.checkpoint is not None and inspection.published == inspection.checkpoint
    assert inspection.checkpoint.size > (inspection.event.log_index or 0)
    with pytest.raises(NotFound):
        await service.inspect_event(db, cast.settings, cast.supervisor, 10**12)


@pytest.mark.parametrize(
    ("change", "differences"),
    [
        ("UPDATE audit_events SET details = details || '{\"version\": 99}' WHERE id = $1", ("details",)),
        ("UPDATE audit_events SET client_ip = '198.51.100.7' WHERE id = $1", ("private",)),
        (
            "UPDATE audit_events SET subject = 'tender:0', actor_role = 'bidder' WHERE id = $1",
            ("subject", "role", "private"),
        ),
    ],
)
async def test_a_row_changed_after_it_was_logged_is_named(
    db: Database,
    connection: asyncpg.Connection,
    cast: Cast,
    story: Story,
    key: tree.LogKey,
    change: str,
    differences: tuple[str, ...],
) -> None:
    event_id = await _published_event(db, cast, story)
    await tree.sequence(connection, key)
    await connection.execute(change, event_id)
    inspection = await service.inspect_event(db, cast.settings, cast.supervisor, event_id)
    assert not inspection.matches
    assert inspection.differences == differences
    assert inspection.in_tree, "the log itself is intact"


async def test_an_entry_changed_in_the_log_no_longer_hashes_into_the_tree(
    db: Database, connection: asyncpg.Connection, cast: Cast, story: Story, key: tree.LogKey
) -> None:
    event_id = await _published_event(db, cast, story)
    await tree.sequence(connection, key)
    inspection = await service.inspect_event(db, cast.settings, cast.supervisor, event_id)
    index = inspection.event.log_index
    assert index is not None and inspection.logged_entry is not None
    bundle = await repo.select_bundle(connection, index // tiles.TILE_WIDTH)
    assert bundle is not None
    entries = tiles.bundle_entries(bundle[1], bundle[0])
    entries[index % tiles.TILE_WIDTH] = inspection.logged_entry.replace(b"tender.published", b"tender.cancelled")
    await connection.execute(
        "UPDATE log_bundles SET entries = $2 WHERE index = $1", index // tiles.TILE_WIDTH, tiles.bundle_bytes(entries)
    )
    tampered = await service.inspect_event(db, cast.settings, cast.supervisor, event_id)
    assert tampered.differences == ("action",)
    assert not tampered.in_tree and not tampered.matches


# --- Exports --------------------------------------------------------------------------------------------------


async def _export(db: Database, cast: Cast, story: Story) -> dict[str, object]:
    data = await service.export_subject(db, cast.settings, cast.supervisor, f"tender:{story.tender_id}")
    export: dict[str, object] = json.loads(data)
    return export


async def test_an_export_proves_every_sequenced_event_against_one_checkpoint_and_lists_the_rest(
    db: Database, connection: asyncpg.Connection, cast: Cast, story: Story, key: tree.LogKey
) -> None:
    with pytest.raises(NotFound):
        await _export(db, cast, story)  # no checkpoint yet
    await tree.sequence(connection, key)
    await questions.ask(db, cast.bidders[0], story.tender_id, "还有一个问题")  # written after the checkpoint
    data = await service.export_subject(db, cast.settings, cast.supervisor, f"tender:{story.tender_id}")
    export = json.loads(data)
    assert export["format"] == EXPORT_FORMAT and export["origin"] == ORIGIN
    assert export["subject"] == f"tender:{story.tender_id}"
    proven = verify_export(data, key.verifier_key)
    assert len(proven) == len(export["events"]) == 6
    assert all(event.record_checked for event in proven)
    assert [event.index for event in proven] == sorted(event.index for event in proven)
    assert sum(1 for event in proven if event.entry.get("sealed")) == 1  # the registration
    checkpoints = {
        note.parse_unverified_log_proof(item["receipt"].encode()).signed_checkpoint for item in export["events"]
    }
    assert len(checkpoints) == 1
    assert export["checkpoint_size"] == note.parse_checkpoint(note.parse_unverified_note(checkpoints.pop()).text).size
    [pending] = export["pending"]
    asked = await _search(db, cast, action="tender.question_asked", subject=f"tender:{story.tender_id}")
    assert pending["event_id"] == asked.items[0].id and pending["log_index"] is None


async def test_a_changed_export_does_not_verify(
    db: Database, connection: asyncpg.Connection, cast: Cast, story: Story, key: tree.LogKey
) -> None:
    await tree.sequence(connection, key)
    export = await _export(db, cast, story)
    events = export["events"]
    assert isinstance(events, list)

    def changed(number: int, field: str, value: object) -> bytes:
        copy = json.loads(json.dumps(export))
        copy["events"][number][field] = value
        return json.dumps(copy).encode()

    record = dict(events[0]["record"]) | {"client_ip": "203.0.113.9"}
    first, second, third_id = (events[number]["event_id"] for number in range(3))
    with pytest.raises(
        VerifyError, match=rf"event {first} \(item 1 of the export\): the private record does not match"
    ):
        verify_export(changed(0, "record", record), key.verifier_key)
    # The entry of another event put into this receipt: it is not the leaf the proof starts from.
    receipt = events[1]["receipt"]
    other = note.parse_unverified_log_proof(events[2]["receipt"].encode()).unverified_extra
    this = note.parse_unverified_log_proof(receipt.encode()).unverified_extra
    assert this is not None and other is not None
    forged = receipt.replace(base64.b64encode(this).decode(), base64.b64encode(other).decode())
    with pytest.raises(VerifyError, match=rf"event {second} \(item 2 of the export\): the receipt does not verify"):
        verify_export(changed(1, "receipt", forged), key.verifier_key)
    # Its index moved: the same proof leads elsewhere.
    third = events[2]["receipt"]
    index = note.parse_unverified_log_proof(third.encode()).index
    moved = third.replace(f"index {index}\n", f"index {index + 1}\n")
    with pytest.raises(VerifyError, match=rf"event {third_id} \(item 3 of the export\): the receipt does not verify"):
        verify_export(changed(2, "receipt", moved), key.verifier_key)
    # Signed by another key than the log's.
    other_key = tree.load_log_key(Settings(data_dir=Path(cast.settings.data_dir) / "other", log_origin=ORIGIN))
    with pytest.raises(VerifyError):
        verify_export(json.dumps(export).encode(), other_key.verifier_key)


async def test_an_export_refuses_what_is_not_a_subject_and_more_than_it_holds(
    db: Database,
    connection: asyncpg.Connection,
    cast: Cast,
    story: Story,
    key: tree.LogKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await tree.sequence(connection, key)
    with pytest.raises(InvalidInput):
        await service.export_subject(db, cast.settings, cast.supervisor, "tender 17")
    monkeypatch.setattr(service, "MAX_EXPORT_EVENTS", 4)
    with pytest.raises(TooLarge):
        await _export(db, cast, story)
