"""A draw's public record as JSON, and its replay from that record alone (see :mod:`crypto.draw` for the draw).

The platform publishes, for each round of a draw: its inputs as a JSON document (:func:`inputs_to_json`, whose
SHA-256 over its canonical JSON the log holds), and log entries whose ``details`` carry the commitment
(:func:`commitment_to_json`), each party's contribution commitment, the one-time code, the revealed secrets and the
groups drawn (:func:`groups_to_json`). :func:`replay_record` takes those parts, as anyone reads them from the log,
and recomputes the draw, raising :class:`~crypto.draw.DrawError` at the first part that does not match.

Bytes are lowercase hex in JSON. Nothing here knows who the labels are: the mapping stays with the platform.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from crypto.canonical import canonical_json
from crypto.draw import (
    Candidate,
    Commitment,
    DrawError,
    DrawInputs,
    DrawResult,
    Exclusion,
    GroupDraw,
    Quota,
    by_label,
    by_label_and_reason,
    check_contribution,
    contributions_randomness,
    draw,
    seed_from,
    verify_commitment,
)

#: The format of an inputs document, its first field.
INPUTS_FORMAT = "bidding-draw-inputs/1"


def _hex(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise DrawError(f"{what} is not hex text")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise DrawError(f"{what} is not hex text") from None


def _get(record: Mapping[str, Any], key: str, kind: type, what: str) -> Any:
    value = record.get(key) if type(record) is dict or isinstance(record, Mapping) else None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise DrawError(f"{what} has no {key!r} of the right kind")
    return value


def inputs_to_json(inputs: DrawInputs) -> dict[str, Any]:
    """The inputs document: candidates by label and exclusions by (label, reason), in the committed order."""
    return {
        "format": INPUTS_FORMAT,
        "context": inputs.context,
        "randomness_source": inputs.randomness_source,
        "candidates": [
            {"label": candidate.label, "groups": sorted(candidate.groups)}
            for candidate in sorted(inputs.candidates, key=by_label)
        ],
        "exclusions": [
            {"label": exclusion.label, "reason": exclusion.reason}
            for exclusion in sorted(inputs.exclusions, key=by_label_and_reason)
        ],
        "quotas": [{"group": q.group, "seats": q.seats, "reserves": q.reserves} for q in inputs.quotas],
    }


def inputs_digest(document: Mapping[str, Any]) -> str:
    """The hex SHA-256 of an inputs document's canonical JSON (RFC 8785), as the log holds it."""
    return hashlib.sha256(canonical_json(document)).hexdigest()


def inputs_from_json(document: Mapping[str, Any]) -> DrawInputs:
    """The inputs of a document; raises :class:`DrawError` for anything that is not a well-formed one."""
    if not isinstance(document, Mapping) or document.get("format") != INPUTS_FORMAT:
        raise DrawError(f"the inputs document is not in the {INPUTS_FORMAT} format")
    candidates = tuple(
        Candidate(
            _get(item, "label", str, "a candidate"), frozenset(_strings(_get(item, "groups", list, "a candidate")))
        )
        for item in _get(document, "candidates", list, "the inputs")
    )
    exclusions = tuple(
        Exclusion(_get(item, "label", str, "an exclusion"), _get(item, "reason", str, "an exclusion"))
        for item in _get(document, "exclusions", list, "the inputs")
    )
    quotas = tuple(
        Quota(
            _get(item, "group", str, "a quota"),
            _get(item, "seats", int, "a quota"),
            _get(item, "reserves", int, "a quota"),
        )
        for item in _get(document, "quotas", list, "the inputs")
    )
    return DrawInputs(
        _get(document, "context", str, "the inputs"),
        _get(document, "randomness_source", str, "the inputs"),
        candidates,
        exclusions,
        quotas,
    )


def _strings(values: list[Any]) -> list[str]:
    if not all(isinstance(value, str) for value in values):
        raise DrawError("a candidate's groups are texts")
    return values


def commitment_to_json(commitment: Commitment) -> dict[str, Any]:
    return {
        "anchor": commitment.anchor.hex(),
        "chain_length": commitment.chain_length,
        "iteration": commitment.iteration,
        "links": [link.hex() for link in commitment.links],
    }


def commitment_from_json(record: Mapping[str, Any]) -> Commitment:
    """A commitment as logged; raises :class:`DrawError` for a malformed one."""
    links = _get(record, "links", list, "the commitment")
    return Commitment(
        _hex(record.get("anchor"), "the commitment's anchor"),
        _get(record, "chain_length", int, "the commitment"),
        _get(record, "iteration", int, "the commitment"),
        tuple(_hex(link, "a link of the commitment") for link in links),
    )


def groups_to_json(result: DrawResult) -> list[dict[str, Any]]:
    """What a draw drew, group by group (the whole ranking is recomputed by whoever replays, not logged)."""
    return [{"group": g.group, "members": list(g.members), "reserves": list(g.reserves)} for g in result.groups]


def groups_from_json(groups: Sequence[Mapping[str, Any]]) -> tuple[GroupDraw, ...]:
    if not isinstance(groups, Sequence):
        raise DrawError("the groups drawn are a list")
    return tuple(
        GroupDraw(
            _get(item, "group", str, "a group drawn"),
            tuple(_strings(_get(item, "members", list, "a group drawn"))),
            tuple(_strings(_get(item, "reserves", list, "a group drawn"))),
        )
        for item in groups
    )


def replay_record(
    document: Mapping[str, Any],
    *,
    inputs_sha256: str,
    commitment: Mapping[str, Any],
    one_time_code: str,
    contributions: Mapping[str, tuple[str, str]],
    groups: Sequence[Mapping[str, Any]],
) -> DrawResult:
    """Replay one round of a draw from its public record and return the result if every part matches.

    ``inputs_sha256``, ``commitment`` and ``groups`` are as logged; ``contributions`` maps each party to its logged
    (commitment, revealed secret), both hex. Checks, in this order, and raises :class:`DrawError` naming the first
    that fails: the document's digest, its well-formedness, the inputs and the code against the commitment, each
    party's secret against its commitment, and the groups drawn against those the inputs draw.
    """
    if inputs_digest(document) != inputs_sha256:
        raise DrawError("the inputs document is not the one the log committed to (its SHA-256 differs)")
    inputs = inputs_from_json(document)
    committed = commitment_from_json(commitment)
    code = _hex(one_time_code, "the one-time code")
    verify_commitment(committed, inputs, code)
    secrets: list[tuple[str, bytes]] = []
    for party, (party_commitment, secret) in sorted(contributions.items()):
        revealed = _hex(secret, f"the secret of {party!r}")
        check_contribution(committed.digest, party, revealed, _hex(party_commitment, f"the commitment of {party!r}"))
        secrets.append((party, revealed))
    replayed = draw(inputs, seed_from(committed, code, contributions_randomness(secrets)))
    logged = groups_from_json(groups)
    for ours, theirs in zip(replayed.groups, logged, strict=False):
        if ours != theirs:
            raise DrawError(
                f"group {ours.group!r}: the inputs draw members {list(ours.members)} and reserves"
                f" {list(ours.reserves)}, the log says {list(theirs.members)} and {list(theirs.reserves)}"
            )
    if len(replayed.groups) != len(logged):
        raise DrawError(f"the inputs draw {len(replayed.groups)} groups, the log lists {len(logged)}")
    return replayed
