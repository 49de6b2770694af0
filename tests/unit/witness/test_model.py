"""The witness's rules (C2SP tlog-witness add-checkpoint): request parsing, then each decision and its status."""

from __future__ import annotations

import base64

import pytest

from bidding.witness import model
from bidding.witness.model import (
    EMPTY_TREE,
    InconsistentProof,
    MalformedRequest,
    RootConflict,
    StaleOldSize,
    TreeHead,
    UnknownLog,
    UntrustedCheckpoint,
    next_tree_head,
    open_submission,
    parse_submission,
)
from crypto import merkle, note
from tests.witnessing import SampleLog

LOG = SampleLog("log.example/one")


def _open(body: bytes, log: SampleLog = LOG) -> model.Submission:
    return open_submission(parse_submission(body), {log.origin: [log.verifier]})


def _decide(latest: TreeHead, body: bytes, log: SampleLog = LOG) -> TreeHead:
    return next_tree_head(latest, _open(body, log))


def _head(size: int, log: SampleLog = LOG) -> TreeHead:
    return TreeHead(size, log.root(size))


# --- Parsing ----------------------------------------------------------------------------------------------------


def test_a_request_parses_into_old_size_proof_and_the_note_verbatim() -> None:
    signed = LOG.checkpoint(20)
    parsed = parse_submission(LOG.body(13, 20, signed=signed))
    assert parsed.old_size == 13
    assert list(parsed.proof) == LOG.proof(13, 20) and len(parsed.proof) > 1
    assert parsed.signed_checkpoint == signed


def test_the_specifications_example_body_parses() -> None:
    body = (
        "old 20852014\n"
        "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
        "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
        "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
        "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
        "\n"
        "example.com/behind-the-sofa\n"
        "20852163\n"
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        "\n"
        "\u2014 example.com/behind-the-sofa "
        "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    ).encode()
    parsed = parse_submission(body)
    assert parsed.old_size == 20852014 and len(parsed.proof) == 4
    assert parsed.signed_checkpoint.startswith(b"example.com/behind-the-sofa\n20852163\n")


def test_sixty_three_proof_lines_are_accepted_and_sixty_four_refused() -> None:
    hashes = [bytes([n]) * 32 for n in range(64)]
    assert len(parse_submission(LOG.body(1, 2, proof=hashes[:63])).proof) == 63
    with pytest.raises(MalformedRequest):
        parse_submission(LOG.body(1, 2, proof=hashes))


@pytest.mark.parametrize(
    "header",
    [
        b"",  # no old size line
        b"old\n",
        b"old  5\n",
        b"old 05\n",
        b"old -1\n",
        b"old +1\n",
        b"old 5 \n",
        b"OLD 5\n",
        b"new 5\n",
        "old \u0665\n".encode(),  # an Arabic-Indic five: a digit, but not ASCII
        b"old 18446744073709551616\n",  # 2**64
        b"old " + b"9" * 5000 + b"\n",
        b"old 5\r\n",
        b"old 5\nnot base64!\n",
        b"old 5\n" + base64.b64encode(b"x" * 31) + b"\n",  # a hash of 31 bytes
        b"old 5\n" + base64.b64encode(b"x" * 33) + b"\n",
        b"old 5\n" + base64.b64encode(b"x" * 32).rstrip(b"=") + b"\n",  # unpadded
        b"old 5\n" + base64.urlsafe_b64encode(b"\xff" * 32) + b"\n",  # the URL alphabet
    ],
)
def test_a_malformed_header_is_refused_with_400(header: bytes) -> None:
    with pytest.raises(MalformedRequest) as raised:
        parse_submission(header + b"\n" + LOG.checkpoint(5))
    assert raised.value.status == 400


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old 0\n",  # no blank line
        b"old 0\n\n",  # no checkpoint
        b"old 0\n\nlog.example/one\n0\n",  # a checkpoint without signatures
        b"old 0\n\n" + LOG.checkpoint(0).rstrip(b"\n"),  # the last signature line does not end
        b"old 0\n\n" + LOG.checkpoint(0).replace(b"\xe2\x80\x94", b"-"),  # a hyphen for the em dash
        b"old 0\n\n" + b"\xff" + LOG.checkpoint(0),  # not UTF-8
        b"\xffold 0\n\n" + LOG.checkpoint(0),
    ],
)
def test_a_body_that_is_not_a_request_is_refused_with_400(body: bytes) -> None:
    with pytest.raises(MalformedRequest):
        parse_submission(body)


def test_a_body_over_the_limit_is_refused() -> None:
    body = LOG.body(0, 5)
    padded = body.replace(b"\n\n", b"\n\n" + b" " * (model.MAX_BODY_SIZE - len(body) + 1), 1)
    assert len(padded) == model.MAX_BODY_SIZE + 1
    with pytest.raises(MalformedRequest, match="larger than"):
        parse_submission(padded)


# --- Opening: origin and signatures ----------------------------------------------------------------------------


def test_an_unknown_origin_is_refused_with_404() -> None:
    other = SampleLog("log.example/other")
    with pytest.raises(UnknownLog) as raised:
        _open(other.body(0, 5))
    assert raised.value.status == 404


def test_a_forged_checkpoint_signed_by_another_key_is_refused_with_403() -> None:
    """Another key under the log's very name: its key ID differs, so it is an unknown key, ignored; none remains."""
    forger = SampleLog(LOG.origin, salt="forged")
    with pytest.raises(UntrustedCheckpoint) as raised:
        _open(forger.body(0, 5))
    assert raised.value.status == 403


def test_a_checkpoint_whose_signature_by_the_logs_key_fails_is_refused_with_403() -> None:
    signed = LOG.checkpoint(5)
    tampered = signed.replace(base64.b64encode(LOG.root(5)), base64.b64encode(LOG.root(6)))
    with pytest.raises(UntrustedCheckpoint):
        _open(LOG.body(0, 5, signed=tampered))


def test_signatures_of_unknown_keys_are_ignored_beside_the_logs() -> None:
    stranger = note.parse_signer_key(note.generate_signer_key("someone.example/else"))
    witness = note.parse_signer_key(note.generate_signer_key("witness.example/w", note.COSIGNATURE_V1))
    signed = LOG.checkpoint(5, signers=[stranger, LOG.signer, witness])
    submission = _open(LOG.body(0, 5, signed=signed))
    assert submission.checkpoint == note.Checkpoint(LOG.origin, 5, LOG.root(5))
    assert submission.text == note.Checkpoint(LOG.origin, 5, LOG.root(5)).text()


def test_a_log_with_two_keys_is_trusted_under_either() -> None:
    rotated = SampleLog(LOG.origin)
    rotated.store = LOG.store
    logs = {LOG.origin: [LOG.verifier, rotated.verifier]}
    for log in (LOG, rotated):
        assert open_submission(parse_submission(log.body(0, 5)), logs).checkpoint.size == 5


def test_a_signed_note_that_is_not_a_checkpoint_is_refused_with_400() -> None:
    signed = note.sign_note(f"{LOG.origin}\nnot a size\n", [LOG.signer])
    with pytest.raises(MalformedRequest):
        _open(b"old 0\n\n" + signed)


def test_an_old_size_larger_than_the_checkpoint_is_refused_with_400() -> None:
    with pytest.raises(MalformedRequest) as raised:
        _open(LOG.body(6, 5, proof=[]))
    assert raised.value.status == 400


# --- Deciding against the latest tree head ----------------------------------------------------------------------


def test_the_first_checkpoint_of_a_log_is_cosigned_from_old_size_zero_without_proof() -> None:
    assert _decide(EMPTY_TREE, LOG.body(0, 17)) == _head(17)
    assert _decide(EMPTY_TREE, LOG.body(0, 0)) == EMPTY_TREE


def test_a_consistent_checkpoint_advances_the_tree_head() -> None:
    head = EMPTY_TREE
    for old, new in [(0, 1), (1, 2), (2, 3), (3, 8), (8, 255), (255, 256), (256, 257), (257, 1000)]:
        head = _decide(head, LOG.body(old, new))
        assert head == _head(new)


def test_the_checkpoint_last_cosigned_is_cosigned_again() -> None:
    assert _decide(_head(40), LOG.body(40, 40)) == _head(40)


def test_an_old_size_other_than_the_latest_cosigned_is_refused_with_409_and_that_size() -> None:
    for latest, old in [(0, 5), (40, 0), (40, 39), (40, 41)]:
        with pytest.raises(StaleOldSize) as raised:
            _decide(_head(latest), LOG.body(old, 50))
        assert raised.value.status == 409 and raised.value.size == latest


def test_a_rollback_is_refused() -> None:
    """A smaller checkpoint: from the latest size it is a 400, from its own old size a 409."""
    with pytest.raises(MalformedRequest):
        _decide(_head(40), LOG.body(40, 30, proof=[]))
    with pytest.raises(StaleOldSize) as raised:
        _decide(_head(40), LOG.body(20, 30))
    assert raised.value.size == 40


def test_a_fork_at_the_same_size_is_refused_with_409() -> None:
    fork = SampleLog(LOG.origin, salt="fork")
    fork.signer = LOG.signer  # the log itself signs two trees
    with pytest.raises(RootConflict) as raised:
        _decide(_head(40), fork.body(40, 40))
    assert raised.value.status == 409


def test_a_fork_at_a_larger_size_is_refused_with_422() -> None:
    fork = SampleLog(LOG.origin, salt="fork")
    fork.signer = LOG.signer
    with pytest.raises(InconsistentProof) as raised:
        _decide(_head(40), fork.body(40, 60))
    assert raised.value.status == 422


@pytest.mark.parametrize(
    "proof",
    [
        [],
        LOG.proof(40, 60)[:-1],
        [*LOG.proof(40, 60), merkle.EMPTY_ROOT],
        [merkle.EMPTY_ROOT, *LOG.proof(40, 60)[1:]],
        LOG.proof(41, 60),
        LOG.proof(40, 61),
    ],
)
def test_a_bad_consistency_proof_is_refused_with_422(proof: list[bytes]) -> None:
    with pytest.raises(InconsistentProof):
        _decide(_head(40), LOG.body(40, 60, proof=proof))


def test_a_proof_where_none_is_due_is_refused_with_422() -> None:
    with pytest.raises(InconsistentProof):
        _decide(EMPTY_TREE, LOG.body(0, 60, proof=LOG.proof(1, 60)))
    with pytest.raises(InconsistentProof):
        _decide(_head(40), LOG.body(40, 40, proof=[merkle.EMPTY_ROOT]))


def test_an_empty_tree_with_another_root_is_refused_with_422() -> None:
    signed = LOG.checkpoint(0, root=LOG.root(1))
    with pytest.raises(InconsistentProof):
        _decide(EMPTY_TREE, LOG.body(0, 0, signed=signed))


def test_a_submission_built_around_a_malformed_note_is_refused_with_400() -> None:
    with pytest.raises(MalformedRequest):
        open_submission(model.UnverifiedSubmission(0, (), b"no note"), {LOG.origin: [LOG.verifier]})
