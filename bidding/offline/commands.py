"""Commands that need no server: ``bidding age`` and ``bidding age-keygen`` (which behave like age(1)), and
``bidding keygen``, ``bidding seal`` and ``bidding file-key``, with which a bidder makes keys, seals a bid and
unwraps its file key on their own machine.

They read and write files and terminals; the format itself is :mod:`crypto.age`. Output given with ``-o`` is
written beside its target and moved into place only when complete, so a failed decryption never leaves a
partial plaintext behind.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import getpass
import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, TypeVar

from crypto import age, custody, envelope, keyfile, statement
from crypto.age.header import MAX_HEADER_SIZE

T = TypeVar("T")

#: Reads a passphrase from the terminal; tests replace it.
read_passphrase: Callable[[str], str] = getpass.getpass
#: Longest first line read from a ``--passphrase-file``: a passphrase, not a document.
MAX_PASSPHRASE_LINE = 4096
#: Permission bits that let others read a passphrase file (group and others), which earns a warning.
READABLE_BY_OTHERS = stat.S_IRGRP | stat.S_IROTH


class OfflineError(Exception):
    """A command cannot go on; the message is for the person at the terminal."""


# --- Passphrases ----------------------------------------------------------------------------------------------


class Passphrases:
    """Where a command's passphrases come from: the terminal, asked each time, or ``--passphrase-file`` (the
    first line of a file, or of standard input for ``-``), read once and used for every prompt of the command.

    Raises :class:`OfflineError` at once for ``-`` when standard input is also the data the command reads.
    """

    def __init__(self, path: str | None = None, *, stdin_is_data: bool = False) -> None:
        if path == "-" and stdin_is_data:
            raise OfflineError(
                "--passphrase-file -: standard input is already the data read; give the passphrase in a file"
            )
        self._path = path
        self._given: str | None = None

    def ask(self, prompt: str) -> str:
        """The passphrase of something that exists (a key file, an encrypted file)."""
        if self._path is None:
            return read_passphrase(prompt)
        if self._given is None:
            self._given = read_passphrase_file(self._path)
        return self._given

    def choose(self, prompt: str, repeat: str) -> str:
        """A new passphrase: typed twice at the terminal (refused if the two differ), or taken from the file."""
        if self._path is not None:
            return self.ask(prompt)
        passphrase = read_passphrase(prompt)
        if read_passphrase(repeat) != passphrase:
            raise OfflineError("the passphrases differ")
        return passphrase


def read_passphrase_file(path: str) -> str:
    """The first line of ``path`` (standard input for ``-``) without its line ending.

    A regular file that others may read is used all the same, with a warning on standard error (as ssh warns of
    an open key file): the passphrase is only as secret as that file. An empty first line is refused.
    """
    try:
        if path == "-":
            line = sys.stdin.buffer.readline(MAX_PASSPHRASE_LINE + 1)
        else:
            with Path(path).open("rb") as file:
                mode = os.fstat(file.fileno()).st_mode
                if stat.S_ISREG(mode) and mode & READABLE_BY_OTHERS:
                    print(
                        f"bidding: warning: {path} can be read by others (mode {stat.S_IMODE(mode):04o}): "
                        f"keep it private with chmod 600 {path}",
                        file=sys.stderr,
                    )
                line = file.readline(MAX_PASSPHRASE_LINE + 1)
    except OSError as error:
        raise OfflineError(f"cannot read the passphrase file {path}: {error.strerror}") from None
    where = "standard input" if path == "-" else path
    if len(line) > MAX_PASSPHRASE_LINE:
        raise OfflineError(f"{where}: the first line is longer than {MAX_PASSPHRASE_LINE} bytes: not a passphrase")
    line = line.removesuffix(b"\n").removesuffix(b"\r")
    if not line:
        raise OfflineError(f"{where}: no passphrase on the first line")
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        raise OfflineError(f"{where}: the passphrase is not UTF-8 text") from None


def _add_passphrase_file(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--passphrase-file",
        metavar="PATH",
        help="read the passphrase from the first line of PATH instead of the terminal (- for standard input, "
        "unless that is the data read); a file others can read is warned about",
    )


# --- Keys and files -------------------------------------------------------------------------------------------


def _lines(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            yield number, line


def _parse_lines(path: str, text: str, parse: Callable[[str], T], kind: str) -> list[T]:
    parsed = []
    for number, line in _lines(text):
        try:
            parsed.append(parse(line))
        except age.KeyFormatError as error:
            raise OfflineError(f"{path}:{number}: {error}") from None
    if not parsed:
        raise OfflineError(f"{path}: no {kind} found")
    return parsed


def read_recipients_file(path: str) -> list[age.X25519Recipient | age.HybridRecipient]:
    """Recipients listed one per line (``#`` comments and blank lines ignored), as ``age -R`` reads them."""
    return _parse_lines(path, _read_text(path), age.parse_recipient, "recipients")


def read_identity_file(
    path: str, passphrases: Passphrases | None = None
) -> list[age.X25519Identity | age.HybridIdentity]:
    """Identities listed in a file; a passphrase-encrypted identity file is decrypted first, as age does."""
    raw = sys.stdin.buffer.read() if path == "-" else _read_bytes(path)
    if raw.startswith(b"age-encryption.org/") or raw.lstrip().startswith(b"-----BEGIN AGE ENCRYPTED FILE-----"):
        passphrase = (passphrases or Passphrases()).ask(f"Enter passphrase for identity file {path!r}: ")
        try:
            raw = age.decrypt(raw, [age.ScryptIdentity(passphrase.encode())])
        except age.AgeError as error:
            raise OfflineError(f"{path}: cannot decrypt the identity file: {error}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise OfflineError(f"{path}: not an identity file") from None
    return _parse_lines(path, text, age.parse_identity, "identities")


#: How a signed-note signer key begins: a secret, never what is given to check signatures.
SIGNER_KEY_PREFIX = "PRIVATE+KEY+"
#: What a verifier key option's help says it takes.
VERIFIER_KEY_HELP = "a verifier key line (name+hash+key), or a file holding it"


def read_verifier_key(value: str) -> str:
    """A signed-note verifier key, as ``/log/key`` serves a log's: the path of a file holding it on one line, or
    else the key itself. What it holds is parsed by the caller; raises :class:`OfflineError` for a value that is
    neither, for several lines, and for a signing key, which is a secret and never checks anything here.
    """
    path = Path(value)
    if path.is_file():
        text, where = _read_text(value).strip(), value
    elif "+" in value:
        text, where = value.strip(), "the key given"
    else:
        raise OfflineError(f"{value}: neither a file nor a verifier key (name+hash+key)")
    if text.startswith(SIGNER_KEY_PREFIX):
        raise OfflineError(
            f"{where} is a signing key, a secret that stays with its owner: give the verifier key instead "
            "(a log's is served at /log/key)"
        )
    if "\n" in text:
        raise OfflineError(f"{where}: a verifier key is one line, not {len(text.splitlines())}")
    return text


def _read_bytes(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise OfflineError(f"cannot read {path}: {error.strerror}") from None


def _read_text(path: str) -> str:
    try:
        return _read_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise OfflineError(f"{path}: not a text file") from None


@contextlib.contextmanager
def output_file(path: str | None, *, binary_to_terminal_ok: bool = False) -> Iterator[BinaryIO]:
    """Standard output, or a file replaced only once it is whole (the partial file is removed on error)."""
    if path is None or path == "-":
        if not binary_to_terminal_ok and sys.stdout.isatty():
            raise OfflineError("refusing to write binary output to a terminal: use -o or --armor")
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    fd, draft = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
        os.replace(draft, target)
    except BaseException:
        os.unlink(draft)
        raise


@contextlib.contextmanager
def input_file(path: str | None) -> Iterator[BinaryIO]:
    if path is None or path == "-":
        yield sys.stdin.buffer
        return
    try:
        file = Path(path).open("rb")  # noqa: SIM115  # closed by the with below, once open is known to succeed
    except OSError as error:
        raise OfflineError(f"cannot open {path}: {error.strerror}") from None
    with file:
        yield file


# --- bidding age ----------------------------------------------------------------------------------------------


def command_age(args: argparse.Namespace) -> None:
    passphrases = Passphrases(args.passphrase_file, stdin_is_data=args.input in (None, "-") or "-" in args.identity)
    if args.decrypt:
        if args.recipient or args.recipients_file or args.passphrase or args.armor:
            raise OfflineError("-r, -R, -p and -a are for encryption only")
        identities: list[age.AnyIdentity] = [i for path in args.identity for i in read_identity_file(path, passphrases)]
        if not identities:
            passphrase = passphrases.ask("Enter passphrase: ")
            identities = [age.ScryptIdentity(passphrase.encode())]
        with input_file(args.input) as source, output_file(args.output, binary_to_terminal_ok=True) as target:
            age.decrypt_file(source, target, identities)
        return
    if args.passphrase and (args.recipient or args.recipients_file or args.identity):
        raise OfflineError("-p cannot be combined with -r, -R or -i")
    recipients: list[age.AnyRecipient] = []
    for text in args.recipient:
        try:
            recipients.append(age.parse_recipient(text))
        except age.KeyFormatError as error:
            raise OfflineError(f"invalid recipient {text[:20]!r}…: {error}") from None
    for path in args.recipients_file:
        recipients += read_recipients_file(path)
    for path in args.identity:
        recipients += [identity.recipient for identity in read_identity_file(path, passphrases)]
    if args.passphrase:
        passphrase = passphrases.choose("Enter passphrase: ", "Confirm passphrase: ")
        if not passphrase:
            raise OfflineError("the passphrase is empty")
        recipients = [age.ScryptRecipient(passphrase.encode())]
    if not recipients:
        raise OfflineError("missing recipients: use -r, -R, -i or -p")
    try:
        with input_file(args.input) as source, output_file(args.output, binary_to_terminal_ok=args.armor) as target:
            age.encrypt_file(source, target, recipients, armor=args.armor)
    except age.KeyFormatError as error:
        raise OfflineError(str(error)) from None


def command_age_keygen(args: argparse.Namespace) -> None:
    if args.convert:
        passphrases = Passphrases(args.passphrase_file, stdin_is_data=args.input in (None, "-"))
        lines = [identity.recipient.encode() for identity in read_identity_file(args.input or "-", passphrases)]
        with output_file(args.output, binary_to_terminal_ok=True) as target:
            target.write(("\n".join(lines) + "\n").encode())
        return
    identity: age.HybridIdentity | age.X25519Identity = (
        age.HybridIdentity.generate() if args.pq else age.X25519Identity.generate()
    )
    created = datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    public = identity.recipient.encode()
    text = f"# created: {created}\n# public key: {public}\n{identity.encode()}\n"
    if args.output and Path(args.output).exists():
        raise OfflineError(f"{args.output} exists: refusing to overwrite a key")
    with output_file(args.output, binary_to_terminal_ok=True) as target:
        if args.output:
            os.chmod(target.name, 0o600)
        target.write(text.encode())
    if args.output or not sys.stdout.isatty():
        print(f"Public key: {public}", file=sys.stderr)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``age`` and ``age-keygen`` under the ``bidding`` command."""
    tool = commands.add_parser(
        "age",
        help="encrypt and decrypt files as age(1) does (post-quantum recipients included)",
        description="Encrypt or decrypt INPUT (default: standard input) to OUTPUT (default: standard output).",
    )
    mode = tool.add_mutually_exclusive_group()
    mode.add_argument("-e", "--encrypt", action="store_true", help="encrypt (the default)")
    mode.add_argument("-d", "--decrypt", action="store_true", help="decrypt")
    tool.add_argument("-o", "--output", metavar="OUTPUT", help="write the result to OUTPUT")
    tool.add_argument("-a", "--armor", action="store_true", help="encrypt to the PEM-armored format")
    tool.add_argument("-p", "--passphrase", action="store_true", help="encrypt with a passphrase")
    tool.add_argument("-r", "--recipient", action="append", default=[], help="encrypt to RECIPIENT (repeatable)")
    tool.add_argument(
        "-R", "--recipients-file", action="append", default=[], metavar="PATH", help="recipients listed at PATH"
    )
    tool.add_argument("-i", "--identity", action="append", default=[], metavar="PATH", help="identity file")
    _add_passphrase_file(tool)
    tool.add_argument("input", nargs="?", metavar="INPUT")
    tool.set_defaults(run_offline=command_age)

    keygen = commands.add_parser(
        "age-keygen", help="make an age identity, as age-keygen(1) does", description="Generate an age identity."
    )
    keygen.add_argument("--pq", "-pq", action="store_true", help="a post-quantum (mlkem768x25519) identity")
    keygen.add_argument("-o", "--output", metavar="OUTPUT", help="write the identity to OUTPUT (not overwritten)")
    keygen.add_argument("-y", dest="convert", action="store_true", help="print the recipients of identity file INPUT")
    _add_passphrase_file(keygen)
    keygen.add_argument("input", nargs="?", metavar="INPUT")
    keygen.set_defaults(run_offline=command_age_keygen)


# --- bidding keygen and bidding seal ---------------------------------------------------------------------------


def command_keygen(args: argparse.Namespace) -> None:
    target = Path(args.output)
    if target.exists():
        raise OfflineError(f"{target} exists: refusing to overwrite a key file")
    try:
        keys = keyfile.generate_key_file(args.name)
        passphrase = Passphrases(args.passphrase_file).choose(
            "Passphrase for the new key file (at least 10 characters): ", "Repeat the passphrase: "
        )
        sealed = keyfile.seal_key_file(keys, passphrase.encode())
    except keyfile.KeyFileError as error:
        raise OfflineError(str(error)) from None
    with output_file(str(target)) as file:
        os.chmod(file.name, 0o600)
        file.write(sealed)
    print(f"Key file:     {target} (keep it and its passphrase safe: nobody can recover them)")
    print(f"Recipient:    {keys.recipient.encode()}")
    print(f"Verifier key: {keys.verifier_key}")
    print("Register the recipient and the verifier key with the platform; never send the key file.")


def _open_keys(path: str, passphrases: Passphrases) -> keyfile.KeyFile:
    data = _read_bytes(path)
    try:
        return keyfile.open_key_file(data, passphrases.ask(f"Passphrase of {path}: ").encode())
    except keyfile.KeyFileError as error:
        raise OfflineError(f"{path}: {error}") from None


def command_seal(args: argparse.Namespace) -> None:
    passphrases = Passphrases(args.passphrase_file, stdin_is_data="-" in args.documents)
    try:
        tender_recipient = age.parse_recipient(args.recipient)
    except age.KeyFormatError as error:
        raise OfflineError(f"the tender recipient: {error}") from None
    if not isinstance(tender_recipient, age.HybridRecipient):
        raise OfflineError("the tender recipient must be a post-quantum age1pq1… recipient")
    try:
        sheet = json.loads(_read_text(args.price_sheet))
        price_sheet = statement.PriceSheet(**sheet)
    except (ValueError, TypeError) as error:
        raise OfflineError(f"{args.price_sheet}: not a valid price sheet: {error}") from None
    keys = _open_keys(args.key, passphrases)
    out_dir = Path(args.out_dir)
    created = datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    with contextlib.ExitStack() as stack:
        documents = [(Path(path).name, stack.enter_context(input_file(path))) for path in args.documents]
        target = stack.enter_context(output_file(str(out_dir / "bid.age")))
        try:
            sealed = envelope.seal_envelope(
                target,
                documents,
                tender=args.tender,
                lot=args.lot,
                bidder=args.bidder,
                slot=args.slot,
                price_sheet=price_sheet,
                recipients=[tender_recipient, keys.recipient],
                signer=keys.signer,
                created=created,
            )
        except (envelope.EnvelopeError, statement.StatementError) as error:
            raise OfflineError(str(error)) from None
    with output_file(str(out_dir / "bid.statement")) as file:
        file.write(sealed.signed_statement)
    print(f"Sealed {len(documents)} documents into {out_dir / 'bid.age'} ({sealed.statement.envelope_size} bytes)")
    print(f"Statement:   {out_dir / 'bid.statement'} (SHA-256 {sealed.statement.envelope_sha256.hex()})")


def command_file_key(args: argparse.Namespace) -> None:
    """Unwrap the file key of one's own envelope with one's key file and print it (base64), to hand in at the
    opening when the custodians cannot reach k: the 16 bytes open this envelope and no other."""
    passphrases = Passphrases(args.passphrase_file, stdin_is_data=args.envelope == "-")
    with input_file(args.envelope) as source:
        # Only the header is needed, and it comes first: never the whole envelope (up to 1 GB) into memory.
        start = source.read(MAX_HEADER_SIZE)
    if not (start.startswith(b"age-encryption.org/") or start.lstrip().startswith(b"-----BEGIN AGE ENCRYPTED FILE")):
        raise OfflineError(f"{args.envelope}: not an age file: give your bid.age, or its header from the platform")
    try:
        header = age.read_header(start)
    except age.AgeError as error:
        raise OfflineError(f"{args.envelope}: its age header is damaged or cut short: {error}") from None
    keys = _open_keys(args.key, passphrases)
    try:
        file_key = age.unwrap_file_key(header, [keys.identity])
    except age.NoIdentityMatch:
        raise OfflineError(
            f"{args.key} does not open {args.envelope}: it was sealed to another key file (use that one)"
        ) from None
    except age.AgeError as error:
        raise OfflineError(f"{args.envelope}: {args.key} cannot unwrap its file key: {error}") from None
    print(base64.b64encode(file_key).decode())
    print(
        "Hand it in only when the agency says the custodians cannot open the bids: in the opening hall, or with "
        "POST /api/v1/bids/ID/file-key.",
        file=sys.stderr,
    )


def add_bidder_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``keygen``, ``seal`` and ``file-key`` under the ``bidding`` command."""
    keygen = commands.add_parser(
        "keygen",
        help="make a key file: a post-quantum age identity and an Ed25519 signing key, under a passphrase",
    )
    keygen.add_argument("--name", required=True, help="name in your signatures, e.g. bidder-91320505MA1MXK7U5E")
    keygen.add_argument("-o", "--output", required=True, help="where to write the key file (never overwritten)")
    _add_passphrase_file(keygen)
    keygen.set_defaults(run_offline=command_keygen)

    seal = commands.add_parser(
        "seal", help="seal a bid offline: bid.age (the envelope) and bid.statement (what you submit with it)"
    )
    seal.add_argument("--tender", required=True, help="tender reference, e.g. T-2026-001")
    seal.add_argument("--lot", required=True, help="lot number")
    seal.add_argument("--bidder", required=True, help="your unified social credit code")
    seal.add_argument("--slot", default="single", choices=statement.SLOTS, help="envelope slot (default single)")
    seal.add_argument("--recipient", required=True, help="the tender's opening recipient (age1pq1…), from the notice")
    seal.add_argument("--key", required=True, help="your key file (from bidding keygen)")
    _add_passphrase_file(seal)
    seal.add_argument("--price-sheet", required=True, help='JSON: {"currency": "CNY", "total": "1234.50", …}')
    seal.add_argument("--out-dir", default=".", help="folder for bid.age and bid.statement (default: here)")
    seal.add_argument("documents", nargs="+", metavar="DOCUMENT", help="files to seal in the envelope")
    seal.set_defaults(run_offline=command_seal)

    file_key = commands.add_parser(
        "file-key",
        help="unwrap your own envelope's file key with your key file, to hand in at the opening (the fallback)",
        description="Print the file key of ENVELOPE (base64): what opens your bid when the custodians cannot.",
    )
    file_key.add_argument(
        "envelope", metavar="ENVELOPE", help="your bid.age, or its header: GET /api/v1/bids/ID/header"
    )
    file_key.add_argument("--key", required=True, help="your key file (from bidding keygen)")
    _add_passphrase_file(file_key)
    file_key.set_defaults(run_offline=command_file_key)


# --- bidding custody: the ceremony and a custodian's share ------------------------------------------------------


def command_custody_ceremony(args: argparse.Namespace) -> None:
    """Split a fresh opening key among the custodians named in the platform's custody request."""
    try:
        request = json.loads(_read_text(args.request))
        tender = request["tender"]
        threshold = request["threshold"]
        custodians = [(c["login"], c["recipient"]) for c in request["custodians"]]
    except (ValueError, KeyError, TypeError):
        raise OfflineError(f"{args.request}: not a custody request (GET /api/v1/tenders/ID/custody)") from None
    missing = [login for login, recipient in custodians if not recipient]
    if missing:
        raise OfflineError(f"these custodians have registered no key yet: {', '.join(missing)}")
    parsed = []
    for login, recipient in custodians:
        try:
            key = age.parse_recipient(recipient)
        except age.KeyFormatError as error:
            raise OfflineError(f"the recipient of {login}: {error}") from None
        if not isinstance(key, age.HybridRecipient):
            raise OfflineError(f"the recipient of {login} is not post-quantum")
        parsed.append((login, key))
    try:
        ceremony, identity = custody.split_opening_key(tender, parsed, threshold)
    except custody.CustodyError as error:
        raise OfflineError(str(error)) from None
    del identity  # the opening key exists only as the shares from here on
    with output_file(args.output) as file:
        file.write(custody.encode_ceremony(ceremony))
    print(f"Opening recipient: {ceremony.recipient.encode()}", file=sys.stderr)
    print(f"{threshold} of {len(parsed)} custodians open the bids of {tender}. Hand {args.output} to the platform.")


def command_custody_open(args: argparse.Namespace) -> None:
    """Open a custodian's sealed share with its key file and print the share, to hand in at the opening."""
    keys = _open_keys(args.key, Passphrases(args.passphrase_file))
    try:
        share = custody.open_sealed_share(_read_bytes(args.share), keys.identity, args.tender)
    except custody.CustodyError as error:
        raise OfflineError(f"{args.share}: {error}") from None
    if args.digest and custody.share_digest(share).hex() != args.digest.lower():
        raise OfflineError("the share does not match the digest the platform published for you")
    print(share)


def add_custody_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``custody ceremony`` and ``custody open`` under the ``bidding`` command."""
    tool = commands.add_parser("custody", help="the opening key's custody: run the ceremony, open your share")
    actions = tool.add_subparsers(dest="custody_action", required=True)
    ceremony = actions.add_parser(
        "ceremony", help="make a tender's opening key and split it among its custodians (k of n, SLIP-0039)"
    )
    ceremony.add_argument("request", help="the custody request: GET /api/v1/tenders/ID/custody saved as JSON")
    ceremony.add_argument("-o", "--output", required=True, help="the ceremony file to hand to the platform")
    ceremony.set_defaults(run_offline=command_custody_ceremony)
    opening = actions.add_parser("open", help="open your sealed share with your key file and print it")
    opening.add_argument("share", help="your sealed share: GET /api/v1/tenders/ID/custody/share")
    opening.add_argument("--key", required=True, help="your key file (from bidding keygen)")
    _add_passphrase_file(opening)
    opening.add_argument("--tender", required=True, help="the tender's reference")
    opening.add_argument("--digest", help="the share's SHA-256 the platform published (X-Share-SHA256)")
    opening.set_defaults(run_offline=command_custody_open)
