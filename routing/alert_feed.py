"""Alert changes for every supervisor's stream: a capped Redis stream any API process reads.

Whoever raises, clears or acknowledges an alert appends its new public form after the database
commit, so a stream in any process (and a page that then asks the API) sees the change within
its next second. Entry ids double as SSE event ids: a browser that reconnects with
`Last-Event-ID` gets what it missed.
"""

from __future__ import annotations

import re

import redis

from routing.models import AlertPublic
from routing.stats_figures import as_text

FEED = "{rt}:alerts:feed"
# Enough for a reconnecting browser to catch up; older changes are in the database.
FEED_LENGTH = 1000
_ENTRY_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


def publish(client: redis.Redis, alert: AlertPublic) -> str:
    """Append an alert's new state; its entry id."""
    entry = client.xadd(
        FEED, {"alert": alert.model_dump_json()}, maxlen=FEED_LENGTH, approximate=True
    )
    return as_text(entry)


def latest(client: redis.Redis) -> str:
    """The id of the newest entry ("0-0" for none): where a new reader starts."""
    newest = client.xrevrange(FEED, count=1)
    return as_text(newest[0][0]) if newest else "0-0"


def valid_cursor(value: str | None) -> str | None:
    """A `Last-Event-ID` that names a feed entry, else None."""
    return value if value and _ENTRY_ID.match(value) else None


def after(client: redis.Redis, cursor: str, count: int = 100) -> list[tuple[str, str]]:
    """[(entry id, alert JSON)] appended after `cursor`, oldest first."""
    entries = client.xrange(FEED, min=f"({cursor}", count=count) or []
    return [
        (as_text(entry_id), as_text(fields.get(b"alert", b"{}")))
        for entry_id, fields in entries
        if fields is not None
    ]
