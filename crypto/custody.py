"""Custody of a tender's opening key: k-of-n SLIP-0039 shares, each sealed to one custodian's age recipient.

At publication a fresh post-quantum opening identity is made; its 32-byte seed is split with SLIP-0039
(``shamir-mnemonic``, the reference implementation), each share is sealed with age to its custodian, and
for each share two SHA-256 commitments are published: of the sealed file (so a custodian can check that what
they hold is what was logged) and of the share itself (so a share handed in at the opening is recognised, or
refused, the moment it arrives). Then the seed is dropped. At the opening, any k custodians open their sealed
shares and hand them in; :func:`combine_shares` rebuilds the identity and refuses it unless its recipient is
the one published in the tender notice.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from typing import Any

import shamir_mnemonic
from shamir_mnemonic import MnemonicError

from crypto.age import (
    AgeError,
    AnyIdentity,
    HybridIdentity,
    HybridRecipient,
    KeyFormatError,
    decrypt,
    encrypt,
    parse_recipient,
)

#: Bytes of the opening seed: an age post-quantum identity.
SEED_SIZE = 32
#: Custodians per tender: SLIP-0039 allows at most 16 shares in a group.
MAX_CUSTODIANS = 16
#: SLIP-0039 iteration exponent: shares protect a random 256-bit seed, not a passphrase, so the minimum.
_ITERATION_EXPONENT = 0
_FORMAT = "bidding/custody-share/v1"
CEREMONY_FORMAT = "bidding/custody-ceremony/v1"
#: The largest sealed share accepted: a share is about 300 bytes, its age header about 1.2 KiB.
MAX_SEALED_SHARE = 16 * 1024


class CustodyError(ValueError):
    """Shares cannot be made, opened or combined as asked; the message says why, never what a share holds."""


@dataclasses.dataclass(frozen=True, slots=True)
class SealedShare:
    """One custodian's share, sealed to their age recipient, and what the log keeps of it."""

    custodian: str
    member: int
    sealed: bytes
    #: SHA-256 of :attr:`sealed`.
    sealed_digest: bytes
    #: SHA-256 of the share's mnemonic, under a domain label (see :func:`share_digest`).
    share_digest: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class Ceremony:
    """What the custody ceremony publishes: the opening recipient, k, and every sealed share."""

    tender: str
    recipient: HybridRecipient
    threshold: int
    shares: tuple[SealedShare, ...]


def share_digest(mnemonic: str) -> bytes:
    """The published commitment to a share: SHA-256 of a domain label and the normalised mnemonic.

    A share carries 256 bits of randomness, so its digest reveals nothing of it.
    """
    return hashlib.sha256(b"bidding/custody-share-digest/v1\n" + " ".join(mnemonic.split()).lower().encode()).digest()


def split_opening_key(
    tender: str, custodians: Sequence[tuple[str, HybridRecipient]], threshold: int
) -> tuple[Ceremony, HybridIdentity]:
    """Make a fresh opening identity and split it among ``custodians`` (name, age recipient), k = ``threshold``.

    Returns the ceremony to publish, and the identity, which the caller must drop at once (it is returned only
    so that a ceremony run on one machine can show that it works; it is never stored).
    """
    seed = bytearray(os.urandom(SEED_SIZE))
    try:
        return split_opening_key_from_parts(tender, custodians, threshold, bytes(seed))
    finally:
        # Best effort: Python may keep copies, which is why the ceremony runs where the seed may live briefly.
        seed[:] = bytes(SEED_SIZE)


def split_opening_key_from_parts(
    tender: str, custodians: Sequence[tuple[str, HybridRecipient]], threshold: int, seed: bytes
) -> tuple[Ceremony, HybridIdentity]:
    """:func:`split_opening_key` with a given seed (tests pin it). Raises :class:`CustodyError`."""
    if not 1 <= len(custodians) <= MAX_CUSTODIANS:
        raise CustodyError(f"a tender needs 1 to {MAX_CUSTODIANS} custodians, not {len(custodians)}")
    if not 1 <= threshold <= len(custodians):
        raise CustodyError(f"the threshold must be from 1 to {len(custodians)}, not {threshold}")
    if threshold == 1 and len(custodians) > 1:
        raise CustodyError("with more than one custodian the threshold must be 2 or more (SLIP-0039)")
    if len({name for name, _ in custodians}) != len(custodians):
        raise CustodyError("each custodian may hold only one share")
    if len(seed) != SEED_SIZE:
        raise CustodyError(f"the opening seed must be {SEED_SIZE} bytes")
    (mnemonics,) = shamir_mnemonic.generate_mnemonics(
        group_threshold=1,
        groups=[(threshold, len(custodians))],
        master_secret=seed,
        iteration_exponent=_ITERATION_EXPONENT,
    )
    identity = HybridIdentity(seed)
    shares = []
    for member, ((name, recipient), mnemonic) in enumerate(zip(custodians, mnemonics, strict=True)):
        payload = json.dumps(
            {"format": _FORMAT, "tender": tender, "custodian": name, "member": member, "share": mnemonic},
            ensure_ascii=False,
            sort_keys=True,
        ).encode()
        sealed = encrypt(payload, [recipient])
        shares.append(SealedShare(name, member, sealed, hashlib.sha256(sealed).digest(), share_digest(mnemonic)))
    return Ceremony(tender, identity.recipient, threshold, tuple(shares)), identity


def open_sealed_share(sealed: bytes, identity: AnyIdentity, tender: str) -> str:
    """The share mnemonic in a custodian's sealed share, after checking it is for ``tender``.

    Raises :class:`CustodyError` if the file does not open with ``identity`` or belongs to another tender.
    """
    try:
        payload = json.loads(decrypt(sealed, [identity]))
    except AgeError as error:
        raise CustodyError(f"the sealed share does not open with this key: {error}") from None
    except ValueError:
        raise CustodyError("the sealed share holds no share") from None
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT or not isinstance(payload.get("share"), str):
        raise CustodyError("the sealed share holds no share")
    if payload.get("tender") != tender:
        raise CustodyError("this share belongs to another tender")
    share: str = payload["share"]
    return share


def check_sealed_share(ceremony: Ceremony, custodian: str, sealed: bytes) -> None:
    """Check that ``sealed`` is the very file published for ``custodian``; raises :class:`CustodyError`."""
    for share in ceremony.shares:
        if share.custodian == custodian:
            if hashlib.sha256(sealed).digest() != share.sealed_digest:
                raise CustodyError("this is not the sealed share published for this custodian")
            return
    raise CustodyError("this custodian holds no share of this tender")


def identify_share(ceremony: Ceremony, mnemonic: str) -> SealedShare:
    """The published share that ``mnemonic`` is, so a hand-in is checked on arrival; raises :class:`CustodyError`.

    A share of another tender, a mistyped share or a made-up one matches no published digest.
    """
    digest = share_digest(mnemonic)
    for share in ceremony.shares:
        if share.share_digest == digest:
            return share
    raise CustodyError("this share is not one of this tender's shares")


def recover_secret(mnemonics: Sequence[str], passphrase: bytes = b"") -> bytes:
    """The master secret of SLIP-0039 shares; raises :class:`CustodyError` if they are invalid or too few."""
    try:
        secret: bytes = shamir_mnemonic.combine_mnemonics(list(mnemonics), passphrase)
    except MnemonicError as error:
        raise CustodyError(f"the shares cannot be combined: {error}") from None
    return secret


def combine_shares(mnemonics: Sequence[str], recipient: HybridRecipient) -> HybridIdentity:
    """Rebuild the opening identity from k shares, refusing unless it matches the published ``recipient``."""
    seed = recover_secret(mnemonics)
    if len(seed) != SEED_SIZE:
        raise CustodyError("the shares do not hold an opening key")
    identity = HybridIdentity(seed)
    if identity.recipient != recipient:
        raise CustodyError("the shares rebuild a key other than the published opening recipient")
    return identity


# --- The ceremony file -----------------------------------------------------------------------------------------


def encode_ceremony(ceremony: Ceremony) -> bytes:
    """The ceremony as the JSON file the agency hands to the platform (no secret in it)."""
    return json.dumps(
        {
            "format": CEREMONY_FORMAT,
            "tender": ceremony.tender,
            "recipient": ceremony.recipient.encode(),
            "threshold": ceremony.threshold,
            "shares": [
                {
                    "custodian": share.custodian,
                    "member": share.member,
                    "sealed": base64.b64encode(share.sealed).decode(),
                    "sealed_sha256": share.sealed_digest.hex(),
                    "share_sha256": share.share_digest.hex(),
                }
                for share in ceremony.shares
            ],
        },
        ensure_ascii=False,
        indent=1,
    ).encode()


def _field(value: dict[str, Any], key: str, kind: type) -> Any:
    item = value.get(key)
    if not isinstance(item, kind) or isinstance(item, bool):
        raise CustodyError(f"the ceremony's {key!r} is missing or of the wrong type")
    return item


def _digest_field(value: dict[str, Any], key: str) -> bytes:
    text = _field(value, key, str)
    if len(text) != 64 or text != text.lower():
        raise CustodyError(f"{key} must be 64 lower-case hex digits")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise CustodyError(f"{key} must be 64 lower-case hex digits") from None


def parse_ceremony(data: bytes) -> Ceremony:
    """A ceremony file, checked for form: each share's digest is of its sealed bytes, members are 0…n−1, and
    k is possible. What cannot be checked without the custodians' keys (that the shares rebuild the recipient) is
    checked by each custodian, who opens its share, and at the opening. Raises :class:`CustodyError`.
    """
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise CustodyError("the ceremony file is not JSON") from None
    if not isinstance(value, dict) or value.get("format") != CEREMONY_FORMAT:
        raise CustodyError(f"not a ceremony file ({CEREMONY_FORMAT})")
    try:
        recipient = parse_recipient(_field(value, "recipient", str))
    except KeyFormatError as error:
        raise CustodyError(f"the opening recipient is not an age recipient: {error}") from None
    if not isinstance(recipient, HybridRecipient):
        raise CustodyError("the opening recipient must be post-quantum (age1pq1…)")
    raw_shares = _field(value, "shares", list)
    shares = []
    for member, raw in enumerate(raw_shares):
        if not isinstance(raw, dict):
            raise CustodyError("each share must be an object")
        try:
            sealed = base64.b64decode(_field(raw, "sealed", str), validate=True)
        except binascii.Error:
            raise CustodyError("a sealed share is not base64") from None
        if not 0 < len(sealed) <= MAX_SEALED_SHARE:
            raise CustodyError(f"a sealed share has 1 to {MAX_SEALED_SHARE} bytes")
        share = SealedShare(
            _field(raw, "custodian", str),
            _field(raw, "member", int),
            sealed,
            _digest_field(raw, "sealed_sha256"),
            _digest_field(raw, "share_sha256"),
        )
        if share.member != member:
            raise CustodyError("shares must be listed by member number, from 0")
        if hashlib.sha256(sealed).digest() != share.sealed_digest:
            raise CustodyError(f"the sealed share of {share.custodian!r} does not match its SHA-256")
        shares.append(share)
    threshold = _field(value, "threshold", int)
    if not 1 <= len(shares) <= MAX_CUSTODIANS or not 1 <= threshold <= len(shares):
        raise CustodyError(f"a ceremony has 1 to {MAX_CUSTODIANS} shares and a threshold from 1 to their number")
    if len({s.custodian for s in shares}) != len(shares) or len({s.share_digest for s in shares}) != len(shares):
        raise CustodyError("each custodian holds one share, and every share differs")
    return Ceremony(_field(value, "tender", str), recipient, threshold, tuple(shares))
