"""A draw's public record: its JSON forms, and a replay from the record alone that names the first part that differs."""

import copy
from typing import Any

import pytest

from crypto.draw import (
    Candidate,
    DrawError,
    DrawInputs,
    Exclusion,
    Quota,
    commit_from_parts,
    contribution_commitment,
    contributions_randomness,
    draw,
    one_time_code,
    seed_from,
)
from crypto.draw_record import (
    INPUTS_FORMAT,
    commitment_from_json,
    commitment_to_json,
    groups_from_json,
    groups_to_json,
    inputs_digest,
    inputs_from_json,
    inputs_to_json,
    replay_record,
)

SECRET = bytes(range(32))
SUPERVISOR = bytes(range(64, 96))
INPUTS = DrawInputs(
    "ZB-2026-0007 round 1",
    "the secrets of: supervisor",
    tuple(Candidate(f"L{n:03}", frozenset({"A01"} if n % 3 else {"A01", "A08"})) for n in range(30, 0, -1)),
    (Exclusion("L007", "employer:bidder"), Exclusion("L002", "suspended"), Exclusion("L002", "unavailable")),
    (Quota("A08", 2, 1), Quota("A01", 3, 2)),
)


def published() -> dict[str, Any]:
    """The round's public record, as the log and the inputs document give it."""
    made = commit_from_parts(INPUTS, secret=SECRET)
    code = one_time_code(SECRET, made)
    party_commitment = contribution_commitment(made.digest, "supervisor", SUPERVISOR)
    result = draw(INPUTS, seed_from(made, code, contributions_randomness([("supervisor", SUPERVISOR)])))
    document = inputs_to_json(INPUTS)
    return {
        "document": document,
        "inputs_sha256": inputs_digest(document),
        "commitment": commitment_to_json(made),
        "one_time_code": code.hex(),
        "contributions": {"supervisor": (party_commitment.hex(), SUPERVISOR.hex())},
        "groups": groups_to_json(result),
    }


def test_the_inputs_document_reads_back_to_inputs_with_the_same_commitment() -> None:
    document = inputs_to_json(INPUTS)
    assert document["format"] == INPUTS_FORMAT
    assert [c["label"] for c in document["candidates"]] == sorted(c.label for c in INPUTS.candidates)
    again = inputs_from_json(document)
    assert commit_from_parts(again, secret=SECRET) == commit_from_parts(INPUTS, secret=SECRET)
    assert again.quotas == INPUTS.quotas


def test_a_commitment_and_groups_read_back_as_they_were() -> None:
    made = commit_from_parts(INPUTS, secret=SECRET)
    assert commitment_from_json(commitment_to_json(made)) == made
    result = draw(INPUTS, bytes(32))
    assert groups_from_json(groups_to_json(result)) == result.groups


def test_a_published_round_replays_to_its_groups() -> None:
    record = published()
    document = record.pop("document")
    replayed = replay_record(document, **record)
    assert groups_to_json(replayed) == record["groups"]
    assert len(replayed.order) == len(INPUTS.candidates)


def _changed(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    record = copy.deepcopy(published())
    target = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return record


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("inputs_sha256",), "00" * 32, "SHA-256 differs"),
        (("one_time_code",), "11" * 32, "one-time code does not match"),
        (("contributions", "supervisor"), ("00" * 32, SUPERVISOR.hex()), "revealed by 'supervisor'"),
        (("contributions", "supervisor"), (None, SUPERVISOR.hex()), "commitment of 'supervisor' is not hex"),
        (("groups", 1, "members"), ["L001", "L004", "L005"], "group 'A01'"),
        (("groups",), [], "draw 2 groups, the log lists 0"),
        (("commitment", "links", 0), "zz", "a link of the commitment is not hex"),
        (("commitment", "iteration"), True, "no 'iteration'"),
    ],
)
def test_a_replay_names_the_first_part_that_differs(path: tuple[Any, ...], value: Any, message: str) -> None:
    record = _changed(path, value)
    document = record.pop("document")
    with pytest.raises(DrawError, match=message):
        replay_record(document, **record)


@pytest.mark.parametrize(
    ("change", "part"),
    [
        (lambda d: d["candidates"].pop(), "candidates"),
        (lambda d: d["exclusions"].pop(), "exclusions"),
        (lambda d: d["quotas"].reverse(), "quotas"),
        (lambda d: d.update(context="ZB-2026-0007 round 2"), "context"),
    ],
)
def test_a_changed_input_is_found_even_when_its_digest_is_made_to_match(change: Any, part: str) -> None:
    record = published()
    document = record.pop("document")
    change(document)
    record["inputs_sha256"] = inputs_digest(document)
    with pytest.raises(DrawError, match=f"the {part} part of the inputs does not match"):
        replay_record(document, **record)


BASE = {"format": INPUTS_FORMAT, "context": "c", "randomness_source": "r", "exclusions": []}
ONE_QUOTA = [{"group": "A", "seats": 1, "reserves": 0}]


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"format": "another/1"},
        BASE | {"candidates": "all", "quotas": []},
        BASE | {"candidates": [{"label": "L1", "groups": [3]}], "quotas": ONE_QUOTA},
        BASE | {"candidates": [{"label": "L1"}], "quotas": ONE_QUOTA},
        BASE
        | {"candidates": [{"label": "L1", "groups": ["A"]}], "quotas": [{"group": "A", "seats": "1", "reserves": 0}]},
    ],
)
def test_malformed_inputs_documents_are_refused(document: Any) -> None:
    with pytest.raises(DrawError):
        inputs_from_json(document)


@pytest.mark.parametrize("groups", [{"group": "A"}, [{"group": "A", "members": [1], "reserves": []}], [[]]])
def test_malformed_groups_are_refused(groups: Any) -> None:
    with pytest.raises(DrawError):
        groups_from_json(groups)
