"""The REST API's routers, one module per area; `syncline.ops.app.create_app` mounts them."""

from syncline.ops.api import admin, health, overview, transactions, work

__all__ = ["admin", "health", "overview", "transactions", "work"]
