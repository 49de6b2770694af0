"""A platform process killed while taking a bid or opening bids, then started again: no acknowledged bid is lost,
no bid is taken twice, and an interrupted opening carries on by itself.

Each crash point (see :mod:`bidding.faults`) is reached by a real ``bidding serve`` started with
``BIDDING_CRASH_AT``, which kills its worker with SIGKILL there; the test then starts it again as an operator would.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from crypto import custody, keyfile
from tests.conftest import PostgresServer
from tests.e2e.conftest import Clients, Server, tender_json, wait_until_live
from tests.e2e.test_bids import TUS, _bidding, _register_keys, _seal
from tests.e2e.test_log import Platform

LOGINS = ("agent", "custodian1", "custodian2", "custodian3", "bidder1", "bidder2")


class Crashable:
    """A platform, API tokens of the demo people, and the keys they registered."""

    def __init__(self, platform: Platform, tokens: dict[str, str]) -> None:
        self.platform = platform
        self.tokens = tokens
        self.keys: dict[str, keyfile.KeyFile] = {}
        self._clients: list[httpx.Client] = []

    def api(self, login: str) -> httpx.Client:
        """A program acting for ``login`` on the process running now (each start has its own port)."""
        client = httpx.Client(
            base_url=self.platform.url, headers={"authorization": f"Bearer {self.tokens[login]}"}, timeout=30
        )
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()

    def restart(self, crash_at: str | None = None) -> None:
        """Start the platform again (after a crash, or to make it crash next at ``crash_at``)."""
        if self.platform.running:
            self.platform.stop()
        process = self.platform.start(crash_at=crash_at)
        if crash_at is not None:
            wait_until_live(self.platform.url, process, self.platform.log)

    def crashed(self) -> None:
        """The process died at its crash point: wait for it, then start a normal one."""
        assert self.platform.wait_for_exit() != 0
        self.platform.start()


@pytest.fixture(scope="module")
def crashable(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crashable]:
    platform = Platform(postgres.create_database("bidding_e2e_bids_crash"), tmp_path_factory.mktemp("bids-crash"))
    seeded = subprocess.run(
        [sys.executable, "-m", "bidding", "seed-demo"], env=platform.environment(), capture_output=True, text=True
    )
    assert seeded.returncode == 0, seeded.stderr
    platform.start()
    clients = Clients(Server(platform.url, platform.database_url, platform.environment()))
    made = Crashable(platform, {login: clients.token_for(login) for login in LOGINS})
    clients.close()
    for number, login in enumerate(LOGINS[1:], start=1):
        purpose = "custodian" if login.startswith("custodian") else "bidder"
        made.keys[login] = keyfile.key_file_from_parts(f"{login}-crash", bytes([number]) * 32, bytes([number + 9]) * 32)
        _register_keys(made.api(login), purpose, made.keys[login])
    yield made
    made.close()
    platform.kill()


def _tender(crashable: Crashable, tmp_path: Path, title: str) -> tuple[int, str, str]:
    """A published tender with its ceremony run and both bidders registered: id, reference, opening recipient."""
    agent = crashable.api("agent")
    server = Server(crashable.platform.url, crashable.platform.database_url, crashable.platform.environment())
    tender_id = agent.post("/api/v1/tenders", json=tender_json(server, title)).json()["id"]
    reference = agent.get(f"/api/v1/tenders/{tender_id}").json()["reference"]
    (tmp_path / "request.json").write_text(agent.get(f"/api/v1/tenders/{tender_id}/custody").text)
    ran = _bidding("custody", "ceremony", str(tmp_path / "request.json"), "-o", str(tmp_path / "ceremony.json"))
    assert ran.returncode == 0, ran.stderr
    recipient = agent.put(f"/api/v1/tenders/{tender_id}/custody", content=(tmp_path / "ceremony.json").read_bytes())
    assert agent.post(
        f"/api/v1/tenders/{tender_id}/documents", params={"name": "招标文件.pdf"}, content=b"%PDF-1.7"
    ).is_success
    assert agent.post(f"/api/v1/tenders/{tender_id}/publish").status_code == 200
    for login in ("bidder1", "bidder2"):
        assert crashable.api(login).post(f"/api/v1/tenders/{tender_id}/registration").status_code == 200
    return tender_id, reference, recipient.json()["recipient"]


def _credit_code(crashable: Crashable, login: str) -> str:
    code: str = crashable.platform.sql(
        "SELECT o.credit_code FROM users u JOIN organisations o ON o.id = u.organisation_id WHERE u.login = $1", login
    )
    return code


def _create_upload(client: httpx.Client, tender_id: int, data: bytes) -> str:
    created = client.post(f"/api/v1/tenders/{tender_id}/uploads", headers={**TUS, "Upload-Length": str(len(data))})
    assert created.status_code == 201, created.text
    return created.headers["location"]


def _patch(client: httpx.Client, location: str, offset: int, data: bytes) -> httpx.Response:
    headers = {**TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
    return client.patch(location, content=data, headers=headers)


def _bids(crashable: Crashable, tender_id: int) -> list[tuple[int, str]]:
    rows = crashable.platform.sql(
        """SELECT coalesce(json_agg(json_build_array(id, status) ORDER BY submitted_at, event_id), '[]') FROM bids
           WHERE tender_id = $1""",
        tender_id,
    )
    return [tuple(row) for row in json.loads(rows)]


def test_a_crash_while_writing_an_upload_resumes_from_what_was_counted(crashable: Crashable, tmp_path: Path) -> None:
    tender_id, reference, recipient = _tender(crashable, tmp_path, "上传中断测试")
    data, statement = _seal(
        reference, _credit_code(crashable, "bidder1"), crashable.keys["bidder1"], recipient, "1000.00"
    )
    location = _create_upload(crashable.api("bidder1"), tender_id, data)
    crashable.restart(crash_at=f"bids.upload_written@{tmp_path / 'upload.crashed'}")
    with pytest.raises(httpx.TransportError):
        _patch(crashable.api("bidder1"), location, 0, data)
    crashable.crashed()
    bidder = crashable.api("bidder1")
    assert bidder.head(location, headers=TUS).headers["upload-offset"] == "0"
    assert _patch(bidder, location, 0, data).status_code == 204
    upload = location.rsplit("/", 1)[1]
    submitted = bidder.post(
        f"/api/v1/tenders/{tender_id}/bids", json={"upload": upload, "statement": statement.decode()}
    )
    assert submitted.status_code == 201, submitted.text
    assert _bids(crashable, tender_id) == [(submitted.json()["bid"]["id"], "sealed")]


@pytest.mark.parametrize("point", ["bids.submit_stored", "bids.submit_committed"])
def test_a_crash_while_submitting_leaves_no_bid_or_one_whole_bid(
    crashable: Crashable, tmp_path: Path, point: str
) -> None:
    tender_id, reference, recipient = _tender(crashable, tmp_path, f"递交中断测试 {point}")
    data, statement = _seal(
        reference, _credit_code(crashable, "bidder2"), crashable.keys["bidder2"], recipient, "2000.00"
    )
    bidder = crashable.api("bidder2")
    location = _create_upload(bidder, tender_id, data)
    assert _patch(bidder, location, 0, data).status_code == 204
    crashable.restart(crash_at=f"{point}@{tmp_path / 'submit.crashed'}")
    body = {"upload": location.rsplit("/", 1)[1], "statement": statement.decode()}
    with pytest.raises(httpx.TransportError):
        crashable.api("bidder2").post(f"/api/v1/tenders/{tender_id}/bids", json=body)
    crashable.crashed()
    bidder = crashable.api("bidder2")
    again = bidder.post(f"/api/v1/tenders/{tender_id}/bids", json=body)
    if point == "bids.submit_stored":
        assert again.status_code == 201, again.text  # nothing was taken: submitting again takes it, once
    else:
        assert again.status_code == 409  # it was taken before the crash: not twice
    [(bid_id, status)] = _bids(crashable, tender_id)
    assert status == "sealed"
    listed = bidder.get("/api/v1/bids", params={"tender": tender_id}).json()
    assert [bid["id"] for bid in listed] == [bid_id]
    receipt = bidder.get(f"/api/v1/bids/{bid_id}/receipt")
    assert receipt.status_code == 200 and receipt.text.startswith("c2sp.org/tlog-proof@v1\n")


def test_a_crash_during_the_opening_carries_on_when_the_platform_starts_again(
    crashable: Crashable, tmp_path: Path
) -> None:
    tender_id, reference, recipient = _tender(crashable, tmp_path, "开标中断测试")
    prices = {"bidder1": "3100.00", "bidder2": "2900.50"}
    for login, price in prices.items():
        data, statement = _seal(reference, _credit_code(crashable, login), crashable.keys[login], recipient, price)
        bidder = crashable.api(login)
        location = _create_upload(bidder, tender_id, data)
        assert _patch(bidder, location, 0, data).status_code == 204
        body = {"upload": location.rsplit("/", 1)[1], "statement": statement.decode()}
        assert bidder.post(f"/api/v1/tenders/{tender_id}/bids", json=body).status_code == 201
    crashable.platform.sql(
        "UPDATE tenders SET deadline = clock_timestamp() - interval '1 second' WHERE id = $1", tender_id
    )
    assert crashable.api("agent").post(f"/api/v1/tenders/{tender_id}/opening").status_code == 204

    def hand_in(login: str) -> httpx.Response:
        custodian = crashable.api(login)
        sealed = custodian.get(f"/api/v1/tenders/{tender_id}/custody/share").content
        share = custody.open_sealed_share(sealed, crashable.keys[login].identity, reference)
        return custodian.post(f"/api/v1/tenders/{tender_id}/opening/shares", json={"share": share})

    assert hand_in("custodian1").status_code == 200
    crashable.restart(crash_at=f"opening.line_recorded@{tmp_path / 'opening.crashed'}")
    # The k-th share is answered at once and the bids are read on a task of their own, which dies at the crash
    # point: the answer may or may not have left before.
    with contextlib.suppress(httpx.TransportError):
        assert hand_in("custodian2").status_code == 200
    crashable.crashed()
    record = None
    for _ in range(100):
        record = httpx.get(f"{crashable.platform.url}/api/v1/tenders/{tender_id}/opening/record")
        if record.status_code == 200:
            break
        time.sleep(0.2)
    assert record is not None and record.status_code == 200, "the opening did not carry on"
    lines = json.loads(record.content)["lines"]
    assert sorted(line["total"] for line in lines) == sorted(prices.values())
    assert [line["position"] for line in lines] == [1, 2]
    assert crashable.platform.sql("SELECT count(*) FROM opening_lines WHERE tender_id = $1", tender_id) == 2
