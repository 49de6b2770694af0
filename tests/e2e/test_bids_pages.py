"""The keys page, the bid page and the opening hall page over plain HTTP: who gets each, what each offers, and the
offline key form; the browser's part (sealing, the hall's websocket) is in test_browser_bids.py."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from crypto import keyfile
from tests.e2e.conftest import DEMO_PASSWORD, Clients, Server, csrf_token, tender_json
from tests.e2e.test_bids import _seal, _tus_upload

#: The agency staff member who runs these tests' tenders: one of their own, so that the demo agent's timeline, which
#: other tests read, does not fill up with these tests' events.
STAFF = "bids-agent"


def agency_staff(server: Server) -> str:
    """The login of a staff member of the demo agency for these tests (password: the demo one), made once."""
    if not server.sql("SELECT count(*) FROM users WHERE login = $1", STAFF):
        agency = server.sql("SELECT organisation_id FROM users WHERE login = 'agent'")
        made = server.create_user(STAFF, DEMO_PASSWORD, role="agency_staff", organisation=str(agency))
        assert made.returncode == 0, made.stderr
    return STAFF


def offline_bidding(*args: str) -> subprocess.CompletedProcess[str]:
    """The ``bidding`` command as someone runs it on their own machine: no server settings in its environment."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BIDDING_") and k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "bidding", *args], env=environment, capture_output=True, text=True, timeout=60
    )


def draft_tender(server: Server, agent: httpx.Client, title: str) -> tuple[int, str]:
    """A draft by the demo agency (two lots, the three demo custodians, k = 2): its id and reference."""
    created = agent.post("/api/v1/tenders", json=tender_json(server, title))
    assert created.status_code == 201, created.text
    tender_id = created.json()["id"]
    return tender_id, agent.get(f"/api/v1/tenders/{tender_id}").json()["reference"]


def record_ceremony_and_publish(agent: httpx.Client, tender_id: int, tmp_path: Path) -> str:
    """Run the custody ceremony offline for the custodians' current keys, record it, publish; the recipient."""
    request = tmp_path / f"request-{tender_id}.json"
    request.write_text(agent.get(f"/api/v1/tenders/{tender_id}/custody").text)
    ceremony = tmp_path / f"ceremony-{tender_id}.json"
    ran = offline_bidding("custody", "ceremony", str(request), "-o", str(ceremony))
    assert ran.returncode == 0, ran.stderr
    recorded = agent.put(f"/api/v1/tenders/{tender_id}/custody", content=ceremony.read_bytes())
    assert recorded.status_code == 200, recorded.text
    document = agent.post(
        f"/api/v1/tenders/{tender_id}/documents", params={"name": "招标文件.pdf"}, content=b"%PDF-1.7\n% e2e\n"
    )
    assert document.status_code == 201, document.text
    published = agent.post(f"/api/v1/tenders/{tender_id}/publish")
    assert published.status_code == 200, published.text
    recipient: str = recorded.json()["recipient"]
    return recipient


def register_api_key(client: httpx.Client, purpose: str, name: str) -> keyfile.KeyFile:
    keys = keyfile.generate_key_file(name)
    answer = client.post(
        "/api/v1/keys",
        json={"purpose": purpose, "verifier_key": keys.verifier_key, "recipient": keys.recipient.encode()},
    )
    assert answer.status_code == 201, answer.text
    return keys


def credit_code(server: Server, login: str) -> str:
    code: str = server.sql(
        "SELECT o.credit_code FROM users u JOIN organisations o ON o.id = u.organisation_id WHERE u.login = $1", login
    )
    return code


def test_the_keys_page_registers_offline_keys_and_retires_the_previous_one(server: Server, clients: Clients) -> None:
    assert clients.new().get("/keys").headers["location"] == "/sign-in?next=%2Fkeys"
    assert clients.sign_in(agency_staff(server)).get("/keys").status_code == 403
    custodian = clients.sign_in("custodian3")
    keys_page = custodian.get("/keys")
    assert keys_page.status_code == 200
    assert 'href="/keys"' in keys_page.text  # the navigation offers it
    assert 'data-default-name="custodian-custodian3"' in keys_page.text

    refused = custodian.post(
        "/keys",
        data={
            "_csrf_token": csrf_token(keys_page.text),
            "purpose": "custodian",
            "verifier_key": "not a key",
            "recipient": "age1notarecipient",
        },
    )
    assert refused.status_code == 422
    assert 'id="verifier_key-error"' in refused.text and 'id="recipient-error"' in refused.text
    assert 'value="not a key"' in refused.text  # what was typed is kept

    made = []
    for _ in range(2):
        keys = keyfile.generate_key_file("custodian-custodian3")
        made.append(keys)
        page = custodian.get("/keys")
        registered = custodian.post(
            "/keys",
            data={
                "_csrf_token": csrf_token(page.text),
                "purpose": "custodian",
                "verifier_key": keys.verifier_key,
                "recipient": keys.recipient.encode(),
            },
        )
        assert registered.status_code == 303, registered.text
        assert registered.headers["location"] == "/keys?done=registered"
    listed = custodian.get("/api/v1/keys").json()
    assert [(key["verifier_key"], key["retired_at"] is None) for key in listed[:2]] == [
        (made[1].verifier_key, True),
        (made[0].verifier_key, False),
    ]
    shown = custodian.get("/keys?done=registered").text
    assert 'class="notice" role="status"' in shown
    assert shown.index(made[1].verifier_key) < shown.index(made[0].verifier_key)

    again = custodian.post(
        "/keys",
        data={
            "_csrf_token": csrf_token(shown),
            "purpose": "custodian",
            "verifier_key": made[1].verifier_key,
            "recipient": made[1].recipient.encode(),
        },
    )
    assert again.status_code == 409 and "error-summary" in again.text
    wrong_purpose = custodian.post(
        "/keys", data={"_csrf_token": csrf_token(shown), "purpose": "bidder", "verifier_key": "", "recipient": ""}
    )
    assert wrong_purpose.status_code == 422 and 'id="purpose-error"' in wrong_purpose.text


def test_the_bid_page_is_for_registered_bidders_and_the_hall_for_those_who_attend(
    server: Server, clients: Clients, tmp_path: Path
) -> None:
    agent = clients.api(agency_staff(server))
    for login in ("custodian1", "custodian2", "custodian3"):
        register_api_key(clients.api(login), "custodian", f"custodian-{login}")
    tender_id, reference = draft_tender(server, agent, "投标页面测试")
    recipient = record_ceremony_and_publish(agent, tender_id, tmp_path)

    bidder = clients.sign_in("bidder2")
    assert bidder.get(f"/tenders/{tender_id}/bid").headers["location"] == f"/tenders/{tender_id}#bidding"
    assert bidder.get(f"/tenders/{tender_id}/opening").status_code == 403
    notice = bidder.get(f"/tenders/{tender_id}")
    assert (
        bidder.post(f"/tenders/{tender_id}/register", data={"_csrf_token": csrf_token(notice.text)}).status_code == 303
    )
    notice = bidder.get(f"/tenders/{tender_id}")
    assert f'href="/tenders/{tender_id}/bid"' in notice.text
    assert 'id="opening-hall-link"' not in notice.text  # not before the deadline, for a bidder

    page = bidder.get(f"/tenders/{tender_id}/bid")
    assert page.status_code == 200
    assert recipient in page.text and reference in page.text
    # Without a registered key there is nothing to sign with: the page says so instead of offering the form.
    if 'id="bid-form"' not in page.text:
        assert 'href="/keys"' in page.text
        register_api_key(clients.api("bidder2"), "bidder", f"bidder-{credit_code(server, 'bidder2')}")
        page = bidder.get(f"/tenders/{tender_id}/bid")
    code = credit_code(server, "bidder2")
    form = re.search(r'<form id="bid-form"[^>]*>', page.text)
    assert form, page.text
    assert f'data-reference="{reference}"' in form.group(0) and f'data-bidder="{code}"' in form.group(0)
    assert page.text.count('data-replaces=""') == 2  # no sealed bid yet in either lot
    assert "bidding seal --tender" in page.text  # the offline path, for those without JavaScript

    # A bid sealed offline and sent through the API is listed with its receipts, and withdrawn with the plain form.
    api = clients.api("bidder2")
    keys = register_api_key(api, "bidder", f"bidder-{code}")
    envelope, statement = _seal(reference, code, keys, recipient, "990000.00")
    submitted = api.post(
        f"/api/v1/tenders/{tender_id}/bids",
        json={"upload": _tus_upload(api, tender_id, envelope), "statement": statement.decode()},
    )
    assert submitted.status_code == 201, submitted.text
    bid_id = submitted.json()["bid"]["id"]
    page = bidder.get(f"/tenders/{tender_id}/bid")
    assert f'<option value="1" data-replaces="{bid_id}">' in page.text
    assert f'href="/api/v1/bids/{bid_id}/receipt"' in page.text
    record_link = re.search(rf'href="(/api/v1/events/\d+/record)" download="bid-{bid_id}.record.json"', page.text)
    assert record_link and bidder.get(record_link.group(1)).json() == submitted.json()["record"]
    withdrawn = bidder.post(
        f"/tenders/{tender_id}/bids/{bid_id}/withdrawal", data={"_csrf_token": csrf_token(page.text)}
    )
    assert withdrawn.status_code == 303
    assert withdrawn.headers["location"] == f"/tenders/{tender_id}/bid?done=withdrawn#my-bids"
    page = bidder.get(withdrawn.headers["location"])
    assert f'data-bid="{bid_id}" data-status="withdrawn"' in page.text
    ended_receipt = bidder.get(f"/api/v1/bids/{bid_id}/receipt?ended=true")
    assert f'href="/api/v1/bids/{bid_id}/receipt?ended=true"' in page.text and ended_receipt.status_code == 200
    again = bidder.post(f"/tenders/{tender_id}/bids/{bid_id}/withdrawal", data={"_csrf_token": csrf_token(page.text)})
    assert again.status_code == 409 and 'class="error-summary"' in again.text

    staff = clients.sign_in(agency_staff(server))
    assert staff.get(f"/tenders/{tender_id}/bid").status_code == 403
    assert clients.new().get(f"/tenders/{tender_id}/opening").headers["location"].startswith("/sign-in")
    for attending in (staff, clients.sign_in("custodian1"), clients.sign_in("supervisor1")):
        hall = attending.get(f"/tenders/{tender_id}/opening")
        assert hall.status_code == 200, hall.text
    custodian_hall = clients.sign_in("custodian1").get(f"/tenders/{tender_id}/opening").text
    assert 'id="share-form"' in custodian_hall and 'id="hall-start"' not in custodian_hall
    agent_hall = staff.get(f"/tenders/{tender_id}/opening").text
    assert 'id="hall-start" hidden' in agent_hall  # before the deadline the opening cannot start

    server.sql("UPDATE tenders SET deadline = clock_timestamp() - interval '1 second' WHERE id = $1", tender_id)
    closed = bidder.get(f"/tenders/{tender_id}/bid")
    assert 'id="bid-form"' not in closed.text and f'href="/tenders/{tender_id}/opening"' in closed.text
    assert 'id="opening-hall-link"' in bidder.get(f"/tenders/{tender_id}").text
    assert 'id="hall-start">' in staff.get(f"/tenders/{tender_id}/opening").text
