"""The log's one appender, and its witnesses.

Every server process runs :func:`run`; whichever holds PostgreSQL's session lock :data:`LOCK` sequences, the
others wait to take over. The lock is held by a connection of its own, so it goes with that connection: when the
process dies, another takes over within :data:`LOCK_RETRY` seconds. While holding it, the loop appends what has
been committed (:func:`bidding.audit.log.sequence`) every :data:`INTERVAL` seconds at most, signing a checkpoint
for each batch, then asks the configured witnesses to cosign the newest checkpoint (C2SP tlog-witness).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import logging
import time

import asyncpg
import httpx

from bidding.audit import log, repo
from bidding.db import Connection, Database
from bidding.settings import Settings, Witness
from crypto import note
from crypto.note import CosignatureVerifier

logger = logging.getLogger(__name__)

#: Key of the session lock whose holder sequences the log ("log!").
LOCK = 0x6C6F6721
#: Seconds between looks for new events while there are none (the latency from commit to checkpoint).
INTERVAL = 0.1
#: Seconds between attempts to take the lock, or to reconnect after losing the database.
LOCK_RETRY = 2.0
#: Seconds a witness has to answer, and to wait before asking again one that did not.
WITNESS_TIMEOUT = 2.0
WITNESS_BACKOFF = 10.0


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

    def __init__(self, settings: Settings, key: log.LogKey, client: httpx.AsyncClient) -> None:
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
        for witness, (status, text) in zip(asking, answers, strict=True):
            if status == 409 and text.strip().isdigit() and int(text) <= latest.size:
                # The witness has cosigned another size of this log than we thought: ask again from there.
                await repo.set_witness_size(connection, witness.verifier.name, int(text))
                status, text = await self._post(witness, await self._request_body(connection, latest, int(text)))
            cosignatures = self._verified_lines(witness, latest.note, text) if status == 200 else []
            if cosignatures:
                lines += cosignatures
                await repo.set_witness_size(connection, witness.verifier.name, latest.size)
            else:
                witness.resting_until = time.monotonic() + WITNESS_BACKOFF
                logger.warning(
                    "witness %s did not cosign size %d: %s %s", witness.config.url, latest.size, status, text[:200]
                )
        if lines:
            cosigned = latest.note + "".join(lines).encode()
            opened = note.open_note(cosigned, [w.verifier for w in self.witnesses])
            await repo.update_checkpoint_cosignatures(connection, latest.size, cosigned, len(opened.signatures))

    async def _request_body(self, connection: Connection, latest: repo.StoredCheckpoint, old: int) -> bytes:
        proof = await log.consistency_proof(connection, old, latest.size) if 0 < old < latest.size else []
        lines = [f"old {old}", *(base64.b64encode(value).decode() for value in proof)]
        return ("".join(line + "\n" for line in lines) + "\n").encode() + latest.note

    async def _post(self, witness: _Witness, body: bytes) -> tuple[int, str]:
        try:
            response = await self.client.post(
                f"{witness.config.url}/add-checkpoint", content=body, timeout=WITNESS_TIMEOUT
            )
        except httpx.HTTPError as error:
            return 0, str(error)
        return response.status_code, response.text

    @staticmethod
    def _verified_lines(witness: _Witness, checkpoint_note: bytes, answer: str) -> list[str]:
        """The signature lines of an answer that are the witness's valid cosignatures of the checkpoint."""
        lines = [line + "\n" for line in answer.splitlines() if line.startswith("\N{EM DASH} ")]
        valid = []
        for line in lines:
            with contextlib.suppress(note.NoteError):
                note.open_note(checkpoint_note + line.encode(), [witness.verifier])
                valid.append(line)
        return valid


async def _sequence_while_holding(
    connection: Connection, key: log.LogKey, witnesses: Witnesses, stopping: asyncio.Event
) -> None:
    while not stopping.is_set():
        checkpoint = await log.sequence(connection, key)
        await witnesses.cosign(connection)
        if checkpoint is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), INTERVAL)


async def run(settings: Settings, key: log.LogKey, stopping: asyncio.Event) -> None:
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
