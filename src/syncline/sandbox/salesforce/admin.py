"""Test and demo hooks under `/__admin/`: move the clock, set API usage, add validation rules,
lock rows, undelete records, publish gap events, mint refresh tokens.

They stand in for what an admin or the platform would do in a real org (Setup changes, record
locks held by other transactions, database-level changes) so tests can provoke those situations
deterministically. They are not part of the Salesforce API and need no session.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncline.sandbox.salesforce.auth import OAuthError
from syncline.sandbox.salesforce.errors import SalesforceError
from syncline.sandbox.salesforce.schema import rule_from_dict
from syncline.sandbox.salesforce.store import CallContext, Change

if TYPE_CHECKING:
    from syncline.sandbox.salesforce.app import SalesforceSandbox


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body).encode(), status_code=status, media_type="application/json")


class AdminHooks:
    """The `/__admin/*` routes of one sandbox."""

    def __init__(self, sandbox: SalesforceSandbox) -> None:
        self.sandbox = sandbox

    def routes(self) -> list[Route]:
        return [
            Route("/__admin/clock", self._clock, methods=["GET", "POST"]),
            Route("/__admin/api-usage", self._usage, methods=["POST"]),
            Route("/__admin/validation-rules", self._rules, methods=["GET", "POST", "DELETE"]),
            Route("/__admin/refresh-token", self._refresh_token, methods=["POST"]),
            Route("/__admin/locks", self._locks, methods=["POST"]),
            Route("/__admin/races", self._races, methods=["POST"]),
            Route("/__admin/undelete", self._undelete, methods=["POST"]),
            Route("/__admin/cdc/gap", self._gap, methods=["POST"]),
        ]

    async def _clock(self, request: Request) -> Response:
        if request.method == "POST":
            body = await request.json()
            self.sandbox.clock.advance(float(body.get("advance_seconds", 0)))
        return _json(
            {"now": self.sandbox.clock.now().isoformat(), "offset_seconds": self.sandbox.clock.offset_s}
        )

    async def _usage(self, request: Request) -> Response:
        body = await request.json()
        self.sandbox.usage.set_used(int(body["used"]))
        return _json({"api_usage": self.sandbox.usage.header()})

    async def _rules(self, request: Request) -> Response:
        if request.method == "POST":
            rule = rule_from_dict(await request.json())
            if self.sandbox.schema.object(rule.object) is None:
                return _json({"error": f"unknown object {rule.object}"}, 400)
            self.sandbox.schema.rules.append(rule)
        elif request.method == "DELETE":
            name = request.query_params.get("name", "")
            self.sandbox.schema.rules[:] = [r for r in self.sandbox.schema.rules if r.name != name]
        return _json(
            [{"object": r.object, "name": r.name, "message": r.message} for r in self.sandbox.schema.rules]
        )

    async def _locks(self, request: Request) -> Response:
        body = await request.json()
        self.sandbox.store.lock_row(str(body["record_id"]), int(body.get("failures", 1)))
        return _json({"locked": body["record_id"], "failures": int(body.get("failures", 1))})

    async def _races(self, request: Request) -> Response:
        """Stage a lost upsert race on an external id (see Store.arm_race)."""
        body = await request.json()
        winner = CallContext(self.sandbox.ui_user.id, self.sandbox.api_version, client="other-integration")
        try:
            self.sandbox.store.arm_race(str(body["object"]), str(body["field"]), str(body["value"]), winner)
        except SalesforceError as exc:
            return _json(exc.rest_body(), exc.status)
        return _json({"armed": [body["object"], body["field"], body["value"]]})

    async def _undelete(self, request: Request) -> Response:
        """Restore a record from the recycle bin as the UI user would (publishes an UNDELETE event)."""
        body = await request.json()
        record_id = str(body["record_id"])
        obj = self.sandbox.schema.object_for_id(record_id)
        if obj is None:
            return _json([{"errorCode": "MALFORMED_ID", "message": f"unknown id {record_id}"}], 400)
        try:
            with self.sandbox.store.transaction(
                CallContext(self.sandbox.ui_user.id, self.sandbox.api_version, api="ui")
            ):
                self.sandbox.store.undelete(obj.name, record_id)
        except SalesforceError as exc:
            return _json(exc.rest_body(), exc.status)
        return _json({"undeleted": record_id})

    async def _gap(self, request: Request) -> Response:
        """Change a record "directly in the database": its values change quietly and only a GAP_
        event (record id, no fields) is published, so subscribers must re-read the record."""
        body = await request.json()
        record_id = str(body["record_id"])
        obj = self.sandbox.schema.object_for_id(record_id)
        if obj is None or record_id not in self.sandbox.store.records[obj.name]:
            return _json([{"errorCode": "NOT_FOUND", "message": f"no record {record_id}"}], 404)
        change_type = str(body.get("change_type", "UPDATE"))
        context = CallContext(self.sandbox.ui_user.id, self.sandbox.api_version, api="ui")
        with self.sandbox.store.transaction(context):
            self.sandbox.store.set_quietly(obj.name, record_id, dict(body.get("values") or {}))
        self.sandbox.events.publish_gap(Change(obj.name, record_id, change_type, {}), context)
        return _json({"published": f"GAP_{change_type}", "record_id": record_id})

    async def _refresh_token(self, request: Request) -> Response:
        body = await request.json()
        try:
            return _json({"refresh_token": self.sandbox.oauth.mint_refresh_token(str(body["username"]))})
        except OAuthError as exc:
            return _json(exc.body(), 400)


__all__ = ["AdminHooks"]
