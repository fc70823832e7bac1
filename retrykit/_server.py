"""FlakyServer: a real HTTP server on 127.0.0.1 that plays a script of failures, for tests and the demo."""

from __future__ import annotations

import http.server
import json
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, Self

from ._config import Frozen


class Reply(Frozen):
    """One scripted answer: a status with headers and a body, maybe late, or a dropped connection.

    ``body`` may be bytes, str, or a JSON-able object (sent as JSON). ``delay``
    is slept (really) before answering; ``drop`` closes the connection after
    reading the request, without answering.
    """

    __slots__ = ("status", "body", "headers", "delay", "drop")
    _fields = ("status", "body", "headers", "delay", "drop")
    status: int
    body: Any
    headers: tuple[tuple[str, str], ...]
    delay: float
    drop: bool

    def __init__(
        self,
        status: int = 200,
        body: object = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        *,
        delay: float = 0.0,
        drop: bool = False,
    ) -> None:
        headers = tuple(headers.items()) if hasattr(headers, "items") else tuple(headers)
        self._init_fields(Reply, locals())

    @classmethod
    def error(
        cls,
        status: int,
        message: str = "",
        *,
        type: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        retry_after: int | str | None = None,
        delay: float = 0.0,
    ) -> Reply:
        """An error in the error model's envelope ``{"error": {"message", "type", "code"}}``."""
        pairs = list(headers.items()) if hasattr(headers, "items") else list(headers)
        if retry_after is not None:
            pairs.append(("Retry-After", str(retry_after)))
        envelope = {"error": {"message": message or f"HTTP {status}", "type": type, "code": code}}
        return cls(status, envelope, pairs, delay=delay)

    @classmethod
    def dropped(cls) -> Reply:
        """Read the request, then close the connection without a word."""
        return cls(drop=True)


class Received(Frozen):
    """A request the server received: method, path, headers (as sent) and body."""

    __slots__ = ("method", "path", "headers", "body")
    _fields = ("method", "path", "headers", "body")
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        self._init_fields(Received, locals())

    def header(self, name: str) -> str | None:
        """A header's value, by case-insensitive name."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    def __repr__(self) -> str:  # headers may hold credentials: show names only
        return f"Received({self.method} {self.path}, headers={sorted(self.headers)}, body={len(self.body)} bytes)"


_OK = Reply(200, {"ok": True})


class LocalServer:
    """What the local test servers share: serving on a daemon thread, closing, and ``with``."""

    _server: http.server.ThreadingHTTPServer | None = None

    def start(self) -> Self:
        raise NotImplementedError

    def _serve(self, server: http.server.ThreadingHTTPServer) -> None:
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class FlakyServer(LocalServer):
    """A threaded HTTP/1.1 server on 127.0.0.1 (ephemeral port) that answers from a script.

    Each request takes the next :class:`Reply` of ``script``; when the script runs
    out, ``default`` answers (200 ``{"ok": true}``). ``paths`` gives some paths
    (matched without the query string) scripts of their own, played in order to
    the requests for that path, before ``script``. Every request is recorded in
    ``requests``; ``connections`` counts TCP connections accepted. With ``tls`` (a
    server-side ``ssl.SSLContext``) it speaks HTTPS, and ``url`` says so::

        with FlakyServer([Reply.error(503), Reply.error(429, retry_after=1)]) as server:
            requests.get(server.url + "/v1/things")

        with FlakyServer(paths={"/v1/tasks/7": [Reply(200, {"status": "pending"}), Reply(200, {"status": "done"})]}):
            ...
    """

    def __init__(
        self,
        script: Iterable[Reply] = (),
        *,
        default: Reply = _OK,
        paths: Mapping[str, Iterable[Reply]] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._script = list(script)
        self._paths: dict[str, list[Reply]] = {}
        for path, replies in (paths or {}).items():
            self._paths[_check_path(path)] = list(replies)
        self._tls = tls
        self._default = default
        self._lock = threading.Lock()
        self.requests: list[Received] = []
        self.connections: int = 0
        self._server = None

    def add(self, *replies: Reply, path: str | None = None) -> None:
        """Append replies to the script, or to the script of one ``path``."""
        with self._lock:
            if path is None:
                self._script.extend(replies)
            else:
                self._paths.setdefault(_check_path(path), []).extend(replies)

    def _next(self, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            own = self._paths.get(received.path.partition("?")[0])
            if own:
                return own.pop(0)
            return self._script.pop(0) if self._script else self._default

    def _connected(self) -> None:
        with self._lock:
            self.connections += 1

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FlakyServer is not started: use it as a context manager")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (``https://`` with ``tls``), without a trailing slash."""
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> FlakyServer:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The status line and headers go out in one write and the body in another; with
            # Nagle's algorithm on, the body waits for the client's delayed ACK (~40 ms).
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                owner._connected()

            def log_message(self, format: str, *args: object) -> None:
                pass  # tests and the demo print what matters themselves

            def _read_body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks: list[bytes] = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self) -> None:
                body = self._read_body()
                reply = owner._next(Received(self.command, self.path, dict(self.headers.items()), body))
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                payload = reply.body
                if payload is None:
                    data = b""
                elif isinstance(payload, bytes):
                    data = payload
                elif isinstance(payload, str):
                    data = payload.encode()
                else:
                    data = json.dumps(payload).encode()
                self.send_response(reply.status)
                names = {k.lower() for k, _ in reply.headers}
                if "content-type" not in names and payload is not None and not isinstance(payload, (bytes, str)):
                    self.send_header("Content-Type", "application/json")
                for key, value in reply.headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle  # noqa: N815

        server = _QuietServer(("127.0.0.1", 0), Handler)
        if self._tls is not None:
            # The handshake runs when the handler first reads, in the request's own thread,
            # so a client that rejects the certificate never holds up the accepting loop.
            server.socket = self._tls.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        self._serve(server)
        return self


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-request (a closed pool, a cancelled test) is
        # ordinary for a test server: no traceback on stderr for it.
        # So is a TLS client rejecting the test certificate (ssl's errors, by module).
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError) or type(error).__module__ == "ssl":
            return
        super().handle_error(request, client_address)


def _check_path(path: object) -> str:
    if not isinstance(path, str) or not path.startswith("/") or "?" in path:
        raise ValueError(f"paths are matched without the query string and start with '/', got {path!r}")
    return path


def unused_port() -> int:
    """A local port with nothing listening on it, for connection-refused tests."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
