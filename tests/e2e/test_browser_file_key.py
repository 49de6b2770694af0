"""The fallback in Chromium: the opening is started, no custodian hands in a share, and a bidder opens its own bid in
the hall: its key file unwraps the envelope's file key in the browser from the header the platform serves, only the
16-byte key goes over the hall's websocket, and the bid's line is read out with its sealed price."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from bidding.bids.model import bid_reference
from bidding.i18n import load_translators
from crypto import age, keyfile
from crypto.age.header import header_length
from tests.e2e.conftest import Clients, Server
from tests.e2e.test_bids import _seal, _tus_upload
from tests.e2e.test_bids_pages import agency_staff, credit_code, draft_tender, record_ceremony_and_publish
from tests.e2e.test_bids_pages import register_api_key as register_keys
from tests.e2e.test_browser import sign_in

pytestmark = pytest.mark.browser

ZH = load_translators(Path(__file__).resolve().parents[2] / "frontend" / "translations")["zh-CN"]
PASSPHRASE = "file key fallback passphrase"
PRICES = {"bidder1": "1234567.00", "bidder2": "987654.50"}


def key_file(folder: Path, keys: keyfile.KeyFile, name: str) -> Path:
    """``keys`` saved as a key file, sealed at a small scrypt work factor so that the browser opens it at once."""
    path = folder / f"{name}.key"
    path.write_bytes(keyfile.seal_key_file(keys, PASSPHRASE.encode(), work_factor=10))
    return path


def test_a_bidder_hands_in_its_own_file_key_in_the_hall_when_no_custodian_comes(
    server: Server, clients: Clients, page: Any, tmp_path: Path
) -> None:
    agent = clients.api(agency_staff(server))
    tender_id, reference = draft_tender(server, agent, "文件密钥开标测试")
    recipient = record_ceremony_and_publish(agent, tender_id, tmp_path)
    bids: dict[str, int] = {}
    envelopes: dict[str, bytes] = {}
    keys: dict[str, keyfile.KeyFile] = {}
    for login, total in PRICES.items():
        client = clients.api(login)
        assert client.post(f"/api/v1/tenders/{tender_id}/registration").status_code == 200
        keys[login] = register_keys(client, "bidder", f"{login}-file-key")
        envelopes[login], statement = _seal(reference, credit_code(server, login), keys[login], recipient, total)
        upload = _tus_upload(client, tender_id, envelopes[login])
        submitted = client.post(
            f"/api/v1/tenders/{tender_id}/bids", json={"upload": upload, "statement": statement.decode()}
        )
        assert submitted.status_code == 201, submitted.text
        bids[login] = submitted.json()["bid"]["id"]
    server.sql("UPDATE tenders SET deadline = clock_timestamp() - interval '1 second' WHERE id = $1", tender_id)

    # Over HTTP: a bidder gets its own envelope's header, exactly; another organisation's is not there for it.
    mine, theirs = bids["bidder1"], bids["bidder2"]
    bidder1 = clients.api("bidder1")
    header = bidder1.get(f"/api/v1/bids/{mine}/header")
    assert header.status_code == 200 and header.headers["content-type"] == "application/octet-stream"
    assert header.content == envelopes["bidder1"][: header_length(envelopes["bidder1"])]
    assert clients.api("bidder2").get(f"/api/v1/bids/{mine}/header").status_code == 404
    file_key = age.unwrap_file_key(age.read_header(header.content), [keys["bidder1"].identity])

    sent: list[str] = []
    page.on("websocket", lambda socket: socket.on("framesent", lambda frame: sent.append(str(frame))))
    uploaded: list[bytes] = []
    page.on("request", lambda request: uploaded.append(request.post_data_buffer or b""))
    sign_in(page, "bidder1")
    page.goto(f"/tenders/{tender_id}/opening")
    connected = ZH.gettext("Connected: what happens in the hall appears here as it happens.")
    page.locator("#hall-connection", has_text=connected).wait_for()
    section = page.locator(f"#file-key-{mine}")
    assert section.is_hidden()  # not before the opening starts; then it appears without reloading
    assert agent.post(f"/api/v1/tenders/{tender_id}/opening").status_code == 204
    page.locator("#hall-bid-list li").nth(1).wait_for()
    section.wait_for(state="visible")
    assert page.locator(f"#file-key-{theirs}").count() == 0  # only its own bids
    assert section.locator("h2").inner_text() == ZH.gettext("Hand in my file key (fallback)")
    assert section.locator("p.muted").first.inner_text() == ZH.gettext("Bid %(bid)s, lot %(lot)s") % {
        "bid": bid_reference(mine),
        "lot": 1,
    }

    # Another organisation's key file does not open this envelope: said in the page, nothing sent.
    section.locator("input[type=file]").set_input_files(str(key_file(tmp_path, keys["bidder2"], "bidder2")))
    section.locator("input[type=password]").fill(PASSPHRASE)
    section.locator("button[type=submit]").click()
    refusal = ZH.gettext(
        "This key file does not open this bid’s envelope. Use the key file your organisation sealed the bid with."
    )
    page.locator(f"#file-key-error-{mine}", has_text=refusal).wait_for()
    assert sent == []

    section.locator("input[type=file]").set_input_files(str(key_file(tmp_path, keys["bidder1"], "bidder1")))
    section.locator("input[type=password]").fill(PASSPHRASE)
    section.locator("button[type=submit]").click()
    row = page.locator(f"#line-{mine}")
    row.wait_for()
    assert "CNY 1,234,567.00" in row.inner_text() and row.get_attribute("data-outcome") == "opened"
    section.wait_for(state="detached")  # read: the fallback is gone
    assert page.locator("#hall-lines tr").count() == 1  # bidder2's bid stays sealed until its own key or the shares
    assert page.locator("#hall-share-list li").count() == 0

    # What left the browser: the 16-byte file key over the hall's websocket, never the key file or its identity.
    assert [json.loads(frame) for frame in sent] == [
        # The bid's id as the hall gave it, as text: a JavaScript number would round a 63-bit id; "id" names the
        # request, for its answer to echo.
        {"type": "file_key", "bid": str(mine), "file_key": base64.b64encode(file_key).decode(), "id": "r1"}
    ]
    secret = keys["bidder1"].identity.encode().encode()
    assert not any(secret in body or PASSPHRASE.encode() in body for body in uploaded)
    assert server.sql("SELECT status FROM bids WHERE id = $1", mine) == "opened"
    assert server.sql("SELECT status FROM bids WHERE id = $1", theirs) == "sealed"

    # The agency closes the opening without k shares: the hall says so, with the record's digest.
    assert agent.post(f"/api/v1/tenders/{tender_id}/opening/finish").status_code == 204
    record = httpx.get(f"{server.url}/api/v1/tenders/{tender_id}/opening/record")
    closed = ZH.gettext(
        "The opening was closed without the %(needed)s shares needed: bids were opened with the file keys their "
        "bidders handed in, or withdrawn. Its record is signed and logged, SHA-256 %(digest)s."
    ) % {"needed": 2, "digest": hashlib.sha256(record.content).hexdigest()}
    page.locator("#hall-phase", has_text=closed).wait_for()
    assert page.get_attribute("#hall-phase", "data-phase") == "closed_without_key"
