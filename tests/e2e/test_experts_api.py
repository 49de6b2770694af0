"""The expert draw from outside, on the demo server: replayed from the public log with nothing but ``crypto/``,
by ``bidding draw verify`` against the running server, a changed input detected, and nobody but supervisors
learning who sits on a committee (bidders, the agency, the public log)."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import httpx
import pytest

from crypto import draw_record, tiles
from crypto.draw import DrawError
from tests.e2e.conftest import Clients, Server

#: How long the log may take to sequence the demo's entries.
SEQUENCED_WITHIN = 30.0


def _drawn_tender(server: Server) -> int:
    tender_id = server.sql("SELECT tender_id FROM expert_draws WHERE status = 'drawn' ORDER BY id LIMIT 1")
    assert tender_id is not None, "the demo has a drawn committee"
    return int(tender_id)


def _public_entries(url: str) -> list[dict[str, Any]]:
    """Every entry of the public log, read from its checkpoint and entry bundles (C2SP tlog-tiles) alone."""
    size = int(httpx.get(f"{url}/log/checkpoint", timeout=10).text.split("\n")[1])
    entries: list[dict[str, Any]] = []
    for number in range((size + tiles.TILE_WIDTH - 1) // tiles.TILE_WIDTH):
        width = min(tiles.TILE_WIDTH, size - number * tiles.TILE_WIDTH)
        bundle = tiles.Bundle(number, width)
        data = httpx.get(f"{url}/log/{bundle.path}", timeout=10).content
        entries.extend(json.loads(entry) for entry in tiles.bundle_entries(data, width))
    return entries


def _draw_entries(url: str, tender_id: int) -> dict[int, dict[str, dict[str, Any]]]:
    """The draws' entries of a tender in the public log, by round and kind, once every one is sequenced."""
    deadline = time.monotonic() + SEQUENCED_WITHIN
    while True:
        record = httpx.get(f"{url}/api/v1/tenders/{tender_id}/draws/record", timeout=10).json()
        if all(entry["log_index"] is not None for found in record for entry in found["entries"].values()):
            break
        assert time.monotonic() < deadline, "the draw's entries were not sequenced in time"
        time.sleep(0.2)
    rounds: dict[int, dict[str, dict[str, Any]]] = {}
    for entry in _public_entries(url):
        if entry.get("subject") == f"tender:{tender_id}" and entry.get("action", "").startswith("draw."):
            details = entry["details"]
            rounds.setdefault(details["draw"], {})[entry["action"].removeprefix("draw.")] = details
    return rounds


def _replay(url: str, draw_id: int, entries: dict[str, dict[str, Any]], document: Any = None) -> Any:
    if document is None:
        document = httpx.get(f"{url}/api/v1/draws/{draw_id}/inputs", timeout=10).json()
    return draw_record.replay_record(
        document,
        inputs_sha256=entries["committed"]["inputs_sha256"],
        commitment=entries["committed"]["commitment"],
        one_time_code=entries["code_revealed"]["one_time_code"],
        contributions={
            party: (entries["contribution_committed"]["commitment"], secret)
            for party, secret in entries["drawn"]["contributions"].items()
        },
        groups=entries["drawn"]["groups"],
    )


def test_a_draw_replays_from_the_public_log_alone_and_a_changed_input_is_found(server: Server) -> None:
    tender_id = _drawn_tender(server)
    rounds = {number: found for number, found in _draw_entries(server.url, tender_id).items() if "drawn" in found}
    assert rounds
    for draw_id, entries in rounds.items():
        result = _replay(server.url, draw_id, entries)
        assert result.members
        document = httpx.get(f"{server.url}/api/v1/draws/{draw_id}/inputs", timeout=10).json()
        changed = copy.deepcopy(document)
        changed["exclusions"] = changed["exclusions"][1:] if changed["exclusions"] else []
        changed["candidates"][0]["groups"] = ["Z99"]
        with pytest.raises(DrawError):
            _replay(server.url, draw_id, entries, changed)


def test_bidding_draw_verify_replays_every_round_against_the_running_server(server: Server) -> None:
    tender_id = _drawn_tender(server)
    _draw_entries(server.url, tender_id)
    key = httpx.get(f"{server.url}/log/key", timeout=10).text.strip()
    done = server.bidding("draw", "verify", server.url, "--tender", str(tender_id), "--key", key)
    assert done.returncode == 0, done.stderr
    assert "replays" in done.stdout
    assert "entries found in the log as cited" in done.stdout
    missing = server.bidding("draw", "verify", server.url, "--tender", "999999")
    assert missing.returncode == 1 and "999999" in missing.stderr


def test_only_supervisors_learn_who_sits_on_the_committee(server: Server, clients: Clients) -> None:
    tender_id = _drawn_tender(server)
    supervisor = clients.api("supervisor1")
    supervised = supervisor.get(f"/api/v1/tenders/{tender_id}/committee/supervision")
    assert supervised.status_code == 200, supervised.text
    drawn = [i for i in supervised.json()["invitations"]]
    names = {i["name"] for i in drawn}
    logins = set(server.sql("SELECT array_agg(u.login) FROM experts e JOIN users u ON u.id = e.user_id "
                            "WHERE e.id = ANY($1::bigint[])", [i["expert_id"] for i in drawn]))  # fmt: skip
    assert names and logins
    agency = clients.api("agent")
    committee = agency.get(f"/api/v1/tenders/{tender_id}/committee")
    assert committee.status_code == 200
    seen: list[str] = [committee.text]
    assert agency.get(f"/api/v1/tenders/{tender_id}/committee/supervision").status_code == 403
    bidder = clients.api("bidder1")
    for path in (f"/api/v1/tenders/{tender_id}/committee", f"/api/v1/tenders/{tender_id}/committee/supervision"):
        assert bidder.get(path).status_code == 403
    with httpx.Client(base_url=server.url) as anyone:
        for client in (agency, bidder, anyone):
            for path in (f"/api/v1/tenders/{tender_id}", f"/api/v1/tenders/{tender_id}/draws/record"):
                seen.append(client.get(path).text)
    for browser in (clients.sign_in("agent"), clients.sign_in("bidder1")):
        seen.append(browser.get(f"/tenders/{tender_id}").text)
        seen.append(browser.get(f"/tenders/{tender_id}/committee").text)
    seen.append(json.dumps(_public_entries(server.url), ensure_ascii=False))
    for text in seen:
        for secret in names | logins:
            assert secret not in text
