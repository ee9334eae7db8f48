"""Fixtures for the Stripe sandbox and connector tests: real HTTPS, real SDK, real receivers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
from stripe_testkit import sdk_client, stripe_sandbox

from syncline.sandbox.runner import SandboxCluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxCluster]:
    with stripe_sandbox(tmp_path_factory.mktemp("stripe")) as running:
        yield running


@pytest.fixture(scope="module")
def sdk(cluster: SandboxCluster) -> Iterator[stripe.StripeClient]:
    yield sdk_client(cluster)
