"""RateLimitedServer: a real HTTP server on 127.0.0.1 with a real capacity (a token bucket), for fleet tests."""

from __future__ import annotations

import http.server
import math
import socket
import threading
import time
from typing import Any

from ._server import LocalServer


class RateLimitedServer(LocalServer):
    """Answers 200 while its token bucket (``rate`` per second, ``burst`` deep) has a token, else 429.

    A 429 carries ``Retry-After`` (whole seconds, rounded up) and ``retry-after-ms``
    (the exact wait for the next token), as rate-limited APIs send. ``served``,
    ``limited`` and the instants of the 200s (``times``, monotonic) are counted
    for the whole server, whichever process the requests come from.
    """

    def __init__(self, rate: float, burst: int) -> None:
        if not rate > 0 or burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1, got {rate!r}, {burst!r}")
        self.rate = float(rate)
        self.burst = burst
        self.served = 0
        self.limited = 0
        self.times: list[float] = []
        self._tokens = float(burst)
        self._last = time.monotonic()
        self._lock = threading.Lock()
        self._server = None

    def take(self) -> float:
        """Take a token: 0.0 if there was one, else the seconds until the next one."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                self.served += 1
                self.times.append(now)
                return 0.0
            self.limited += 1
            return (1.0 - self._tokens) / self.rate

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the server is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> RateLimitedServer:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                wait = owner.take()
                if wait:
                    self.send_response(429)
                    self.send_header("Retry-After", str(math.ceil(wait)))
                    self.send_header("retry-after-ms", f"{wait * 1000:.0f}")
                    body = b'{"error": {"message": "Rate limit exceeded", "type": "rate_limit_error", "code": "rate_limit_exceeded"}}'
                else:
                    self.send_response(200)
                    body = b'{"ok": true}'
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = _Server(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._serve(server)
        return self


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 256  # 64 clients connecting at once must not see refused connections

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up is not the server's error
