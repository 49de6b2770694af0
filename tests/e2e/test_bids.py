"""Sealed bids against the real server: keys, the ceremony by the offline command, tus uploads over HTTP, receipts
proven offline with ``bidding log proof``, replacement, withdrawal, a late upload, and the opening by shares."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from crypto import age, custody, envelope, keyfile
from crypto.statement import PriceSheet
from tests.e2e.conftest import Clients, Server, tender_json

TUS = {"Tus-Resumable": "1.0.0"}


def _bidding(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BIDDING_") and k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "bidding", *args], env=environment, capture_output=True, text=True, timeout=60
    )


def _register_keys(client: httpx.Client, purpose: str, keys: keyfile.KeyFile) -> None:
    answer = client.post(
        "/api/v1/keys",
        json={"purpose": purpose, "verifier_key": keys.verifier_key, "recipient": keys.recipient.encode()},
    )
    assert answer.status_code == 201, answer.text


def _tus_upload(client: httpx.Client, tender_id: int, data: bytes) -> str:
    options = client.options(f"/api/v1/tenders/{tender_id}/uploads")
    assert options.headers["tus-extension"] == "creation,termination,checksum"
    created = client.post(f"/api/v1/tenders/{tender_id}/uploads", headers={**TUS, "Upload-Length": str(len(data))})
    assert created.status_code == 201, created.text
    assert created.headers["tus-resumable"] == "1.0.0"
    location = created.headers["location"]
    half = len(data) // 2
    for start, part in ((0, data[:half]), (half, data[half:])):
        checksum = "sha256 " + base64.b64encode(hashlib.sha256(part).digest()).decode()
        sent = client.patch(
            location,
            content=part,
            headers={
                **TUS,
                "Upload-Offset": str(start),
                "Upload-Checksum": checksum,
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert sent.status_code == 204, sent.text
    resumed = client.head(location, headers=TUS)
    assert resumed.headers["upload-offset"] == str(len(data)) == resumed.headers["upload-length"]
    return location.rsplit("/", 1)[1]


def _answer(room: ClientConnection) -> dict[str, object]:
    """The answer to what was just sent, skipping the hall's own messages."""
    while True:
        message: dict[str, object] = json.loads(room.recv(timeout=10))
        if "seq" not in message:
            return message


def assert_documents_read(supervisor: httpx.Client, bid_id: int) -> None:
    """An opened bid's documents are listed, and each downloads whole (decrypted on the fly) for a supervisor."""
    listed = supervisor.get(f"/api/v1/bids/{bid_id}/documents")
    assert listed.status_code == 200, listed.text
    assert listed.json(), "an opened bid has documents"
    for document in listed.json():
        downloaded = supervisor.get(document["url"])
        assert downloaded.status_code == 200 and hashlib.sha256(downloaded.content).hexdigest() == document["sha256"]


def _seal(reference: str, credit_code: str, keys: keyfile.KeyFile, recipient: str, total: str) -> tuple[bytes, bytes]:
    target = io.BytesIO()
    tender_recipient = age.parse_recipient(recipient)
    sealed = envelope.seal_envelope(
        target,
        [
            ("技术标.pdf", io.BytesIO(b"%PDF-1.7 technical " * 500)),
            ("报价单.pdf", io.BytesIO(f"%PDF-1.7 {total}".encode())),
        ],
        tender=reference,
        lot="1",
        bidder=credit_code,
        slot="single",
        price_sheet=PriceSheet("CNY", total, duration_days=120, bid_security="10000.00", remarks="含税"),
        recipients=[tender_recipient, keys.recipient],
        signer=keys.signer,
        created="2026-11-21T09:00:00Z",
    )
    return target.getvalue(), sealed.signed_statement


def test_bidders_seal_submit_replace_withdraw_and_custodians_open_the_bids(
    server: Server, clients: Clients, tmp_path: Path
) -> None:
    agent = clients.api("agent")
    created = agent.post("/api/v1/tenders", json=tender_json(server, "密封投标端到端测试"))
    assert created.status_code == 201, created.text
    tender_id = created.json()["id"]
    reference = agent.get(f"/api/v1/tenders/{tender_id}").json()["reference"]

    custodian_keys = {}
    for number, login in enumerate(("custodian1", "custodian2", "custodian3"), start=1):
        custodian_keys[login] = keyfile.key_file_from_parts(
            f"{login}-e2e", bytes([number]) * 32, bytes([number + 40]) * 32
        )
        _register_keys(clients.api(login), "custodian", custodian_keys[login])
    request = tmp_path / "request.json"
    request.write_text(agent.get(f"/api/v1/tenders/{tender_id}/custody").text)
    ran = _bidding("custody", "ceremony", str(request), "-o", str(tmp_path / "ceremony.json"))
    assert ran.returncode == 0, ran.stderr
    recorded = agent.put(f"/api/v1/tenders/{tender_id}/custody", content=(tmp_path / "ceremony.json").read_bytes())
    assert recorded.status_code == 200, recorded.text
    recipient = recorded.json()["recipient"]
    pdf = b"%PDF-1.7\n% e2e bids\n"
    assert (
        agent.post(f"/api/v1/tenders/{tender_id}/documents", params={"name": "招标文件.pdf"}, content=pdf).status_code
        == 201
    )
    assert agent.post(f"/api/v1/tenders/{tender_id}/publish").status_code == 200
    assert httpx.get(f"{server.url}/api/v1/tenders/{tender_id}").json()["opening_recipient"] == recipient
    assert recipient in httpx.get(f"{server.url}/tenders/{tender_id}").text

    bidders, bids, prices = {}, {}, {"bidder1": "1250000.00", "bidder2": "1199000.00", "bidder3": "1302000.50"}
    log_vkey = tmp_path / "log.vkey"
    log_vkey.write_text(httpx.get(server.url + "/log/key").text)
    for number, login in enumerate(prices, start=1):
        client = bidders[login] = clients.api(login)
        assert client.post(f"/api/v1/tenders/{tender_id}/registration").status_code == 200
        keys = keyfile.key_file_from_parts(f"{login}-e2e", bytes([number + 10]) * 32, bytes([number + 60]) * 32)
        _register_keys(client, "bidder", keys)
        code = server.sql(
            "SELECT o.credit_code FROM users u JOIN organisations o ON o.id = u.organisation_id WHERE u.login = $1",
            login,
        )
        data, statement = _seal(reference, code, keys, recipient, prices[login])
        upload = _tus_upload(client, tender_id, data)
        submitted = client.post(
            f"/api/v1/tenders/{tender_id}/bids", json={"upload": upload, "statement": statement.decode()}
        )
        assert submitted.status_code == 201, submitted.text
        body = submitted.json()
        bids[login] = body["bid"]["id"]
        receipt = body["receipt"] or client.get(body["bid"]["receipt_url"]).text
        (tmp_path / f"{login}.receipt").write_text(receipt)
        (tmp_path / f"{login}.record").write_text(json.dumps(body["record"]))
        checked = _bidding(
            "log",
            "proof",
            str(tmp_path / f"{login}.receipt"),
            "--key",
            str(log_vkey),
            "--record",
            str(tmp_path / f"{login}.record"),
        )
        assert checked.returncode == 0, checked.stderr
        if login == "bidder2":  # replaces its bid with a lower price
            prices[login] = "1150000.00"
            data, statement = _seal(reference, code, keys, recipient, prices[login])
            replaced = client.post(
                f"/api/v1/tenders/{tender_id}/bids",
                json={
                    "upload": _tus_upload(client, tender_id, data),
                    "statement": statement.decode(),
                    "replaces": bids[login],
                },
            )
            assert replaced.status_code == 201, replaced.text
            bids[login] = replaced.json()["bid"]["id"]

    withdrawn = bidders["bidder3"].post(f"/api/v1/bids/{bids.pop('bidder3')}/withdrawal")
    assert withdrawn.status_code == 200 and withdrawn.json()["bid"]["status"] == "withdrawn"

    # A late upload: one second after the deadline by the database's clock, nothing is taken.
    late = bidders["bidder3"].post(f"/api/v1/tenders/{tender_id}/uploads", headers={**TUS, "Upload-Length": "100"})
    assert late.status_code == 201
    server.sql("UPDATE tenders SET deadline = clock_timestamp() - interval '1 second' WHERE id = $1", tender_id)
    refused = bidders["bidder3"].patch(
        late.headers["location"],
        content=b"x" * 100,
        headers={**TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
    )
    assert refused.status_code == 409 and "deadline" in refused.json()["detail"]

    assert agent.post(f"/api/v1/tenders/{tender_id}/opening").status_code == 204
    hall = server.url.replace("http", "ws") + f"/ws/tenders/{tender_id}/opening"
    with pytest.raises(InvalidStatus), ws_connect(hall, open_timeout=5):  # someone not signed in does not attend
        pass
    bidder_headers = {"Authorization": f"Bearer {clients.token_for('bidder1')}"}
    with (
        pytest.raises(InvalidStatus),
        ws_connect(hall, origin="https://elsewhere.example", additional_headers=bidder_headers),
    ):
        pass  # a page of another site cannot open the hall with someone's cookies
    bidder_token = clients.token_for("bidder1")
    with ws_connect(hall, additional_headers={"Authorization": f"Bearer {bidder_token}"}) as watcher:
        first = json.loads(watcher.recv(timeout=5))
        assert first["kind"] == "bids_frozen" and {int(b["bid"]) for b in first["bids"]} == set(bids.values())
        for login in ("custodian1", "custodian3"):
            custodian = clients.api(login)
            sealed = custodian.get(f"/api/v1/tenders/{tender_id}/custody/share")
            share = custody.open_sealed_share(sealed.content, custodian_keys[login].identity, reference)
            assert custody.share_digest(share).hex() == sealed.headers["x-share-sha256"]
            if login == "custodian1":
                handed = custodian.post(f"/api/v1/tenders/{tender_id}/opening/shares", json={"share": share})
                assert handed.status_code == 200, handed.text
                continue
            token = clients.token_for(login)
            with ws_connect(hall, additional_headers={"Authorization": f"Bearer {token}"}) as room:
                room.send("not json")
                refusal = _answer(room)  # in the custodian's language, Chinese
                assert refusal["type"] == "error" and refusal["detail"] == "消息须为 JSON 对象。"
                room.send(json.dumps({"type": "share", "share": "x" * 70_000}))
                assert "65536" in str(_answer(room)["detail"])
                room.send(json.dumps({"type": "share", "share": share}))
                assert _answer(room) == {"type": "ok"}
        seen = [first["kind"]]
        while seen[-1] != "record":
            seen.append(json.loads(watcher.recv(timeout=10))["kind"])
    assert seen == ["bids_frozen", "share", "share", "key_rebuilt", "line", "line", "record"]

    record = httpx.get(f"{server.url}/api/v1/tenders/{tender_id}/opening/record")
    assert record.status_code == 200, record.text
    lines = json.loads(record.content)["lines"]
    assert {int(line["bid"]): line["total"] for line in lines} == {bids[login]: prices[login] for login in bids}
    assert all(line["outcome"] == "opened" for line in lines)
    # After the opening a supervisor reads a bid's documents, decrypted on the fly; a bidder cannot.
    assert_documents_read(clients.api("supervisor1"), bids["bidder1"])
    assert bidders["bidder1"].get(f"/api/v1/bids/{bids['bidder1']}/documents").status_code == 403
