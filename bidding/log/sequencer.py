"""The log's one appender, and its witnesses.

Every server process runs :func:`run`; whichever holds PostgreSQL's session lock :data:`LOCK` sequences, the
others wait to take over. The lock is held by a connection of its own, so it goes with that connection: when the
process dies, another takes over within :data:`LOCK_RETRY` seconds. While holding it, the loop appends what has
been committed (:func:`bidding.log.tree.sequence`) every :data:`INTERVAL` seconds at most, signing a checkpoint
for each batch, then asks the configured witnesses to cosign the newest checkpoint (C2SP tlog-witness).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import logging
import re
import time

import asyncpg
import httpx

from bidding.db import Connection, Database
from bidding.log import repo, tree
from bidding.settings import Settings, Witness
from crypto import note
from crypto.note import CosignatureVerifier

logger = logging.getLogger(__name__)

#: Key of the session lock whose holder sequences the log ("log!").
LOCK = 0x6C6F6721
#: Seconds from the start of one batch to the next: the most a committed event waits for its checkpoint, idle.
INTERVAL = 0.1
#: Seconds between attempts to take the lock, or to reconnect after losing the database.
LOCK_RETRY = 2.0
#: Seconds a witness has to answer, and to wait before asking again one that did not.
WITNESS_TIMEOUT = 2.0
WITNESS_BACKOFF = 10.0
#: The longest answer read from a witness, in bytes: a few cosignature lines are a few hundred.
MAX_WITNESS_ANSWER = 64 * 1024
#: The body of a 409 that tells the size the witness last cosigned (tlog-witness).
_SIZE_ANSWER = re.compile(r"(0|[1-9][0-9]{0,19})\n")


@dataclasses.dataclass(frozen=True, slots=True)
class _Answer:
    """A witness's answer to add-checkpoint; ``status`` 0 when none came (the text says why)."""

    status: int
    content_type: str
    text: str

    def conflict_size(self) -> int | None:
        """The size the witness last cosigned, from a 409 Conflict of type ``text/x.tlog.size``; else None."""
        media_type = self.content_type.partition(";")[0].strip().lower()
        found = _SIZE_ANSWER.fullmatch(self.text)
        if self.status != 409 or media_type != "text/x.tlog.size" or found is None:
            return None
        return int(found[1])


@dataclasses.dataclass
class _Witness:
    config: Witness
    verifier: CosignatureVerifier
    #: Monotonic time before which it is not asked again, after a failure.
    resting_until: float = 0.0


def witness_verifiers(settings: Settings) -> list[CosignatureVerifier]:
    """The configured witnesses' cosignature verifiers; raises ``ValueError`` for a key of another kind."""
    verifiers = []
    for witness in settings.witnesses:
        verifier = note.parse_verifier_key(witness.key)
        if not isinstance(verifier, CosignatureVerifier):
            raise ValueError(f"the witness key {witness.key!r} is not a cosignature key")
        verifiers.append(verifier)
    return verifiers


class Witnesses:
    """Asks the configured witnesses to cosign the newest checkpoint, and records their cosignatures."""

    def __init__(self, settings: Settings, key: tree.LogKey, client: httpx.AsyncClient) -> None:
        self.key = key
        self.client = client
        self.witnesses = [
            _Witness(config, verifier)
            for config, verifier in zip(settings.witnesses, witness_verifiers(settings), strict=True)
        ]

    async def cosign(self, connection: Connection) -> None:
        """Gather the cosignatures the newest checkpoint lacks from every witness not resting after a failure."""
        latest = await repo.select_latest_checkpoint(connection)
        if latest is None or not self.witnesses:
            return
        signed = {(s.name, s.key_id) for s in note.parse_unverified_note(latest.note).signatures}
        now = time.monotonic()
        asking = [
            w for w in self.witnesses if (w.verifier.name, w.verifier.key_id) not in signed and w.resting_until <= now
        ]
        if not asking:
            return
        sizes = await repo.select_witness_sizes(connection)
        bodies = [await self._request_body(connection, latest, sizes.get(w.verifier.name, 0)) for w in asking]
        answers = await asyncio.gather(*(self._post(w, body) for w, body in zip(asking, bodies, strict=True)))
        lines: list[str] = []
        for witness, answer in zip(asking, answers, strict=True):
            witness_size = answer.conflict_size()
            if witness_size is not None and witness_size <= latest.size:
                # The witness has cosigned another size of this log than we thought: ask again from there.
                await repo.set_witness_size(connection, witness.verifier.name, witness_size)
                answer = await self._post(witness, await self._request_body(connection, latest, witness_size))
            cosignature = self._verified_line(witness, latest.note, answer.text) if answer.status == 200 else None
            if cosignature is not None:
                lines.append(cosignature)
                await repo.set_witness_size(connection, witness.verifier.name, latest.size)
                continue
            witness.resting_until = time.monotonic() + WITNESS_BACKOFF
            if answer.status in (409, 422) or witness_size is not None and witness_size > latest.size:
                # The witness holds a view of this log that the newest checkpoint does not extend: a fork, or a
                # log that lost entries it had shown. Not an outage: someone must look.
                logger.error(
                    "witness %s refuses size %d as inconsistent with what it cosigned before: %s %s",
                    witness.config.url,
                    latest.size,
                    answer.status,
                    answer.text[:200],
                )
            else:
                logger.warning(
                    "witness %s did not cosign size %d: %s %s",
                    witness.config.url,
                    latest.size,
                    answer.status,
                    answer.text[:200],
                )
        if lines:
            cosigned = latest.note + "".join(lines).encode()
            opened = note.open_note(cosigned, [w.verifier for w in self.witnesses])
            await repo.update_checkpoint_cosignatures(connection, latest.size, cosigned, len(opened.signatures))

    async def _request_body(self, connection: Connection, latest: repo.StoredCheckpoint, old: int) -> bytes:
        proof = await tree.consistency_proof(connection, old, latest.size) if 0 < old < latest.size else []
        lines = [f"old {old}", *(base64.b64encode(value).decode() for value in proof)]
        return ("".join(line + "\n" for line in lines) + "\n").encode() + latest.note

    async def _post(self, witness: _Witness, body: bytes) -> _Answer:
        """POST an add-checkpoint request; status 0 when no whole answer came within the time allowed.

        The time limit is on the whole exchange (httpx's own limits are per read), and the answer's length is
        capped: a witness is an outside party, and a slow or endless answer must not hold up the sequencer.
        """
        try:
            async with (
                asyncio.timeout(WITNESS_TIMEOUT),
                self.client.stream("POST", f"{witness.config.url}/add-checkpoint", content=body) as response,
            ):
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > MAX_WITNESS_ANSWER:
                        return _Answer(0, "", f"an answer longer than {MAX_WITNESS_ANSWER} bytes")
                content_type = response.headers.get("content-type", "")
                return _Answer(response.status_code, content_type, data.decode("utf-8", errors="replace"))
        except TimeoutError:
            return _Answer(0, "", f"no answer within {WITNESS_TIMEOUT} s")
        except httpx.HTTPError as error:
            return _Answer(0, "", str(error))

    @staticmethod
    def _verified_line(witness: _Witness, checkpoint_note: bytes, answer: str) -> str | None:
        """The first signature line of an answer that is the witness's valid cosignature of the checkpoint.

        The answer is signature lines, each ending with a newline (tlog-witness); lines of other keys are ignored.
        """
        for line in answer.split("\n"):
            if line.startswith("\N{EM DASH} "):
                with contextlib.suppress(note.NoteError):
                    note.open_note(checkpoint_note + line.encode() + b"\n", [witness.verifier])
                    return line + "\n"
        return None


async def _sequence_while_holding(
    connection: Connection, key: tree.LogKey, witnesses: Witnesses, stopping: asyncio.Event
) -> None:
    # One batch per INTERVAL at most, busy or not: under load a batch then takes in what a tenth of a second
    # brought instead of the few events that committed while the previous one was written, so the database does
    # the per-batch work (tiles, bundles, a signed checkpoint) ten times a second rather than a hundred, and the
    # writers get the CPU. A backlog is still taken in as fast as batches can be written: no wait after a slow one.
    while not stopping.is_set():
        started = time.monotonic()
        await tree.sequence(connection, key)
        await witnesses.cosign(connection)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), INTERVAL - (time.monotonic() - started))


async def run(settings: Settings, key: tree.LogKey, stopping: asyncio.Event) -> None:
    """Sequence the log whenever this process holds the lock, until ``stopping`` is set."""
    assert settings.database_url is not None
    async with httpx.AsyncClient(headers={"user-agent": "bidding-log"}) as client:
        witnesses = Witnesses(settings, key, client)
        while not stopping.is_set():
            try:
                connection = await Database.connect_one(settings.database_url)
                try:
                    if await connection.fetchval("SELECT pg_try_advisory_lock($1)", LOCK):
                        logger.info("sequencing the log %s", key.origin)
                        await _sequence_while_holding(connection, key, witnesses, stopping)
                finally:
                    await connection.close()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                logger.warning("the log sequencer lost its database connection: %s", error)
            except Exception:
                # A bug, not an outage: logged in full, and tried again rather than leaving the log unsequenced.
                logger.exception("the log sequencer failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), LOCK_RETRY)
