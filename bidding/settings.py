"""The platform's settings: one frozen object, built once from flags and the environment, then passed in.

Nothing here is read at import time. The command line builds a :class:`Settings` with
:func:`settings_from_environment`, applies its flags with :func:`dataclasses.replace`, and hands the result to
whatever needs it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import os
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

#: The longest request body accepted by default (forms and JSON); uploads set their own limits.
DEFAULT_MAX_BODY_SIZE = 1024 * 1024
#: Secret keys shorter than this are refused: they sign every CSRF token.
MIN_SECRET_KEY_LENGTH = 32


class SettingsError(ValueError):
    """A setting has a value the platform cannot run with; the message names the setting."""


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

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise SettingsError(f"port must be between 1 and 65535, not {self.port}")
        if not 0 < self.workers <= 64:
            raise SettingsError(f"workers must be between 1 and 64, not {self.workers}")
        if self.language not in LANGUAGES:
            raise SettingsError(f"language must be one of {', '.join(LANGUAGES)}, not {self.language!r}")
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
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy)
            except ValueError:
                raise SettingsError(f"trusted proxy {proxy!r} is not an IP address or network") from None

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
            except ValueError:
                raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
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
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # Written aside, then linked into place: a second process starting at the same moment either wins the
        # link or reads the first one's whole key, never an empty or half-written file.
        fd, draft = tempfile.mkstemp(dir=settings.data_dir, prefix=".secret_key.")  # mode 0600
        try:
            os.write(fd, secrets.token_hex(32).encode("ascii"))
            os.fsync(fd)
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            os.close(fd)
            os.unlink(draft)
    return dataclasses.replace(settings, secret_key=path.read_text(encoding="ascii").strip())
