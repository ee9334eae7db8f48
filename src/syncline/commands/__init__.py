"""Command groups of the `syncline` CLI, one module per group; `syncline.cli` registers them."""
