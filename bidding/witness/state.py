"""The witness's state file: per log origin, the latest tree head it cosigned, as JSON.

``{"<origin>": {"size": <int>, "root": "<base64 of 32 bytes>"}, ...}``. A witness that forgot it would cosign a
rollback or a fork; so the file is only ever replaced whole (written aside, flushed to disk, renamed over, the
folder flushed too), and :meth:`StateFile.update` reads, decides and writes under an exclusive lock on a file
beside it, so that two requests, threads or processes never both cosign from the same old state (the race of
tlog-witness). Malformed contents are refused, never taken for an empty state.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bidding.witness.model import EMPTY_TREE, TreeHead
from crypto import merkle, note


class StateError(Exception):
    """The state file cannot be read or written, or is not a witness's state; the witness must not go on."""


def encode_state(heads: dict[str, TreeHead]) -> bytes:
    """The JSON text of a state, origins sorted."""
    value = {
        origin: {"size": head.size, "root": base64.b64encode(head.root).decode()}
        for origin, head in sorted(heads.items())
    }
    return (json.dumps(value, indent=1, ensure_ascii=False) + "\n").encode()


def _tree_head(value: Any) -> TreeHead:
    if not isinstance(value, dict) or set(value) != {"size", "root"}:
        raise StateError("each log's entry has exactly a size and a root")
    size, root = value["size"], value["root"]
    if type(size) is not int or not 0 <= size <= note.MAX_TREE_SIZE or not isinstance(root, str):
        raise StateError("a size is a whole number from 0 to 2**64 - 1 and a root a base64 string")
    try:
        decoded = base64.b64decode(root, validate=True)
    except binascii.Error:
        raise StateError("a root is base64") from None
    if len(decoded) != merkle.HASH_SIZE:
        raise StateError("a root is 32 bytes")
    return TreeHead(size, decoded)


def decode_state(data: bytes) -> dict[str, TreeHead]:
    """The tree heads of a state file's contents; raises :class:`StateError` for anything but a valid state."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise StateError("the state file is not JSON") from None
    if not isinstance(value, dict):
        raise StateError("the state file is a JSON object of log origins")
    return {origin: _tree_head(head) for origin, head in value.items()}


class StateFile:
    """The state at ``path`` (made on the first cosignature) and its lock file, ``path`` + ``.lock``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")

    def read(self) -> dict[str, TreeHead]:
        """Every tree head kept (none before the first cosignature); raises :class:`StateError`."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise StateError(f"cannot read {self.path}: {error.strerror}") from None
        return decode_state(data)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # flock locks an open file description: two opens of the lock file exclude each other even within one
        # process, so this serialises threads as well as processes. It is released when the file closes, by a
        # crash too. The state file itself cannot be the lock: it is replaced by another file at each write.
        try:
            descriptor = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise StateError(f"cannot open {self.lock_path}: {error.strerror}") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)

    def create(self) -> None:
        """Check the file, and write an empty state if there is none, so that a witness that cannot write fails on
        start rather than on its first request; raises :class:`StateError`."""
        with self._locked():
            if not self.read() and not self.path.exists():
                self._write(encode_state({}))

    def update(self, origin: str, decide: Callable[[TreeHead], TreeHead]) -> TreeHead:
        """Read ``origin``'s tree head (:data:`EMPTY_TREE` if none), call ``decide`` on it, and keep what it returns.

        Blocking: the file is read, ``decide`` runs and the result is on disk, all under the lock, before this
        returns. Whatever ``decide`` raises propagates and nothing is written. Raises :class:`StateError` when the
        file cannot be read or written.
        """
        with self._locked():
            heads = self.read()
            latest = heads.get(origin, EMPTY_TREE)
            decided = decide(latest)
            if decided != latest or origin not in heads:
                heads[origin] = decided
                self._write(encode_state(heads))
            return decided

    def _write(self, data: bytes) -> None:
        """Replace the file with ``data`` durably: after a crash, either the old state or the new one is there."""
        folder = self.path.parent
        try:
            descriptor, draft = tempfile.mkstemp(dir=folder, prefix=f".{self.path.name}.")
        except OSError as error:
            raise StateError(f"cannot write in {folder}: {error.strerror}") from None
        try:
            try:
                remaining = memoryview(data)
                while remaining:
                    remaining = remaining[os.write(descriptor, remaining) :]
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            os.replace(draft, self.path)
            # The rename is durable only once the folder's entry is on disk too.
            folder_descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(folder_descriptor)
            finally:
                os.close(folder_descriptor)
        except OSError as error:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(draft)
            raise StateError(f"cannot write {self.path}: {error.strerror}") from None
