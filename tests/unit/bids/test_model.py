"""The rules of bids that need no database: how a bid is shown to people."""

from __future__ import annotations

import re

import pytest

from bidding.bids.model import bid_id_text, bid_reference
from bidding.bids.repo import new_bid_id

REFERENCE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


@pytest.mark.parametrize(
    ("bid_id", "reference"),
    [
        (1, "0000-0000-0001"),
        (31, "0000-0000-000Z"),
        (32, "0000-0000-0010"),
        (2**60 - 1, "ZZZZ-ZZZZ-ZZZZ"),
        # The id's low 60 bits: the three above them do not show.
        (2**63 - 1, "ZZZZ-ZZZZ-ZZZZ"),
        (0x0123456789ABCDEF, "28T5-CY4T-QKFF"),
    ],
)
def test_a_bid_reference_writes_the_ids_low_60_bits_in_crockford_base32(bid_id: int, reference: str) -> None:
    assert bid_reference(bid_id) == reference


def test_new_bid_ids_are_random_positive_63_bit_numbers_with_references_of_12_characters() -> None:
    ids = [new_bid_id() for _ in range(1000)]
    assert all(0 < bid_id < 2**63 for bid_id in ids) and len(set(ids)) == len(ids)
    # Spread over the whole range, not counted up from one (this fails by chance with odds below 2^-400).
    assert max(ids) > 2**62 and min(ids) < 2**61
    assert all(REFERENCE.fullmatch(bid_reference(bid_id)) for bid_id in ids)


def test_bid_ids_are_written_as_text_where_json_carries_them() -> None:
    assert bid_id_text(2**63 - 1) == "9223372036854775807"
