"""``bidding draw verify`` and ``bidding draw contribute``: the expert draw checked, and a supervisor's part in
it made, from outside the server.

``verify`` fetches what is public of a tender's draws (their log entries, and each round's inputs document) and
replays every drawn round with :func:`crypto.draw_record.replay_record`, naming the first part that differs. Given
the log's key it also checks that each entry the record cites is the one the log's entry bundles hold at that
index, under a checkpoint signed by that key (``bidding log verify`` checks the log's tree itself).

``contribute`` is a supervisor's contribution without a browser: run once, it draws a 32-byte secret, keeps it in
a file only its owner can read, and sends its commitment; run again with the same file once the platform's code
is out, it reveals the secret.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
from pathlib import Path
from typing import Any

import httpx

from bidding.offline.commands import OfflineError, read_verifier_key
from bidding.offline.verify import VerifyError, open_checkpoint, parse_verifiers
from crypto import draw, draw_record, tiles

#: The party a supervisor's secret is committed as (bidding/experts/draws.py).
SUPERVISOR = "supervisor"
TIMEOUT = 30.0


def _get_json(client: httpx.Client, url: str) -> Any:
    try:
        answer = client.get(url, timeout=TIMEOUT)
    except httpx.HTTPError as error:
        raise OfflineError(f"cannot fetch {url}: {error}") from None
    if answer.status_code != 200:
        raise OfflineError(f"{url}: the server answered {answer.status_code}")
    return answer.json()


def _check_entries(client: httpx.Client, base: str, key: str, record: list[dict[str, Any]]) -> int:
    """Check each cited entry against the log's bundles; returns how many were checked."""
    verifier, _ = parse_verifiers(key, ())
    try:
        answer = client.get(f"{base}/log/checkpoint", timeout=TIMEOUT)
    except httpx.HTTPError as error:
        raise OfflineError(f"cannot fetch the checkpoint: {error}") from None
    try:
        checkpoint, _ = open_checkpoint(answer.content, verifier, (), 0)
    except VerifyError as error:
        raise OfflineError(str(error)) from None
    bundles: dict[int, list[bytes]] = {}
    checked = 0
    for found in record:
        for kind, entry in found["entries"].items():
            index = entry["log_index"]
            if index is None or index >= checkpoint.size:
                continue
            number = index // tiles.TILE_WIDTH
            if number not in bundles:
                full = (number + 1) * tiles.TILE_WIDTH <= checkpoint.size
                width = tiles.TILE_WIDTH if full else checkpoint.size % tiles.TILE_WIDTH
                bundle = tiles.Bundle(number, width)
                data = client.get(f"{base}/log/{bundle.path}", timeout=TIMEOUT)
                if data.status_code != 200:
                    raise OfflineError(f"{bundle.path}: the log answered {data.status_code}")
                bundles[number] = tiles.bundle_entries(data.content, width)
            logged = json.loads(bundles[number][index % tiles.TILE_WIDTH])
            if logged.get("action") != f"draw.{kind}" or logged.get("details") != entry["details"]:
                raise OfflineError(f"draw {found['draw']}: its {kind} entry is not the one at log index {index}")
            checked += 1
    return checked


def verify_tender(base_url: str, tender_id: int, *, key: str | None = None) -> list[str]:
    """Replay every drawn round of a tender from what the server publishes; the lines to print. Raises
    OfflineError naming the first difference."""
    base = base_url.rstrip("/")
    lines: list[str] = []
    with httpx.Client() as client:
        record = _get_json(client, f"{base}/api/v1/tenders/{tender_id}/draws/record")
        if not record:
            raise OfflineError(f"tender {tender_id} has no draw yet")
        if key is not None:
            lines.append(f"{_check_entries(client, base, key, record)} entries found in the log as cited")
        for found in record:
            entries = found["entries"]
            committed = entries["committed"]["details"]
            if "drawn" not in entries:
                state = "void: " + entries["void"]["details"]["reason"] if "void" in entries else "not drawn yet"
                lines.append(f"draw {found['draw']} (round {committed['round']}): {state}")
                continue
            document = _get_json(client, base + found["inputs_url"])
            drawn = entries["drawn"]["details"]
            contributions = {
                party: (entries["contribution_committed"]["details"]["commitment"], secret)
                for party, secret in drawn["contributions"].items()
            }
            try:
                result = draw_record.replay_record(
                    document,
                    inputs_sha256=committed["inputs_sha256"],
                    commitment=committed["commitment"],
                    one_time_code=entries["code_revealed"]["details"]["one_time_code"],
                    contributions=contributions,
                    groups=drawn["groups"],
                )
            except (draw.DrawError, KeyError, TypeError) as error:
                raise OfflineError(f"draw {found['draw']}: {error}") from None
            seats = ", ".join(
                f"{g.group}: {' '.join(g.members)} (reserves {' '.join(g.reserves) or '-'})" for g in result.groups
            )
            lines.append(f"draw {found['draw']} (round {committed['round']}) replays: {seats}")
    return lines


def command_verify(args: argparse.Namespace) -> None:
    key = read_verifier_key(args.key) if args.key else None
    for line in verify_tender(args.url, args.tender, key=key):
        print(line)


def _token(args: argparse.Namespace) -> str:
    token = Path(args.token_file).read_text().strip() if args.token_file else os.environ.get("BIDDING_TOKEN", "")
    if not token:
        raise OfflineError("give an API token: --token-file FILE or BIDDING_TOKEN")
    return token


def contribute(base_url: str, tender_id: int, draw_id: int, secret_file: Path, token: str) -> str:
    """Commit to a new secret (no ``secret_file`` yet) or reveal the one kept in it; what was done, to print."""
    base = base_url.rstrip("/")
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(headers=headers) as client:
        if secret_file.exists():
            secret = bytes.fromhex(secret_file.read_text().strip())
            path, body, done = f"/api/v1/draws/{draw_id}/contribution/secret", {"secret": secret.hex()}, "revealed"
        else:
            record = _get_json(client, f"{base}/api/v1/tenders/{tender_id}/draws/record")
            found = next((r for r in record if r["draw"] == draw_id), None)
            if found is None:
                raise OfflineError(f"tender {tender_id} has no draw {draw_id}")
            digest = draw_record.commitment_from_json(found["entries"]["committed"]["details"]["commitment"]).digest
            secret = secrets.token_bytes(draw.SECRET_SIZE)
            descriptor = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as kept:
                kept.write(secret.hex() + "\n")
            commitment = draw.contribution_commitment(digest, SUPERVISOR, secret)
            path, body, done = f"/api/v1/draws/{draw_id}/contribution", {"commitment": commitment.hex()}, "committed"
        try:
            answer = client.post(base + path, json=body, timeout=TIMEOUT)
        except httpx.HTTPError as error:
            raise OfflineError(f"cannot reach {base}: {error}") from None
    if answer.status_code != 204:
        detail = answer.json().get("detail") or answer.json().get("title") if answer.content else ""
        raise OfflineError(f"the server answered {answer.status_code}: {detail}")
    return f"draw {draw_id}: secret {done}" + (
        f"; keep {secret_file} until you reveal it" if done == "committed" else ""
    )


def command_contribute(args: argparse.Namespace) -> None:
    print(contribute(args.url, args.tender, args.draw, Path(args.secret_file), _token(args)))


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parent = commands.add_parser("draw", help="check an expert draw, or contribute to one as a supervisor")
    sub = parent.add_subparsers(title="draw commands", required=True, metavar="COMMAND")
    verify = sub.add_parser("verify", help="replay a tender's expert draws from what the platform publishes")
    verify.add_argument("url", help="the platform's address, e.g. https://bidding.example")
    verify.add_argument("--tender", type=int, required=True, help="the tender's id")
    verify.add_argument("--key", help="the log's verifier key, to check the entries against the log")
    verify.set_defaults(run_offline=command_verify)
    give = sub.add_parser("contribute", help="commit to a secret for a draw, then (run again) reveal it")
    give.add_argument("url", help="the platform's address")
    give.add_argument("--tender", type=int, required=True)
    give.add_argument("--draw", type=int, required=True, help="the draw round's id")
    give.add_argument("--secret-file", required=True, help="where the secret is kept between the two runs")
    give.add_argument("--token-file", help="a file holding a supervisor's API token (else BIDDING_TOKEN)")
    give.set_defaults(run_offline=command_contribute)
