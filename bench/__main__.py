"""`python -m bench`: run every benchmark and write its results under bench/results/."""

from __future__ import annotations

import json

from bench import engine


def main() -> None:
    """Each benchmark module exposes `main()` returning its report (also written to results/)."""
    reports = {"engine": engine.main()}
    print(json.dumps(reports, indent=2))


if __name__ == "__main__":
    main()
