import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.canonical import CanonicalJSONError, canonical_json, parse_canonical_json


def test_rfc8785_orders_keys_and_shortens_numbers() -> None:
    # RFC 8785 §3.2.3: keys sorted by UTF-16 code units, numbers in ECMAScript form, strings minimally escaped.
    value = {"b": [1e21, 0.0000001, -0.0], "a": "\u20ac\n", "\u00e9": True}
    assert canonical_json(value) == '{"a":"€\\n","b":[1e+21,1e-7,0],"é":true}'.encode()


def test_canonical_json_round_trips_and_refuses_other_forms() -> None:
    data = canonical_json({"total": "1234.50", "items": [1, 2]})
    assert parse_canonical_json(data) == {"total": "1234.50", "items": [1, 2]}
    for other in (b'{"items": [1, 2], "total": "1234.50"}', b"not json", b'{"a":1}\n'):
        with pytest.raises(CanonicalJSONError):
            parse_canonical_json(other)


@pytest.mark.parametrize("value", [float("nan"), 2**64, {1: "x"}, object(), "\ud800", {"a": ["\udc00"]}])
def test_values_without_a_canonical_form_are_refused(value: object) -> None:
    with pytest.raises(CanonicalJSONError):
        canonical_json(value)


# Values of every kind the reference implementation takes: text from all of Unicode (control characters, lone
# surrogates, characters beyond U+FFFF, in keys too), integers about the 2**53 edge, floats, nesting.
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**54), max_value=2**54)
    | st.sampled_from([2**53 - 1, 2**53, -(2**53 - 1), -(2**53)])
    | st.floats(allow_nan=False)
    | st.text()
)
_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=12,
)


def _reversed(value: object) -> object:
    """The value with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {key: _reversed(value[key]) for key in reversed(value)}
    if isinstance(value, list):
        return [_reversed(item) for item in value]
    return value


def _reference(value: object) -> bytes | None:
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, UnicodeEncodeError):
        return None


@settings(max_examples=500)
@given(_VALUES)
def test_the_fast_path_writes_what_the_reference_writes(value: object) -> None:
    expected = _reference(value)
    if expected is None:
        with pytest.raises((CanonicalJSONError, UnicodeEncodeError)):
            canonical_json(value)
    else:
        assert canonical_json(value) == expected
        # (Read back, a float such as 2.0**53 is an integer, which the reference refuses beyond 2**53 - 1.)
        if _reference(json.loads(expected)) == expected:
            assert parse_canonical_json(expected) == json.loads(expected)


@settings(max_examples=500)
@given(_VALUES, st.sampled_from(["compact", "spaced", "unsorted", "ascii"]))
def test_the_fast_path_refuses_every_other_encoding(value: object, style: str) -> None:
    """Any encoding of a value is accepted exactly when it is the reference's bytes."""
    try:
        if style == "compact":
            data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        elif style == "spaced":
            data = json.dumps(value, ensure_ascii=False, sort_keys=True).encode()
        elif style == "unsorted":
            data = json.dumps(_reversed(value), ensure_ascii=False, separators=(",", ":")).encode()
        else:
            data = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    except UnicodeEncodeError:
        return
    reference = _reference(json.loads(data))
    if reference == data:
        assert parse_canonical_json(data) == json.loads(data)
    else:
        with pytest.raises(CanonicalJSONError):
            parse_canonical_json(data)
