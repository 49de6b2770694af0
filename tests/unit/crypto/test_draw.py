import hashlib
from dataclasses import replace
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from hypothesis import given
from hypothesis import strategies as st

from crypto.draw import (
    DEFAULT_CHAIN_LENGTH,
    MAX_CANDIDATES,
    MAX_CHAIN_LENGTH,
    MAX_NAME_BYTES,
    MAX_RANDOMNESS_BYTES,
    MAX_TEXT_BYTES,
    SECRET_SIZE,
    Candidate,
    Commitment,
    DrawError,
    DrawInputs,
    DrawResult,
    Exclusion,
    GroupDraw,
    Quota,
    check_committee_size,
    check_contribution,
    commit,
    commit_from_parts,
    contribution_commitment,
    contributions_randomness,
    draw,
    draw_rfc3797,
    extract_key,
    hash_chain,
    one_time_code,
    position,
    rank,
    replay,
    rfc3797_digest,
    rfc3797_key,
    rfc3797_select,
    seed_from,
    verify_commitment,
)
from tests.vectors.load import load


def inputs_from_json(data: Any) -> DrawInputs:
    return DrawInputs(
        data["context"],
        data["randomness_source"],
        tuple(Candidate(c["label"], frozenset(c["groups"])) for c in data["candidates"]),
        tuple(Exclusion(e["label"], e["reason"]) for e in data["exclusions"]),
        tuple(Quota(q["group"], q["seats"], q["reserves"]) for q in data["quotas"]),
    )


SECRET = bytes(range(SECRET_SIZE))
RANDOMNESS = bytes.fromhex("00000000000000000001a3f5c2b4e6d8a0c2e4f6a8b0c2d4e6f8a0b2c4d6e8f0")
CIVIL = tuple(Candidate(f"C{n:02}", frozenset({"civil"})) for n in range(1, 9))
COST = tuple(Candidate(f"K{n:02}", frozenset({"cost"})) for n in range(1, 7))
BOTH = tuple(Candidate(f"X{n:02}", frozenset({"civil", "cost"})) for n in range(1, 3))


def make_inputs(
    candidates: tuple[Candidate, ...] = CIVIL + COST + BOTH,
    exclusions: tuple[Exclusion, ...] = (Exclusion("C03", "same organisation as a bidder"),),
    quotas: tuple[Quota, ...] = (Quota("civil", 3, 2), Quota("cost", 2, 1)),
    context: str = "ZB-2025-0012 lot 1",
) -> DrawInputs:
    return DrawInputs(context, "drand quicknet round 12345678", candidates, exclusions, quotas)


def run(
    inputs: DrawInputs, secret: bytes = SECRET, randomness: bytes = RANDOMNESS, **commitment: int
) -> tuple[Commitment, bytes, DrawResult]:
    """Commit, reveal and draw as the platform does; return the commitment, the code and the result."""
    made = commit_from_parts(inputs, secret=secret, **commitment)
    code = one_time_code(secret, made)
    return made, code, draw(inputs, seed_from(made, code, randomness))


def key_with_top(inputs: DrawInputs, *top: str) -> bytes:
    """A key under which the first labels of the ranking are ``top``, in that order."""
    labels = [candidate.label for candidate in inputs.candidates]
    for n in range(1000):
        key = hashlib.sha256(n.to_bytes(4, "big")).digest()
        if tuple(entry.label for entry in rank(key, labels))[: len(top)] == top:
            return key
    raise AssertionError("no key found")  # pragma: no cover


# draft-thomson-elegy-vrs-00, Appendix B


def test_draft_one_time_codes_hash_back_to_the_published_value() -> None:
    vectors = load("elegy_vrs")
    secret = vectors["secret"].encode()
    assert hash_chain(secret, vectors["chain_length"]).hex() == vectors["anchor"]
    for step in vectors["iterations"]:
        code = bytes.fromhex(step["one_time_code"])
        assert hash_chain(secret, vectors["chain_length"] - step["iteration"]) == code
        assert hash_chain(code, step["iteration"]).hex() == vectors["anchor"]


def test_draft_positions_and_order_match_its_example() -> None:
    vectors = load("elegy_vrs")
    for step in vectors["iterations"]:
        key = extract_key(bytes.fromhex(step["one_time_code"]), vectors["randomness"].encode())
        for prefix, label in step["listing"]:
            assert position(key, label.encode()).hex().startswith(prefix), label
        labels = [label for _, label in step["listing"]]
        assert [entry.label for entry in rank(key, reversed(labels))] == labels


def test_rank_gives_each_label_its_draft_position() -> None:
    key = bytes(32)
    ranked = rank(key, ["b", "a", "c"])
    assert all(entry.position == position(key, entry.label.encode()) for entry in ranked)
    assert [entry.position for entry in ranked] == sorted(entry.position for entry in ranked)


# RFC 3797, section 6


def test_rfc3797_key_string_of_the_worked_example() -> None:
    vectors = load("rfc3797")
    assert rfc3797_key(vectors["sources"]) == vectors["key"].encode()


def test_rfc3797_digests_of_the_worked_example() -> None:
    vectors = load("rfc3797")
    for index, digest in enumerate(vectors["digests"]):
        assert rfc3797_digest(vectors["key"].encode(), index).hex().upper() == digest


def test_rfc3797_selection_of_the_worked_example() -> None:
    vectors = load("rfc3797")
    selected = rfc3797_select(vectors["key"].encode(), len(vectors["pool"]), len(vectors["selected"]))
    assert list(selected) == vectors["selected"]
    assert [vectors["pool"][number - 1] for number in selected] == vectors["selected_names"]


def rfc3797_pool_inputs(exclusions: tuple[Exclusion, ...] = ()) -> DrawInputs:
    # Labels numbered so that their committed (byte) order is the RFC's order of the pool.
    pool = load("rfc3797")["pool"]
    candidates = tuple(Candidate(f"{n:02} {name}", frozenset({"nomcom"})) for n, name in enumerate(pool, 1))
    return DrawInputs("RFC 3797 section 6", "three lotteries", candidates, exclusions, (Quota("nomcom", 10),))


def test_draw_by_rfc3797_reproduces_the_worked_example() -> None:
    vectors = load("rfc3797")
    result = draw_rfc3797(rfc3797_pool_inputs(), vectors["key"].encode())
    assert [label[3:] for label in result.members] == vectors["selected_names"]
    assert len(result.order) == len(vectors["pool"])


def test_draw_by_rfc3797_passes_over_excluded_candidates() -> None:
    # RFC 3797 section 5.1: an ineligible entry stays in the pool and is skipped when selected.
    vectors = load("rfc3797")
    result = draw_rfc3797(rfc3797_pool_inputs((Exclusion("17 Lee", "declared a conflict"),)), vectors["key"].encode())
    expected = vectors["selected_names"][1:] + [vectors["pool"][vectors["next_after_selected"] - 1]]
    assert [label[3:] for label in result.members] == expected


def test_rfc3797_numbers_are_values() -> None:
    assert rfc3797_key([[7], [0, 10, 3]]) == b"7./0.3.10./"


@pytest.mark.parametrize("sources", [[], [[]], [[1, -2]], [list(range(1000))] * 2])
def test_rfc3797_refuses_sources_it_cannot_encode(sources: list[list[int]]) -> None:
    with pytest.raises(DrawError):
        rfc3797_key(sources)


@pytest.mark.parametrize("index", [-1, 0x10000])
def test_rfc3797_index_has_two_bytes(index: int) -> None:
    with pytest.raises(DrawError):
        rfc3797_digest(b"1./", index)


@pytest.mark.parametrize(("pool_size", "count"), [(0, 0), (MAX_CANDIDATES + 1, 1), (5, 6), (5, -1)])
def test_rfc3797_refuses_impossible_selections(pool_size: int, count: int) -> None:
    with pytest.raises(DrawError):
        rfc3797_select(b"1./", pool_size, count)


def test_rfc3797_selects_nothing_when_asked_for_nothing() -> None:
    assert rfc3797_select(b"1./", 3, 0) == ()


# This module's own construction


def test_known_answer_of_the_draw() -> None:
    vectors = load("draw")
    inputs = inputs_from_json(vectors["inputs"])
    secret = bytes.fromhex(vectors["secret"])
    made = commit_from_parts(inputs, secret=secret, chain_length=vectors["chain_length"])
    assert (made.anchor.hex(), made.iteration) == (vectors["anchor"], vectors["iteration"])
    assert [link.hex() for link in made.links] == vectors["links"]
    code = one_time_code(secret, made)
    assert code.hex() == vectors["one_time_code"]
    seed = seed_from(made, code, bytes.fromhex(vectors["public_randomness"]))
    assert seed.hex() == vectors["seed"]
    expected = DrawResult(
        tuple(vectors["order"]),
        tuple(GroupDraw(g["group"], tuple(g["members"]), tuple(g["reserves"])) for g in vectors["groups"]),
    )
    assert draw(inputs, seed) == expected


def test_the_commitment_chain_is_the_documented_encoding() -> None:
    # An independent encoder written from the module's description.
    def field(data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + data

    def u32(value: int) -> bytes:
        return value.to_bytes(4, "big")

    vectors = load("draw")
    data = vectors["inputs"]
    candidates = sorted(data["candidates"], key=lambda c: c["label"].encode())
    exclusions = sorted(data["exclusions"], key=lambda e: (e["label"].encode(), e["reason"].encode()))
    bodies = {
        "context": data["context"].encode(),
        "one-time codes": field(bytes.fromhex(vectors["anchor"])) + u32(vectors["chain_length"]) + u32(1),
        "randomness source": data["randomness_source"].encode(),
        "candidates": u32(len(candidates))
        + b"".join(
            field(c["label"].encode())
            + u32(len(c["groups"]))
            + b"".join(field(g) for g in sorted(g.encode() for g in c["groups"]))
            for c in candidates
        ),
        "exclusions": u32(len(exclusions))
        + b"".join(field(e["label"].encode()) + field(e["reason"].encode()) for e in exclusions),
        "quotas": u32(len(data["quotas"]))
        + b"".join(field(q["group"].encode()) + u32(q["seats"]) + u32(q["reserves"]) for q in data["quotas"]),
    }
    previous = b""
    for (name, body), link in zip(bodies.items(), vectors["links"], strict=True):
        previous = hashlib.sha256(
            field(b"bidding/draw/v1") + field(name.encode()) + field(previous) + field(body)
        ).digest()
        assert previous.hex() == link, name
    randomness = field(b"bidding/draw/v1") + field(b"randomness") + field(previous)
    randomness += field(bytes.fromhex(vectors["public_randomness"]))
    assert extract_key(bytes.fromhex(vectors["one_time_code"]), randomness).hex() == vectors["seed"]


def test_same_inputs_give_the_same_draw() -> None:
    assert run(make_inputs()) == run(make_inputs())


def test_commit_draws_a_fresh_secret_each_time() -> None:
    inputs = make_inputs()
    (secret, made), (other_secret, other) = commit(inputs), commit(inputs)
    assert len(secret) == SECRET_SIZE
    assert secret != other_secret
    assert made.anchor != other.anchor
    assert (made.chain_length, made.iteration) == (DEFAULT_CHAIN_LENGTH, 1)
    verify_commitment(made, inputs, one_time_code(secret, made))


def test_any_single_change_of_input_changes_the_ranking() -> None:
    inputs = make_inputs()
    baseline = run(inputs)
    renamed = tuple(replace(c, label="C99") if c.label == "C01" else c for c in inputs.candidates)
    regrouped = tuple(
        replace(c, groups=frozenset({"civil", "cost"})) if c.label == "C01" else c for c in inputs.candidates
    )
    variants = {
        "context": run(replace(inputs, context="ZB-2025-0012 lot 2")),
        "randomness source": run(replace(inputs, randomness_source="drand quicknet round 12345679")),
        "a label": run(replace(inputs, candidates=renamed)),
        "a candidate's groups": run(replace(inputs, candidates=regrouped)),
        "a candidate more": run(
            replace(inputs, candidates=(*inputs.candidates, Candidate("C09", frozenset({"civil"}))))
        ),
        "an exclusion more": run(replace(inputs, exclusions=(*inputs.exclusions, Exclusion("K01", "relative")))),
        "an exclusion's reason": run(replace(inputs, exclusions=(Exclusion("C03", "sanctioned"),))),
        "a quota": run(replace(inputs, quotas=(Quota("civil", 3, 1), Quota("cost", 2, 1)))),
        "the quotas' order": run(replace(inputs, quotas=inputs.quotas[::-1])),
        "the secret": run(inputs, secret=bytes(SECRET_SIZE)),
        "the public randomness": run(inputs, randomness=RANDOMNESS[:-1] + b"\x00"),
        "the chain length": run(inputs, chain_length=DEFAULT_CHAIN_LENGTH + 1),
        "the iteration": run(inputs, iteration=2),
    }
    for change, (_, _, result) in variants.items():
        common = set(result.order) & set(baseline[2].order)
        assert [label for label in result.order if label in common] != [
            label for label in baseline[2].order if label in common
        ], change


def test_quotas_and_reserves_are_taken_in_rank_order() -> None:
    inputs = make_inputs(exclusions=())
    _, _, result = run(inputs)
    civil = [label for label in result.order if label.startswith(("C", "X"))]
    civil_members = result.groups[0].members
    assert result.groups[0].group == "civil"
    assert civil_members == tuple(civil[:3])
    assert result.groups[0].reserves == tuple(label for label in civil[3:] if label not in result.groups[1].members)[:2]
    assert result.groups[1].group == "cost"
    cost = [label for label in result.order if label.startswith(("K", "X")) and label not in civil_members]
    assert result.groups[1].members == tuple(cost[:2])
    assert result.groups[1].reserves == tuple(label for label in cost[2:] if label not in result.groups[0].reserves)[:1]
    assert result.members == civil_members + result.groups[1].members
    assert inputs.seats == 5


def test_excluded_candidates_are_passed_over() -> None:
    inputs = make_inputs(exclusions=())
    key = key_with_top(inputs, "C01")
    assert draw(inputs, key).groups[0].members[0] == "C01"
    excluded = replace(inputs, exclusions=(Exclusion("C01", "same organisation as a bidder"),))
    result = draw(excluded, key)
    assert "C01" not in result.members + result.groups[0].reserves + result.groups[1].reserves
    assert result.order == draw(inputs, key).order


def test_a_candidate_of_two_groups_is_drawn_once_by_the_first_group() -> None:
    inputs = make_inputs(CIVIL + COST + BOTH[:1], (), (Quota("civil", 1), Quota("cost", 1)))
    key = key_with_top(inputs, "X01")
    assert draw(inputs, key).groups == (
        GroupDraw("civil", ("X01",), ()),
        GroupDraw("cost", (draw_top(inputs, key, "K"),), ()),
    )
    swapped = replace(inputs, quotas=inputs.quotas[::-1])
    assert draw(swapped, key).groups[0] == GroupDraw("cost", ("X01",), ())
    assert draw(swapped, key).groups[1] == GroupDraw("civil", (draw_top(inputs, key, "C"),), ())


def draw_top(inputs: DrawInputs, key: bytes, prefix: str) -> str:
    """The best-ranked label starting with ``prefix``."""
    return next(label for label in draw(inputs, key).order if label.startswith(prefix))


def test_members_of_every_group_come_before_reserves() -> None:
    candidates = (
        Candidate("C01", frozenset({"civil"})),
        Candidate("C02", frozenset({"civil"})),
        Candidate("X01", frozenset({"civil", "cost"})),
        Candidate("K01", frozenset({"cost"})),
    )
    inputs = make_inputs(candidates, (), (Quota("civil", 1, 1), Quota("cost", 1)))
    key = key_with_top(inputs, "C01", "X01")
    # X01 would be civil's reserve if civil's reserves were drawn before cost's members.
    assert draw(inputs, key).groups == (GroupDraw("civil", ("C01",), ("C02",)), GroupDraw("cost", ("X01",), ()))


def test_too_few_members_is_refused_naming_the_group_and_counts() -> None:
    candidates = (
        Candidate("C01", frozenset({"civil"})),
        Candidate("X01", frozenset({"civil", "cost"})),
        *(Candidate(f"K{n:02}", frozenset({"cost"})) for n in range(1, 4)),
    )
    inputs = make_inputs(candidates, (Exclusion("K03", "sanctioned"),), (Quota("civil", 2), Quota("cost", 3)))
    with pytest.raises(DrawError) as raised:
        draw(inputs, bytes(32))
    assert str(raised.value) == (
        "group 'cost' is short of candidates: members needed 3, eligible 2"
        " (4 in the group, 1 excluded, 1 drawn already)"
    )


def test_too_few_reserves_is_refused() -> None:
    inputs = make_inputs(CIVIL[:3], (), (Quota("civil", 3, 1),))
    with pytest.raises(
        DrawError, match=r"'civil' .* reserves needed 1, eligible 0 \(3 in the group, 0 excluded, 3 drawn"
    ):
        draw(inputs, bytes(32))


def test_a_group_without_candidates_is_refused() -> None:
    with pytest.raises(DrawError, match="'audit' .* eligible 0 .0 in the group"):
        draw(make_inputs(quotas=(Quota("audit", 1),)), bytes(32))


def test_replay_returns_the_logged_result() -> None:
    inputs = make_inputs()
    made, code, result = run(inputs)
    assert replay(inputs, made, code, RANDOMNESS, result) == result


@pytest.mark.parametrize(
    ("change", "part"),
    [
        ({"context": "ZB-2025-0013 lot 1"}, "context"),
        ({"randomness_source": "drand round 1"}, "randomness source"),
        ({"candidates": CIVIL + COST}, "candidates"),
        ({"exclusions": ()}, "exclusions"),
        ({"quotas": (Quota("civil", 3, 2), Quota("cost", 2, 0))}, "quotas"),
    ],
)
def test_replay_refuses_inputs_that_differ_from_the_commitment(change: dict[str, Any], part: str) -> None:
    inputs = make_inputs()
    made, code, result = run(inputs)
    with pytest.raises(DrawError, match=f"the {part} part of the inputs does not match the commitment"):
        replay(replace(inputs, **change), made, code, RANDOMNESS, result)


def test_replay_refuses_a_commitment_whose_anchor_was_swapped() -> None:
    inputs = make_inputs()
    made, code, result = run(inputs)
    with pytest.raises(DrawError, match="the one-time codes part"):
        replay(inputs, replace(made, anchor=bytes(32)), code, RANDOMNESS, result)


@pytest.mark.parametrize("code", [b"", bytes(32), hash_chain(SECRET, DEFAULT_CHAIN_LENGTH - 2)])
def test_replay_refuses_a_code_that_does_not_hash_to_the_anchor(code: bytes) -> None:
    inputs = make_inputs()
    made, _, result = run(inputs)
    with pytest.raises(DrawError, match="one-time code does not match"):
        replay(inputs, made, code, RANDOMNESS, result)


def test_replay_refuses_other_randomness_or_another_result() -> None:
    inputs = make_inputs()
    made, code, result = run(inputs)
    with pytest.raises(DrawError, match="logged result"):
        replay(inputs, made, code, RANDOMNESS + b"\x00", result)
    tampered = replace(
        result, groups=(replace(result.groups[0], members=result.groups[0].members[::-1]), result.groups[1])
    )
    with pytest.raises(DrawError, match="logged result"):
        replay(inputs, made, code, RANDOMNESS, tampered)


def test_a_substitution_round_uses_the_next_code_and_replays() -> None:
    inputs = make_inputs()
    first, first_code, first_result = run(inputs)
    declined = first_result.groups[0].members[0]
    second_inputs = replace(inputs, exclusions=(*inputs.exclusions, Exclusion(declined, "declined")))
    second = commit_from_parts(second_inputs, secret=SECRET, iteration=2)
    second_code = one_time_code(SECRET, second)
    assert second.anchor == first.anchor
    assert hash_chain(second_code, 1) == first_code
    result = replay(
        second_inputs, second, second_code, RANDOMNESS, draw(second_inputs, seed_from(second, second_code, RANDOMNESS))
    )
    assert declined not in result.members


def test_one_time_code_refuses_another_secret() -> None:
    made = commit_from_parts(make_inputs(), secret=SECRET)
    with pytest.raises(DrawError, match="secret does not match"):
        one_time_code(bytes(SECRET_SIZE), made)


@pytest.mark.parametrize(
    ("secret", "chain_length", "iteration"),
    [
        (SECRET[:-1], 16, 1),
        (SECRET + b"\x00", 16, 1),
        (SECRET, 1, 1),
        (SECRET, MAX_CHAIN_LENGTH + 1, 1),
        (SECRET, 10**12, 1),
        (SECRET, 16, 0),
        (SECRET, 16, 16),
    ],
)
def test_commit_refuses_bad_secrets_chains_and_iterations(secret: bytes, chain_length: int, iteration: int) -> None:
    with pytest.raises(DrawError):
        commit_from_parts(make_inputs(), secret=secret, chain_length=chain_length, iteration=iteration)


def test_commit_accepts_the_longest_chain_and_its_last_iteration() -> None:
    made = commit_from_parts(
        make_inputs(), secret=SECRET, chain_length=MAX_CHAIN_LENGTH, iteration=MAX_CHAIN_LENGTH - 1
    )
    assert one_time_code(SECRET, made) == hashlib.sha256(SECRET).digest()


@pytest.mark.parametrize(
    "change",
    [{"anchor": bytes(31)}, {"links": ()}, {"links": (bytes(32),) * 5 + (bytes(31),)}, {"iteration": 0}],
)
def test_malformed_commitments_are_refused(change: dict[str, Any]) -> None:
    made = commit_from_parts(make_inputs(), secret=SECRET)
    with pytest.raises(DrawError):
        replace(made, **change)


@pytest.mark.parametrize("randomness", [b"", bytes(MAX_RANDOMNESS_BYTES + 1)])
def test_seed_needs_some_and_not_too_much_public_randomness(randomness: bytes) -> None:
    made = commit_from_parts(make_inputs(), secret=SECRET)
    with pytest.raises(DrawError):
        seed_from(made, one_time_code(SECRET, made), randomness)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Candidate(" C01", frozenset({"civil"})),
        lambda: Candidate("", frozenset({"civil"})),
        lambda: Candidate("C\n01", frozenset({"civil"})),
        lambda: Candidate("C\ud80001", frozenset({"civil"})),
        lambda: Candidate("专" * (MAX_NAME_BYTES // 3 + 1), frozenset({"civil"})),
        lambda: Candidate("C01", frozenset()),
        lambda: Candidate("C01", frozenset({"civil "})),
        lambda: Exclusion("C01", ""),
        lambda: Exclusion("C 01 ", "sanctioned"),
        lambda: Quota("civil", 0),
        lambda: Quota("civil", 1, -1),
        lambda: Quota("civil", MAX_CANDIDATES, 1),
        lambda: Quota("", 1),
        lambda: make_inputs(context="x" * (MAX_TEXT_BYTES + 1)),
        lambda: DrawInputs("context", "", CIVIL, (), (Quota("civil", 1),)),
        lambda: make_inputs(candidates=()),
        lambda: make_inputs(candidates=CIVIL + CIVIL[:1]),
        lambda: make_inputs(exclusions=(Exclusion("Z01", "relative"),)),
        lambda: make_inputs(exclusions=(Exclusion("C01", "relative"), Exclusion("C01", "relative"))),
        lambda: make_inputs(quotas=()),
        lambda: make_inputs(quotas=(Quota("civil", 1), Quota("civil", 2))),
    ],
)
def test_malformed_inputs_are_refused(make: Any) -> None:
    with pytest.raises(DrawError):
        make()


def test_inputs_may_be_in_any_script_and_exclude_one_candidate_for_several_reasons() -> None:
    candidates = (Candidate("专家 甲", frozenset({"土建"})), Candidate("专家 乙", frozenset({"土建"})))
    exclusions = (Exclusion("专家 甲", "与投标人同单位"), Exclusion("专家 甲", "近期已抽中"))
    inputs = make_inputs(candidates, exclusions, (Quota("土建", 1),), context="招标 ZB-1 第1轮")
    assert run(inputs)[2].members == ("专家 乙",)


@pytest.mark.parametrize("size", [5, 7, 9, 21])
def test_committees_of_five_or_more_and_odd_are_accepted(size: int) -> None:
    check_committee_size(size)


@pytest.mark.parametrize("size", [0, 1, 3, 4, 6, 10])
def test_committees_smaller_than_five_or_even_are_refused(size: int) -> None:
    with pytest.raises(DrawError, match=f"odd number of at least 5 members, not {size}"):
        check_committee_size(size)


def test_committee_minimum_can_be_raised() -> None:
    check_committee_size(7, minimum=7)
    with pytest.raises(DrawError):
        check_committee_size(5, minimum=7)


# Properties

GROUPS = ("civil", "cost", "electrical", "law")
REASONS = ("same organisation as a bidder", "relative", "recent draw", "sanctioned")


@st.composite
def draw_inputs(pick: st.DrawFn) -> DrawInputs:
    count = pick(st.integers(1, 24))
    candidates = tuple(
        Candidate(f"E{n:03}", frozenset(pick(st.sets(st.sampled_from(GROUPS), min_size=1)))) for n in range(count)
    )
    excluded = pick(st.sets(st.sampled_from([candidate.label for candidate in candidates])))
    exclusions = tuple(Exclusion(label, pick(st.sampled_from(REASONS))) for label in sorted(excluded))
    groups = pick(st.lists(st.sampled_from(GROUPS), min_size=1, unique=True))
    quotas = tuple(Quota(group, pick(st.integers(1, 4)), pick(st.integers(0, 2))) for group in groups)
    return DrawInputs("tender T-1 lot 1", "drand round 1", candidates, exclusions, quotas)


def outcome(inputs: DrawInputs, randomness: bytes) -> tuple[bytes, DrawResult | str]:
    made = commit_from_parts(inputs, secret=SECRET, chain_length=2)
    try:
        return made.digest, draw(inputs, seed_from(made, one_time_code(SECRET, made), randomness))
    except DrawError as error:
        return made.digest, str(error)


@given(draw_inputs(), st.randoms(use_true_random=False), st.binary(min_size=1, max_size=64))
def test_the_order_of_candidates_and_exclusions_changes_nothing(
    inputs: DrawInputs, shuffler: Any, randomness: bytes
) -> None:
    candidates, exclusions = list(inputs.candidates), list(inputs.exclusions)
    shuffler.shuffle(candidates)
    shuffler.shuffle(exclusions)
    permuted = replace(inputs, candidates=tuple(candidates), exclusions=tuple(exclusions))
    assert outcome(permuted, randomness) == outcome(inputs, randomness)


@given(draw_inputs(), st.binary(min_size=1, max_size=64))
def test_a_draw_meets_its_quotas_and_never_draws_an_excluded_candidate(inputs: DrawInputs, randomness: bytes) -> None:
    _, result = outcome(inputs, randomness)
    if isinstance(result, str):
        assert "is short of candidates" in result
        return
    groups_of = {candidate.label: candidate.groups for candidate in inputs.candidates}
    excluded = {exclusion.label for exclusion in inputs.exclusions}
    assert sorted(result.order) == sorted(groups_of)
    drawn: list[str] = []
    for quota, group in zip(inputs.quotas, result.groups, strict=True):
        assert group.group == quota.group
        assert (len(group.members), len(group.reserves)) == (quota.seats, quota.reserves)
        assert all(quota.group in groups_of[label] for label in group.members + group.reserves)
        drawn += group.members + group.reserves
    assert len(drawn) == len(set(drawn))
    assert not excluded.intersection(drawn)
    assert len(result.members) == inputs.seats


@given(key=st.binary(min_size=32, max_size=32), label=st.text(min_size=1, max_size=40))
def test_a_position_is_hkdf_expand_of_the_label(key: bytes, label: str) -> None:
    assert position(key, label.encode()) == HKDFExpand(hashes.SHA256(), 32, label.encode()).derive(key)


# Contributions of independent parties


def _field(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def test_a_contribution_commitment_is_the_documented_hash() -> None:
    digest, secret = bytes(range(32)), bytes(range(32, 64))
    expected = hashlib.sha256(
        _field(b"bidding/draw/v1") + _field(b"contribution") + _field(digest) + _field("监督".encode()) + _field(secret)
    ).digest()
    assert contribution_commitment(digest, "监督", secret) == expected
    check_contribution(digest, "监督", secret, expected)


@pytest.mark.parametrize(
    ("party", "secret"),
    [("supervisor", bytes(32)), ("platform", bytes(range(32, 64))), ("Supervisor", bytes(range(32, 64)))],
)
def test_a_secret_is_checked_against_the_party_and_its_commitment(party: str, secret: bytes) -> None:
    digest = bytes(range(32))
    committed = contribution_commitment(digest, "supervisor", bytes(range(32, 64)))
    with pytest.raises(DrawError, match=f"revealed by '{party}'"):
        check_contribution(digest, party, secret, committed)


def test_a_commitment_to_a_contribution_is_good_for_one_draw() -> None:
    secret = bytes(range(32))
    assert contribution_commitment(bytes(32), "supervisor", secret) != contribution_commitment(
        bytes([1]) * 32, "supervisor", secret
    )


@pytest.mark.parametrize(
    ("digest", "party", "secret"),
    [(bytes(31), "supervisor", bytes(32)), (bytes(32), "supervisor", bytes(33)), (bytes(32), " supervisor", bytes(32))],
)
def test_malformed_contributions_are_refused(digest: bytes, party: str, secret: bytes) -> None:
    with pytest.raises(DrawError):
        contribution_commitment(digest, party, secret)


def test_the_randomness_of_contributions_is_the_documented_encoding_in_any_order() -> None:
    first, second = ("beacon", bytes(range(32))), ("supervisor", bytes(range(32, 64)))
    expected = (
        _field(b"contributions")
        + (2).to_bytes(4, "big")
        + b"".join(_field(p.encode()) + _field(s) for p, s in (first, second))
    )
    assert contributions_randomness([second, first]) == contributions_randomness([first, second]) == expected


@pytest.mark.parametrize(
    "contributions",
    [[], [("supervisor", bytes(32)), ("supervisor", bytes(32))], [("supervisor", bytes(31))], [("", bytes(32))]],
)
def test_the_randomness_needs_one_well_formed_secret_per_party(contributions: list[tuple[str, bytes]]) -> None:
    with pytest.raises(DrawError):
        contributions_randomness(contributions)


def test_a_draw_on_contributions_replays_and_changes_with_any_secret() -> None:
    inputs = make_inputs()
    made = commit_from_parts(inputs, secret=SECRET)
    code = one_time_code(SECRET, made)
    supervisor = bytes(range(100, 132))
    randomness = contributions_randomness([("supervisor", supervisor)])
    result = draw(inputs, seed_from(made, code, randomness))
    assert replay(inputs, made, code, randomness, result) == result
    other = contributions_randomness([("supervisor", bytes(range(101, 133)))])
    assert draw(inputs, seed_from(made, code, other)).order != result.order
