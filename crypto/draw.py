"""The verifiable expert draw: a committed pool ranked with HKDF-SHA256, quotas filled per group, replayable by anyone.

How a draw runs:

1. Before any of the randomness exists, the platform fixes the :class:`DrawInputs` (the draw's public name, the
   announcement of the public randomness it will use, the candidates' labels and groups, the exclusions with their
   reasons, the quotas), calls :func:`commit` and logs the inputs and the :class:`Commitment`. The secret it gets
   back stays with the platform.
2. Once the announced public randomness is out (a future block hash, a drand round, lottery numbers: any bytes), the
   platform reveals the one-time code (:func:`one_time_code`), derives the seed (:func:`seed_from`), draws
   (:func:`draw`) and logs the code, the randomness and the :class:`DrawResult`.
3. When no substitution round can follow, the platform publishes the secret.

Anyone then checks the draw with :func:`replay`.

The public randomness may be the secrets of independent parties instead of (or besides) a beacon, so that the
platform alone can influence neither the list nor the outcome. Each party draws a secret of :data:`SECRET_SIZE`
bytes once the commitment of step 1 is logged, and logs :func:`contribution_commitment` of it, bound to that
commitment's digest and to the party's name. When every party's commitment is logged the platform reveals its
one-time code first, then the parties reveal their secrets, each checked by :func:`check_contribution`; the public
randomness is :func:`contributions_randomness` of them all. The platform's code is out before any secret, so it
cannot choose its part knowing theirs; a party that sees the code and withholds its secret is named, and the draw
restarts with fresh commitments from everyone.

The ranking is the one of draft-thomson-elegy-vrs-00, "A Verifiable Random Selection Process" (M. Thomson, 2023):

- one-time codes (§2.3): H is SHA-256 and H^n(x) is H applied n times. The platform publishes H^n(secret) and n
  (the commitment's ``anchor`` and ``chain_length``); the i-th iteration of the draw uses the code H^(n-i)(secret),
  which anyone checks by hashing it i times back to the anchor. The secret itself is never used as a code.
- extraction (§2.4): ``PRK = HKDF-Extract(salt = one-time code, IKM = randomness)``, HKDF of RFC 5869 with SHA-256.
- positions (§2.5): ``position = HKDF-Expand(PRK, info = label, L = 32)``, each label as its UTF-8 bytes. (The draft's
  text names HKDF-Extract in §2.5 but cites RFC 5869 §2.3, HKDF-Expand, and its sample code computes
  HMAC(PRK, label || 0x01), which is HKDF-Expand with L = 32.)
- order (§2, steps 8-9): positions sorted ascending as byte strings; options taken from the top, skipping any that
  cannot be selected under the agreed constraints.

What the draft leaves to whoever runs the process, this module fixes:

- the randomness byte string (§2.2 asks for it to be specified and announced): ``field("bidding/draw/v1") ||
  field("randomness") || field(commitment digest) || field(public randomness)``. The commitment digest in it binds the
  ranking to every committed input, so a change to any of them changes the whole ranking;
- ties between equal positions (SHA-256 makes them practically impossible): broken by the labels' UTF-8 bytes;
- the constraints: exclusions and quotas per group, filled as :func:`draw` describes.

The commitment is a hash chain over the inputs, one link per part, each link hashing the previous one::

    field(b)  = 4-byte big-endian length of b || b          u32(n) = n as 4 bytes, big-endian
    link[k]   = SHA-256(field("bidding/draw/v1") || field(part name) || field(link[k-1]) || field(body))
                with link[-1] the empty string; the last link is the commitment's digest

    part name            body
    "context"            UTF-8 of the draw's public name (tender, lot, round)
    "one-time codes"     field(H^n(secret)) || u32(n) || u32(iteration)
    "randomness source"  UTF-8 of the announcement: which public randomness, when, and how it becomes bytes
    "candidates"         u32(count), then by label bytes ascending: field(label) || u32(number of groups) ||
                         field(group) for each group by bytes ascending
    "exclusions"         u32(count), then by (label, reason) bytes ascending: field(label) || field(reason)
    "quotas"             u32(count), then in the committed order: field(group) || u32(seats) || u32(reserves)

Texts are UTF-8 as given (no normalisation: the committed bytes are what count). The candidates and exclusions are
sorted, so their order in the inputs changes nothing; the quotas' order is the order in which groups are filled.

RFC 3797 ("Publicly Verifiable Nominations Committee (NomCom) Random Selection", D. Eastlake 3rd, 2004) is the
alternative: :func:`rfc3797_key`, :func:`rfc3797_select` and :func:`draw_rfc3797`. It needs no secret, only public
sources with enough entropy, announced with the inputs.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: Bytes in the platform's secret, drawn from the operating system's generator.
SECRET_SIZE = 32
#: Bytes in a one-time code and in each link of a commitment (SHA-256).
CODE_SIZE = 32
#: Bytes in a position (the draft's L = 32).
POSITION_SIZE = 32
#: One-time codes for the first draw and up to 14 substitution rounds.
DEFAULT_CHAIN_LENGTH = 16
#: Upper bound on the chain length, so that checking a code costs at most this many hashes.
MAX_CHAIN_LENGTH = 1024
#: Candidates in one draw; also RFC 3797's bound, whose selection counter is two bytes.
MAX_CANDIDATES = 0xFFFF
#: UTF-8 bytes in a label, a group or a reason.
MAX_NAME_BYTES = 256
#: UTF-8 bytes in the draw's context and in the announcement of its randomness source.
MAX_TEXT_BYTES = 4096
#: Bytes of public randomness, and of an RFC 3797 key string.
MAX_RANDOMNESS_BYTES = 4096

_DOMAIN = b"bidding/draw/v1"
_PARTS = ("context", "one-time codes", "randomness source", "candidates", "exclusions", "quotas")


class DrawError(ValueError):
    """A draw's inputs are invalid, cannot be met, or do not match what was committed; the message says which."""


def _field(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _u32(value: int) -> bytes:
    return value.to_bytes(4, "big")


def _check_text(kind: str, value: str, limit: int = MAX_NAME_BYTES) -> None:
    # Printable text without surrounding spaces reads the same in the log as it hashes (draft §2.1 recommends
    # labels without leading or trailing whitespace); isprintable() also refuses lone surrogates, which have no UTF-8.
    if not value or value != value.strip() or not value.isprintable():
        raise DrawError(f"{kind} {value!r} must be printable, non-empty and without surrounding spaces")
    # A character has at most 4 bytes in UTF-8: short texts, every label, need no encoding to be measured.
    if len(value) * 4 > limit and len(value.encode()) > limit:
        raise DrawError(f"{kind} {value[:40]!r}… is longer than {limit} bytes")


@functools.lru_cache(maxsize=1024)
def _check_name(kind: str, value: str) -> None:
    """:func:`_check_text` of the few names thousands of candidates repeat (groups, reasons), each checked once:
    a name that fails raises, and is not remembered."""
    _check_text(kind, value)


def _check_chain(chain_length: int, iteration: int) -> None:
    if not 2 <= chain_length <= MAX_CHAIN_LENGTH:
        raise DrawError(f"the chain length must be from 2 to {MAX_CHAIN_LENGTH}, not {chain_length}")
    # The draft's iterations use H^(n-1) … H^1; H^0, the secret itself, is never a code.
    if not 1 <= iteration < chain_length:
        raise DrawError(f"iteration {iteration} is outside 1 to {chain_length - 1}")


@dataclass(frozen=True, slots=True)
class Candidate:
    """An expert in the pool: a stable, public, pseudonymous label and the groups (specialties) it may sit for."""

    label: str
    groups: frozenset[str]

    def __post_init__(self) -> None:
        _check_text("label", self.label)
        if not self.groups:
            raise DrawError(f"candidate {self.label!r} belongs to no group")
        for group in self.groups:
            _check_name("group", group)


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A candidate that must not be drawn, and why: same organisation as a bidder, a relative, a recent draw, …"""

    label: str
    reason: str

    def __post_init__(self) -> None:
        _check_text("label", self.label)
        _check_name("reason", self.reason)


@dataclass(frozen=True)
class Quota:
    """How many members, then how many reserves, a group draws."""

    group: str
    seats: int
    reserves: int = 0

    def __post_init__(self) -> None:
        _check_text("group", self.group)
        if self.seats < 1 or self.reserves < 0 or self.seats + self.reserves > MAX_CANDIDATES:
            raise DrawError(f"group {self.group!r} cannot draw {self.seats} members and {self.reserves} reserves")


@dataclass(frozen=True)
class DrawInputs:
    """Everything a draw depends on besides the randomness; committed and logged before the randomness exists.

    Construction checks the inputs and raises :class:`DrawError` if they are not a well-formed draw: labels unique,
    exclusions naming candidates (each reason once), at least one quota and one quota per group.
    """

    context: str
    randomness_source: str
    candidates: tuple[Candidate, ...]
    exclusions: tuple[Exclusion, ...]
    quotas: tuple[Quota, ...]

    def __post_init__(self) -> None:
        _check_text("context", self.context, MAX_TEXT_BYTES)
        _check_text("randomness source", self.randomness_source, MAX_TEXT_BYTES)
        if not 1 <= len(self.candidates) <= MAX_CANDIDATES:
            raise DrawError(f"a draw needs 1 to {MAX_CANDIDATES} candidates, not {len(self.candidates)}")
        labels: set[str] = set()
        for candidate in self.candidates:
            if candidate.label in labels:
                raise DrawError(f"label {candidate.label!r} appears twice among the candidates")
            labels.add(candidate.label)
        reasons: set[tuple[str, str]] = set()
        for exclusion in self.exclusions:
            if exclusion.label not in labels:
                raise DrawError(f"exclusion of {exclusion.label!r}, which is not a candidate")
            if (exclusion.label, exclusion.reason) in reasons:
                raise DrawError(f"{exclusion.label!r} is excluded twice for {exclusion.reason!r}")
            reasons.add((exclusion.label, exclusion.reason))
        if not self.quotas:
            raise DrawError("a draw needs at least one quota")
        groups: set[str] = set()
        for quota in self.quotas:
            if quota.group in groups:
                raise DrawError(f"group {quota.group!r} has two quotas")
            groups.add(quota.group)

    @property
    def seats(self) -> int:
        """The members drawn, all groups together (reserves not counted)."""
        return sum(quota.seats for quota in self.quotas)


@dataclass(frozen=True)
class Commitment:
    """What the platform publishes before the randomness exists.

    ``anchor`` is H^n(secret) for n = ``chain_length``; ``iteration`` says which one-time code the draw will use,
    H^(n - iteration)(secret); ``links`` is the hash chain over the inputs (see the module's description), whose last
    link is the :attr:`digest`. Construction checks the shape and raises :class:`DrawError`, so a commitment read
    back from a log is safe to use.
    """

    anchor: bytes
    chain_length: int
    iteration: int
    links: tuple[bytes, ...]

    def __post_init__(self) -> None:
        _check_chain(self.chain_length, self.iteration)
        if len(self.anchor) != CODE_SIZE or len(self.links) != len(_PARTS):
            raise DrawError("a commitment has a 32-byte anchor and one link per part of the inputs")
        if any(len(link) != CODE_SIZE for link in self.links):
            raise DrawError("each link of a commitment has 32 bytes")

    @property
    def digest(self) -> bytes:
        """The last link: one hash that stands for all the committed inputs."""
        return self.links[-1]


@dataclass(frozen=True, slots=True)
class Ranked:
    """A label and its position (draft §2.5); lower positions come first."""

    label: str
    position: bytes


@dataclass(frozen=True)
class GroupDraw:
    """The members and the reserves one group drew, each in rank order."""

    group: str
    members: tuple[str, ...]
    reserves: tuple[str, ...]


@dataclass(frozen=True)
class DrawResult:
    """A draw's outcome: every candidate's label in rank order, and what each group drew, in quota order."""

    order: tuple[str, ...]
    groups: tuple[GroupDraw, ...]

    @property
    def members(self) -> tuple[str, ...]:
        """Every member drawn, group after group: the experts called to the committee."""
        return tuple(label for group in self.groups for label in group.members)


def by_label(item: Candidate | Exclusion) -> str:
    """The committed order of candidates: by label. Texts compare by code points, which order alike their UTF-8
    bytes (a label has no lone surrogate), so this is the order of the labels' bytes."""
    return item.label


def by_label_and_reason(exclusion: Exclusion) -> tuple[str, str]:
    """The committed order of exclusions: by label, then by reason (the bytes' order, as :func:`by_label`)."""
    return exclusion.label, exclusion.reason


def hash_chain(value: bytes, times: int) -> bytes:
    """H^times(value) of the draft's §2.3: SHA-256 applied ``times`` times (``value`` itself for 0)."""
    for _ in range(times):
        value = hashlib.sha256(value).digest()
    return value


def extract_key(one_time_code: bytes, randomness: bytes) -> bytes:
    """``PRK = HKDF-Extract(salt = one-time code, IKM = randomness)`` with SHA-256, the draft's §2.4."""
    return HKDF.extract(hashes.SHA256(), one_time_code, randomness)


def position(key: bytes, label: bytes) -> bytes:
    """``position = HKDF-Expand(PRK, info = label, L = 32)`` with SHA-256, the draft's §2.5.

    For L = 32, one SHA-256 output, HKDF-Expand is the single block T(1) = HMAC(PRK, info || 0x01) (RFC 5869 §2.3),
    computed so directly: a pool of 100,000 experts is ranked in a tenth of the time a HKDF object per label takes.
    """
    return hmac.digest(key, label + b"\x01", "sha256")


def rank(key: bytes, labels: Iterable[str]) -> tuple[Ranked, ...]:
    """Each label with its position under ``key``, lowest position first (the draft's §2, steps 7 and 8).

    A label's position depends only on the key and the label, so the order of ``labels`` does not matter. Equal
    positions, which SHA-256 makes practically impossible, are ordered by the labels' UTF-8 bytes.
    """
    return tuple(Ranked(label, place) for place, label in _ranking(key, labels))


def _ranking(key: bytes, labels: Iterable[str]) -> list[tuple[bytes, str]]:
    # position() of each label, from one keyed HMAC state copied per label rather than keyed anew each time.
    # Ties by label: texts compare by code points, which order alike their UTF-8 bytes (see by_label).
    keyed = hmac.new(key, digestmod=hashlib.sha256)
    ranked = []
    for label in labels:
        mac = keyed.copy()
        mac.update(label.encode() + b"\x01")
        ranked.append((mac.digest(), label))
    return sorted(ranked)


def _bodies(inputs: DrawInputs, anchor: bytes, chain_length: int, iteration: int) -> tuple[bytes, ...]:
    candidates = sorted(inputs.candidates, key=by_label)
    exclusions = sorted(inputs.exclusions, key=by_label_and_reason)
    return (
        inputs.context.encode(),
        _field(anchor) + _u32(chain_length) + _u32(iteration),
        inputs.randomness_source.encode(),
        _u32(len(candidates))
        + b"".join(
            _field(candidate.label.encode())
            + _u32(len(candidate.groups))
            + b"".join(_field(group) for group in sorted(group.encode() for group in candidate.groups))
            for candidate in candidates
        ),
        _u32(len(exclusions))
        + b"".join(_field(exclusion.label.encode()) + _field(exclusion.reason.encode()) for exclusion in exclusions),
        _u32(len(inputs.quotas))
        + b"".join(_field(quota.group.encode()) + _u32(quota.seats) + _u32(quota.reserves) for quota in inputs.quotas),
    )


def _links(inputs: DrawInputs, anchor: bytes, chain_length: int, iteration: int) -> tuple[bytes, ...]:
    links: list[bytes] = []
    previous = b""
    for name, body in zip(_PARTS, _bodies(inputs, anchor, chain_length, iteration), strict=True):
        previous = hashlib.sha256(_field(_DOMAIN) + _field(name.encode()) + _field(previous) + _field(body)).digest()
        links.append(previous)
    return tuple(links)


def commit(inputs: DrawInputs, *, chain_length: int = DEFAULT_CHAIN_LENGTH) -> tuple[bytes, Commitment]:
    """Draw a fresh secret and commit to it and to ``inputs`` for the first iteration.

    Returns the secret, which the platform keeps to itself until no substitution round can follow, and the
    commitment, which it logs with the inputs before the public randomness exists.
    """
    secret = secrets.token_bytes(SECRET_SIZE)
    return secret, commit_from_parts(inputs, secret=secret, chain_length=chain_length)


def commit_from_parts(
    inputs: DrawInputs, *, secret: bytes, chain_length: int = DEFAULT_CHAIN_LENGTH, iteration: int = 1
) -> Commitment:
    """The commitment to ``inputs`` under a given secret, deterministic so that tests and later rounds can pin it.

    A substitution round (the draft's §2: a drawn expert becomes unavailable and no reserve is left) commits to its
    own inputs, the previous round's with the unavailable experts added as exclusions, under the same secret and
    chain length with the next ``iteration``. Prefer reserves: the platform knows the next one-time code, so it
    knows in advance whom a new round would draw (the draft's §3.1); a new draw with fresh randomness avoids that.
    Raises :class:`DrawError` for a secret of the wrong size or a chain length or iteration out of range.
    """
    if len(secret) != SECRET_SIZE:
        raise DrawError(f"the secret must have {SECRET_SIZE} bytes")
    _check_chain(chain_length, iteration)
    anchor = hash_chain(secret, chain_length)
    return Commitment(anchor, chain_length, iteration, _links(inputs, anchor, chain_length, iteration))


def one_time_code(secret: bytes, commitment: Commitment) -> bytes:
    """The code the platform reveals once the randomness is out: H^(n - iteration)(secret).

    Raises :class:`DrawError` if ``secret`` is not the one committed to. A verifier given the secret at the end
    checks it the same way and compares the code with the one revealed.
    """
    if hash_chain(secret, commitment.chain_length) != commitment.anchor:
        raise DrawError("the secret does not match the commitment")
    return hash_chain(secret, commitment.chain_length - commitment.iteration)


def verify_commitment(commitment: Commitment, inputs: DrawInputs, one_time_code: bytes) -> None:
    """Check that ``inputs`` and the revealed ``one_time_code`` are those ``commitment`` was made for.

    Returns nothing if they are, and the caller goes on to :func:`seed_from`; raises :class:`DrawError` naming the
    first part of the inputs that differs, or the code, otherwise.
    """
    recomputed = _links(inputs, commitment.anchor, commitment.chain_length, commitment.iteration)
    differing = next(
        (name for name, ours, theirs in zip(_PARTS, recomputed, commitment.links, strict=True) if ours != theirs), None
    )
    if differing is not None:
        raise DrawError(f"the {differing} part of the inputs does not match the commitment")
    if len(one_time_code) != CODE_SIZE or hash_chain(one_time_code, commitment.iteration) != commitment.anchor:
        raise DrawError("the one-time code does not match the commitment")


def seed_from(commitment: Commitment, one_time_code: bytes, public_randomness: bytes) -> bytes:
    """The draw's key: HKDF-Extract with the one-time code as salt and the randomness string as IKM (draft §2.4).

    The randomness string holds the commitment's digest and the public randomness (see the module's description).
    This only derives; :func:`verify_commitment` is what checks the code, and :func:`replay` does both. Raises
    :class:`DrawError` for empty or oversized public randomness.
    """
    if not 1 <= len(public_randomness) <= MAX_RANDOMNESS_BYTES:
        raise DrawError(f"the public randomness must have 1 to {MAX_RANDOMNESS_BYTES} bytes")
    randomness = _field(_DOMAIN) + _field(b"randomness") + _field(commitment.digest) + _field(public_randomness)
    return extract_key(one_time_code, randomness)


def contribution_commitment(digest: bytes, party: str, secret: bytes) -> bytes:
    """What a party logs before revealing ``secret``: ``SHA-256(field("bidding/draw/v1") || field("contribution")
    || field(digest) || field(party) || field(secret))``, with ``digest`` the draw's :attr:`Commitment.digest`.

    Binding the digest makes a commitment good for one draw only; binding the party's name keeps one party from
    replaying another's. Raises :class:`DrawError` for a secret of the wrong size or a malformed name.
    """
    _check_text("party", party)
    if len(secret) != SECRET_SIZE or len(digest) != CODE_SIZE:
        raise DrawError(f"a contribution is a {SECRET_SIZE}-byte secret for a {CODE_SIZE}-byte commitment digest")
    return hashlib.sha256(
        _field(_DOMAIN) + _field(b"contribution") + _field(digest) + _field(party.encode()) + _field(secret)
    ).digest()


def check_contribution(digest: bytes, party: str, secret: bytes, commitment: bytes) -> None:
    """Return if ``secret`` is the one ``party`` committed to for the draw of ``digest``; raise :class:`DrawError`
    naming the party otherwise."""
    if not hmac.compare_digest(contribution_commitment(digest, party, secret), commitment):
        raise DrawError(f"the secret revealed by {party!r} does not match its commitment")


def contributions_randomness(contributions: Iterable[tuple[str, bytes]]) -> bytes:
    """The public randomness made of the parties' revealed secrets: ``field("contributions") || u32(count)``,
    then ``field(party) || field(secret)`` for each party by name's bytes ascending (so their order changes nothing).

    Raises :class:`DrawError` for no contribution, a party named twice, or a malformed one.
    """
    given = sorted(contributions, key=lambda contribution: contribution[0].encode())
    parties = [party for party, _ in given]
    if not given or len(set(parties)) != len(parties):
        raise DrawError("the randomness needs one secret from each party, and at least one party")
    for party, secret in given:
        _check_text("party", party)
        if len(secret) != SECRET_SIZE:
            raise DrawError(f"the secret of {party!r} must have {SECRET_SIZE} bytes")
    return (
        _field(b"contributions")
        + _u32(len(given))
        + b"".join(_field(party.encode()) + _field(secret) for party, secret in given)
    )


def _fill(inputs: DrawInputs, order: Sequence[str]) -> DrawResult:
    groups_of = {candidate.label: candidate.groups for candidate in inputs.candidates}
    excluded = {exclusion.label for exclusion in inputs.exclusions}
    taken: set[str] = set()
    drawn: dict[tuple[str, str], tuple[str, ...]] = {}
    # All groups' members before any group's reserves: a candidate of two groups never ends up a reserve of one
    # while the other's seats go short because of it. Each takes from the top of the ranking only what it needs.
    for role in ("members", "reserves"):
        for quota in inputs.quotas:
            needed = quota.seats if role == "members" else quota.reserves
            eligible = list(
                itertools.islice(
                    (
                        label
                        for label in order
                        if quota.group in groups_of[label] and label not in excluded and label not in taken
                    ),
                    needed,
                )
            )
            if len(eligible) < needed:
                in_group = [label for label in order if quota.group in groups_of[label]]
                raise DrawError(
                    f"group {quota.group!r} is short of candidates: {role} needed {needed}, eligible {len(eligible)}"
                    f" ({len(in_group)} in the group, {len(excluded.intersection(in_group))} excluded,"
                    f" {len(taken.intersection(in_group))} drawn already)"
                )
            drawn[quota.group, role] = tuple(eligible[:needed])
            taken.update(eligible[:needed])
    groups = tuple(
        GroupDraw(quota.group, drawn[quota.group, "members"], drawn[quota.group, "reserves"]) for quota in inputs.quotas
    )
    return DrawResult(tuple(order), groups)


def draw(inputs: DrawInputs, key: bytes) -> DrawResult:
    """Rank every candidate under ``key`` (from :func:`seed_from`) and fill the quotas.

    The rule, the draft's "take from the sorted list in order, skipping options that cannot be selected": first the
    members, group by group in the order of ``inputs.quotas``, each group taking from the top of the ranking the
    first ``seats`` candidates that belong to it, are not excluded and have not been drawn by an earlier group; then
    the reserves, group by group in the same order, each taking its next ``reserves`` such candidates. A candidate
    of several groups is thus drawn at most once, by the first group to reach it. List the scarcest group first.

    Raises :class:`DrawError` naming the group and the counts if a group runs short: the draw is void, and a new one
    needs a wider pool or other quotas, and a new commitment.
    """
    return _fill(inputs, tuple(label for _, label in _ranking(key, (c.label for c in inputs.candidates))))


def replay(
    inputs: DrawInputs, commitment: Commitment, one_time_code: bytes, public_randomness: bytes, result: DrawResult
) -> DrawResult:
    """Re-run a logged draw and return its result if everything matches.

    Checks the inputs and the code against the commitment, derives the seed, draws, and compares with the logged
    ``result``; raises :class:`DrawError` at the first thing that does not match.
    """
    verify_commitment(commitment, inputs, one_time_code)
    replayed = draw(inputs, seed_from(commitment, one_time_code, public_randomness))
    if replayed != result:
        raise DrawError("the logged result is not the one the committed inputs draw")
    return replayed


def check_committee_size(size: int, *, minimum: int = 5) -> None:
    """Raise :class:`DrawError` unless a committee of ``size`` is odd and has at least ``minimum`` members.

    The Tendering and Bidding Law (art. 37) asks for five or more, an odd number, counting the purchaser's
    representatives with the experts: add them to the seats drawn before calling this.
    """
    if size < minimum or size % 2 == 0:
        raise DrawError(f"a committee needs an odd number of at least {minimum} members, not {size}")


def rfc3797_key(sources: Sequence[Sequence[int]]) -> bytes:
    """The key string of RFC 3797 §4 from whole-number sources, taken in their announced order.

    Each source's numbers are sorted ascending, each written in decimal and followed by ".", and each source is
    closed by "/": ``[[9319], [2, 5, 12, 8, 10]]`` gives ``b"9319./2.5.8.10.12./"``. Numbers are values, so a
    drawn "07" is written "7", as the RFC's reference code reads them. RFC 3797 also allows decimal fractions;
    this does not take them. Raises :class:`DrawError` for no sources, an empty source, a negative number or a key
    longer than :data:`MAX_RANDOMNESS_BYTES`.
    """
    if not sources or any(not numbers or min(numbers) < 0 for numbers in sources):
        raise DrawError("RFC 3797 sources are one or more non-empty lists of whole numbers of 0 or more")
    key = "".join("".join(f"{number}." for number in sorted(numbers)) + "/" for numbers in sources).encode()
    if len(key) > MAX_RANDOMNESS_BYTES:
        raise DrawError(f"the RFC 3797 key is longer than {MAX_RANDOMNESS_BYTES} bytes")
    return key


def rfc3797_digest(key: bytes, index: int) -> bytes:
    """MD5 of the index as two big-endian bytes, the key string, and the index again: RFC 3797 §4's value for the
    selection numbered ``index``, from 0."""
    if not 0 <= index <= 0xFFFF:
        raise DrawError(f"an RFC 3797 selection index is from 0 to 65535, not {index}")
    bracket = index.to_bytes(2, "big")
    # MD5 because RFC 3797 fixes it, so that anyone can replay the selection with the RFC's own tools; the
    # selection's unpredictability rests on the entropy of the public sources, not on MD5's collision resistance.
    return hashlib.md5(bracket + key + bracket, usedforsecurity=False).digest()


def rfc3797_select(key: bytes, pool_size: int, count: int) -> tuple[int, ...]:
    """The first ``count`` selections from a pool numbered 1 to ``pool_size``, by RFC 3797 §4.

    Selection i (from 0) reads :func:`rfc3797_digest` of i as an unsigned big-endian 128-bit number, takes it modulo
    the number of entries not yet selected, and selects the entry at that place (0 first) among the remaining ones in
    their original order. Raises :class:`DrawError` for a pool outside 1 to 65535 or a count outside 0 to the pool.
    """
    if not 1 <= pool_size <= MAX_CANDIDATES or not 0 <= count <= pool_size:
        raise DrawError(f"cannot select {count} of a pool of {pool_size} by RFC 3797")
    remaining = list(range(1, pool_size + 1))
    return tuple(
        remaining.pop(int.from_bytes(rfc3797_digest(key, index), "big") % len(remaining)) for index in range(count)
    )


def draw_rfc3797(inputs: DrawInputs, key: bytes) -> DrawResult:
    """The draw by RFC 3797 instead of HKDF, for the key string of :func:`rfc3797_key`.

    The pool is the candidates in their committed order (labels ascending by UTF-8 bytes), numbered from 1; selecting
    the whole pool gives the ranking, from which the quotas are filled as :func:`draw` describes. Excluded candidates
    stay in the pool and are passed over when reached (RFC 3797 §5.1). No secret is involved: commit the inputs,
    including the announcement of the sources, before the sources are drawn; anyone replays by calling this again.
    """
    pool = sorted((candidate.label for candidate in inputs.candidates), key=str.encode)
    return _fill(inputs, tuple(pool[number - 1] for number in rfc3797_select(key, len(pool), len(pool))))
