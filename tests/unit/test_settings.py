import stat
from datetime import timedelta
from pathlib import Path

import pytest

from bidding.settings import Settings, SettingsError, ensure_secret_key, settings_from_environment


def test_defaults_serve_one_machine() -> None:
    settings = settings_from_environment({})
    assert settings == Settings()
    assert settings.database_url is None
    assert settings.base_url == "http://127.0.0.1:8000"
    assert not settings.https
    assert settings.session_lifetime == timedelta(hours=12)


def test_environment_sets_every_field() -> None:
    settings = settings_from_environment(
        {
            "DATABASE_URL": "postgresql://db/bids",
            "BIDDING_DATA_DIR": "/srv/bids",
            "BIDDING_HOST": "0.0.0.0",  # noqa: S104  # a value to parse, nothing binds
            "BIDDING_PORT": "9000",
            "BIDDING_WORKERS": "4",
            "BIDDING_SECRET_KEY": "k" * 40,
            "BIDDING_LANGUAGE": "en",
            "BIDDING_PUBLIC_URL": "https://bids.example.org/",
            "BIDDING_TIMEZONE": "Asia/Urumqi",
            "BIDDING_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1",
        }
    )
    assert settings.data_dir == Path("/srv/bids")
    assert (settings.port, settings.workers, settings.language) == (9000, 4, "en")
    assert settings.base_url == "https://bids.example.org"
    assert settings.https
    assert settings.trusted_proxies == ("10.0.0.0/8", "127.0.0.1")


def test_password_hashing_is_rfc9106_unless_set() -> None:
    assert Settings().password_hashing == "rfc9106"
    chosen = settings_from_environment({"BIDDING_PASSWORD_HASHING": "owasp-minimum"})
    assert chosen.password_hashing == "owasp-minimum"


def test_draw_rules_have_the_laws_defaults_and_can_be_set() -> None:
    rules = Settings().draw_rules
    assert (rules.committee_minimum, rules.large_procurement_committee, rules.invitation_minutes) == (5, 7, 30)
    chosen = settings_from_environment({"BIDDING_DRAW_RULES": '{"invitation_minutes": 20, "recent_draw_days": 0}'})
    assert (chosen.draw_rules.invitation_minutes, chosen.draw_rules.recent_draw_days) == (20, 0)
    assert chosen.draw_rules.candidates_per_seat == 3
    shipped = settings_from_environment({"BIDDING_SPECIALTIES_FILE": "/etc/bids/specialties.csv"})
    assert shipped.specialties_file == Path("/etc/bids/specialties.csv")


def test_empty_variables_keep_defaults() -> None:
    assert settings_from_environment({"BIDDING_PORT": " ", "DATABASE_URL": ""}) == Settings()


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("BIDDING_PORT", "eighty", "BIDDING_PORT must be a whole number"),
        ("BIDDING_PORT", "70000", "port must be between"),
        ("BIDDING_WORKERS", "0", "workers must be between"),
        ("BIDDING_LANGUAGE", "fr", "language must be one of"),
        ("BIDDING_PASSWORD_HASHING", "md5", "password hashing must be one of rfc9106, owasp-minimum"),
        ("BIDDING_SECRET_KEY", "short", "at least 32"),
        ("BIDDING_PUBLIC_URL", "ftp://x", "public URL"),
        ("BIDDING_PUBLIC_URL", "https://x/sub/path", "public URL"),
        ("BIDDING_TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("BIDDING_TRUSTED_PROXIES", "proxy.local", "not an IP address"),
        ("BIDDING_S3_URL", "s3://bids", "S3 URL must look like"),
        ("BIDDING_S3_URL", "https://s3.example.org", "S3 URL must look like"),
        ("BIDDING_S3_URL", "https://s3.example.org/bids/sub", "S3 URL must look like"),
        ("BIDDING_S3_URL", "https://s3.example.org/Bids_1", "S3 URL must look like"),
        ("BIDDING_S3_URL", "https://s3.example.org/bids", "access key and secret key"),
        ("BIDDING_DRAW_RULES", "[]", "BIDDING_DRAW_RULES must be JSON of whole numbers"),
        ("BIDDING_DRAW_RULES", '{"invitation_minutes": "30"}', "BIDDING_DRAW_RULES must be JSON of whole numbers"),
        ("BIDDING_DRAW_RULES", '{"invitation_minutes": true}', "BIDDING_DRAW_RULES must be JSON of whole numbers"),
        ("BIDDING_DRAW_RULES", '{"seats": 5}', "BIDDING_DRAW_RULES must be JSON of whole numbers"),
        ("BIDDING_DRAW_RULES", "{", "BIDDING_DRAW_RULES must be JSON of whole numbers"),
        ("BIDDING_DRAW_RULES", '{"committee_minimum": 4}', "invalid draw rules"),
        ("BIDDING_DRAW_RULES", '{"committee_minimum": 1}', "invalid draw rules"),
        ("BIDDING_DRAW_RULES", '{"large_procurement_committee": 3}', "invalid draw rules"),
        ("BIDDING_DRAW_RULES", '{"recent_draw_days": -1}', "invalid draw rules"),
        ("BIDDING_DRAW_RULES", '{"candidates_per_seat": 0}', "invalid draw rules"),
        ("BIDDING_DRAW_RULES", '{"invitation_minutes": 0}', "invalid draw rules"),
        ("BIDDING_DRAW_RULES", '{"contribution_minutes": 100000}', "invalid draw rules"),
    ],
)
def test_unusable_values_are_refused_by_name(name: str, value: str, text: str) -> None:
    with pytest.raises(SettingsError, match=text):
        settings_from_environment({name: value})


def test_an_s3_bucket_is_set_with_its_keys_and_its_secret_stays_out_of_logs() -> None:
    settings = settings_from_environment(
        {
            "BIDDING_S3_URL": "https://s3.example.org:9000/bids",
            "BIDDING_S3_ACCESS_KEY": "platform",
            "BIDDING_S3_SECRET_KEY": "very-secret-key",
            "BIDDING_S3_REGION": "cn-north-1",
        }
    )
    assert (settings.s3_url, settings.s3_access_key, settings.s3_region) == (
        "https://s3.example.org:9000/bids",
        "platform",
        "cn-north-1",
    )
    assert settings.s3_secret_key == "very-secret-key" and "very-secret-key" not in repr(settings)


def test_ipv6_hosts_are_bracketed_in_the_base_url() -> None:
    assert Settings(host="::1", port=8080).base_url == "http://[::1]:8080"


def test_the_secret_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = ensure_secret_key(settings)
    second = ensure_secret_key(settings)
    assert first.secret_key is not None and len(first.secret_key) == 64
    assert first.secret_key == second.secret_key
    mode = (tmp_path / "data" / "secret_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert list((tmp_path / "data").iterdir()) == [tmp_path / "data" / "secret_key"]


def test_a_configured_secret_key_is_used_as_is(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="s" * 32)
    assert ensure_secret_key(settings) is settings
    assert not (tmp_path / "secret_key").exists()
