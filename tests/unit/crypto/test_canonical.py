import pytest

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


@pytest.mark.parametrize("value", [float("nan"), 2**64, {1: "x"}, object()])
def test_values_without_a_canonical_form_are_refused(value: object) -> None:
    with pytest.raises(CanonicalJSONError):
        canonical_json(value)
