import base64
import contextlib
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto import merkle, note
from crypto.note import (
    Checkpoint,
    CosignatureSigner,
    CosignatureVerifier,
    Ed25519Signer,
    Ed25519Verifier,
    NoteError,
    Signature,
)
from tests.vectors.load import load

SIGNED_NOTE = load("signed_note")
CHECKPOINTS = load("tlog_checkpoint")
GO = SIGNED_NOTE["go_example"]
C2SP = SIGNED_NOTE["c2sp_example"]

LOG = Ed25519Signer("log.example/audit", bytes(range(32)))
WITNESSES = [CosignatureSigner(f"witness{number}.example", bytes([number]) * 32) for number in (1, 2, 3)]
ORIGIN = "log.example/audit"


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


# The signed-note examples.


def test_the_go_example_key_signs_its_note_byte_for_byte() -> None:
    signer = note.parse_signer_key(GO["signer_key"])
    assert note.sign_note(GO["text"], [signer]) == GO["note"].encode()
    assert signer.verifier().verifier_key() == GO["verifier_key"]
    assert (
        note.encode_signer_key(signer.name, base64.b64decode(GO["signer_key"].split("+", 4)[4])[1:]) == GO["signer_key"]
    )


def test_the_go_example_note_opens_with_its_verifier_key() -> None:
    opened = note.open_note(GO["note"].encode(), [note.parse_verifier_key(GO["verifier_key"])])
    assert opened.text == GO["text"]
    assert [(signature.name, f"{signature.key_id:08x}") for signature in opened.signatures] == [
        ("PeterNeumann", "c74f20a3")
    ]
    assert opened.unverified_signatures == ()


def test_the_c2sp_example_note_round_trips() -> None:
    parsed = note.parse_unverified_note(C2SP["note"].encode())
    assert parsed.text == C2SP["text"]
    (signature,) = parsed.signatures
    assert (signature.name, f"{signature.key_id:08x}", len(signature.signature)) == (
        C2SP["key_name"],
        C2SP["key_id"],
        64,
    )
    assert note.format_note(parsed.text, parsed.signatures) == C2SP["note"].encode()


def test_a_note_signed_only_by_unknown_keys_is_refused() -> None:
    go_verifier = note.parse_verifier_key(GO["verifier_key"])
    with pytest.raises(NoteError):
        note.open_note(C2SP["note"].encode(), [go_verifier])
    with pytest.raises(NoteError):
        note.open_note(GO["note"].encode(), [])


def test_unknown_signatures_are_set_aside_even_when_they_share_a_name_or_an_id() -> None:
    text = "hello\n"
    signed = note.sign_note(text, [LOG])
    valid = note.parse_unverified_note(signed).signatures[0]
    same_name = Signature(LOG.name, LOG.key_id ^ 1, b"\1" * 64)
    same_id = Signature("other.example", LOG.key_id, b"\2" * 64)
    data = note.format_note(text, [same_name, valid, same_id, same_id])
    opened = note.open_note(data, [LOG.verifier()])
    assert opened.signatures == (valid,)
    assert opened.unverified_signatures == (same_name, same_id)


def test_a_bad_signature_by_a_known_key_rejects_the_whole_note() -> None:
    text = "hello\n"
    good = note.parse_unverified_note(note.sign_note(text, [LOG])).signatures[0]
    forged = Signature(WITNESSES[0].name, WITNESSES[0].key_id, b"\0" * 72)
    data = note.format_note(text, [good, forged])
    with pytest.raises(NoteError):
        note.open_note(data, [LOG.verifier(), WITNESSES[0].verifier()])
    wrong_length = Signature(LOG.name, LOG.key_id, good.signature[:-1])
    with pytest.raises(NoteError):
        note.open_note(note.format_note(text, [good, wrong_length]), [LOG.verifier()])
    # A known key's signature repeated is verified each time, and kept once.
    opened = note.open_note(note.format_note(text, [good, good]), [LOG.verifier()])
    assert opened.signatures == (good,)


def test_two_known_keys_with_one_name_and_id_are_refused() -> None:
    with pytest.raises(NoteError):
        note.open_note(note.sign_note("x\n", [LOG]), [LOG.verifier(), LOG.verifier()])


@given(
    st.text(st.characters(min_codepoint=0x20, exclude_categories=["Cs"]) | st.just("\n"), max_size=200),
    st.integers(0, 3),
)
def test_any_text_signs_and_opens(body: str, witnesses: int) -> None:
    text = body + "\n"
    signers: list[note.Signer] = [LOG, *WITNESSES[:witnesses]]
    data = note.sign_note(text, signers)
    opened = note.open_note(data, [signer.verifier() for signer in signers])
    assert opened.text == text
    assert [signature.name for signature in opened.signatures] == [signer.name for signer in signers]


@given(st.data())
def test_every_tampered_note_is_refused(data: st.DataObject) -> None:
    text = "example.com/log\n3\n" + b64(bytes(32)) + "\n"
    signed = bytearray(note.sign_note(text, [LOG]))
    position = data.draw(st.integers(0, len(signed) - 1), label="position")
    bit = data.draw(st.integers(0, 7), label="bit")
    signed[position] ^= 1 << bit
    with pytest.raises(NoteError):
        note.open_note(bytes(signed), [LOG.verifier()])


SIGNATURE = "— log.example/audit " + b64(b"\1\2\3\4" + b"\0" * 64) + "\n"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"text\n",
        b"text\n\n",
        ("text\n" + SIGNATURE).encode(),
        ("text\n\n" + SIGNATURE[:-1]).encode(),
        ("text\n\n" + SIGNATURE + "\n").encode(),
        ("text\n\n" + SIGNATURE.replace("—", "-")).encode(),
        ("text\n\n" + SIGNATURE.replace("— ", "—")).encode(),
        ("text\n\n" + SIGNATURE.replace(" ", "\t")).encode(),
        ("text\n\n" + SIGNATURE.replace("log.example/audit ", "log.example/audit")).encode(),
        ("text\n\n" + SIGNATURE.replace("log.example/audit", "")).encode(),
        ("text\n\n" + SIGNATURE.replace("log.example/audit", "log+example")).encode(),
        ("text\n\n" + SIGNATURE.replace("log.example/audit", "log\N{NO-BREAK SPACE}example")).encode(),
        ("text\n\n" + SIGNATURE.replace("log.example/audit", "log\N{IDEOGRAPHIC SPACE}example")).encode(),
        ("text\n\n" + SIGNATURE.replace("=\n", "\n")).encode(),
        ("text\n\n" + SIGNATURE.replace("AAAA", "AA*A")).encode(),
        ("text\n\n" + SIGNATURE.replace("=\n", "= \n")).encode(),
        ("text\n\n— log.example/audit " + b64(b"\1\2\3\4") + "\n").encode(),
        ("text\n\n— log.example/audit " + "AQIDBAB=" + "\n").encode(),
        ("text\r\n\n" + SIGNATURE).encode(),
        ("te\0xt\n\n" + SIGNATURE).encode(),
        ("text\n\n" + SIGNATURE).encode().replace(b"text", b"te\xffxt"),
        ("text\n\n" + SIGNATURE).encode().replace(b"text", b"te\xed\xa0\x80xt"),
        ("text\n\n" + SIGNATURE * (note.MAX_SIGNATURES + 1)).encode(),
    ],
)
def test_malformed_notes_are_refused(data: bytes) -> None:
    with pytest.raises(NoteError):
        note.parse_unverified_note(data)
    with pytest.raises(NoteError):
        note.open_note(data, [LOG.verifier()])


def test_notes_may_have_blank_lines_and_a_hundred_signatures() -> None:
    text = "first\n\nthird\n\n"
    data = note.format_note(text, [note.parse_unverified_note(note.sign_note(text, [LOG])).signatures[0]] * 100)
    parsed = note.parse_unverified_note(data)
    assert parsed.text == text
    assert len(parsed.signatures) == 100
    assert note.open_note(data, [LOG.verifier()]).text == text


@pytest.mark.parametrize("text", ["", "no newline", "tab\there\n", "carriage\r\n"])
def test_texts_that_cannot_be_signed_are_refused(text: str) -> None:
    with pytest.raises(NoteError):
        note.sign_note(text, [LOG])


@pytest.mark.parametrize("count", [0, note.MAX_SIGNATURES + 1])
def test_a_note_has_1_to_100_signatures(count: int) -> None:
    with pytest.raises(NoteError):
        note.format_note("text\n", [Signature("name", 1, b"x")] * count)


@pytest.mark.parametrize(
    ("name", "key_id", "signature"), [("a b", 1, b"x"), ("n", -1, b"x"), ("n", 1 << 32, b"x"), ("n", 1, b"")]
)
def test_signatures_that_cannot_be_written_cannot_be_made(name: str, key_id: int, signature: bytes) -> None:
    with pytest.raises(NoteError):
        Signature(name, key_id, signature)


# Keys.


def test_key_ids_hash_the_name_the_type_and_the_key() -> None:
    verifier = note.parse_verifier_key(GO["verifier_key"])
    assert isinstance(verifier, Ed25519Verifier)
    assert note.key_id("PeterNeumann", note.ED25519, verifier.public_key) == 0xC74F20A3
    cosigner = CosignatureVerifier("PeterNeumann", verifier.public_key)
    assert cosigner.key_id != verifier.key_id
    assert note.key_id("PeterNeumann", note.COSIGNATURE_V1, verifier.public_key) == cosigner.key_id


@pytest.mark.parametrize("signature_type", [note.ED25519, note.COSIGNATURE_V1])
def test_generated_keys_sign_and_verify(signature_type: int) -> None:
    skey = note.generate_signer_key("example.com/key", signature_type)
    assert skey.startswith("PRIVATE+KEY+example.com/key+")
    signer = note.parse_signer_key(skey)
    vkey = signer.verifier().verifier_key()
    assert vkey.split("+")[:2] == skey.split("+")[2:4]
    assert base64.b64decode(vkey.split("+", 2)[2])[0] == signature_type
    verifier = note.parse_verifier_key(vkey)
    assert type(verifier) is type(signer.verifier())
    opened = note.open_note(note.sign_note("text\n", [signer]), [verifier])
    assert opened.signatures[0].key_id == verifier.key_id
    assert note.encode_verifier_key("example.com/key", verifier.public_key, signature_type) == vkey


def vkey_with(name: str = "PeterNeumann", key_id: str = "c74f20a3", material: bytes | None = None) -> str:
    if material is None:
        material = base64.b64decode(GO["verifier_key"].split("+", 2)[2])
    return f"{name}+{key_id}+{b64(material)}"


PUBLIC_KEY = base64.b64decode(GO["verifier_key"].split("+", 2)[2])[1:]


@pytest.mark.parametrize(
    "vkey",
    [
        "",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        vkey_with(key_id="c74f20a4"),
        vkey_with(key_id="c74f20a"),
        vkey_with(key_id="c74f20a30"),
        vkey_with(key_id="+c74f20a3"),
        vkey_with(key_id="g74f20a3"),
        vkey_with(name=""),
        vkey_with(name="Peter Neumann"),
        vkey_with(material=b""),
        vkey_with(material=b"\x01" + PUBLIC_KEY[:31]),
        vkey_with(material=b"\x02" + PUBLIC_KEY),
        vkey_with(material=b"\x04" + PUBLIC_KEY),
        GO["verifier_key"][:-1],
        GO["verifier_key"] + "=",
        GO["verifier_key"] + "\n",
        "PRIVATE+KEY+" + GO["verifier_key"],
    ],
)
def test_malformed_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        note.parse_verifier_key(vkey)


def test_verifier_key_ids_may_be_upper_case() -> None:
    assert note.parse_verifier_key(vkey_with(key_id="C74F20A3")).key_id == 0xC74F20A3


@pytest.mark.parametrize(
    "skey",
    [
        "",
        GO["signer_key"].removeprefix("PRIVATE+KEY+"),
        "private+key+" + GO["signer_key"].removeprefix("PRIVATE+KEY+"),
        " " + GO["signer_key"],
        GO["signer_key"].replace("c74f20a3", "c74f20a4"),
        GO["signer_key"].replace("+AYEK", "+BYEK"),
        GO["signer_key"].replace("PeterNeumann", "EnochRoot"),
        GO["signer_key"][:-4],
        "PRIVATE+KEY+",
    ],
)
def test_malformed_signer_keys_are_refused_without_quoting_them(skey: str) -> None:
    with pytest.raises(NoteError) as refused:
        note.parse_signer_key(skey)
    assert GO["signer_key"].rsplit("+", 1)[1] not in str(refused.value)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb", "a\nb", "a\N{EM SPACE}b", "a\N{LINE SEPARATOR}b", "a\0b"])
def test_key_names_without_spaces_or_plus_signs(name: str) -> None:
    with pytest.raises(NoteError):
        note.check_key_name(name)
    with pytest.raises(NoteError):
        Ed25519Signer(name, bytes(32))


@pytest.mark.parametrize(
    ("make", "material"),
    [
        (Ed25519Signer, bytes(31)),
        (CosignatureSigner, bytes(33)),
        (Ed25519Verifier, bytes(31)),
        (CosignatureVerifier, bytes(33)),
    ],
)
def test_keys_of_the_wrong_length_are_refused(make: type, material: bytes) -> None:
    with pytest.raises(NoteError):
        make("name", material)


@pytest.mark.parametrize("signature_type", [0x00, 0x02, 0x03, 0x05, 0x06, 0xFF])
def test_only_ed25519_and_cosignature_keys_are_supported(signature_type: int) -> None:
    with pytest.raises(NoteError):
        note.encode_signer_key("name", bytes(32), signature_type)
    with pytest.raises(NoteError):
        note.encode_verifier_key("name", bytes(32), signature_type)


# Checkpoints.


def test_the_specifications_checkpoint_is_read() -> None:
    vector = CHECKPOINTS["checkpoint"]
    parsed = note.parse_unverified_note(vector["note"].encode())
    checkpoint = note.parse_checkpoint(parsed.text)
    assert checkpoint == Checkpoint(vector["origin"], vector["size"], base64.b64decode(vector["root_hash"]))
    assert checkpoint.text() == parsed.text


def test_a_checkpoint_is_signed_opened_and_checked_against_its_origin() -> None:
    checkpoint = Checkpoint(ORIGIN, 5, merkle.EMPTY_ROOT, ("extension one", "extension two"))
    data = note.sign_checkpoint(checkpoint, [LOG])
    assert data.decode().startswith(f"{ORIGIN}\n5\n{b64(merkle.EMPTY_ROOT)}\nextension one\nextension two\n\n— ")
    opened, signed = note.open_checkpoint(data, ORIGIN, [LOG.verifier()])
    assert opened == checkpoint
    assert signed.signatures[0].name == LOG.name
    with pytest.raises(NoteError):
        note.open_checkpoint(data, "other.example/log", [LOG.verifier()])


ROOT = b64(bytes(32))


@pytest.mark.parametrize(
    "text",
    [
        "",
        f"origin\n5\n{ROOT}",
        "origin\n5\n",
        f"\n5\n{ROOT}\n",
        f"origin\n\n{ROOT}\n",
        f"origin\n05\n{ROOT}\n",
        f"origin\n-5\n{ROOT}\n",
        f"origin\n+5\n{ROOT}\n",
        f"origin\n5 \n{ROOT}\n",
        f"origin\n\N{ARABIC-INDIC DIGIT FIVE}\n{ROOT}\n",
        f"origin\n5_0\n{ROOT}\n",
        f"origin\n{2**64}\n{ROOT}\n",
        f"origin\n{'9' * 5000}\n{ROOT}\n",
        f"origin\n5\n{b64(bytes(31))}\n",
        f"origin\n5\n{ROOT[:-1]}\n",
        f"origin\n5\n{ROOT}\n\n",
        f"origin\n5\n{ROOT}\next\n\n",
    ],
)
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(NoteError):
        note.parse_checkpoint(text)


def test_the_largest_checkpoint_size_is_accepted() -> None:
    assert note.parse_checkpoint(f"origin\n{2**64 - 1}\n{ROOT}\n").size == 2**64 - 1
    assert note.parse_checkpoint(f"origin\n0\n{ROOT}\n").size == 0


@pytest.mark.parametrize(
    "fields",
    [
        ("", 0, bytes(32), ()),
        ("a\nb", 0, bytes(32), ()),
        ("origin", -1, bytes(32), ()),
        ("origin", 2**64, bytes(32), ()),
        ("origin", 0, bytes(31), ()),
        ("origin", 0, bytes(32), ("",)),
        ("origin", 0, bytes(32), ("a\nb",)),
    ],
)
def test_checkpoints_that_cannot_be_written_are_refused(fields: tuple[str, int, bytes, tuple[str, ...]]) -> None:
    with pytest.raises(NoteError):
        Checkpoint(*fields)


# Cosignatures.


def test_the_specifications_cosignature_is_read() -> None:
    vector = CHECKPOINTS["cosignature"]
    parsed = note.parse_unverified_note(vector["note"].encode())
    log_line, witness_line = parsed.signatures
    assert witness_line.name == vector["witness"]
    assert note.cosignature_timestamp(witness_line) == vector["timestamp"]
    assert note.cosigned_message(parsed.text.encode(), vector["timestamp"]) == vector["signed_message"].encode()
    assert note.format_note(parsed.text, parsed.signatures) == vector["note"].encode()


def test_a_witness_cosigns_a_checkpoint_at_a_time() -> None:
    text = Checkpoint(ORIGIN, 5, merkle.EMPTY_ROOT).text()
    witness = WITNESSES[0]
    cosignature = witness.sign_at(text.encode(), 1679315147)
    assert cosignature.signature[:8] == (1679315147).to_bytes(8, "big")
    data = note.format_note(text, [LOG.sign(text.encode()), cosignature])
    opened = note.open_note(data, [witness.verifier()])
    assert opened.signatures == (cosignature,)
    assert note.cosignature_timestamp(opened.signatures[0]) == 1679315147
    # The same key under the plain Ed25519 type is another key, and signs another message.
    with pytest.raises(NoteError):
        note.open_note(data, [Ed25519Verifier(witness.name, witness.public_key)])


def test_a_cosignature_signs_its_time() -> None:
    text = Checkpoint(ORIGIN, 5, merkle.EMPTY_ROOT).text()
    witness = WITNESSES[0]
    cosignature = witness.sign_at(text.encode(), 1000)
    moved = Signature(witness.name, witness.key_id, (1001).to_bytes(8, "big") + cosignature.signature[8:])
    with pytest.raises(NoteError):
        note.open_note(note.format_note(text, [moved]), [witness.verifier()])


def test_cosigning_now_uses_the_clock() -> None:
    before = int(time.time())
    cosignature = WITNESSES[1].sign(b"text\n")
    assert before <= note.cosignature_timestamp(cosignature) <= int(time.time())


@pytest.mark.parametrize("timestamp", [-1, 2**63])
def test_cosignature_times_fit_in_63_bits(timestamp: int) -> None:
    with pytest.raises(NoteError):
        WITNESSES[0].sign_at(b"text\n", timestamp)


@pytest.mark.parametrize("signature", [b"\0" * 71, b"\0" * 73, b"\x80" + b"\0" * 71])
def test_malformed_cosignatures_are_refused(signature: bytes) -> None:
    witness = WITNESSES[0]
    with pytest.raises(NoteError):
        note.cosignature_timestamp(Signature(witness.name, witness.key_id, signature))
    with pytest.raises(NoteError):
        note.open_note(
            note.format_note("text\n", [Signature(witness.name, witness.key_id, signature)]), [witness.verifier()]
        )


# Receipts (tlog-proof).


def make_log(size: int, witnesses: int = 2) -> tuple[merkle.MemoryHashStore, bytes, list[bytes]]:
    entries = [f'{{"event":{index}}}'.encode() for index in range(size)]
    store = merkle.MemoryHashStore(merkle.leaf_hash(entry) for entry in entries)
    text = Checkpoint(ORIGIN, size, store.root()).text()
    signatures = [LOG.sign(text.encode())] + [w.sign_at(text.encode(), 1700000000) for w in WITNESSES[:witnesses]]
    return store, note.format_note(text, signatures), entries


def receipt(index: int, size: int = 10, witnesses: int = 2, extra: bytes | None = None) -> tuple[bytes, bytes]:
    store, checkpoint, entries = make_log(size, witnesses)
    proof = merkle.inclusion_proof(index, size, store)
    return note.format_log_proof(index, proof, checkpoint, extra), merkle.leaf_hash(entries[index])


WITNESS_VERIFIERS = [witness.verifier() for witness in WITNESSES]


@given(st.integers(1, 40), st.data())
def test_every_receipt_verifies_offline(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    extra = data.draw(st.none() | st.binary(min_size=1, max_size=40))
    proof, leaf = receipt(index, size, extra=extra)
    verified = note.verify_log_proof(proof, leaf, ORIGIN, LOG.verifier(), WITNESS_VERIFIERS, quorum=2)
    assert (verified.index, verified.checkpoint.size, verified.unverified_extra) == (index, size, extra)
    parsed = note.parse_unverified_log_proof(proof)
    assert note.format_log_proof(parsed.index, parsed.inclusion_proof, parsed.signed_checkpoint, extra) == proof


def test_a_receipt_is_written_as_the_specification_shows() -> None:
    proof, _ = receipt(3, 8, extra=b"age-v1.2.1")
    lines = proof.decode().split("\n")
    assert lines[:3] == [note.PROOF_HEADER, "extra " + b64(b"age-v1.2.1"), "index 3"]
    assert len(lines[3:6]) == 3 and lines[6] == ""
    assert lines[7:10] == [ORIGIN, "8", lines[9]]
    assert note.parse_unverified_log_proof(receipt(0, 1)[0]).inclusion_proof == ()


def test_a_receipt_for_another_entry_or_log_is_refused() -> None:
    proof, leaf = receipt(3)
    _, other_leaf = receipt(4)
    with pytest.raises(NoteError):
        note.verify_log_proof(proof, other_leaf, ORIGIN, LOG.verifier())
    with pytest.raises(NoteError):
        note.verify_log_proof(proof, leaf, "other.example/log", LOG.verifier())
    with pytest.raises(NoteError):
        note.verify_log_proof(proof, leaf, ORIGIN, Ed25519Signer(LOG.name, bytes(32)).verifier())
    tampered = proof.replace(b"index 3\n", b"index 2\n")
    with pytest.raises(NoteError):
        note.verify_log_proof(tampered, leaf, ORIGIN, LOG.verifier())


def test_a_receipt_needs_the_logs_signature_and_the_witness_quorum() -> None:
    proof, leaf = receipt(3, witnesses=1)
    note.verify_log_proof(proof, leaf, ORIGIN, LOG.verifier(), WITNESS_VERIFIERS, quorum=1)
    with pytest.raises(NoteError):
        note.verify_log_proof(proof, leaf, ORIGIN, LOG.verifier(), WITNESS_VERIFIERS, quorum=2)
    # Witnesses alone, without the log, are not enough.
    store, _, entries = make_log(10)
    text = Checkpoint(ORIGIN, 10, store.root()).text().encode()
    cosigned_only = note.format_note(text.decode(), [w.sign_at(text, 1) for w in WITNESSES])
    only_witnesses = note.format_log_proof(3, merkle.inclusion_proof(3, 10, store), cosigned_only)
    with pytest.raises(NoteError):
        note.verify_log_proof(
            only_witnesses, merkle.leaf_hash(entries[3]), ORIGIN, LOG.verifier(), WITNESS_VERIFIERS, quorum=3
        )


def test_a_receipt_whose_checkpoint_is_not_a_checkpoint_is_refused() -> None:
    signed = note.sign_note("not\na checkpoint\n", [LOG])
    with pytest.raises(NoteError):
        note.verify_log_proof(note.format_log_proof(0, [], signed), bytes(32), ORIGIN, LOG.verifier())


HASH = b64(bytes(32))


@pytest.mark.parametrize(
    "head",
    [
        "",
        "c2sp.org/tlog-proof@v2\nindex 0\n\n",
        "c2sp.org/tlog-proof@v1\n",
        "c2sp.org/tlog-proof@v1\nindex 0\n",
        "c2sp.org/tlog-proof@v1\nindex 0",
        "c2sp.org/tlog-proof@v1\nindex 00\n\n",
        "c2sp.org/tlog-proof@v1\nindex -1\n\n",
        "c2sp.org/tlog-proof@v1\nindex\n\n",
        "c2sp.org/tlog-proof@v1\nindex  1\n\n",
        "c2sp.org/tlog-proof@v1\nIndex 1\n\n",
        f"c2sp.org/tlog-proof@v1\nindex {'1' * 21}\n\n",
        "c2sp.org/tlog-proof@v1\nindex \N{ARABIC-INDIC DIGIT ONE}\n\n",
        "c2sp.org/tlog-proof@v1\nextra \nindex 0\n\n",
        "c2sp.org/tlog-proof@v1\nextra AA\nindex 0\n\n",
        "c2sp.org/tlog-proof@v1\nindex 0\nextra AAAA\n\n",
        "c2sp.org/tlog-proof@v1\nextra AAAA\nextra AAAA\nindex 0\n\n",
        f"c2sp.org/tlog-proof@v1\nindex 0\n{b64(bytes(31))}\n\n",
        f"c2sp.org/tlog-proof@v1\nindex 0\n{HASH} \n\n",
        "c2sp.org/tlog-proof@v1\nindex 0\n" + f"{HASH}\n" * 65 + "\n",
    ],
)
def test_malformed_receipts_are_refused(head: str) -> None:
    _, checkpoint, _ = make_log(1)
    with pytest.raises(NoteError):
        note.parse_unverified_log_proof(head.encode() + checkpoint)


def test_receipt_lines_before_the_checkpoint_are_ascii() -> None:
    _, checkpoint, _ = make_log(1)
    with pytest.raises(NoteError):
        note.parse_unverified_log_proof("c2sp.org/tlog-proof@v1\nindex 0\n\N{EM DASH}\n\n".encode() + checkpoint)


@pytest.mark.parametrize(("index", "proof"), [(-1, []), (0, [bytes(31)]), (0, [bytes(32)] * 65)])
def test_receipts_that_cannot_be_written_are_refused(index: int, proof: list[bytes]) -> None:
    with pytest.raises(NoteError):
        note.format_log_proof(index, proof, b"checkpoint")


@pytest.mark.parametrize("data", [b"", b"c2sp.org/tlog-proof@v1", f"c2sp.org/tlog-proof@v1\nindex 0\n{HASH}".encode()])
def test_a_receipt_cut_short_is_refused(data: bytes) -> None:
    with pytest.raises(NoteError):
        note.parse_unverified_log_proof(data)


def test_base64_outside_ascii_is_malformed_not_a_crash() -> None:
    """Regression: non-ASCII text in a base64 field escaped as a bare ValueError instead of NoteError."""
    with pytest.raises(NoteError):
        note.parse_unverified_note("text\n\n\N{EM DASH} name \N{LATIN SMALL LETTER E WITH ACUTE}AAA\n".encode())
    with pytest.raises(NoteError):
        note.parse_verifier_key("name+c74f20a3+\N{LATIN SMALL LETTER E WITH ACUTE}AAA")
    with pytest.raises(NoteError):
        note.parse_checkpoint("origin\n5\n\N{FULLWIDTH LATIN CAPITAL LETTER A}AAA\n")


@given(st.binary(max_size=300) | st.text(max_size=200).map(lambda text: ("t\n\n— " + text).encode()))
def test_any_bytes_either_parse_as_a_note_or_raise_note_error(data: bytes) -> None:
    try:
        parsed = note.parse_unverified_note(data)
    except NoteError:
        return
    assert note.format_note(parsed.text, parsed.signatures) == data


@given(st.text(max_size=120))
def test_any_text_either_reads_as_a_key_or_checkpoint_or_raises_note_error(text: str) -> None:
    for parse in (note.parse_verifier_key, note.parse_signer_key, note.parse_checkpoint):
        with contextlib.suppress(NoteError):
            parse(text)


@given(
    st.binary(max_size=300), st.sampled_from([b"", b"c2sp.org/tlog-proof@v1\n", b"c2sp.org/tlog-proof@v1\nindex 0\n"])
)
def test_any_bytes_either_parse_as_a_receipt_or_raise_note_error(data: bytes, head: bytes) -> None:
    with contextlib.suppress(NoteError):
        note.parse_unverified_log_proof(head + data)
