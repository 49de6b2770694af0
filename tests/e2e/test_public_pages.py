"""What everyone reads without signing in, over HTTP: the footer's links to the open data, the log and the API, the
transparency page, an opened tender's public results and a cancelled tender's notice."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from crypto.note import open_note, parse_verifier_key
from tests.e2e.conftest import Clients, Server

ENGLISH = {"accept-language": "en"}


def demo_tender(server: Server, reference: str) -> int:
    tender_id: int = server.sql("SELECT id FROM tenders WHERE reference = $1", reference)
    return tender_id


@pytest.mark.parametrize("path", ["/", "/tenders", "/sign-in", "/transparency"])
def test_every_page_links_to_the_open_data_the_log_and_the_api_saying_what_each_is(
    server: Server, clients: Clients, path: str
) -> None:
    english = clients.new(**ENGLISH).get(path)
    assert english.status_code == 200
    footer = english.text[english.text.index('<footer class="footer">') :]
    for link, words in [
        ('href="/ocds/releases"', "as JSON for anyone to reuse"),
        ('href="/log/checkpoint"', "<code>bidding log verify</code>"),
        ('href="/api/openapi.json"', "what programs can read and submit"),
        ('href="/transparency"', "how anyone checks them"),
    ]:
        assert link in footer and words in footer, link
    chinese = clients.new(**{"accept-language": "zh-CN"}).get(path).text
    assert "开放数据（OCDS 1.1.5）" in chinese and "透明日志" in chinese and "接口说明（OpenAPI）" in chinese


def test_the_footers_addresses_answer_to_anyone(server: Server, clients: Clients) -> None:
    anyone = clients.new(browser=False)
    assert anyone.get("/ocds/releases").json()["releases"]
    assert anyone.get("/log/checkpoint").text.split("\n")[0].endswith("/log")
    assert anyone.get("/api/openapi.json").json()["openapi"].startswith("3.1")


def test_the_transparency_page_says_how_to_verify_the_log_and_the_records(server: Server, clients: Clients) -> None:
    page = clients.new(**ENGLISH).get("/transparency")
    assert page.status_code == 200
    assert f"bidding log verify {server.url} --key log.vkey --save checkpoint.txt" in page.text
    assert "bidding log proof receipt.txt --key log.vkey" in page.text
    assert 'href="/ocds/releases"' in page.text and 'href="/log/key"' in page.text
    assert 'id="opening-records"' in page.text and "X-Record-Signature" in page.text


def test_an_opened_tender_shows_its_signed_record_to_everyone(server: Server, clients: Clients) -> None:
    tender_id = demo_tender(server, "SFJY-GC-2026-002")
    anyone = clients.new(**ENGLISH)
    notice = anyone.get(f"/tenders/{tender_id}")
    assert notice.status_code == 200 and 'id="opening-lines"' in notice.text
    served = anyone.get(f"/api/v1/tenders/{tender_id}/opening/record")
    record = json.loads(served.content)
    digest = hashlib.sha256(served.content).hexdigest()
    assert f'<code class="hash" id="record-digest">{digest}</code>' in notice.text
    assert f'href="/api/v1/tenders/{tender_id}/opening/record" download=' in notice.text
    for line in record["lines"]:
        assert f'id="opening-line-{line["position"]}"' in notice.text and line["bidder"] in notice.text
    assert {line["lot"] for line in record["lines"]} == {1, 2, 3}
    # The digest is the one the platform signed, with the log's key.
    key = parse_verifier_key(anyone.get("/log/key").text.strip())
    note = open_note(base64.b64decode(served.headers["x-record-signature"]), [key])
    assert note.text.endswith(f"sha256 {digest}\n")
    # The hall is for those who attend it: not offered to the public, offered to a supervisor.
    assert 'id="opening-hall-link"' not in notice.text
    assert 'id="opening-hall-link"' in clients.sign_in("supervisor1").get(f"/tenders/{tender_id}").text


def test_before_the_opening_the_notice_says_when_and_where_it_is(server: Server, clients: Clients) -> None:
    tender_id = demo_tender(server, "SFJY-GC-2026-001")
    notice = clients.new(**ENGLISH).get(f"/tenders/{tender_id}").text
    assert 'id="opening-fact"' in notice and "At the bid deadline, online in the opening hall" in notice
    assert f'<code class="hall-address">{server.url}/tenders/{tender_id}/opening</code>' in notice
    assert "Tendering and Bidding Law, art. 34" in notice and 'id="opening-lines"' not in notice
    assert 'class="contact-name">李娜<' in notice


def test_a_cancelled_tender_shows_its_cancellation_and_no_countdown_or_hall(server: Server, clients: Clients) -> None:
    tender_id = demo_tender(server, "SFJY-FW-2026-002")
    reason = server.sql("SELECT cancel_reason FROM tenders WHERE id = $1", tender_id)
    notice = clients.new(**ENGLISH).get(f"/tenders/{tender_id}").text
    assert 'id="cancellation"' in notice and reason in notice and "Cancelled on " in notice
    assert "data-countdown" not in notice and "/opening" not in notice
    registered = clients.sign_in("bidder2").get(f"/tenders/{tender_id}").text
    assert 'id="opening-hall-link"' not in registered
    board = clients.new(**ENGLISH).get("/tenders", params={"status": "cancelled"}).text
    card = board[board.index(f'id="tender-{tender_id}"') :].split("</article>")[0]
    assert "data-countdown" not in card and 'class="cancellation"' in card and reason[:20] in card
