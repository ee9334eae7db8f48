"""Fixtures of the contracts tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from contracts_helpers import example


@pytest.fixture
def data_of() -> Callable[[str], dict[str, Any]]:
    """The data of a sample event, a fresh copy each call, safe to mutate."""
    return lambda name: copy.deepcopy(example(name)["data"])
