import os

import pytest

from crypto.age import ArmorError, X25519Identity, decrypt, encrypt
from crypto.age.armor import BEGIN, END, Armorer, Dearmorer, looks_armored


@pytest.mark.parametrize("size", [0, 1, 47, 48, 49, 96, 1000])
def test_armor_round_trips_in_any_pieces(size: int) -> None:
    data = os.urandom(size)
    armorer = Armorer()
    armored = b"".join(armorer.update(data[i : i + 7]) for i in range(0, len(data), 7)) + armorer.finish()
    assert armored.startswith(BEGIN + b"\n") and armored.endswith(END + b"\n")
    assert all(len(line) <= 64 for line in armored.split(b"\n"))
    dearmorer = Dearmorer()
    decoded = b"".join(dearmorer.update(armored[i : i + 5]) for i in range(0, len(armored), 5)) + dearmorer.finish()
    assert decoded == data


def test_an_armored_file_opens_and_is_detected() -> None:
    identity = X25519Identity.generate()
    sealed = encrypt(b"bid", [identity.recipient], armor=True)
    assert looks_armored(sealed) and not looks_armored(encrypt(b"bid", [identity.recipient]))
    assert decrypt(sealed, [identity]) == b"bid"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"", "empty armor"),
        (b"  \n", "empty armor"),
        (BEGIN + b"\nAAAA\n", "no end line"),
        (BEGIN + b"\n" + b"A" * 200, "too long"),
        (BEGIN + b"\nAAAA\n" + END + b"\ngarbage", "after the armor"),
        (BEGIN + b"\nAA==\nAAAA\n" + END, "short line before"),
        (BEGIN + b"\nAA=A\n" + END, "invalid base64"),
    ],
)
def test_malformed_armor_is_refused(text: bytes, message: str) -> None:
    dearmorer = Dearmorer()
    with pytest.raises(ArmorError, match=message):
        dearmorer.update(text)
        dearmorer.finish()


def test_nothing_may_follow_the_end_even_in_a_later_piece() -> None:
    dearmorer = Dearmorer()
    dearmorer.update(BEGIN + b"\nAAAA\n" + END + b"\n \n")
    with pytest.raises(ArmorError, match="after the armor"):
        dearmorer.update(b"x")
