"""The supervisors' console over HTTP against the running server: searching the demo trail, timelines, an event
held against the log (and a row changed behind the log's back), and a tender's export checked by
``bidding log proof`` in a process of its own."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from markupsafe import escape

from bidding.i18n import N_, load_translators
from bidding.supervision.pages import ENTRY_FIELD_NAMES
from tests.e2e.conftest import Clients, Server

TRANSLATORS = load_translators(Path(__file__).resolve().parents[2] / "frontend" / "translations")
#: Every page of the console, with ``{tender}``, ``{organisation}``, ``{user}`` and ``{event}`` to fill in.
CONSOLE = (
    "/supervision/events",
    "/supervision/events/{event}",
    "/supervision/tenders/{tender}/events",
    "/supervision/tenders/{tender}/export",
    "/supervision/organisations/{organisation}/events",
    "/supervision/users/{user}/events",
)

#: What the event page says of an event the log holds exactly (supervision/event.html).
MATCHES = (
    "This event matches the log: the log's entry %(index)s is the one rebuilt from this "
    "record, it commits to the private record below, and the log's hashes lead from it to the root of the "
    "checkpoint it was signed in."
)


def chinese(text: str, **params: object) -> str:
    """A sentence as supervisor1, who reads Chinese, is shown it: translated and HTML-escaped."""
    return str(escape(TRANSLATORS["zh-CN"].render(N_(text, **params))))


def demo_tender(server: Server) -> int:
    """The first published demo tender, which has a drafting, uploads and a publication in the trail."""
    tender_id: int = server.sql("SELECT min(id) FROM tenders WHERE status = 'published' AND reference NOT LIKE 'E2E%'")
    return tender_id


def wait_until_sequenced(client: httpx.Client, event_id: int, timeout: float = 30) -> str:
    """The event's receipt, once the server's sequencer has put it in a published checkpoint."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/api/v1/events/{event_id}/receipt", params={"wait": 5})
        if response.status_code == 200:
            return response.text
        assert response.status_code == 409, response.text
        assert time.monotonic() < deadline, f"event {event_id} was not sequenced within {timeout} s"


def _fill(template: str, server: Server) -> str:
    return template.format(
        tender=demo_tender(server),
        organisation=server.sql("SELECT min(id) FROM organisations"),
        user=server.sql("SELECT id FROM users WHERE login = 'agent'"),
        event=server.sql("SELECT min(id) FROM audit_events"),
    )


@pytest.mark.parametrize("login", ["bidder1", "agent", "admin", "expert1", "custodian1"])
def test_the_console_is_for_supervisors_only(server: Server, clients: Clients, login: str) -> None:
    client = clients.sign_in(login)
    for template in CONSOLE:
        response = client.get(_fill(template, server))
        assert response.status_code == 403, (template, response.status_code)
        assert "text/html" in response.headers["content-type"]
    anonymous = clients.new()
    for template in CONSOLE:
        response = anonymous.get(_fill(template, server))
        assert response.status_code == 303 and response.headers["location"].startswith("/sign-in?next=")


def test_the_trail_is_searched_by_action_and_filters_that_cannot_be_read_are_shown(
    server: Server, clients: Clients
) -> None:
    supervisor = clients.sign_in("supervisor1")
    everything = supervisor.get("/supervision/events")
    assert everything.status_code == 200
    total = server.sql("SELECT count(*) FROM audit_events")
    assert everything.text.count('class="event-link"') == min(total, 100)
    published = supervisor.get("/supervision/events", params={"action": "tender.published"})
    assert published.status_code == 200
    actions = published.text.count('<code class="action-code">tender.published</code>')
    assert actions == published.text.count('class="event-link"') > 0
    assert '<code class="action-code">tender.drafted</code>' not in published.text
    tender_id = demo_tender(server)
    timeline_link = f'href="/supervision/tenders/{tender_id}/events"'
    of_tender = supervisor.get("/supervision/events", params={"action": "tender.", "subject": f"tender:{tender_id}"})
    assert of_tender.status_code == 200 and timeline_link in of_tender.text
    by_agent = supervisor.get("/supervision/events", params={"actor": "agent", "role": "agency_staff"})
    assert by_agent.status_code == 200 and by_agent.text.count('class="event-link"') > 0
    refused = supervisor.get(
        "/supervision/events", params={"since": "昨天", "action": "tender%", "subject": "tender 1", "actor": "nobody"}
    )
    assert refused.status_code == 422
    assert 'class="error-summary"' in refused.text and 'class="event-link"' not in refused.text
    for sentence in (
        "Give a day such as 2026-07-01, or a time such as 2026-07-01 09:30.",
        "Give an action such as tender.published, or tender. for every action of tenders.",
        "Give a subject such as tender:17 or user:3.",
    ):
        assert chinese(sentence) in refused.text
    assert chinese("No one has the login %(login)s.", login="nobody") in refused.text
    assert 'value="tender%"' in refused.text, "what was typed is kept"


def test_the_next_page_link_carries_the_filters(server: Server, clients: Clients) -> None:
    """A hundred events a page: 130 events of one subject of this test's own make two pages."""
    subject = f"console:paging-{time.monotonic_ns()}"
    server.sql(
        "INSERT INTO audit_events (actor_role, action, subject) SELECT 'platform', 'console.paged', $1"
        " FROM generate_series(1, 130)",
        subject,
    )
    supervisor = clients.sign_in("supervisor1")
    first = supervisor.get("/supervision/events", params={"subject": subject})
    assert first.status_code == 200 and first.text.count('class="event-link"') == 100
    found = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert found, "the first page links to the next"
    link = found.group(1).replace("&amp;", "&")
    assert link.startswith("/supervision/events?subject=console%3Apaging-") and "&cursor=" in link
    second = supervisor.get(link)
    assert second.status_code == 200 and second.text.count('class="event-link"') == 30
    assert 'rel="next"' not in second.text
    shown = re.findall(r'href="/supervision/events/(\d+)"', first.text + second.text)
    assert len(set(shown)) == 130


def test_timelines_of_a_tender_an_organisation_and_a_person(server: Server, clients: Clients) -> None:
    supervisor = clients.sign_in("supervisor1")
    tender_id = demo_tender(server)
    reference = server.sql("SELECT reference FROM tenders WHERE id = $1", tender_id)
    tender = supervisor.get(f"/supervision/tenders/{tender_id}/events")
    assert tender.status_code == 200
    assert chinese("Timeline of tender %(reference)s", reference=reference) in tender.text
    assert '<code class="action-code">tender.published</code>' in tender.text
    assert f'href="/supervision/tenders/{tender_id}/export"' in tender.text
    notice = supervisor.get(f"/tenders/{tender_id}")
    assert f'href="/supervision/tenders/{tender_id}/events"' in notice.text
    agency = server.sql("SELECT organisation_id FROM users WHERE login = 'agent'")
    organisation = supervisor.get(f"/supervision/organisations/{agency}/events")
    assert organisation.status_code == 200 and '<code class="action-code">tender.published</code>' in organisation.text
    agent = server.sql("SELECT id FROM users WHERE login = 'agent'")
    person = supervisor.get(f"/supervision/users/{agent}/events")
    assert person.status_code == 200 and chinese("Timeline of %(name)s", name="李娜") in person.text
    assert '<code class="action-code">tender.drafted</code>' in person.text
    # A newcomer's timeline starts with its creation (the agent's, a hundred events on, no longer shows it).
    login = f"e2e.timeline.{time.monotonic_ns()}"
    assert server.create_user(login, "a good long password").returncode == 0
    newcomer = server.sql("SELECT id FROM users WHERE login = $1", login)
    assert (
        '<code class="action-code">user.created</code>' in supervisor.get(f"/supervision/users/{newcomer}/events").text
    )
    for missing in ("tenders", "organisations", "users"):
        assert supervisor.get(f"/supervision/{missing}/999999999/events").status_code == 404
    assert supervisor.get("/supervision/events/999999999").status_code == 404


def test_an_event_matches_the_log_and_a_row_changed_behind_its_back_does_not(server: Server, clients: Clients) -> None:
    supervisor = clients.sign_in("supervisor1")
    login = f"e2e.console.{time.monotonic_ns()}"
    assert server.create_user(login, "a good long password").returncode == 0
    user_id = server.sql("SELECT id FROM users WHERE login = $1", login)
    event_id = server.sql(
        "SELECT id FROM audit_events WHERE action = 'user.created' AND subject = $1", f"user:{user_id}"
    )
    wait_until_sequenced(supervisor, event_id)
    index = server.sql("SELECT log_index FROM log_entries WHERE event_id = $1", event_id)
    page = supervisor.get(f"/supervision/events/{event_id}")
    assert page.status_code == 200 and 'class="banner ok"' in page.text
    assert chinese(MATCHES, index=index) in page.text
    assert f'href="/api/v1/events/{event_id}/receipt"' in page.text
    assert '<pre class="entry" id="receipt">c2sp.org/tlog-proof@v1\n' in page.text
    assert f"\nindex {index}\n" in page.text
    assert f'href="/api/v1/events/{event_id}/record"' in page.text
    record = supervisor.get(f"/api/v1/events/{event_id}/record")
    assert record.status_code == 200 and record.json()["event_id"] == event_id
    original = server.sql("SELECT details::text FROM audit_events WHERE id = $1", event_id)
    server.sql('UPDATE audit_events SET details = details || \'{"login": "someone.else"}\' WHERE id = $1', event_id)
    try:
        changed = supervisor.get(f"/supervision/events/{event_id}")
    finally:
        server.sql("UPDATE audit_events SET details = $2::jsonb WHERE id = $1", event_id, original)
    assert changed.status_code == 200 and 'class="banner tampered"' in changed.text
    assert 'class="banner ok"' not in changed.text
    # user.created is sealed: its details are in the private record, so the commitment is what differs.
    what = TRANSLATORS["zh-CN"].render(ENTRY_FIELD_NAMES["private"])
    assert (
        chinese("The entry in the log differs from the one rebuilt from the database in %(what)s.", what=what)
        in changed.text
    )
    assert 'class="banner ok"' in supervisor.get(f"/supervision/events/{event_id}").text


def test_a_tender_export_is_proven_offline_by_bidding_log_proof(
    server: Server, clients: Clients, tmp_path: Path
) -> None:
    supervisor = clients.sign_in("supervisor1")
    tender_id = demo_tender(server)
    newest = server.sql("SELECT max(id) FROM audit_events WHERE subject = $1", f"tender:{tender_id}")
    wait_until_sequenced(supervisor, newest)
    response = supervisor.get(f"/supervision/tenders/{tender_id}/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert f'filename="tender-{tender_id}-events.json"' in response.headers["content-disposition"]
    export = response.json()
    count = server.sql("SELECT count(*) FROM audit_events WHERE subject = $1", f"tender:{tender_id}")
    assert len(export["events"]) + len(export["pending"]) == count and len(export["events"]) >= 3
    exported = tmp_path / "export.json"
    exported.write_bytes(response.content)
    key = tmp_path / "log.vkey"
    key.write_text(clients.new().get("/log/key").text)
    proof = subprocess.run(
        [sys.executable, "-m", "bidding", "log", "proof", str(exported), "--key", str(key)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proof.returncode == 0, proof.stderr
    assert f"{len(export['events'])} event(s) proven in the log" in proof.stdout
    assert proof.stdout.count(", private record matches") == len(export["events"])
    assert "tender.published" in proof.stdout

    export["events"][0]["record"]["client_ip"] = "203.0.113.9"
    exported.write_text(json.dumps(export))
    tampered = subprocess.run(
        [sys.executable, "-m", "bidding", "log", "proof", str(exported), "--key", str(key)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert tampered.returncode == 1
    first = export["events"][0]["event_id"]
    assert f"event {first} (item 1 of the export): the private record does not match" in tampered.stderr
