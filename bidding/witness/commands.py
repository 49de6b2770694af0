"""``bidding witness keygen`` and ``bidding witness serve``: run a witness of the platform's log, or of any log.

Like ``bidding log``, these take no platform settings and touch no database: an outside party runs them with
nothing but a key of its own, a state file and the verifier keys of the logs it follows.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import logging
import os
from pathlib import Path

from bidding.offline.commands import VERIFIER_KEY_HELP, OfflineError, read_verifier_key
from bidding.witness.http import PATH, WitnessApplication
from bidding.witness.service import Witness, group_log_keys
from bidding.witness.state import StateError, StateFile
from crypto import note
from crypto.note import CosignatureSigner

#: Where ``bidding witness serve`` listens unless told otherwise.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7380


class WitnessSetupError(OfflineError):
    """The witness cannot start: a key, a log key or the state file is unusable; the message says which."""


@dataclasses.dataclass(frozen=True, slots=True)
class WitnessConfig:
    """What a witness process is started with; each server worker builds its :class:`Witness` from it."""

    key_file: Path
    state_file: Path
    #: The verifier keys of the logs followed, one line each.
    log_keys: tuple[str, ...]


def load_witness(config: WitnessConfig) -> Witness:
    """The witness ``config`` describes; raises :class:`WitnessSetupError` saying what is wrong."""
    try:
        signer = note.parse_signer_key(config.key_file.read_text(encoding="ascii").strip())
    except OSError as error:
        raise WitnessSetupError(f"cannot read the witness key {config.key_file}: {error.strerror}") from None
    except (note.NoteError, UnicodeDecodeError):
        raise WitnessSetupError(f"{config.key_file} is not a signed-note signer key") from None
    if not isinstance(signer, CosignatureSigner):
        raise WitnessSetupError(f"{config.key_file} is a log's key, not a witness's cosignature key")
    if not config.log_keys:
        raise WitnessSetupError("give the verifier key of at least one log to follow (--log)")
    try:
        logs = group_log_keys([note.parse_verifier_key(key) for key in config.log_keys])
    except note.NoteError as error:
        raise WitnessSetupError(f"a log key is not a verifier key: {error}") from None
    except ValueError as error:
        raise WitnessSetupError(str(error)) from None
    state = StateFile(config.state_file)
    try:
        state.create()
    except StateError as error:
        raise WitnessSetupError(f"the state file {config.state_file}: {error}") from None
    return Witness(signer, logs, state)


def create_application(config: WitnessConfig) -> WitnessApplication:
    """The ASGI application of the witness ``config`` describes."""
    return WitnessApplication(load_witness(config))


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _load_in_worker(config: WitnessConfig) -> WitnessApplication:
    """The application, as a server worker loads it: a spawned worker inherits no logging configuration."""
    _configure_logging()
    return create_application(config)


def command_keygen(args: argparse.Namespace) -> None:
    try:
        signer_key = note.generate_signer_key(args.name, note.COSIGNATURE_V1)
    except note.NoteError as error:
        raise WitnessSetupError(f"{args.name!r} cannot be a key name: {error}") from None
    signer = note.parse_signer_key(signer_key)
    try:
        # O_EXCL: never overwrite a key, which may be the one logs and their clients already trust.
        descriptor = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise WitnessSetupError(f"{args.output} exists: refusing to overwrite a key") from None
    except OSError as error:
        raise WitnessSetupError(f"cannot write {args.output}: {error.strerror}") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as output:
        output.write(signer_key + "\n")
    print(signer.verifier().verifier_key())


def command_serve(args: argparse.Namespace) -> None:
    from granian.constants import Interfaces
    from granian.server import Server

    config = WitnessConfig(Path(args.key), Path(args.state), tuple(read_verifier_key(value) for value in args.log))
    # Loaded here first so that a bad key or state file is reported before any server starts.
    witness = load_witness(config)
    _configure_logging()
    print(f"Witness {witness.signer.name}, verifier key {witness.verifier_key}", flush=True)
    for origin in sorted(witness.logs):
        print(f"Following the log {origin}", flush=True)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"Cosigning at POST http://{host}:{args.port}{PATH}  (stop with Ctrl-C)", flush=True)
    server = Server(
        target="bidding.witness.commands:create_application",
        interface=Interfaces.ASGI,
        address=args.host,
        port=args.port,
        # One process is enough: each request takes a few hundred microseconds, and the state is one file.
        workers=1,
        log_access=args.access_log,
        workers_kill_timeout=10,
    )
    server.serve(target_loader=functools.partial(_load_in_worker, config), wrap_loader=False)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``bidding witness keygen`` and ``bidding witness serve``."""
    tool = commands.add_parser("witness", help="cosign a transparency log's checkpoints as a witness (C2SP)")
    actions = tool.add_subparsers(title="actions", required=True, metavar="ACTION")
    keygen = actions.add_parser("keygen", help="make a witness's cosignature key and print its verifier key")
    keygen.add_argument("--name", required=True, help="the witness's name, e.g. witness.example.org/w1")
    keygen.add_argument("-o", "--output", required=True, metavar="FILE", help="the key file to write (0600)")
    keygen.set_defaults(run_offline=command_keygen)
    serve = actions.add_parser("serve", help="serve POST /add-checkpoint (C2SP tlog-witness)")
    serve.add_argument("--key", required=True, metavar="FILE", help="the witness's key file (from keygen)")
    serve.add_argument("--state", required=True, metavar="FILE", help="where to keep what was cosigned (JSON)")
    serve.add_argument(
        "--log",
        action="append",
        default=[],
        required=True,
        metavar="VKEY",
        help=f"a log's key: {VERIFIER_KEY_HELP}, as its /log/key serves it; the key's name is the log's origin "
        "(repeatable)",
    )
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.set_defaults(run_offline=command_serve)
