"""A real HTTP endpoint that applies each idempotency key's effect once, like Stripe does.

It records every request; the first request with a key applies the effect and stores the answer,
later ones get the stored answer. `hold_step` makes the first request for that step apply its
effect and then hang until released: the caller never sees the answer, exactly the window in
which a crash forces a re-execution.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class CountingEndpoint:
    def __init__(self, hold_step: str | None = None) -> None:
        self.hold_step = hold_step
        self.held = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.effects: Counter[str] = Counter()
        self.answers: dict[str, str] = {}
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers["Idempotency-Key"]
                hold = False
                with endpoint.lock:
                    endpoint.requests.append(
                        {**body, "key": key, "traceparent": self.headers.get("traceparent")}
                    )
                    if key not in endpoint.answers:
                        endpoint.effects[key] += 1
                        endpoint.answers[key] = f"rec-{len(endpoint.answers) + 1}"
                        if body["step"] == endpoint.hold_step and not endpoint.held.is_set():
                            hold = True
                            endpoint.held.set()
                    answer = endpoint.answers[key]
                if hold:
                    endpoint.release.wait(timeout=120)
                payload = json.dumps({"id": answer}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the caller died while we held its request

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> CountingEndpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def sent(self, transaction: str, step: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r["transaction"] == transaction and r["step"] == step)
