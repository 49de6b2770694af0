"""The keys page, the bid page and the opening hall page over plain HTTP: who gets each, what each offers, and the
offline key form; the browser's part (sealing, the hall's websocket) is in test_browser_bids.py."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from bidding.accounts.model import credit_code_check_character
from bidding.i18n import N_
from crypto import custody, keyfile
from tests.e2e.conftest import DEMO_PASSWORD, Clients, Server, csrf_token, tender_json
from tests.e2e.test_bids import _seal, _tus_upload
from tests.e2e.test_tenders_pages import chinese

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
    # Not registered: the bid page sends the bidder to the notice, which says why, where the button to register is.
    redirected = bidder.get(f"/tenders/{tender_id}/bid")
    assert redirected.headers["location"] == f"/tenders/{tender_id}?register=first#bidding"
    told = bidder.get(redirected.headers["location"]).text
    said = re.search(r'<p class="notice" id="register-first"[^>]*>(.*?)</p>', told, re.S)
    assert said and chinese("Register it first, with the button below.") in said.group(1)
    assert told.index('id="register-first"') < told.index(f'action="/tenders/{tender_id}/register"')
    assert 'id="register-first"' not in bidder.get(f"/tenders/{tender_id}").text  # only when sent from the bid page
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
    reference = submitted.json()["bid"]["reference"]
    page = bidder.get(f"/tenders/{tender_id}/bid")
    assert f'<option value="1" data-replaces="{bid_id}" data-replaces-reference="{reference}">' in page.text
    assert f'href="/api/v1/bids/{bid_id}/receipt"' in page.text
    record_link = re.search(rf'href="(/api/v1/events/\d+/record)" download="bid-{reference}.record.json"', page.text)
    assert record_link and bidder.get(record_link.group(1)).json() == submitted.json()["record"]
    # Withdrawal says what it means and asks for a confirmation; without it, nothing is withdrawn.
    meaning = re.search(rf'<p class="hint" id="withdraw-meaning-{bid_id}">(.*?)</p>', page.text, re.S)
    assert meaning and reference in meaning.group(1) and chinese("Receipt") in meaning.group(1)
    assert 'name="confirm" value="yes" required' in page.text
    unconfirmed = bidder.post(
        f"/tenders/{tender_id}/bids/{bid_id}/withdrawal", data={"_csrf_token": csrf_token(page.text)}
    )
    assert unconfirmed.status_code == 422
    assert chinese("Bid %(bid)s was not withdrawn: tick the box to confirm the withdrawal.", bid=reference) in (
        unconfirmed.text
    )
    assert f'data-bid="{bid_id}" data-status="sealed"' in unconfirmed.text and 'details class="withdraw" open' in (
        unconfirmed.text
    )
    assert server.sql("SELECT status FROM bids WHERE id = $1", bid_id) == "sealed"
    withdrawn = bidder.post(
        f"/tenders/{tender_id}/bids/{bid_id}/withdrawal", data={"_csrf_token": csrf_token(page.text), "confirm": "yes"}
    )
    assert withdrawn.status_code == 303
    assert withdrawn.headers["location"] == f"/tenders/{tender_id}/bid?done=withdrawn#my-bids"
    page = bidder.get(withdrawn.headers["location"])
    assert f'data-bid="{bid_id}" data-status="withdrawn"' in page.text
    ended_receipt = bidder.get(f"/api/v1/bids/{bid_id}/receipt?ended=true")
    assert f'href="/api/v1/bids/{bid_id}/receipt?ended=true"' in page.text and ended_receipt.status_code == 200
    again = bidder.post(
        f"/tenders/{tender_id}/bids/{bid_id}/withdrawal", data={"_csrf_token": csrf_token(page.text), "confirm": "yes"}
    )
    assert again.status_code == 409 and 'class="error-summary"' in again.text
    refusal = "Bid %(bid)s cannot be withdrawn: it is “%(status)s”, and only a sealed bid can be."
    assert chinese(refusal, bid=reference, status=N_("Withdrawn")) in again.text

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
    assert chinese("The bids are opened in the opening hall, live, once the agency starts the opening.") in closed.text
    assert 'id="opening-hall-link"' in bidder.get(f"/tenders/{tender_id}").text
    assert 'id="hall-start">' in staff.get(f"/tenders/{tender_id}/opening").text


def _published_with_keys(server: Server, clients: Clients, tmp_path: Path, title: str) -> tuple[int, str, str]:
    """A published tender of these tests' agency staff, its custodians' keys fresh: its id, reference, recipient."""
    agent = clients.api(agency_staff(server))
    for login in ("custodian1", "custodian2", "custodian3"):
        register_api_key(clients.api(login), "custodian", f"custodian-{login}")
    tender_id, reference = draft_tender(server, agent, title)
    return tender_id, reference, record_ceremony_and_publish(agent, tender_id, tmp_path)


def _bid_through_the_api(
    clients: Clients, server: Server, login: str, tender_id: int, reference: str, recipient: str, **body: object
) -> dict[str, object]:
    """A bid sealed offline and submitted with the API by ``login`` (registered, its key registered): the bid."""
    api = clients.api(login)
    api.post(f"/api/v1/tenders/{tender_id}/registration")
    code = credit_code(server, login)
    keys = register_api_key(api, "bidder", f"bidder-{code}")
    envelope, statement = _seal(reference, code, keys, recipient, "990000.00")
    submitted = api.post(
        f"/api/v1/tenders/{tender_id}/bids",
        json={"upload": _tus_upload(api, tender_id, envelope), "statement": statement.decode(), **body},
    )
    assert submitted.status_code == 201, submitted.text
    bid: dict[str, object] = submitted.json()["bid"]
    return bid


def test_bid_ids_are_random_and_each_bid_has_one_reference_on_every_page(
    server: Server, clients: Clients, tmp_path: Path
) -> None:
    tender_id, reference, recipient = _published_with_keys(server, clients, tmp_path, "投标编号测试")
    first = _bid_through_the_api(clients, server, "bidder2", tender_id, reference, recipient)
    second = _bid_through_the_api(clients, server, "bidder2", tender_id, reference, recipient, replaces=first["id"])
    ids = [int(str(first["id"])), int(str(second["id"]))]
    # Two bids in a row: not consecutive, not small; nothing in them counts the bids made.
    assert abs(ids[1] - ids[0]) > 1 and max(ids) > 2**40 and all(0 < i < 2**63 for i in ids)
    for bid in (first, second):
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", str(bid["reference"]))
    old, new = str(first["reference"]), str(second["reference"])

    bidder = clients.sign_in("bidder2")
    page = bidder.get(f"/tenders/{tender_id}/bid").text
    assert f'<code class="bid-reference">{old}</code>' in page and f'<code class="bid-reference">{new}</code>' in page
    assert chinese("replaced by %(bid)s", bid=new) in page
    assert f'download="bid-{new}.tlog-proof"' in page and f'download="bid-{new}.record.json"' in page
    assert chinese("Withdraw bid %(bid)s", bid=new) in page
    hall = bidder.get(f"/tenders/{tender_id}/opening").text
    assert chinese("Bid %(bid)s, lot %(lot)s", bid=new, lot=1) in hall
    assert f'data-own-bids="{ids[0]},{ids[1]}"' in hall  # ids as text, in the order submitted
    # The same reference in the API and in its errors.
    listed = clients.api("bidder2").get("/api/v1/bids", params={"tender": tender_id}).json()
    assert [(bid["id"], bid["reference"]) for bid in listed] == [(ids[0], old), (ids[1], new)]
    refused = clients.api("bidder2").post(f"/api/v1/bids/{ids[0]}/withdrawal")
    assert refused.status_code == 409 and old in refused.json()["detail"]


def test_the_bid_page_says_what_state_the_tender_is_in(server: Server, clients: Clients, tmp_path: Path) -> None:
    tender_id, reference, recipient = _published_with_keys(server, clients, tmp_path, "投标页面状态测试")
    _bid_through_the_api(clients, server, "bidder1", tender_id, reference, recipient)
    bidder = clients.sign_in("bidder1")

    def page() -> str:
        shown = bidder.get(f"/tenders/{tender_id}/bid")
        assert shown.status_code == 200, shown.text
        return shown.text

    open_for_bids = page()
    assert 'id="seal"' in open_for_bids and 'id="before-documents"' not in open_for_bids
    server.sql("UPDATE tenders SET documents_from = now() + interval '1 day' WHERE id = $1", tender_id)
    assert 'id="before-documents"' in page() and 'id="seal"' in page()

    server.sql("UPDATE tenders SET deadline = now() - interval '1 second' WHERE id = $1", tender_id)
    sentences = {
        "published": "The bids are opened in the opening hall, live, once the agency starts the opening.",
        "opening": "The opening is under way in the opening hall: each bid is read out there as it is opened.",
        "opened": "The bids were opened; the opening record is in the opening hall.",
        "evaluation": "The bids were opened; the opening record is in the opening hall.",
        "failed": "The tender has failed; what happened at the opening is in the opening hall.",
    }
    for status, sentence in sentences.items():
        server.sql("UPDATE tenders SET status = $2 WHERE id = $1", tender_id, status)
        shown = page()
        assert 'id="closed"' in shown and chinese(sentence) in shown, status
        assert 'id="seal"' not in shown and f'href="/tenders/{tender_id}/opening"' in shown
        assert "data-countdown" not in shown

    # Cancelled 35 days before its deadline: the page says so, when and why, and offers nothing to do.
    server.sql(
        "UPDATE tenders SET status = 'published', deadline = now() + interval '35 days' WHERE id = $1", tender_id
    )
    cancelled = clients.api(agency_staff(server)).post(
        f"/api/v1/tenders/{tender_id}/cancellation", json={"reason": "预算调整，项目取消。"}
    )
    assert cancelled.status_code in (200, 204), cancelled.text
    shown = page()
    assert 'id="cancelled"' in shown and "预算调整，项目取消。" in shown
    assert chinese("This tender is cancelled") in shown
    for absent in ('id="closed"', 'id="seal"', 'id="bid-form"', 'id="offline"', "/opening", "data-countdown"):
        assert absent not in shown, absent
    assert chinese("The deadline has passed: bids are no longer accepted, replaced or withdrawn.") not in shown

    # A draft has no bid page for a bidder: it does not exist for bidders at all.
    draft_id, _ = draft_tender(server, clients.api(agency_staff(server)), "投标页面草稿")
    assert bidder.get(f"/tenders/{draft_id}/bid").status_code == 404


def test_a_bidder_not_invited_is_told_on_the_notice_that_only_invited_bidders_bid(
    server: Server, clients: Clients, tmp_path: Path
) -> None:
    """The bid page of an invited tender sends a bidder not invited to the notice, which says why it cannot bid."""
    serial = server.sql("SELECT count(*) FROM organisations")
    first17 = f"91320500E2E{serial:06d}"
    outsider = clients.api("admin").post(
        "/api/v1/organisations",
        json={
            "kind": "bidder",
            "name": "受邀测试公司" + first17[-6:],
            "region": "示范市",
            "credit_code": first17 + credit_code_check_character(first17),
        },
    )
    assert outsider.status_code == 201, outsider.text
    invited = [
        server.sql("SELECT organisation_id FROM users WHERE login = $1", login) for login in ("bidder1", "bidder2")
    ]
    agent = clients.api(agency_staff(server))
    for login in ("custodian1", "custodian2", "custodian3"):
        register_api_key(clients.api(login), "custodian", f"custodian-{login}")
    body = tender_json(
        server, "邀请招标投标页面测试", procedure="invited", invited_ids=[*invited, outsider.json()["id"]]
    )
    created = agent.post("/api/v1/tenders", json=body)
    assert created.status_code == 201, created.text
    tender_id = created.json()["id"]
    record_ceremony_and_publish(agent, tender_id, tmp_path)

    not_invited = clients.sign_in("bidder3")
    redirected = not_invited.get(f"/tenders/{tender_id}/bid")
    assert redirected.status_code == 303
    assert redirected.headers["location"] == f"/tenders/{tender_id}?register=first#bidding"
    notice = not_invited.get(redirected.headers["location"]).text
    said = re.search(r'<p class="notice" id="register-first"[^>]*>(.*?)</p>', notice, re.S)
    assert said, notice
    # bidder3 reads the pages in English.
    assert "Only the bidders invited to this tender can register for it and bid." in said.group(1)
    assert "Register it first" not in said.group(1)
    assert f'action="/tenders/{tender_id}/register"' not in notice
    # An invited bidder not registered yet is told to register, where the button is.
    told = clients.sign_in("bidder1").get(f"/tenders/{tender_id}?register=first").text
    said = re.search(r'<p class="notice" id="register-first"[^>]*>(.*?)</p>', told, re.S)
    assert said and chinese("Register it first, with the button below.") in said.group(1)
    assert told.index('id="register-first"') < told.index(f'action="/tenders/{tender_id}/register"')


def _phase(client: httpx.Client, tender_id: int) -> tuple[str, str]:
    """The hall's status line as the page is drawn: its phase and its sentence."""
    hall = client.get(f"/tenders/{tender_id}/opening")
    assert hall.status_code == 200, hall.text
    found = re.search(
        r'<p id="hall-phase" class="hall-phase" role="status" data-phase="([a-z_]+)"[^>]*>(.*?)</p>', hall.text
    )
    assert found, hall.text
    return found.group(1), found.group(2)


def test_the_hall_says_where_the_opening_stands_in_each_phase(server: Server, clients: Clients, tmp_path: Path) -> None:
    agent_api = clients.api(agency_staff(server))
    custodian_keys = {
        login: register_api_key(clients.api(login), "custodian", f"custodian-{login}")
        for login in ("custodian1", "custodian2", "custodian3")
    }
    tender_id, reference = draft_tender(server, agent_api, "开标大厅阶段测试")
    record_ceremony_and_publish(agent_api, tender_id, tmp_path)
    staff = clients.sign_in(agency_staff(server))
    phase, sentence = _phase(staff, tender_id)
    waiting_for_deadline = chinese(
        "Waiting for the bid deadline, %(deadline)s: the opening can start then.", deadline="DEADLINE"
    )
    assert phase == "before_deadline" and sentence.startswith(waiting_for_deadline.split("DEADLINE")[0])

    server.sql("UPDATE tenders SET deadline = clock_timestamp() - interval '1 second' WHERE id = $1", tender_id)
    assert _phase(staff, tender_id) == (
        "not_started",
        chinese("The bid deadline has passed. Waiting for the agency to start the opening."),
    )
    assert agent_api.post(f"/api/v1/tenders/{tender_id}/opening").status_code == 204
    waiting = (
        "The opening has started. Waiting for %(missing)s more shares of the opening key: %(count)s of %(needed)s "
        "handed in."
    )
    assert _phase(staff, tender_id) == ("shares", chinese(waiting, missing=2, count=0, needed=2))
    custodian = clients.api("custodian1")
    sealed = custodian.get(f"/api/v1/tenders/{tender_id}/custody/share")
    share = custody.open_sealed_share(sealed.content, custodian_keys["custodian1"].identity, reference)
    assert custodian.post(f"/api/v1/tenders/{tender_id}/opening/shares", json={"share": share}).status_code == 200
    assert _phase(staff, tender_id) == ("shares", chinese(waiting, missing=1, count=1, needed=2))

    assert agent_api.post(f"/api/v1/tenders/{tender_id}/opening/finish").status_code == 204
    digest = hashlib.sha256(httpx.get(f"{server.url}/api/v1/tenders/{tender_id}/opening/record").content).hexdigest()
    closed = (
        "The opening was closed without the %(needed)s shares needed: bids were opened with the file keys their "
        "bidders handed in, or withdrawn. Its record is signed and logged, SHA-256 %(digest)s."
    )
    assert _phase(staff, tender_id) == ("closed_without_key", chinese(closed, needed=2, digest=digest))

    # The demo's Binjiang Road works were opened with the custodians' shares.
    supervisor = clients.sign_in("supervisor1")
    opened = server.sql("SELECT id FROM tenders WHERE reference = 'SFJY-GC-2026-002'")
    demo_digest = server.sql("SELECT encode(record_sha256, 'hex') FROM openings WHERE tender_id = $1", opened)
    finished = "The opening is finished: its record is signed and logged, SHA-256 %(digest)s."
    assert _phase(supervisor, opened) == ("finished", chinese(finished, digest=demo_digest))
    hall = supervisor.get(f"/tenders/{opened}/opening").text
    assert '<p id="hall-key-rebuilt" class="notice">' in hall  # shown, and it no longer says anything is under way
    assert chinese("The opening key was rebuilt and matches the published recipient.") in hall

    cancelled_id, _ = draft_tender(server, agent_api, "开标大厅取消测试")
    record_ceremony_and_publish(agent_api, cancelled_id, tmp_path)
    assert agent_api.post(f"/api/v1/tenders/{cancelled_id}/cancellation", json={"reason": "取消。"}).status_code < 300
    assert _phase(staff, cancelled_id) == ("cancelled", chinese("This tender is cancelled: there is no opening."))


def test_the_custody_page_follows_the_ceremony_and_shows_whose_shares_were_checked(
    server: Server, clients: Clients, tmp_path: Path
) -> None:
    agent_api = clients.api(agency_staff(server))
    for login in ("custodian1", "custodian2", "custodian3"):
        register_api_key(clients.api(login), "custodian", f"custodian-{login}")
    tender_id, _ = draft_tender(server, agent_api, "保管页面状态测试")
    staff = clients.sign_in(agency_staff(server))
    before = staff.get(f"/tenders/{tender_id}/custody").text
    assert 'id="custody-state" data-state="not-run"' in before and 'data-state="recorded"' not in before
    not_run = (
        "The custody ceremony has not been run yet: no opening key exists. It will make one and split it into one "
        "share for each of these custodians, so that any %(needed)d of the %(count)d together open the bids, after "
        "the deadline, and fewer learn nothing of it."
    )
    assert chinese(not_run, needed=2, count=3) in before
    record_ceremony_and_publish(agent_api, tender_id, tmp_path)
    after = staff.get(f"/tenders/{tender_id}/custody").text
    assert 'id="custody-state" data-state="recorded"' in after and 'data-state="not-run"' not in after
    assert after.count("<td data-checked>") == 3 and after.count(chinese("Not yet")) == 3

    # A custodian says its share passed the check (the check runs on its own machine); the agency sees it.
    checked = clients.api("custodian2").post(f"/api/v1/tenders/{tender_id}/custody/share/check")
    assert checked.status_code == 200 and checked.json()["checked_at"]
    assert clients.api("bidder1").post(f"/api/v1/tenders/{tender_id}/custody/share/check").status_code == 403
    custody_api = agent_api.get(f"/api/v1/tenders/{tender_id}/custody").json()
    assert [share["checked_at"] is not None for share in custody_api["shares"]] == [False, True, False]
    assert staff.get(f"/tenders/{tender_id}/custody").text.count(chinese("Not yet")) == 2
    events = server.sql(
        "SELECT count(*) FROM audit_events WHERE subject = $1 AND action = 'custody.share_checked'",
        f"tender:{tender_id}",
    )
    assert events == 1


def test_a_custodians_dashboard_lists_the_tenders_it_holds_shares_for(
    server: Server, clients: Clients, tmp_path: Path
) -> None:
    tender_id, reference, _ = _published_with_keys(server, clients, tmp_path, "保管人首页测试")

    def row() -> str:
        dashboard = clients.sign_in("custodian1").get("/dashboard").text
        found = re.search(rf'<tr data-tender="{tender_id}">(.*?)</tr>', dashboard, re.S)
        assert found, dashboard
        return found.group(1)

    before = row()
    assert reference in before and "保管人首页测试" in before and chinese("Not checked yet") in before
    assert f'href="/tenders/{tender_id}/opening#hall-custodian"' in before  # the share check, before the deadline
    assert clients.api("custodian1").post(f"/api/v1/tenders/{tender_id}/custody/share/check").status_code == 200
    assert chinese("Checked") in row() and chinese("Not checked yet") not in row()
    server.sql("UPDATE tenders SET deadline = clock_timestamp() - interval '1 second' WHERE id = $1", tender_id)
    after = row()
    assert f'href="/tenders/{tender_id}/opening"' in after and "#hall-custodian" not in after
    # The demo's opened tender: custodian1's share was handed in at its opening.
    opened = server.sql("SELECT id FROM tenders WHERE reference = 'SFJY-GC-2026-002'")
    dashboard = clients.sign_in("custodian1").get("/dashboard").text
    demo_row = re.search(rf'<tr data-tender="{opened}">(.*?)</tr>', dashboard, re.S)
    assert demo_row and chinese("Handed in") in demo_row.group(1)
    # Only custodians have the list.
    assert 'id="held-shares"' not in clients.sign_in("bidder1").get("/dashboard").text
