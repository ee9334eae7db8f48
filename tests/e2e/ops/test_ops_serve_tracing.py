"""`syncline serve` end to end without a browser: the bootstrap admin token from the settings, and
request spans exported over OTLP/HTTP to a real (local) collector endpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from ops_browser import free_port, wait_until_up

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """An HTTP endpoint that records what OTLP exporters POST to it."""
    received: list[tuple[str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1/traces", received
    finally:
        server.shutdown()
        server.server_close()


def test_serve_uses_the_bootstrap_token_and_exports_request_spans(
    tmp_path: Path, collector: tuple[str, list[tuple[str, bytes]]]
) -> None:
    endpoint, received = collector
    config = tmp_path / "ops.yaml"
    config.write_text(f"otlp_endpoint: {endpoint}\nservice_name: syncline-e2e\n")
    port = free_port()
    env = {
        **os.environ,
        "SYNCLINE_DATABASE__URL": f"sqlite:///{tmp_path / 'ledger.db'}",
        "SYNCLINE_API__BOOTSTRAP_ADMIN_TOKEN": "first-admin-secret-for-the-e2e-test",
        "SYNCLINE_OPS_CONFIG": str(config),
    }
    log = tmp_path / "serve.log"
    command = [sys.executable, "-c", "from syncline.cli import main; main()", "serve", "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process, log)
        headers = {
            "Authorization": "Bearer first-admin-secret-for-the-e2e-test",
            "traceparent": f"00-{TRACE_ID}-b7ad6b7169203331-01",
        }
        me = httpx.get(f"{base}/api/me", headers=headers)
        assert me.json() == {"name": "bootstrap-admin", "role": "admin", "token_id": "bootstrap"}
        assert httpx.get(f"{base}/api/me").status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=30)  # shutting down flushes the batch of spans

    # uvicorn shuts down gracefully, then re-raises the SIGTERM it caught
    assert process.returncode in (0, -signal.SIGTERM), log.read_text()
    assert "Traceback" not in log.read_text()
    spans = []
    for path, body in received:
        assert path == "/v1/traces"
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}[
                "service.name"
            ]
            spans += [
                (service, s.name, s.trace_id.hex())
                for scope in resource_spans.scope_spans
                for s in scope.spans
            ]
    assert ("syncline-e2e", "GET /api/me", TRACE_ID) in spans
    assert "first-admin-secret" not in log.read_text()
