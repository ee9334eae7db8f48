"""The REST API's routers, one module per area; `syncline.ops.app.create_app` mounts them."""
