"""The platform's settings: one frozen object, built once from flags and the environment, then passed in.

Nothing here is read at import time. The command line builds a :class:`Settings` with
:func:`settings_from_environment`, applies its flags with :func:`dataclasses.replace`, and hands the result to
whatever needs it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import json
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Language = Literal["zh-CN", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
#: How passwords are hashed with Argon2id (the parameters are in :mod:`bidding.accounts.passwords`).
PasswordHashing = Literal["rfc9106", "owasp-minimum"]
PASSWORD_HASHINGS: tuple[PasswordHashing, ...] = get_args(PasswordHashing)

#: The longest request body accepted by default (forms and JSON); uploads set their own limits.
DEFAULT_MAX_BODY_SIZE = 1024 * 1024
#: Secret keys shorter than this are refused: they sign every CSRF token.
MIN_SECRET_KEY_LENGTH = 32


#: The longest time-out of the draw's rules: a week, in minutes.
MAX_DRAW_MINUTES = 7 * 24 * 60

#: The largest tender document accepted.
DEFAULT_MAX_DOCUMENT_SIZE = 200 * 1024 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class TimeRules:
    """The minimum periods of a procedure, in days.

    Defaults from the Tendering and Bidding Law of the PRC: at least 20 days from the documents being available
    to the bid deadline (art. 24); a clarification or change that affects the preparation of bids made less
    than 15 days before the deadline moves the deadline out (art. 23); candidates publicised for at least 3 days
    (Implementing Regulations, art. 54).
    """

    bidding_days: int = 20
    amendment_notice_days: int = 15
    publicity_days: int = 3


@dataclasses.dataclass(frozen=True, slots=True)
class DrawRules:
    """The rules of the expert draw, with the law's defaults where the law sets one (``BIDDING_DRAW_RULES``, JSON
    such as ``{"invitation_minutes": 20}``); pages name each where a person meets it.
    """

    #: An evaluation committee has five or more members, an odd number (Tendering and Bidding Law, art. 37).
    committee_minimum: int = 5
    #: Government procurement of a budget of ¥10 million or more seats seven or more (财政部令第87号, art. 47).
    large_procurement_budget: int = 10_000_000
    large_procurement_committee: int = 7
    #: A quota is drawn only from at least this many eligible experts per seat; fewer refuses the draw. No national
    #: article sets the ratio; three is what provincial rules on expert pools commonly ask.
    candidates_per_seat: int = 3
    #: An expert drawn for a purchaser is not drawn for it again within this many days (0 turns the rule off).
    recent_draw_days: int = 30
    #: A drawn expert accepts or declines within this many minutes; then the next reserve is called.
    invitation_minutes: int = 30
    #: Each party of the draw commits, and then reveals, within this many minutes; one that does not is named and
    #: the draw restarts with fresh commitments.
    contribution_minutes: int = 60


def _default_time_rules() -> dict[str, TimeRules]:
    return {"open": TimeRules(), "invited": TimeRules()}


class SettingsError(ValueError):
    """A setting has a value the platform cannot run with; the message names the setting."""


@dataclasses.dataclass(frozen=True, slots=True)
class Witness:
    """An outside witness the log asks to cosign its checkpoints (C2SP tlog-witness)."""

    #: Its submission prefix: the log posts to ``URL/add-checkpoint``.
    url: str
    #: Its cosignature verifier key (a signed-note verifier key of type 0x04).
    key: str


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("var")
    #: ``None`` until the embedded PostgreSQL is started; see :mod:`bidding.postgres`.
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    #: ``None`` until :func:`ensure_secret_key` has read or made the key kept in the data folder.
    secret_key: str | None = None
    language: Language = "zh-CN"
    public_url: str | None = None
    timezone: str = "Asia/Shanghai"
    trusted_proxies: tuple[str, ...] = ()
    max_body_size: int = DEFAULT_MAX_BODY_SIZE
    #: A session ends this long after sign-in whatever happens...
    session_lifetime: timedelta = timedelta(hours=12)
    #: ...and sooner when unused for this long.
    session_idle_timeout: timedelta = timedelta(hours=2)
    #: Connections each server process keeps open to PostgreSQL at most.
    database_pool_size: int = 10
    #: The prefix of every OCDS ocid (one registered with the Open Contracting Partnership in production).
    ocid_prefix: str = "ocds-bidding"
    #: Where uploaded files are kept; ``None`` means ``DATA_DIR/blobs``.
    blob_dir: Path | None = None
    #: An S3-compatible bucket to keep files in instead (``https://host[:port]/bucket``), with its credentials;
    #: the blob folder then holds only uploads in progress.
    s3_url: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = dataclasses.field(default=None, repr=False)
    s3_region: str = "us-east-1"
    max_document_size: int = DEFAULT_MAX_DOCUMENT_SIZE
    #: The time rules of each procedure (``BIDDING_TIME_RULES``, JSON such as ``{"open": {"bidding_days": 20}}``).
    time_rules: Mapping[str, TimeRules] = dataclasses.field(default_factory=_default_time_rules)
    #: The transparency log's signing key; ``None`` means ``DATA_DIR/log.key``, made on first start.
    log_key_file: Path | None = None
    #: The log's origin, the first line of its checkpoints, used when the key is made (the key keeps it after).
    log_origin: str | None = None
    #: Witnesses asked to cosign each checkpoint, and how many must have cosigned one before it is published
    #: (``None``: one if there are witnesses, else none).
    witnesses: tuple[Witness, ...] = ()
    witness_quorum: int | None = None
    #: Whether this process may sequence the log (one process at a time does, whichever holds the lock).
    sequencer: bool = True
    #: The administrative divisions the platform serves (CSV: code, Chinese and English names); ``None`` means the
    #: list shipped in ``bidding/data/regions.csv``.
    regions_file: Path | None = None
    #: The rules of the expert draw (:class:`DrawRules`).
    draw_rules: DrawRules = DrawRules()
    #: The specialties experts are drawn for (CSV: code, parent, Chinese and English names); ``None`` means the
    #: classification shipped in ``bidding/data/specialties.csv``.
    specialties_file: Path | None = None
    #: Argon2id's parameters for new password hashes: RFC 9106's second recommended option by default.
    password_hashing: PasswordHashing = "rfc9106"  # noqa: S105  # the name of a hashing profile, not a password

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise SettingsError(f"port must be between 1 and 65535, not {self.port}")
        if not 0 < self.workers <= 64:
            raise SettingsError(f"workers must be between 1 and 64, not {self.workers}")
        if self.language not in LANGUAGES:
            raise SettingsError(f"language must be one of {', '.join(LANGUAGES)}, not {self.language!r}")
        if self.password_hashing not in PASSWORD_HASHINGS:
            raise SettingsError(
                f"password hashing must be one of {', '.join(PASSWORD_HASHINGS)}, not {self.password_hashing!r}"
            )
        if self.secret_key is not None and len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise SettingsError(f"secret key must be at least {MIN_SECRET_KEY_LENGTH} characters long")
        if self.public_url is not None:
            parts = urlsplit(self.public_url)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
                raise SettingsError(f"public URL must look like https://host[:port], not {self.public_url!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"unknown time zone {self.timezone!r}") from None
        if not re.fullmatch(r"ocds-[a-z0-9]{1,20}", self.ocid_prefix):
            raise SettingsError(f"the ocid prefix must look like ocds-abc123, not {self.ocid_prefix!r}")
        if self.s3_url is not None:
            parts = urlsplit(self.s3_url)
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or not re.fullmatch(r"/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/?", parts.path)
            ):
                raise SettingsError(f"the S3 URL must look like https://host[:port]/bucket, not {self.s3_url!r}")
            if not self.s3_access_key or not self.s3_secret_key:
                raise SettingsError("an S3 bucket needs its access key and secret key")
        if not 0 < self.max_document_size <= 4 * 1024**3:
            raise SettingsError("the largest document size must be between 1 byte and 4 GiB")
        for procedure, rules in self.time_rules.items():
            if procedure not in ("open", "invited") or min(dataclasses.astuple(rules)) < 0:
                raise SettingsError(f"invalid time rules for {procedure!r}")
        draw = self.draw_rules
        if (
            min(dataclasses.astuple(draw)) < 0
            or draw.committee_minimum < 3
            or draw.committee_minimum % 2 == 0
            or draw.large_procurement_committee < draw.committee_minimum
            or draw.candidates_per_seat < 1
            or not 1 <= draw.invitation_minutes <= MAX_DRAW_MINUTES
            or not 1 <= draw.contribution_minutes <= MAX_DRAW_MINUTES
        ):
            raise SettingsError(f"invalid draw rules: {draw}")
        if not 0 <= self.quorum <= len(self.witnesses):
            raise SettingsError(f"the witness quorum must be between 0 and {len(self.witnesses)}")
        if self.log_origin is not None and not re.fullmatch(r"[^\s+]{1,200}", self.log_origin):
            raise SettingsError(f"the log origin must be one word without '+', not {self.log_origin!r}")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy)
            except ValueError:
                raise SettingsError(f"trusted proxy {proxy!r} is not an IP address or network") from None

    @property
    def quorum(self) -> int:
        """How many witnesses must cosign a checkpoint before it is published."""
        if self.witness_quorum is not None:
            return self.witness_quorum
        return 1 if self.witnesses else 0

    @property
    def log_key_path(self) -> Path:
        return self.log_key_file if self.log_key_file is not None else self.data_dir / "log.key"

    @property
    def default_log_origin(self) -> str:
        """The origin a new log key is made with: the configured one, else the public address's host and ``/log``."""
        return self.log_origin or f"{urlsplit(self.base_url).netloc}/log"

    @property
    def blobs(self) -> Path:
        return self.blob_dir if self.blob_dir is not None else self.data_dir / "blobs"

    def rules_for(self, procedure: str) -> TimeRules:
        return self.time_rules.get(procedure, TimeRules())

    @property
    def base_url(self) -> str:
        """The address people use, without a trailing slash."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def https(self) -> bool:
        """Whether people reach the platform over TLS, so that cookies can be marked Secure."""
        return self.base_url.startswith("https://")


def _time_rules(raw: str) -> dict[str, TimeRules]:
    try:
        given = json.loads(raw)
        rules = _default_time_rules()
        for procedure, values in given.items():
            rules[procedure] = TimeRules(**values)
        return rules
    except (AttributeError, TypeError, json.JSONDecodeError):
        raise ValueError('BIDDING_TIME_RULES must be JSON such as {"open": {"bidding_days": 20}}') from None


def _draw_rules(raw: str) -> DrawRules:
    try:
        rules = DrawRules(**json.loads(raw))
        if not all(type(value) is int for value in dataclasses.astuple(rules)):
            raise TypeError
        return rules
    except (TypeError, json.JSONDecodeError):
        raise ValueError(
            'BIDDING_DRAW_RULES must be JSON of whole numbers such as {"invitation_minutes": 30}'
        ) from None


def _witnesses(raw: str) -> tuple[Witness, ...]:
    try:
        return tuple(Witness(str(item["url"]).rstrip("/"), str(item["key"])) for item in json.loads(raw))
    except (KeyError, TypeError, json.JSONDecodeError):
        raise ValueError('JSON such as [{"url": "https://witness.example/w", "key": "name+hash+key"}]') from None


def _split_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


#: Each environment variable read by :func:`settings_from_environment`: the field it sets, how its text becomes
#: the field's value, and what it means (shown by ``bidding --help``).
ENVIRONMENT: dict[str, tuple[str, Callable[[str], object], str]] = {
    "DATABASE_URL": ("database_url", str, "PostgreSQL to use; unset: an embedded one in the data folder"),
    "BIDDING_DATA_DIR": ("data_dir", Path, "data folder (embedded PostgreSQL, secret key); default ./var"),
    "BIDDING_HOST": ("host", str, "address to listen on; default 127.0.0.1"),
    "BIDDING_PORT": ("port", int, "port to listen on; default 8000"),
    "BIDDING_WORKERS": ("workers", int, "server processes; default 1"),
    "BIDDING_SECRET_KEY": ("secret_key", str, "key signing CSRF tokens; default: kept in the data folder"),
    "BIDDING_LANGUAGE": ("language", str, "default page language, zh-CN or en; default zh-CN"),
    "BIDDING_PUBLIC_URL": ("public_url", str, "address people use, e.g. https://bids.example.org"),
    "BIDDING_TIMEZONE": ("timezone", str, "time zone of dates shown to people; default Asia/Shanghai"),
    "BIDDING_TRUSTED_PROXIES": ("trusted_proxies", _split_list, "proxies whose X-Forwarded-For is believed"),
    "BIDDING_OCID_PREFIX": ("ocid_prefix", str, "prefix of OCDS ocids; default ocds-bidding"),
    "BIDDING_BLOB_DIR": ("blob_dir", Path, "folder of uploaded files; default DATA_DIR/blobs"),
    "BIDDING_S3_URL": ("s3_url", str, "S3-compatible bucket for files, https://host[:port]/bucket"),
    "BIDDING_S3_ACCESS_KEY": ("s3_access_key", str, "access key of the S3 bucket"),
    "BIDDING_S3_SECRET_KEY": ("s3_secret_key", str, "secret key of the S3 bucket"),
    "BIDDING_S3_REGION": ("s3_region", str, "region of the S3 bucket; default us-east-1"),
    "BIDDING_MAX_DOCUMENT_SIZE": ("max_document_size", int, "largest tender document in bytes; default 200 MiB"),
    "BIDDING_TIME_RULES": ("time_rules", _time_rules, "per-procedure time rules in days, JSON"),
    "BIDDING_LOG_KEY_FILE": ("log_key_file", Path, "the transparency log's signing key; default DATA_DIR/log.key"),
    "BIDDING_LOG_ORIGIN": ("log_origin", str, "the log's origin when its key is made; default HOST/log"),
    "BIDDING_WITNESSES": ("witnesses", _witnesses, "witnesses cosigning checkpoints, JSON [{url, key}]"),
    "BIDDING_WITNESS_QUORUM": ("witness_quorum", int, "cosignatures a checkpoint needs to be published"),
    "BIDDING_REGIONS_FILE": ("regions_file", Path, "regions served, CSV code,zh,en; default the shipped list"),
    "BIDDING_DRAW_RULES": (
        "draw_rules",
        _draw_rules,
        "rules of the expert draw (committee, candidates, time-outs), JSON",
    ),
    "BIDDING_SPECIALTIES_FILE": (
        "specialties_file",
        Path,
        "experts' specialties, CSV code,parent,zh,en; default the shipped classification",
    ),
    "BIDDING_PASSWORD_HASHING": (
        "password_hashing",
        str,
        "Argon2id parameters, rfc9106 or owasp-minimum; default rfc9106",
    ),
}


def settings_from_environment(environ: Mapping[str, str]) -> Settings:
    """Build settings from environment variables (see :data:`ENVIRONMENT`); unset or empty ones keep defaults.

    Raises :class:`SettingsError` naming the variable when a value cannot be used.
    """
    values: dict[str, object] = {}
    for name, (field, convert, _meaning) in ENVIRONMENT.items():
        if raw := environ.get(name, "").strip():
            try:
                values[field] = convert(raw)
            except ValueError as error:
                reason = (
                    str(error) if convert in (_time_rules, _witnesses, _draw_rules) else f"a whole number, not {raw!r}"
                )
                raise SettingsError(f"{name} must be {reason}") from None
    try:
        return Settings(**values)  # type: ignore[arg-type]  # each value has its field's type, by the table
    except SettingsError as error:
        raise SettingsError(f"environment: {error}") from None


def ensure_secret_key(settings: Settings) -> Settings:
    """Return settings with a secret key: the configured one, else the one kept in the data folder.

    The first start writes a fresh random key to ``DATA_DIR/secret_key`` (mode 0600) so that CSRF tokens stay
    valid across restarts; production sets ``BIDDING_SECRET_KEY`` instead, shared by every replica.
    """
    if settings.secret_key is not None:
        return settings
    path = settings.data_dir / "secret_key"
    write_once(path, lambda: secrets.token_hex(32))
    return dataclasses.replace(settings, secret_key=path.read_text(encoding="ascii").strip())


def write_once(path: Path, make: Callable[[], str]) -> None:
    """Write a secret file (mode 0600) made by ``make`` unless ``path`` exists; keep whatever is there.

    Written aside, then linked into place: a second process starting at the same moment either wins the link or
    reads the first one's whole file, never an empty or half-written one.
    """
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        os.write(fd, make().encode("ascii"))
        os.fsync(fd)
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        os.close(fd)
        os.unlink(draft)
