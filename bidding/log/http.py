"""The log's public endpoints at the C2SP tlog-tiles paths (DESIGN §10), and receipts for those entitled.

``/log/checkpoint``, ``/log/key`` and ``/log/tile/…`` are served to anyone, without a session, cheaply: stock
transparency-log tooling reads them. A tile's contents never change (a partial tile is a prefix of the grown
one), so every tile may be cached for good; the checkpoint changes with the log.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.params import FromPath, QueryParameter

from bidding.accounts.guards import signed_in
from bidding.errors import InvalidTransition, NotFound
from bidding.log import service
from bidding.log.tree import LogKey, load_log_key
from bidding.openapi import documented
from bidding.web import DB, PathId, actor_of, bulletin_of, settings_of

#: Served as ``text/plain; charset=utf-8``, as tlog-tiles asks: Litestar adds the charset to any ``text/`` type
#: itself, so naming it here too would send it twice (``text/plain; charset=utf-8; charset=utf-8``).
_TEXT = "text/plain"
_IMMUTABLE = {"cache-control": "public, max-age=31536000, immutable", "access-control-allow-origin": "*"}
_FRESH = {"cache-control": "no-cache", "access-control-allow-origin": "*"}


def log_key(request: Request[Any, Any, Any]) -> LogKey:
    """The log's key, read once per process (made on first use if the operator has not made it)."""
    state = request.app.state
    if getattr(state, "log_key", None) is None:
        state.log_key = load_log_key(settings_of(request))
    key: LogKey = state.log_key
    return key


@get("/log/checkpoint", tags=["transparency log"], media_type=_TEXT, opt=documented(NotFound))
async def checkpoint(request: Request[Any, Any, Any], db: DB) -> Response[bytes]:
    """The newest published checkpoint: a signed note (C2SP tlog-checkpoint) with its witnesses' cosignatures."""
    published = await service.published_checkpoint(db, settings_of(request))
    return Response(published.note, media_type=_TEXT, headers=_FRESH)


@get("/log/key", tags=["transparency log"], media_type=_TEXT, sync_to_thread=False)
def verifier_key(request: Request[Any, Any, Any]) -> Response[str]:
    """The verifier key of the log's checkpoints, one signed-note verifier key line."""
    return Response(log_key(request).verifier_key + "\n", media_type=_TEXT, headers=_IMMUTABLE)


@get("/log/tile/{path:path}", tags=["transparency log"], media_type="application/octet-stream")
async def tile(db: DB, path: FromPath[str]) -> Response[bytes]:
    """A hash tile (``tile/<L>/<N>[.p/<W>]``) or an entry bundle (``tile/entries/<N>[.p/<W>]``), C2SP tlog-tiles."""
    data = await service.read_tile(db, "tile" + path)
    return Response(data, media_type="application/octet-stream", headers=_IMMUTABLE)


@get(
    "/api/v1/events/{event_id:int}/receipt",
    tags=["transparency log"],
    guards=[signed_in],
    media_type=_TEXT,
    opt=documented(InvalidTransition),
)
async def receipt(
    request: Request[Any, Any, Any],
    db: DB,
    event_id: PathId,
    # Bounded here, not only clamped by the service: ``wait=nan`` passes any clamp (every comparison with NaN is
    # false) and would keep the request polling until the event is published, for ever if it never is.
    wait: Annotated[
        float,
        QueryParameter(
            ge=0,
            le=service.MAX_RECEIPT_WAIT,
            description="Seconds to wait for the event to be in a published checkpoint, 0 to 10",
        ),
    ] = 0,
) -> Response[bytes]:
    """The receipt (C2SP tlog-proof, with the log entry as its ``extra``) of one of your events, or any for
    supervisors; ``bidding log proof`` checks it offline."""
    proof = await service.receipt(
        db, settings_of(request), actor_of(request), event_id, wait=wait, bulletin=bulletin_of(request)
    )
    return Response(
        proof,
        media_type=_TEXT,
        headers={"content-disposition": f'attachment; filename="event-{event_id}.tlog-proof"'},
    )


@get("/api/v1/events/{event_id:int}/record", tags=["transparency log"], guards=[signed_in])
async def record(request: Request[Any, Any, Any], db: DB, event_id: PathId) -> dict[str, Any]:
    """What the log commits to without showing (who, for which organisation, from where, the salt): the SHA-256
    of its canonical JSON is the entry's ``private``."""
    return await service.event_record(db, actor_of(request), event_id)


#: Served to anyone, outside the routes that look for a session.
public_routes = [checkpoint, verifier_key, tile]
#: For signed-in people.
routes = [receipt, record]
