"""Sealing in Chromium: key files, signed notes and envelopes made by frontend/static/js open with ``crypto``.

The modules are served from ``frontend/static`` by a small static server of this module's own (they need no
platform), imported into a blank page, and everything they make is checked byte for byte against the Python
implementation, which the server trusts.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crypto import age
from crypto.envelope import open_envelope
from crypto.keyfile import KeyFile, generate_key_file, open_key_file, seal_key_file
from crypto.note import open_note, parse_verifier_key, sign_note
from crypto.statement import Manifest, PriceSheet, check_envelope, open_statement, sign_statement
from tests.e2e.conftest import watch_for_errors

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "frontend" / "static"
NAME = "bidder-91320505MA1MXK7U5E"
PASSPHRASE = "correct horse battery staple"
#: A cheap scrypt for key files made in Python: the tests are about the format, not the passphrase's strength.
TEST_WORK_FACTOR = 10
#: Documents built in the page: (name, size, pattern seed). Sizes straddle the 64 KiB age chunk; one is empty.
# The last name holds U+31350 (Unicode 15): assigned for the browser, unassigned for Python 3.11, accepted by both.
DOCUMENTS = [("报价单.pdf", 300_000, 1), ("technical-proposal.pdf", 196_609, 2), ("empty-\U00031350.txt", 0, 3)]
PRICE_SHEET: dict[str, Any] = {
    "currency": "CNY",
    "total": "1234567.50",
    "duration_days": 180,
    "bid_security": "20000",
    "remarks": "含税 (VAT included)",
}
FIELDS = {
    "tender": "T-2026-001",
    "lot": "1",
    "bidder": "91320505MA1MXK7U5E",
    "slot": "commercial",
    "priceSheet": PRICE_SHEET,
    "created": "2026-11-21T08:30:00Z",
}


def pattern(size: int, seed: int) -> bytes:
    """The bytes of a document the page builds with the same formula (PATTERN_JS)."""
    return bytes((i * 131 + seed * 7 + (i >> 8)) & 0xFF for i in range(size))


PATTERN_JS = """
const pattern = (size, seed) => {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 131 + seed * 7 + (i >>> 8)) & 0xff;
  return bytes;
};
"""

# Seal the DOCUMENTS with a key file into `sink` and return what sealEnvelope returns, with the progress seen.
SEAL_JS = (
    "async ({keyFile, passphrase, documents, fields, tenderRecipient, opfs}) => {"
    + PATTERN_JS
    + """
  const { openKeyFile, toBase64 } = await import("/js/keys.js");
  const { sealEnvelope, saveToOpfs, readFromOpfs } = await import("/js/envelope.js");
  const keys = await openKeyFile(keyFile, passphrase);
  const files = documents.map(([name, size, seed]) => ({ name, file: new File([pattern(size, seed)], name) }));
  const chunks = [];
  const sink = opfs ? await saveToOpfs(opfs) : new WritableStream({ write(chunk) { chunks.push(chunk.slice()); } });
  const progress = [];
  const sealed = await sealEnvelope({
    ...fields, documents: files, tenderRecipient, keys, sink,
    onProgress: (done, total) => progress.push([done, total]),
  });
  const envelope = opfs ? await readFromOpfs(opfs) : new Blob(chunks);
  const bytes = new Uint8Array(await envelope.arrayBuffer());
  return { ...sealed, envelope: toBase64(bytes), progress, writes: chunks.length };
}
"""
)


class _StaticFiles(http.server.SimpleHTTPRequestHandler):
    """``frontend/static`` as the platform serves it under /, and a blank page at / to import modules from."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript"}

    def do_GET(self) -> None:
        if self.path != "/":
            super().do_GET()
            return
        page = b"<!doctype html><meta charset=utf-8><title>sealing</title>"
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a request log on the test's output says nothing a failing assertion does not


@pytest.fixture(scope="module")
def static_site() -> Iterator[str]:
    handler = functools.partial(_StaticFiles, directory=str(STATIC))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def sealing_page(browser: Any, static_site: str) -> Iterator[Any]:
    """A blank page of the static site (a secure context, as OPFS needs), failing its test on a script error."""
    context = browser.new_context(base_url=static_site)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    watch_for_errors(page, errors)
    page.goto("/")
    yield page
    context.close()
    assert errors == []


@pytest.fixture(scope="module")
def bidder_keys() -> tuple[KeyFile, str]:
    """The bidder's keys, and their key file as Python seals it."""
    keys = generate_key_file(NAME)
    return keys, seal_key_file(keys, PASSPHRASE.encode(), work_factor=TEST_WORK_FACTOR).decode()


def test_a_key_file_made_in_the_browser_opens_in_python(sealing_page: Any) -> None:
    made = sealing_page.evaluate(
        """async ([name, passphrase]) => (await import("/js/keys.js")).makeKeyFile(name, passphrase)""",
        [NAME, PASSPHRASE],
    )
    keys = open_key_file(made["text"].encode(), PASSPHRASE.encode())
    assert keys.name == NAME
    assert keys.recipient.encode() == made["recipient"]
    assert keys.verifier_key == made["verifierKey"]
    # The identity file inside is exactly the one crypto.keyfile writes for the same keys.
    inside = age.decrypt(made["text"].encode(), [age.ScryptIdentity(PASSPHRASE.encode())])
    assert inside.decode() == keys.text()
    assert made["text"].startswith("-----BEGIN AGE ENCRYPTED FILE-----\n")


def test_a_key_file_made_in_python_opens_in_the_browser(sealing_page: Any, bidder_keys: tuple[KeyFile, str]) -> None:
    keys, key_file = bidder_keys
    opened = sealing_page.evaluate(
        """async ([text, passphrase]) => {
          const { openKeyFile, toHex } = await import("/js/keys.js");
          const keys = await openKeyFile(text, passphrase);
          return { ...keys, signingSeed: toHex(keys.signingSeed), seedType: keys.signingSeed.constructor.name };
        }""",
        [key_file, PASSPHRASE],
    )
    assert opened == {
        "name": NAME,
        "identity": keys.identity.encode(),
        "recipient": keys.recipient.encode(),
        "signingSeed": keys.signing_seed.hex(),
        "seedType": "Uint8Array",
        "verifierKey": keys.verifier_key,
    }


def test_the_browser_refuses_a_wrong_passphrase_and_what_is_not_a_key_file(
    sealing_page: Any, bidder_keys: tuple[KeyFile, str]
) -> None:
    _, key_file = bidder_keys
    refusals = sealing_page.evaluate(
        """async ([text, recipientOnly]) => {
          const { openKeyFile, makeKeyFile } = await import("/js/keys.js");
          const refusal = (promise) => promise.then(() => null, (error) => `${error.name}: ${error.message}`);
          return [
            await refusal(openKeyFile(text, "not the passphrase")),
            await refusal(openKeyFile("a letter, not a key file", "correct horse battery staple")),
            await refusal(openKeyFile(recipientOnly, "correct horse battery staple")),
            await refusal(makeKeyFile("bidder-1", "too short")),
            await refusal(makeKeyFile("bidder 1", "correct horse battery staple")),
          ];
        }""",
        [key_file, age.encrypt(b"hello\n", [age.HybridIdentity.generate().recipient], armor=True).decode()],
    )
    assert refusals == [
        "KeyFileError: wrong passphrase",
        "KeyFileError: not a key file",
        "KeyFileError: not a key file",
        "KeyFileError: a key file passphrase needs at least 10 characters",
        "KeyFileError: a key name must be non-empty, without spaces, plus signs or control characters",
    ]


def test_a_note_signed_in_the_browser_is_the_note_python_signs(
    sealing_page: Any, bidder_keys: tuple[KeyFile, str]
) -> None:
    keys, _ = bidder_keys
    text = "bidding/test/v1\n招标 T-2026-001\n"
    note = sealing_page.evaluate(
        """async ([text, name, seed]) => {
          const { signNote } = await import("/js/keys.js");
          return signNote(text, name, Uint8Array.from(seed));
        }""",
        [text, NAME, list(keys.signing_seed)],
    )
    assert open_note(note.encode(), [parse_verifier_key(keys.verifier_key)]).text == text
    assert note.encode() == sign_note(text, [keys.signer])


def seal_in_browser(page: Any, key_file: str, tender_recipient: str, opfs: str | None = None) -> dict[str, Any]:
    arguments = {
        "keyFile": key_file,
        "passphrase": PASSPHRASE,
        "documents": DOCUMENTS,
        "fields": FIELDS,
        "tenderRecipient": tender_recipient,
        "opfs": opfs,
    }
    sealed: dict[str, Any] = page.evaluate(SEAL_JS, arguments)
    return sealed


def check_sealed(sealed: dict[str, Any], keys: KeyFile, opening: age.HybridIdentity) -> tuple[bytes, Manifest]:
    """Check a browser-sealed envelope the way the platform and the opening do; return it and its manifest."""
    envelope = base64.b64decode(sealed["envelope"])
    verifier = parse_verifier_key(keys.verifier_key)
    statement = open_statement(sealed["statement"].encode(), verifier)
    check_envelope(statement, hashlib.sha256(envelope).digest(), len(envelope))
    assert (sealed["envelopeSha256"], sealed["envelopeSize"]) == (hashlib.sha256(envelope).hexdigest(), len(envelope))
    assert [statement.tender, statement.lot, statement.bidder, statement.slot] == [
        FIELDS[field] for field in ("tender", "lot", "bidder", "slot")
    ]
    # Ed25519 is deterministic: the browser's statement is the very note Python signs for it.
    assert sealed["statement"].encode() == sign_statement(statement, keys.signer)
    header = age.read_header(envelope)
    assert [stanza.type for stanza in header.stanzas] == ["mlkem768x25519", "mlkem768x25519"]
    for identity in (opening, keys.identity):  # the tender's opening identity, and the bidder's own
        with open_envelope(io.BytesIO(envelope), statement, verifier, [identity]) as bid:
            assert json.loads(bid.manifest.encode()) == sealed["manifest"]
            assert bid.manifest.price_sheet == PriceSheet(**PRICE_SHEET)
            assert bid.manifest.created == FIELDS["created"]
            assert [(d.name, d.size) for d in bid.manifest.documents] == [(n, s) for n, s, _ in DOCUMENTS]
            for name, size, seed in DOCUMENTS:
                with bid.open_document(name) as document:
                    assert document.read() == pattern(size, seed)
            manifest = bid.manifest
    return envelope, manifest


def test_an_envelope_sealed_in_the_browser_opens_with_python(
    sealing_page: Any, bidder_keys: tuple[KeyFile, str]
) -> None:
    keys, key_file = bidder_keys
    opening = age.HybridIdentity.generate()
    sealed = seal_in_browser(sealing_page, key_file, opening.recipient.encode())
    envelope, manifest = check_sealed(sealed, keys, opening)
    total = sum(size for _, size, _ in DOCUMENTS)
    assert sealed["progress"][-1] == [total, total]
    assert sealed["writes"] > len(envelope) // (64 * 1024), "the envelope reaches the sink in pieces, as sealed"
    # The ZIP inside: stored entries, CRCs right, the documents' order kept, a UTF-8 name flagged as such, and a
    # manifest.json that is Manifest.encode() byte for byte.
    with zipfile.ZipFile(io.BytesIO(age.decrypt(envelope, [opening]))) as archive:
        assert archive.testzip() is None
        infos = archive.infolist()
        assert [info.filename for info in infos] == [name for name, _, _ in DOCUMENTS] + [
            "manifest.json",
            "manifest.sig",
        ]
        assert all(info.compress_type == zipfile.ZIP_STORED for info in infos)
        assert infos[0].flag_bits & 0x800
        assert infos[0].date_time == (1980, 1, 1, 0, 0, 0)
        assert archive.read("manifest.json") == manifest.encode()


def test_an_envelope_sealed_into_opfs_opens_with_python(sealing_page: Any, bidder_keys: tuple[KeyFile, str]) -> None:
    keys, key_file = bidder_keys
    opening = age.HybridIdentity.generate()
    sealed = seal_in_browser(sealing_page, key_file, opening.recipient.encode(), opfs="bid.age")
    check_sealed(sealed, keys, opening)


def test_the_browser_refuses_what_the_platform_would(sealing_page: Any, bidder_keys: tuple[KeyFile, str]) -> None:
    _, key_file = bidder_keys
    x25519 = age.X25519Identity.generate().recipient.encode()
    refusals = sealing_page.evaluate(
        """async ([keyFile, passphrase, fields, tenderRecipient, x25519Recipient]) => {
          const { openKeyFile } = await import("/js/keys.js");
          const { sealEnvelope } = await import("/js/envelope.js");
          const keys = await openKeyFile(keyFile, passphrase);
          const sink = new WritableStream();
          const seal = (changes) =>
            sealEnvelope({ documents: [], ...fields, tenderRecipient, keys, sink, ...changes })
              .then(() => null, (error) => `${error.name}: ${error.message}`);
          const file = new File(["x"], "x");
          return [
            await seal({ documents: [{ name: "../evil.pdf", file }] }),
            await seal({ documents: [{ name: "manifest.json", file }] }),
            await seal({ documents: [{ name: "a.pdf", file }, { name: "a.pdf", file }] }),
            await seal({ priceSheet: { ...fields.priceSheet, total: "1,000" } }),
            await seal({ slot: "envelope" }),
            await seal({ created: "2026-11-21 08:30" }),
            await seal({ tenderRecipient: x25519Recipient }),
            await seal({ documents: [{ name: "a.pdf", file: "not a file" }] }),
          ];
        }""",
        [
            key_file,
            PASSPHRASE,
            FIELDS,
            age.HybridIdentity.generate().recipient.encode(),
            x25519,
        ],
    )
    assert refusals == [
        'EnvelopeError: "../evil.pdf" is not an acceptable document name',
        "EnvelopeError: document names must be distinct and not manifest.json or manifest.sig",
        "EnvelopeError: document names must be distinct and not manifest.json or manifest.sig",
        "EnvelopeError: total must be a decimal amount with at most 4 decimals, such as 1234.50",
        "EnvelopeError: slot must be one of single, technical, commercial",
        "EnvelopeError: created must be an RFC 3339 UTC time such as 2026-11-21T08:30:00Z",
        f'EnvelopeError: "{x25519}" is not a post-quantum age recipient (age1pq1…)',
        "EnvelopeError: each document is a File or Blob",
    ]


def test_the_zip64_layout_opens_with_python(sealing_page: Any, bidder_keys: tuple[KeyFile, str]) -> None:
    """Entries and offsets past the zip64 threshold (lowered here from 2 GiB to 1000 bytes) open with zipfile."""
    keys, key_file = bidder_keys
    module = (STATIC / "js" / "envelope.js").read_text()
    threshold = "const ZIP64_LIMIT = 2 ** 31 - 1;"
    assert threshold in module
    sealing_page.route(
        "**/js/envelope.js",
        lambda route: route.fulfill(
            body=module.replace(threshold, "const ZIP64_LIMIT = 1000;"), content_type="text/javascript"
        ),
    )
    opening = age.HybridIdentity.generate()
    sealed = seal_in_browser(sealing_page, key_file, opening.recipient.encode())
    envelope, _ = check_sealed(sealed, keys, opening)
    plaintext = age.decrypt(envelope, [opening])
    assert b"PK\x06\x06" in plaintext[-200:], "a zip64 end of central directory record"
    with zipfile.ZipFile(io.BytesIO(plaintext)) as archive:
        assert archive.testzip() is None
        assert [info.file_size for info in archive.infolist()][:3] == [size for _, size, _ in DOCUMENTS]
