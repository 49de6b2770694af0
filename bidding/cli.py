"""The ``bidding`` command: serve the platform, migrate the database, seed demo data, create users."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
import getpass
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from bidding.accounts import passwords
from bidding.accounts import service as accounts_service
from bidding.accounts.model import NewOrganisation, NewUser
from bidding.db import Database, MigrationError, migrate_database
from bidding.demo.seed import seed as seed_demo
from bidding.errors import BiddingError
from bidding.identity import PLATFORM, OrganisationKind, Role
from bidding.log.tree import load_log_key
from bidding.offline import commands as offline_commands
from bidding.offline import draw as offline_draw
from bidding.offline import verify
from bidding.postgres import EmbeddedPostgres, create_database
from bidding.settings import (
    ENVIRONMENT,
    LANGUAGES,
    Settings,
    SettingsError,
    ensure_secret_key,
    settings_from_environment,
)
from bidding.witness import commands as witness_commands
from crypto.age import AgeError

logger = logging.getLogger("bidding")
T = TypeVar("T")


class CommandError(Exception):
    """A command cannot go on; the message says why, for the person at the terminal."""


@contextlib.contextmanager
def running_database(settings: Settings) -> Iterator[Settings]:
    """Settings whose ``database_url`` works: the configured one, or an embedded PostgreSQL started here.

    The embedded server stops when the block ends, unless another ``bidding`` process still uses it.
    """
    if settings.database_url is not None:
        yield settings
        return
    embedded = EmbeddedPostgres(settings.data_dir / "postgres")
    url = embedded.start()
    try:
        asyncio.run(create_database(embedded.maintenance_url))
        yield dataclasses.replace(settings, database_url=url)
    finally:
        embedded.stop()


def _migrate(settings: Settings) -> None:
    assert settings.database_url is not None
    try:
        applied = asyncio.run(migrate_database(settings.database_url))
    except MigrationError as error:
        raise CommandError(f"cannot migrate: {error}") from None
    for migration in applied:
        logger.info("applied migration %s", migration.name)


def _with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` with a small pool to the database, then close it."""

    async def run() -> T:
        assert settings.database_url is not None
        database = await Database.connect(settings.database_url, max_size=2)
        try:
            return await work(database)
        finally:
            await database.close()

    return asyncio.run(run())


# --- Commands -----------------------------------------------------------------------------------------------


def command_serve(settings: Settings, args: argparse.Namespace) -> None:
    from granian.constants import Interfaces
    from granian.server import Server

    from bidding.app import create_app

    with running_database(settings) as settings:
        if not args.no_migrate:
            _migrate(settings)
        # Made here, once, rather than by the first of the worker processes to start.
        log_key = load_log_key(settings)
        if args.seed_demo:
            print(_with_database(settings, functools.partial(seed_demo, settings=settings)), flush=True)
        print(f"Serving the platform at {settings.base_url}  (stop with Ctrl-C)", flush=True)
        print(f"Transparency log {log_key.origin}, verifier key {log_key.verifier_key}", flush=True)
        server = Server(
            target="bidding.app:create_app",
            interface=Interfaces.ASGI,
            address=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_access=args.access_log,
            # Requests in flight finish within this many seconds of a stop signal; then workers are killed.
            workers_kill_timeout=10,
        )
        # The loader makes the application in each worker process from the settings resolved here.
        server.serve(target_loader=functools.partial(create_app, settings), wrap_loader=False)


def command_migrate(settings: Settings, args: argparse.Namespace) -> None:
    with running_database(settings) as settings:
        _migrate(settings)
        print("The database schema is up to date.")
        # The deployment's one-shot job: the replicas started after it find the key made.
        print(f"Transparency log {load_log_key(settings).origin}")


def command_seed_demo(settings: Settings, args: argparse.Namespace) -> None:
    with running_database(settings) as settings:
        _migrate(settings)
        print(_with_database(settings, functools.partial(seed_demo, settings=settings)))


def command_create_organisation(settings: Settings, args: argparse.Namespace) -> None:
    new_organisation = NewOrganisation(
        kind=OrganisationKind(args.kind),
        name=args.name,
        region=args.region,
        credit_code=args.credit_code,
        name_en=args.name_en,
    )

    async def create(database: Database) -> str:
        organisation = await accounts_service.create_organisation(database, PLATFORM, new_organisation)
        return f"Registered organisation {organisation.name} (id {organisation.id}, {organisation.kind})."

    with running_database(settings) as settings:
        _migrate(settings)
        print(_with_database(settings, create))


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat the password: ") != first:
        raise CommandError("the two passwords differ")
    return first


def command_create_user(settings: Settings, args: argparse.Namespace) -> None:
    password = _read_password(args.password_stdin)

    async def create(database: Database) -> str:
        organisation_id = None
        if args.organisation:
            organisation = await accounts_service.find_organisation(database, args.organisation)
            if organisation is None:
                raise CommandError(f"no organisation has the id or credit code {args.organisation!r}")
            organisation_id = organisation.id
        new_user = NewUser(
            login=args.login,
            display_name=args.name,
            password=password,
            roles=[Role(role) for role in args.role],
            organisation_id=organisation_id,
            language=args.language,
        )
        user = await accounts_service.create_user(database, PLATFORM, new_user)
        return f"Created user {user.login} (id {user.id}) with roles {', '.join(user.roles)}."

    with running_database(settings) as settings:
        _migrate(settings)
        print(_with_database(settings, create))


# --- Arguments ----------------------------------------------------------------------------------------------


def _add_settings_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="data folder (default: $BIDDING_DATA_DIR or ./var)")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: $DATABASE_URL, else embedded)")


def build_parser() -> argparse.ArgumentParser:
    environment = "\n".join(f"  {name:<24} {meaning}" for name, (_, _, meaning) in ENVIRONMENT.items())
    parser = argparse.ArgumentParser(
        prog="bidding",
        description="Public-resource electronic bidding platform.",
        epilog=f"environment variables (flags take precedence):\n{environment}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the platform over HTTP")
    _add_settings_flags(serve)
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve.add_argument("--workers", type=int, help="server processes (default 1)")
    serve.add_argument("--public-url", help="address people use, e.g. https://bids.example.org")
    serve.add_argument("--seed-demo", action="store_true", help="add the demo data unless it is there already")
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations before serving")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.set_defaults(run=command_serve)

    migrate = commands.add_parser("migrate", help="apply the database migrations")
    _add_settings_flags(migrate)
    migrate.set_defaults(run=command_migrate)

    seed = commands.add_parser("seed-demo", help="add demo organisations, users and tenders (once) and list the logins")
    _add_settings_flags(seed)
    seed.set_defaults(run=command_seed_demo)

    organisation = commands.add_parser(
        "create-organisation", help="register an organisation, e.g. the trading centre itself before its first admin"
    )
    _add_settings_flags(organisation)
    organisation.add_argument("--kind", required=True, choices=[kind.value for kind in OrganisationKind])
    organisation.add_argument("--name", required=True)
    organisation.add_argument("--region", required=True)
    organisation.add_argument("--credit-code", help="unified social credit code (required for bidders)")
    organisation.add_argument("--name-en", help="name in English")
    organisation.set_defaults(run=command_create_organisation)

    create_user = commands.add_parser("create-user", help="create a user, e.g. the first administrator")
    _add_settings_flags(create_user)
    create_user.add_argument("--login", required=True)
    create_user.add_argument("--name", required=True, help="name shown to others")
    create_user.add_argument(
        "--role",
        required=True,
        action="append",
        choices=[role.value for role in Role],
        help="repeat for several",
    )
    create_user.add_argument("--organisation", help="the organisation's id or unified social credit code")
    create_user.add_argument("--language", default="zh-CN", choices=LANGUAGES)
    create_user.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of asking",
    )
    create_user.set_defaults(run=command_create_user)
    offline_commands.add_commands(commands)
    offline_commands.add_bidder_commands(commands)
    offline_commands.add_custody_commands(commands)
    verify.add_commands(commands)
    offline_draw.add_commands(commands)
    witness_commands.add_commands(commands)
    return parser


def settings_from(args: argparse.Namespace, environ: dict[str, str]) -> Settings:
    """Environment first, then the command's flags over it, then the secret key from the data folder."""
    settings = settings_from_environment(environ)
    flags = {
        field: getattr(args, field)
        for field in ("data_dir", "database_url", "host", "port", "workers", "public_url")
        if getattr(args, field, None) is not None
    }
    if "data_dir" in flags:
        flags["data_dir"] = Path(flags["data_dir"])
    return ensure_secret_key(dataclasses.replace(settings, **flags))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if run_offline := getattr(args, "run_offline", None):
        # Offline commands take no settings: they must work on a bidder's machine with nothing configured.
        try:
            run_offline(args)
        except (offline_commands.OfflineError, AgeError) as error:
            print(f"bidding: error: {error}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 130
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # pgserver narrates every command it runs at INFO; its warnings and errors are what matter here.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    try:
        settings = settings_from(args, dict(os.environ))
        passwords.use_profile(settings.password_hashing)
        args.run(settings, args)
    except SettingsError as error:
        print(f"bidding: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"bidding: {error}", file=sys.stderr)
        return 1
    except BiddingError as error:
        english = error.detail or error.title
        print(f"bidding: {english.render(str)}", file=sys.stderr)
        for field, message in error.errors.items():
            print(f"  {field}: {message.render(str)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
