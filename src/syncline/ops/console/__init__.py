"""The web console: server-rendered pages (Jinja2) with inline SVG charts, served by the ops app."""

from syncline.ops.console.routes import console_router, mount_static

__all__ = ["console_router", "mount_static"]
