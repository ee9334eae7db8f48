"""The three sandboxes in their own process, so the systems and Syncline do not share one interpreter.

On a small machine the sandboxes (three HTTPS servers, Stripe's webhook dispatcher) and the runtime
(worker, connectors, ledger) compete for one GIL when they share a process; as separate processes
they use separate cores, as the real systems would. The child serves the sandboxes plus a tiny
loopback control endpoint (plain HTTP) with what the demo needs from inside them: the count of faults
each injected (kept across plan changes) and "have all webhook deliveries been made?".

    python -m syncline.demo.sandbox_host CONFIG.json   # {"state_dir", "seed", "options", "info_file"}
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from syncline.sandbox.faults import FaultInjector, FaultPlan
from syncline.sandbox.runner import SandboxCluster, prepare_cluster, serve_cluster

SYSTEMS = ("salesforce", "netsuite", "stripe")
START_TIMEOUT_S = 90.0


class FaultTally:
    """Faults injected per system, summed over every plan the demo sets (a new plan resets the
    injector's own counts)."""

    def __init__(self, cluster: SandboxCluster) -> None:
        self.totals: dict[str, dict[str, int]] = {name: {} for name in cluster.running}
        for name, running in cluster.running.items():
            self._wrap(name, running.faults)

    def _wrap(self, name: str, injector: FaultInjector) -> None:
        replace = injector.replace_plan

        def replace_and_keep(plan: FaultPlan) -> None:
            self._add(name, injector.injected)
            replace(plan)

        injector.replace_plan = replace_and_keep  # type: ignore[method-assign]
        self.injectors = {**getattr(self, "injectors", {}), name: injector}

    def _add(self, name: str, counts: Mapping[str, int]) -> None:
        for kind, count in counts.items():
            self.totals[name][kind] = self.totals[name].get(kind, 0) + count

    def snapshot(self) -> dict[str, dict[str, int]]:
        result = {name: dict(kinds) for name, kinds in self.totals.items()}
        for name, injector in self.injectors.items():
            for kind, count in injector.injected.items():
                result[name][kind] = result[name].get(kind, 0) + count
        return result


def control_app(cluster: SandboxCluster, tally: FaultTally, stop: asyncio.Event) -> Starlette:
    stripe: Any = cluster.running["stripe"].app

    async def injected(_: Request) -> Response:
        return JSONResponse(tally.snapshot())

    async def webhooks_idle(request: Request) -> Response:
        timeout = float(request.query_params.get("timeout", "30"))
        return JSONResponse({"idle": await asyncio.to_thread(stripe.wait_webhooks_idle, timeout)})

    async def shutdown(_: Request) -> Response:
        stop.set()
        return JSONResponse({"stopping": True})

    return Starlette(
        routes=[
            Route("/faults/injected", injected),
            Route("/webhooks/idle", webhooks_idle),
            Route("/stop", shutdown, methods=["POST"]),
        ]
    )


async def _serve(config: Mapping[str, Any]) -> None:
    ports = dict.fromkeys(SYSTEMS, 0)
    cluster, servers = prepare_cluster(
        SYSTEMS,
        state_dir=Path(config["state_dir"]),
        seed=int(config["seed"]),
        options=config["options"],
        ports=ports,
    )
    stop = asyncio.Event()
    tally = FaultTally(cluster)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    control = uvicorn.Server(
        uvicorn.Config(control_app(cluster, tally, stop), log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(serve_cluster(servers))
    controlling = asyncio.create_task(control.serve(sockets=[sock]))
    for _ in range(int(START_TIMEOUT_S * 100)):
        if control.started and all(server.started for server, _ in servers):
            break
        await asyncio.sleep(0.01)
    info = {**cluster.info(), "control_url": f"http://127.0.0.1:{sock.getsockname()[1]}"}
    target = Path(config["info_file"])
    target.with_suffix(".tmp").write_text(json.dumps(info))
    target.with_suffix(".tmp").replace(target)
    await stop.wait()
    for server, _ in [*servers, (control, sock)]:
        server.should_exit = True
    await asyncio.gather(serving, controlling)


class SandboxHost:
    """The parent's handle on the child process."""

    def __init__(self, process: subprocess.Popen[bytes], info: dict[str, Any]) -> None:
        self.process = process
        self.info = info
        self.control = httpx.Client(base_url=str(info["control_url"]), timeout=120)

    def injected(self) -> dict[str, dict[str, int]]:
        return dict(self.control.get("/faults/injected").json())

    def webhooks_idle(self, timeout_s: float) -> bool:
        return bool(self.control.get("/webhooks/idle", params={"timeout": timeout_s}).json()["idle"])

    def stop(self) -> None:
        try:
            self.control.post("/stop")
            self.process.wait(timeout=20)
        except (httpx.HTTPError, subprocess.TimeoutExpired):
            self.process.terminate()
            self.process.wait(timeout=10)
        finally:
            self.control.close()


@contextmanager
def sandboxes_in_process(state_dir: Path, seed: int, options: Mapping[str, Any]) -> Iterator[SandboxHost]:
    """Start the child, wait for its info document, stop it at the end."""
    state_dir.mkdir(parents=True, exist_ok=True)
    info_file = state_dir / "demo-info.json"
    info_file.unlink(missing_ok=True)
    config = state_dir / "demo-host.json"
    config.write_text(
        json.dumps(
            {"state_dir": str(state_dir), "seed": seed, "options": options, "info_file": str(info_file)}
        )
    )
    log = (state_dir / "sandboxes.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "syncline.demo.sandbox_host", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ},
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while not info_file.exists():
            if process.poll() is not None:
                raise RuntimeError(f"the sandboxes did not start; see {state_dir / 'sandboxes.log'}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the sandboxes did not start within {START_TIMEOUT_S:.0f} s")
            time.sleep(0.05)
        host = SandboxHost(process, json.loads(info_file.read_text()))
    except BaseException:
        process.kill()
        log.close()
        raise
    try:
        yield host
    finally:
        host.stop()
        log.close()


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    asyncio.run(_serve(config))


if __name__ == "__main__":
    main()


__all__ = ["FaultTally", "SandboxHost", "sandboxes_in_process"]
