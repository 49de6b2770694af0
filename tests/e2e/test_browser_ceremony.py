"""The custody ceremony in Chromium: SLIP-0039 shares made by frontend/static/js/slip39.js, ceremony files made by
ceremony.js, and the ceremony page run by the agency, all checked against ``shamir-mnemonic`` and ``crypto.custody``.

The modules are imported from the platform's own static files into a page of the real server. SLIP-0039 is
checked three ways: against the official vectors step by step (share encoding with its RS1024 checksum, the
Feistel encryption of the master secret, interpolation), against the reference implementation with the same
randomness (byte for byte the same mnemonics), and by random splits that ``shamir_mnemonic.combine_mnemonics``
must combine from every k shares and refuse from k − 1.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import itertools
import json
import random
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
import shamir_mnemonic
from shamir_mnemonic import MnemonicError, shamir
from shamir_mnemonic.share import Share
from shamir_mnemonic.wordlist import WORDLIST

from crypto import custody, keyfile
from crypto.age import HybridIdentity, X25519Identity, decrypt
from tests.e2e.conftest import Clients, Server, ceremony_file, csrf_token, tender_json, watch_for_errors
from tests.e2e.test_browser import sign_in
from tests.vectors.load import load

SLIP39 = load("slip39")
VALID = [case for case in SLIP39["cases"] if case["master_secret"]]
CUSTODIANS = ("custodian1", "custodian2", "custodian3")
#: Subsets of k shares combined per random split: all of them when there are fewer.
SUBSETS_TRIED = 12


@pytest.fixture
def module_page(browser: Any, server: Server) -> Iterator[Any]:
    """A page of the platform, to import its static modules into, failing its test on a script error."""
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    watch_for_errors(page, errors)
    page.goto("/sign-in")
    yield page
    context.close()
    assert errors == []


def random_stream(label: str) -> bytes:
    """Bytes that stand in for randomness, the same for the browser and the reference implementation."""
    return b"".join(hashlib.sha256(f"{label}/{block}".encode()).digest() for block in range(64))


class StreamReader:
    """``shamir.RANDOM_BYTES`` reading a fixed stream from its start, counting what it drew."""

    def __init__(self, stream: bytes) -> None:
        self.stream = stream
        self.used = 0

    def __call__(self, length: int) -> bytes:
        out = self.stream[self.used : self.used + length]
        self.used += length
        return out


# The JavaScript counterpart of StreamReader: fresh copies, since slip39.js overwrites what it was given.
STREAM_JS = """
const streamOf = (hex) => {
  const stream = Uint8Array.from(hex.match(/../g), (pair) => parseInt(pair, 16));
  const reader = (length) => stream.slice(reader.used, (reader.used += length));
  reader.used = 0;
  return reader;
};
const fromHex = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));
const toHex = (bytes) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
"""


def reference_split(
    monkeypatch: pytest.MonkeyPatch, seed: bytes, k: int, n: int, stream: bytes
) -> tuple[list[str], int]:
    """What crypto/custody.py makes of ``seed`` with ``stream`` as randomness, and how many bytes it drew."""
    reader = StreamReader(stream)
    with monkeypatch.context() as patch:
        patch.setattr(shamir, "RANDOM_BYTES", reader)
        (mnemonics,) = shamir_mnemonic.generate_mnemonics(1, [(k, n)], seed, iteration_exponent=0)
    return mnemonics, reader.used


# --- SLIP-0039 against the official vectors ---------------------------------------------------------------------------


@pytest.mark.browser
def test_the_wordlist_is_the_reference_implementations(module_page: Any) -> None:
    words = module_page.evaluate("""async () => (await import("/static/js/slip39.js")).WORDLIST""")
    assert words == WORDLIST


@pytest.mark.browser
def test_each_share_of_the_official_vectors_encodes_to_its_mnemonic(module_page: Any) -> None:
    """Identifier, flag, exponent, group and member parameters, the value's words and the RS1024 checksum."""
    shares = [Share.from_mnemonic(mnemonic) for case in VALID for mnemonic in case["mnemonics"]]
    fields = [
        {
            "identifier": share.identifier,
            "extendable": share.extendable,
            "iterationExponent": share.iteration_exponent,
            "groupIndex": share.group_index,
            "groupThreshold": share.group_threshold,
            "groupCount": share.group_count,
            "index": share.index,
            "memberThreshold": share.member_threshold,
            "value": share.value.hex(),
        }
        for share in shares
    ]
    encoded = module_page.evaluate(
        "async (shares) => {"
        + STREAM_JS
        + """
          const { encodeShare } = await import("/static/js/slip39.js");
          return shares.map((share) => encodeShare({ ...share, value: fromHex(share.value) }));
        }""",
        fields,
    )
    assert encoded == [" ".join(mnemonic.split()) for case in VALID for mnemonic in case["mnemonics"]]
    assert len(encoded) == 26


@pytest.mark.browser
def test_the_master_secret_of_each_official_vector_encrypts_to_its_shared_secret(module_page: Any) -> None:
    """The Feistel network on PBKDF2-HMAC-SHA256 (WebCrypto), with the vectors' passphrase, exponents and salt."""
    cases = []
    for case in VALID:
        encrypted = shamir.recover_ems(shamir.decode_mnemonics(case["mnemonics"]))
        cases.append(
            {
                "secret": case["master_secret"],
                "exponent": encrypted.iteration_exponent,
                "identifier": encrypted.identifier,
                "extendable": encrypted.extendable,
                "expected": encrypted.ciphertext.hex(),
            }
        )
    assert {case["exponent"] for case in cases} == {0, 2}
    made = module_page.evaluate(
        "async ([cases, passphrase]) => {"
        + STREAM_JS
        + """
          const { encryptMasterSecret } = await import("/static/js/slip39.js");
          const out = [];
          for (const { secret, exponent, identifier, extendable } of cases) {
            const words = new TextEncoder().encode(passphrase);
            const encrypted = await encryptMasterSecret(fromHex(secret), words, exponent, identifier, extendable);
            out.push(toHex(encrypted));
          }
          return out;
        }""",
        [cases, SLIP39["passphrase"]],
    )
    assert made == [case["expected"] for case in cases]


@pytest.mark.browser
def test_interpolation_rebuilds_each_official_vectors_secret_and_digest(module_page: Any) -> None:
    """Each group's secret at x = 255 and its digest share at x = 254, then the groups' secrets at x = 255."""
    cases = []
    for case in VALID:
        groups = shamir.decode_mnemonics(case["mnemonics"])
        cases.append(
            {
                "groups": [
                    {
                        "index": index,
                        "threshold": group.member_threshold(),
                        "shares": [{"x": share.index, "data": share.value.hex()} for share in group],
                    }
                    for index, group in groups.items()
                ],
                "groupThreshold": next(iter(groups.values())).common_parameters().group_threshold,
            }
        )
    made = module_page.evaluate(
        "async (cases) => {"
        + STREAM_JS
        + """
          const { interpolate } = await import("/static/js/slip39.js");
          const parse = (shares) => shares.map(({ x, data }) => ({ x, data: fromHex(data) }));
          return cases.map(({ groups, groupThreshold }) => {
            const groupSecrets = groups.map(({ index, threshold, shares }) => {
              const points = parse(shares);
              if (threshold === 1) return { index, secret: toHex(points[0].data), digest: null };
              return { index, secret: toHex(interpolate(points, 255)), digest: toHex(interpolate(points, 254)) };
            });
            const points = groupSecrets.map(({ index, secret }) => ({ x: index, data: fromHex(secret) }));
            const encrypted = groupThreshold === 1 ? points[0].data : interpolate(points, 255);
            return { groupSecrets, encrypted: toHex(encrypted) };
          });
        }""",
        cases,
    )
    for case, result in zip(VALID, made, strict=True):
        expected = shamir.recover_ems(shamir.decode_mnemonics(case["mnemonics"]))
        assert result["encrypted"] == expected.ciphertext.hex()
        for group in result["groupSecrets"]:
            if group["digest"] is not None:
                secret, digest_share = bytes.fromhex(group["secret"]), bytes.fromhex(group["digest"])
                mac = hmac.new(digest_share[4:], secret, "sha256").digest()[:4]
                assert digest_share[:4] == mac


# --- SLIP-0039 against the reference implementation -------------------------------------------------------------------

SPLITS = [(1, 1), (2, 2), (2, 3), (3, 5), (4, 4), (5, 16), (15, 16), (16, 16)]


@pytest.mark.browser
def test_with_the_same_randomness_the_browser_makes_the_reference_implementations_shares(
    module_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The identifier, the random shares and the digest's random part drawn in the same order and sizes, and the
    extendable flag and exponent custody.py uses: the very same mnemonics, for 32-byte and 16-byte secrets."""
    cases = []
    for number, (k, n) in enumerate(SPLITS):
        for size in (32, 16):
            seed = random_stream(f"seed/{number}/{size}")[:size]
            stream = random_stream(f"randomness/{number}/{size}")
            mnemonics, used = reference_split(monkeypatch, seed, k, n, stream)
            cases.append(
                {"k": k, "n": n, "seed": seed.hex(), "stream": stream.hex(), "mnemonics": mnemonics, "used": used}
            )
    made = module_page.evaluate(
        "async (cases) => {"
        + STREAM_JS
        + """
          const { splitFromParts } = await import("/static/js/slip39.js");
          const out = [];
          for (const { k, n, seed, stream } of cases) {
            const reader = streamOf(stream);
            out.push({ mnemonics: await splitFromParts(fromHex(seed), k, n, reader), used: reader.used });
          }
          return out;
        }""",
        cases,
    )
    assert made == [{"mnemonics": case["mnemonics"], "used": case["used"]} for case in cases]


@pytest.mark.browser
def test_random_shares_from_the_browser_combine_from_any_k_and_never_from_fewer(module_page: Any) -> None:
    """Fresh seeds and randomness in Chromium, k-of-n from 1-of-1 to 16-of-16; the reference implementation
    combines every k-subset tried into exactly the seed, and refuses every (k − 1)-subset tried."""
    chooser = random.Random(39)  # noqa: S311  # picks sizes and subsets; the secrets come from WebCrypto
    splits = [(1, 1), (2, 2), (2, 16), (16, 16), (15, 16)]
    splits += [(k, n) for n in (chooser.randint(2, 16) for _ in range(10)) for k in [chooser.randint(2, n)]]
    made = module_page.evaluate(
        "async (splits) => {"
        + STREAM_JS
        + """
          const { split } = await import("/static/js/slip39.js");
          const out = [];
          for (const [k, n] of splits) {
            const seed = crypto.getRandomValues(new Uint8Array(32));
            out.push({ k, n, seed: toHex(seed), mnemonics: await split(seed, k, n) });
          }
          return out;
        }""",
        splits,
    )
    seeds = set()
    for result in made:
        k, n, seed, mnemonics = result["k"], result["n"], bytes.fromhex(result["seed"]), result["mnemonics"]
        seeds.add(seed)
        assert len(mnemonics) == n and len(set(mnemonics)) == n
        assert all(len(mnemonic.split()) == 33 for mnemonic in mnemonics)
        for subset in _subsets(chooser, n, k):
            assert shamir_mnemonic.combine_mnemonics([mnemonics[i] for i in subset]) == seed
        for subset in _subsets(chooser, n, k - 1):
            with pytest.raises(MnemonicError):
                shamir_mnemonic.combine_mnemonics([mnemonics[i] for i in subset])
    assert len(seeds) == len(splits)


def _subsets(chooser: random.Random, n: int, size: int) -> list[tuple[int, ...]]:
    """Every ``size``-subset of range(n) if there are few, else a sample of them (the first and last among it)."""
    every = list(itertools.combinations(range(n), size))
    if len(every) <= SUBSETS_TRIED:
        return every
    return [every[0], every[-1], *chooser.sample(every, SUBSETS_TRIED - 2)]


@pytest.mark.browser
def test_the_browser_refuses_what_slip39_does(module_page: Any) -> None:
    refusals = module_page.evaluate(
        "async () => {"
        + STREAM_JS
        + """
          const { splitFromParts } = await import("/static/js/slip39.js");
          const random = (length) => new Uint8Array(length).fill(7);
          const seed = new Uint8Array(32).fill(1);
          const refusal = (promise) => promise.then(() => null, (error) => `${error.name}: ${error.message}`);
          return [
            await refusal(splitFromParts(seed, 1, 3, random)),
            await refusal(splitFromParts(seed, 4, 3, random)),
            await refusal(splitFromParts(seed, 2, 17, random)),
            await refusal(splitFromParts(seed, 0, 3, random)),
            await refusal(splitFromParts(new Uint8Array(33), 2, 3, random)),
            await refusal(splitFromParts(new Uint8Array(14), 2, 3, random)),
            await refusal(splitFromParts(seed, 2, 3, (length) => new Uint8Array(length - 1))),
          ];
        }"""
    )
    assert refusals == [
        "Slip39Error: SLIP-0039 makes no 1-of-n shares for n above 1: use a threshold of 2 or more",
        "Slip39Error: the threshold must be from 1 to 3",
        "Slip39Error: the number of shares must be from 1 to 16",
        "Slip39Error: the threshold must be from 1 to 3",
        "Slip39Error: the master secret must be an even number of bytes, at least 16",
        "Slip39Error: the master secret must be an even number of bytes, at least 16",
        "Slip39Error: the source of randomness must give 2 bytes as a Uint8Array",
    ]


# --- The ceremony file ------------------------------------------------------------------------------------------------


def custody_request(tender: str, threshold: int, recipients: Mapping[str, str | None]) -> dict[str, Any]:
    """A custody request as GET /api/v1/tenders/{id}/custody answers it before the ceremony."""
    return {
        "format": "bidding/custody-request/v1",
        "tender": tender,
        "threshold": threshold,
        "custodians": [
            {"user_id": number, "login": login, "display_name": login.title(), "recipient": recipient}
            for number, (login, recipient) in enumerate(recipients.items(), start=1)
        ],
        "recipient": None,
        "shares": [],
    }


CEREMONY_JS = (
    "async ([request, seed, stream]) => {"
    + STREAM_JS
    + """
  const { makeCeremonyFromParts } = await import("/static/js/ceremony.js");
  const { text, recipient } = await makeCeremonyFromParts(request, fromHex(seed), streamOf(stream));
  return { text, recipient };
}
"""
)


@pytest.mark.browser
def test_a_ceremony_from_a_given_seed_is_the_one_custody_py_makes(
    module_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The identity of the seed, its shares as the reference implementation splits it, each payload byte for byte
    as split_opening_key_from_parts writes it, and the file as encode_ceremony writes it."""
    tender = "T-2026-测试-001"
    keys = {login: HybridIdentity.generate() for login in ("custodian1", "custodian2", "保管人三")}
    seed, stream = random_stream("opening seed")[:32], random_stream("ceremony randomness")
    request = custody_request(tender, 2, {login: key.recipient.encode() for login, key in keys.items()})
    made = module_page.evaluate(CEREMONY_JS, [request, seed.hex(), stream.hex()])

    data = made["text"].encode()
    ceremony = custody.parse_ceremony(data)
    assert custody.encode_ceremony(ceremony) == data
    assert ceremony.recipient == HybridIdentity(seed).recipient
    assert made["recipient"] == ceremony.recipient.encode()
    assert (ceremony.tender, ceremony.threshold) == (tender, 2)
    # crypto/custody.py itself, with the same seed and randomness: the same shares in the same payloads, the same
    # commitments; only the age encryption of each payload differs (its file key and ephemeral keys are fresh).
    with monkeypatch.context() as patch:
        patch.setattr(shamir, "RANDOM_BYTES", StreamReader(stream))
        reference, identity = custody.split_opening_key_from_parts(
            tender, [(login, key.recipient) for login, key in keys.items()], 2, seed
        )
    assert identity == HybridIdentity(seed) and reference.recipient == ceremony.recipient
    shares = []
    for member, (login, key) in enumerate(keys.items()):
        share, expected = ceremony.shares[member], reference.shares[member]
        assert (share.custodian, share.member) == (login, member)
        assert decrypt(share.sealed, [key]) == decrypt(expected.sealed, [key])
        assert share.share_digest == expected.share_digest
        mnemonic = custody.open_sealed_share(share.sealed, key, tender)
        assert share.share_digest == custody.share_digest(mnemonic)
        shares.append(mnemonic)
    payload = {"format": "bidding/custody-share/v1", "tender": tender, "custodian": "保管人三", "member": 2}
    assert decrypt(ceremony.shares[2].sealed, [keys["保管人三"]]) == (
        json.dumps({**payload, "share": shares[2]}, ensure_ascii=False, sort_keys=True).encode()
    )
    for pair in itertools.combinations(shares, 2):
        assert custody.combine_shares(list(pair), ceremony.recipient) == HybridIdentity(seed)
    for single in shares:
        with pytest.raises(custody.CustodyError, match="cannot be combined"):
            custody.combine_shares([single], ceremony.recipient)


@pytest.mark.browser
def test_the_browser_refuses_a_custody_request_the_offline_command_refuses(module_page: Any) -> None:
    pq = {login: HybridIdentity.generate().recipient.encode() for login in CUSTODIANS}
    classical = X25519Identity.generate().recipient.encode()
    requests = [
        custody_request("T-1", 2, {**pq, "custodian3": None}),
        custody_request("T-1", 1, pq),
        custody_request("T-1", 4, pq),
        custody_request("T-1", 2, {**pq, "custodian2": classical}),
        custody_request("T-1", 2, {**pq, "custodian2": "age1pq1notarecipient"}),
        custody_request("T-1", 2, {f"c{i}": pq["custodian1"] for i in range(17)}),
        {"tender": "T-1"},
    ]
    refusals = module_page.evaluate(
        """async (requests) => {
          const { makeCeremonyFromParts } = await import("/static/js/ceremony.js");
          const seed = new Uint8Array(32).fill(3);
          const random = (length) => new Uint8Array(length).fill(5);
          const out = [];
          for (const request of requests) {
            out.push(await makeCeremonyFromParts(request, seed, random).then(
              () => null, (error) => `${error.name} ${error.code}: ${error.message}`));
          }
          return out;
        }""",
        requests,
    )
    assert refusals == [
        "CeremonyError missing-keys: these custodians have registered no key yet: custodian3",
        "CeremonyError invalid-request: SLIP-0039 makes no 1-of-n shares: the threshold must be 2 or more",
        "CeremonyError invalid-request: the threshold must be from 1 to 3, not 4",
        "CeremonyError invalid-request: the recipient of custodian2 is not post-quantum (age1pq1…)",
        "CeremonyError invalid-request: the recipient of custodian2 is not an age recipient",
        "CeremonyError invalid-request: a tender needs 1 to 16 custodians, not 17",
        "CeremonyError invalid-request: not a custody request (bidding/custody-request/v1)",
    ]


# --- The ceremony page ------------------------------------------------------------------------------------------------


@pytest.fixture
def custodian_keys(clients: Clients) -> dict[str, keyfile.KeyFile]:
    """Fresh keys for the demo custodians, registered through the API as each custodian's current key."""
    keys = {}
    for login in CUSTODIANS:
        keys[login] = keyfile.generate_key_file(f"{login}-ceremony")
        answer = clients.api(login).post(
            "/api/v1/keys",
            json={
                "purpose": "custodian",
                "verifier_key": keys[login].verifier_key,
                "recipient": keys[login].recipient.encode(),
            },
        )
        assert answer.status_code == 201, answer.text
    return keys


def draft_tender(server: Server, agent: httpx.Client, title: str) -> tuple[int, str]:
    created = agent.post("/api/v1/tenders", json=tender_json(server, title))
    assert created.status_code == 201, created.text
    tender_id: int = created.json()["id"]
    return tender_id, agent.get(f"/api/v1/tenders/{tender_id}").json()["reference"]


def check_recorded(
    clients: Clients, tender_id: int, reference: str, data: bytes, keys: dict[str, keyfile.KeyFile], recipient: str
) -> None:
    """The recorded ceremony as the custodians and the opening see it: each custodian's share opens with its own
    key and is the one published, any k rebuild the published recipient, and k − 1 do not."""
    ceremony = custody.parse_ceremony(data)
    assert ceremony.recipient.encode() == recipient
    assert [share.custodian for share in ceremony.shares] == list(CUSTODIANS)
    shares = []
    for share in ceremony.shares:
        fetched = clients.api(share.custodian).get(f"/api/v1/tenders/{tender_id}/custody/share")
        assert fetched.status_code == 200, fetched.text
        assert fetched.content == share.sealed
        custody.check_sealed_share(ceremony, share.custodian, fetched.content)
        mnemonic = custody.open_sealed_share(fetched.content, keys[share.custodian].identity, reference)
        assert fetched.headers["x-share-sha256"] == custody.share_digest(mnemonic).hex() == share.share_digest.hex()
        shares.append(mnemonic)
    assert ceremony.threshold == 2
    for pair in itertools.combinations(shares, 2):
        assert custody.combine_shares(list(pair), ceremony.recipient).recipient.encode() == recipient
    for single in shares:
        with pytest.raises(custody.CustodyError):
            custody.combine_shares([single], ceremony.recipient)


@dataclasses.dataclass
class AgencyBrowser:
    page: Any
    #: Script errors, CSP violations and failed fetches seen so far; a test removes the ones it caused on purpose.
    errors: list[str]

    def run_ceremony(self, tender_id: int) -> None:
        """Open the tender's ceremony page and press the button."""
        self.page.goto(f"/tenders/{tender_id}/custody")
        self.page.click("#custody-ceremony button[data-run]")


@pytest.fixture
def agency(browser: Any, server: Server) -> Iterator[AgencyBrowser]:
    """The agent's browser, signed in, in Chinese, failing its test on an unexpected script error or CSP violation."""
    context = browser.new_context(base_url=server.url, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    watch_for_errors(page, errors)
    sign_in(page, "agent")
    yield AgencyBrowser(page, errors)
    context.close()
    assert errors == []


@pytest.mark.browser
def test_the_agency_runs_the_ceremony_in_its_browser_and_the_platform_never_sees_the_key(
    agency: AgencyBrowser, server: Server, clients: Clients, custodian_keys: dict[str, keyfile.KeyFile]
) -> None:
    agent = clients.api("agent")
    tender_id, reference = draft_tender(server, agent, "浏览器开标密钥仪式")
    page = agency.page
    sent: list[tuple[str, str, bytes]] = []
    page.on("request", lambda request: sent.append((request.method, request.url, request.post_data_buffer or b"")))

    page.goto(f"/tenders/{tender_id}/custody")
    rows = page.locator("#custodians tbody tr")
    assert rows.count() == 3
    assert [rows.nth(i).locator("code").first.inner_text() for i in range(3)] == list(CUSTODIANS)
    assert page.locator("#outcome").count() == 0
    assert page.locator("#custody-ceremony").is_visible(), "the module shows the button"
    page.click("#custody-ceremony button[data-run]")
    page.wait_for_url(f"**/tenders/{tender_id}/custody?done=recorded")

    recipient = page.locator("#opening-recipient").inner_text()
    assert recipient.startswith("age1pq1")
    assert agent.get(f"/api/v1/tenders/{tender_id}/custody").json()["recipient"] == recipient
    url = f"{server.url}/api/v1/tenders/{tender_id}/custody"
    puts = [body for method, target, body in sent if (method, target) == ("PUT", url)]
    assert len(puts) == 1
    data = puts[0]
    check_recorded(clients, tender_id, reference, data, custodian_keys, recipient)
    recorded = server.sql("SELECT ceremony_sha256 FROM tender_custody WHERE tender_id = $1", tender_id)
    assert bytes(recorded) == hashlib.sha256(data).digest()
    ceremony = custody.parse_ceremony(data)
    assert custody.encode_ceremony(ceremony) == data, "the file is exactly what encode_ceremony writes"
    shown = page.locator("#shares [data-sealed-sha256]").all_inner_texts()
    assert shown == [share.sealed_digest.hex() for share in ceremony.shares]

    # Nothing the page sent holds the opening identity, its seed, or a share's words.
    shares = [
        custody.open_sealed_share(share.sealed, custodian_keys[share.custodian].identity, reference)
        for share in ceremony.shares
    ]
    identity = custody.combine_shares(shares[:2], ceremony.recipient)
    secrets = [identity.encode(), identity.encode().lower(), identity.seed.hex()]
    secrets += [" ".join(share.split()[start : start + 4]) for share in shares for start in range(4, 29, 4)]
    for method, target, body in sent:
        assert identity.seed not in body
        assert not any(secret.encode() in body or secret in target for secret in secrets), f"{method} {target}"


@pytest.mark.browser
def test_a_ceremony_run_again_on_a_draft_replaces_the_recorded_one(
    agency: AgencyBrowser, server: Server, clients: Clients, custodian_keys: dict[str, keyfile.KeyFile]
) -> None:
    agent = clients.api("agent")
    tender_id, _ = draft_tender(server, agent, "再次运行开标密钥仪式")
    recipients = []
    for _ in range(2):
        agency.run_ceremony(tender_id)
        agency.page.wait_for_url("**/custody?done=recorded")
        recipients.append(agency.page.locator("#opening-recipient").inner_text())
    assert recipients[0] != recipients[1]
    assert agent.get(f"/api/v1/tenders/{tender_id}/custody").json()["recipient"] == recipients[1]


@pytest.mark.browser
def test_the_page_says_why_the_platform_refused_the_ceremony(
    agency: AgencyBrowser, server: Server, clients: Clients, custodian_keys: dict[str, keyfile.KeyFile]
) -> None:
    """The tender was published (with a ceremony run elsewhere) while the page was open: the platform refuses a
    second ceremony, the page shows its reason, and the published recipient stays."""
    agent = clients.api("agent")
    tender_id, _ = draft_tender(server, agent, "拒绝开标密钥仪式")
    page = agency.page
    page.goto(f"/tenders/{tender_id}/custody")
    request = agent.get(f"/api/v1/tenders/{tender_id}/custody").json()
    assert agent.put(f"/api/v1/tenders/{tender_id}/custody", content=ceremony_file(request)).status_code == 200
    published_recipient = agent.get(f"/api/v1/tenders/{tender_id}/custody").json()["recipient"]
    document = agent.post(
        f"/api/v1/tenders/{tender_id}/documents", params={"name": "招标文件.pdf"}, content=b"%PDF-1.7\n"
    )
    assert document.status_code == 201, document.text
    published = agent.post(f"/api/v1/tenders/{tender_id}/publish")
    assert published.status_code == 200, published.text

    page.click("#custody-ceremony button[data-run]")
    status = page.locator("#custody-ceremony [data-status].field-error")
    status.wait_for()
    refused = page.locator("#custody-ceremony").get_attribute("data-refused")
    assert status.inner_text().startswith(refused + " ")
    assert len(status.inner_text()) > len(refused) + 5, "the platform's reason follows"
    assert page.locator("#custody-ceremony button[data-run]").is_enabled()
    assert agent.get(f"/api/v1/tenders/{tender_id}/custody").json()["recipient"] == published_recipient
    agency.errors.remove(f"409 {server.url}/api/v1/tenders/{tender_id}/custody")

    # Drawn again: a published tender with its ceremony has nothing to run, only the outcome to read.
    page.goto(f"/tenders/{tender_id}/custody")
    assert page.locator("#custody-ceremony").count() == 0
    assert page.locator("#opening-recipient").inner_text() == published_recipient


# --- Without JavaScript -----------------------------------------------------------------------------------------------


def test_without_javascript_the_page_takes_the_offlineceremony_file(
    server: Server, clients: Clients, custodian_keys: dict[str, keyfile.KeyFile]
) -> None:
    agent = clients.api("agent")
    tender_id, reference = draft_tender(server, agent, "离线开标密钥仪式")
    person = clients.sign_in("agent")
    shown = person.get(f"/tenders/{tender_id}/custody")
    assert shown.status_code == 200
    assert "bidding custody ceremony custody-request.json -o ceremony.json" in shown.text
    assert '<div id="custody-ceremony" hidden' in shown.text
    assert f'href="/api/v1/tenders/{tender_id}/custody"' in shown.text
    request = person.get(f"/api/v1/tenders/{tender_id}/custody").json()
    assert request["format"] == "bidding/custody-request/v1"

    def upload(content: bytes, token: str) -> httpx.Response:
        return person.post(
            f"/tenders/{tender_id}/custody",
            data={"_csrf_token": token},
            files={"ceremony": ("ceremony.json", content, "application/json")},
        )

    foreign = ceremony_file({**request, "tender": "T-SOMEONE-ELSE"})
    refused = upload(foreign, csrf_token(shown.text))
    assert refused.status_code == 422
    assert "T-SOMEONE-ELSE" in refused.text and 'id="ceremony-refused"' in refused.text
    assert agent.get(f"/api/v1/tenders/{tender_id}/custody").json()["recipient"] is None
    not_json = upload(b"not a ceremony", csrf_token(refused.text))
    assert not_json.status_code == 422

    data = ceremony_file(request)
    recorded = upload(data, csrf_token(not_json.text))
    assert recorded.status_code == 303
    assert recorded.headers["location"] == f"/tenders/{tender_id}/custody?done=recorded"
    page = person.get(recorded.headers["location"])
    recipient = custody.parse_ceremony(data).recipient.encode()
    assert f'<code class="recipient" id="opening-recipient">{recipient}</code>' in page.text
    check_recorded(clients, tender_id, reference, data, custodian_keys, recipient)

    no_file = person.post(f"/tenders/{tender_id}/custody", data={"_csrf_token": csrf_token(page.text)})
    assert no_file.status_code == 422


def test_only_the_agency_running_the_tender_sees_its_ceremony_page(server: Server, clients: Clients) -> None:
    agent = clients.api("agent")
    tender_id, _ = draft_tender(server, agent, "开标密钥仪式权限")
    assert clients.sign_in("custodian1").get(f"/tenders/{tender_id}/custody").status_code == 403
    assert clients.sign_in("bidder1").get(f"/tenders/{tender_id}/custody").status_code == 403
    anonymous = clients.new().get(f"/tenders/{tender_id}/custody", follow_redirects=False)
    assert anonymous.status_code == 303
