"""The shared sandbox layers over real HTTPS: TLS trust, admin endpoints, faults, persistence."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import httpx
import pytest

from syncline.sandbox.faults import FaultPlan
from syncline.sandbox.runner import SandboxKind, UnknownSandboxError, resolve_names, sandboxes_in_thread
from syncline.sandbox.tls import ensure_sandbox_tls

ECHO = {"echo": SandboxKind("echo", "echo_sandbox", 0)}


def test_served_over_https_trusted_by_the_generated_ca(tmp_path: Path) -> None:
    with sandboxes_in_thread(["echo"], state_dir=tmp_path, kinds=ECHO, seed=3) as cluster:
        info = cluster.info()
        base = info["echo"]["base_url"]
        assert base.startswith("https://127.0.0.1:")
        with httpx.Client(verify=ssl.create_default_context(cafile=info["ca_cert"])) as client:
            assert client.get(f"{base}/echo/hi").json() == {"word": "hi", "calls": 1}
        with httpx.Client() as untrusting, pytest.raises(httpx.ConnectError):
            untrusting.get(f"{base}/echo/hi")


def test_ca_is_reused_across_starts(tmp_path: Path) -> None:
    first = ensure_sandbox_tls(tmp_path)
    ca_bytes = first.ca_cert.read_bytes()
    second = ensure_sandbox_tls(tmp_path)
    assert second.ca_cert.read_bytes() == ca_bytes


def test_admin_endpoint_sets_faults_and_snapshot_reports_state(tmp_path: Path) -> None:
    with sandboxes_in_thread(["echo"], state_dir=tmp_path, kinds=ECHO) as cluster:
        info = cluster.info()
        base = info["echo"]["base_url"]
        with httpx.Client(verify=ssl.create_default_context(cafile=info["ca_cert"]), base_url=base) as client:
            client.get("/echo/a")
            plan = FaultPlan(seed=1, server_error_rate=1.0).model_dump()
            assert client.put("/__sandbox/faults", json=plan).status_code == 200
            assert client.get("/echo/b").status_code == 500
            faults = client.get("/__sandbox/faults").json()
            assert faults["injected"] == {"server_error": 1}
            assert client.get("/__sandbox/snapshot").json() == {"calls": 1}


def test_same_seed_gives_same_fault_sequence(tmp_path: Path) -> None:
    def statuses() -> list[int]:
        plan = FaultPlan(seed=42, server_error_rate=0.3, throttle_rate=0.2)
        with sandboxes_in_thread(["echo"], state_dir=tmp_path, kinds=ECHO, fault_plan=plan) as cluster:
            info = cluster.info()
            with httpx.Client(
                verify=ssl.create_default_context(cafile=info["ca_cert"]), base_url=info["echo"]["base_url"]
            ) as client:
                return [client.get(f"/echo/{i}").status_code for i in range(40)]

    first = statuses()
    assert first == statuses()
    assert {200, 500, 429} <= set(first)


def test_reset_fault_breaks_the_connection(tmp_path: Path) -> None:
    plan = FaultPlan(reset_rate=1.0)
    with sandboxes_in_thread(["echo"], state_dir=tmp_path, kinds=ECHO, fault_plan=plan) as cluster:
        info = cluster.info()
        with (
            httpx.Client(
                verify=ssl.create_default_context(cafile=info["ca_cert"]), base_url=info["echo"]["base_url"]
            ) as client,
            pytest.raises(httpx.TransportError),
        ):
            client.get("/echo/x")


def test_persisted_state_is_restored(tmp_path: Path) -> None:
    with sandboxes_in_thread(["echo"], state_dir=tmp_path, kinds=ECHO) as cluster:
        info = cluster.info()
        with httpx.Client(
            verify=ssl.create_default_context(cafile=info["ca_cert"]), base_url=info["echo"]["base_url"]
        ) as client:
            client.get("/echo/1")
            client.get("/echo/2")
        cluster.persist()
    assert json.loads((tmp_path / "echo.state.json").read_text()) == {"calls": 2}
    with sandboxes_in_thread(["echo"], state_dir=tmp_path, kinds=ECHO, restore=True) as cluster:
        info = cluster.info()
        with httpx.Client(
            verify=ssl.create_default_context(cafile=info["ca_cert"]), base_url=info["echo"]["base_url"]
        ) as client:
            assert client.get("/echo/3").json()["calls"] == 3


def test_unknown_sandbox_name_is_refused_by_name() -> None:
    with pytest.raises(UnknownSandboxError, match="unknown sandbox oracle"):
        resolve_names(["salesforce", "oracle"])
