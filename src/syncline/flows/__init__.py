"""Room `flows`: see DESIGN.md for what it holds and what it may import."""

__all__: list[str] = []
