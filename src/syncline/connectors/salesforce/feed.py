"""The change feed as JSON over HTTPS: CometD-shaped deliveries read by long polling.

Production orgs deliver CDC through the Pub/Sub API (gRPC) or CometD; the sandbox serves the same
deliveries at `GET /cdc/v1/events?replayId=&limit=&wait=&channel=` as
`{"events": [{"channel", "data": {"payload", "event": {"replayId"}}}], "latestReplayId"}`. Presets
follow Streaming API: -1 is "newest only", -2 "everything retained". A replay id outside retention is
refused with the Pub/Sub error code `sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted`,
which this adapter turns into `ReplayIdExpired` so the source falls back to polling.
"""

from __future__ import annotations

from typing import Any

from syncline.connectors.salesforce.client import SalesforceClient
from syncline.connectors.salesforce.source import FeedEvent, FeedPage, ReplayIdExpired
from syncline.errors import ContractViolation, SynclineError

LATEST = "-1"
EARLIEST = "-2"
ALL_CHANGES = "/data/ChangeEvents"


def _is_replay_refusal(error: SynclineError) -> bool:
    return "replayid" in (error.code or "").lower()


def page_from_body(body: Any) -> FeedPage:
    """Parse one feed answer; a delivery without payload or replay id is refused, not skipped."""
    events = []
    for delivery in body.get("events", []):
        data = delivery.get("data") or {}
        replay = (data.get("event") or {}).get("replayId")
        payload = data.get("payload")
        if replay is None or not isinstance(payload, dict):
            raise ContractViolation("change feed delivery lacks replayId or payload", system="salesforce")
        events.append(FeedEvent(str(replay), payload))
    latest = body.get("latestReplayId")
    return FeedPage(tuple(events), str(latest) if latest is not None else None)


class JsonChangeFeed:
    """`ChangeFeed` over the JSON long-poll endpoint (the sandbox's, or a CometD bridge)."""

    def __init__(
        self,
        client: SalesforceClient,
        *,
        path: str = "/cdc/v1/events",
        channel: str = ALL_CHANGES,
        wait_s: float = 0.0,
    ) -> None:
        self._client = client
        self._path = path
        self._channel = channel
        self._wait_s = wait_s

    async def fetch(self, after_replay_id: str | None, limit: int) -> FeedPage:
        """Events after `after_replay_id` (None = earliest retained)."""
        params = {
            "replayId": after_replay_id or EARLIEST,
            "limit": str(limit),
            "wait": str(self._wait_s),
            "channel": self._channel,
        }
        try:
            body = await self._client.get_json(self._path, params=params, budgeted=False)
        except SynclineError as error:
            if _is_replay_refusal(error):
                raise ReplayIdExpired(str(error)) from error
            raise
        return page_from_body(body)

    async def latest_replay_id(self) -> str | None:
        """Where the bus stands now (the resume position taken before a polling resync)."""
        body = await self._client.get_json(
            self._path, params={"replayId": LATEST, "limit": "1", "channel": self._channel}, budgeted=False
        )
        return page_from_body(body).position


__all__ = ["ALL_CHANGES", "EARLIEST", "LATEST", "JsonChangeFeed", "page_from_body"]
