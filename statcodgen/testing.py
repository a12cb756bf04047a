"""A real OpenAI-compatible HTTP server for tests and benchmarks (no mocks).

:class:`OpenAIStubServer` listens on ``127.0.0.1`` (random port by default) and speaks
``POST /v1/chat/completions`` and ``GET /v1/models``. Answers come from a scripted queue
(:meth:`OpenAIStubServer.script`) and then from a ``responder(request_json) -> str | dict | Fault``
callable (a ``str`` is the message content, a ``dict`` the whole JSON body). Faults can be injected
(:class:`Fault`): any HTTP status with or without ``Retry-After``, truncated bodies, malformed JSON,
empty content, slow answers, closed connections; plus a server-side concurrency cap, a
requests-per-second limit answering 429 and :meth:`OpenAIStubServer.down_for`.

Every received request is recorded (:class:`ReceivedRequest`): headers without the value of
``Authorization`` (only whether it was present), the JSON body, the time and what was answered.

Run as a separate process for benchmarks::

    python -m statcodgen.testing --port 8765 --latency 0.2 --max-concurrency 64
"""

from __future__ import annotations

import argparse
import hashlib
import json
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Fault", "ReceivedRequest", "OpenAIStubServer", "default_responder"]


@dataclass(frozen=True)
class Fault:
    """An injected misbehaviour, answered instead of a normal completion.

    ``kind`` is one of ``"status"`` (HTTP ``status`` with a JSON error ``message``/``code`` and an
    optional ``retry_after`` header), ``"truncate"`` (Content-Length announced, half the body sent,
    connection closed), ``"malformed"`` (200 with a body that is not JSON), ``"empty"`` (200 with
    ``content: ""``), ``"close"`` (connection closed without an answer), ``"slow"`` (wait ``delay``
    seconds, then answer normally).
    """

    kind: str
    status: int = 200
    message: str = ""
    code: str | None = None
    retry_after: float | None = None
    delay: float = 0.0

    @classmethod
    def rate_limit(cls, retry_after: float | None = None) -> Fault:
        """429 Too Many Requests, with a ``Retry-After`` header when ``retry_after`` is given."""
        return cls("status", 429, "Rate limit reached, slow down.", "rate_limit_exceeded", retry_after)

    @classmethod
    def server_error(cls, status: int = 500, retry_after: float | None = None) -> Fault:
        """A 5xx answer (500, 502, 503, 504)."""
        return cls("status", status, "The server had an error.", "server_error", retry_after)

    @classmethod
    def unauthorized(cls) -> Fault:
        """401: the API key is not accepted."""
        return cls("status", 401, "Incorrect API key provided.", "invalid_api_key")

    @classmethod
    def model_not_found(cls, model: str = "?") -> Fault:
        """404: the model does not exist."""
        return cls("status", 404, f"The model '{model}' does not exist.", "model_not_found")

    @classmethod
    def context_length(cls) -> Fault:
        """400: the prompt is longer than the model's context."""
        return cls(
            "status", 400, "This model's maximum context length is 4096 tokens.", "context_length_exceeded"
        )

    @classmethod
    def truncated(cls) -> Fault:
        return cls("truncate")

    @classmethod
    def malformed(cls) -> Fault:
        return cls("malformed")

    @classmethod
    def empty(cls) -> Fault:
        return cls("empty")

    @classmethod
    def close(cls) -> Fault:
        return cls("close")

    @classmethod
    def slow(cls, delay: float) -> Fault:
        return cls("slow", delay=delay)


@dataclass
class ReceivedRequest:
    """One request as the server received it (the API key value is never kept)."""

    time: float
    method: str
    path: str
    headers: dict[str, str]
    has_authorization: bool
    body: Any
    status: int = 0
    outcome: str = ""
    end_time: float = 0.0

    @property
    def key(self) -> str | None:
        """The ``X-Request-Key`` header sent by statcodgen (the journal key), if any."""
        return self.headers.get("x-request-key")


def default_responder(request: dict[str, Any]) -> str:
    """Deterministic answer: 5 uppercase lines derived from a hash of the messages."""
    digest = hashlib.sha256(json.dumps(request.get("messages"), sort_keys=True).encode()).hexdigest()
    return "\n".join(f"ACTIVITE {digest[:8]} NUMERO {i}" for i in range(1, 6))


def _completion(request: dict[str, Any], content: str | None) -> dict[str, Any]:
    prompt_chars = sum(len(str(m.get("content", ""))) for m in request.get("messages") or [])
    ptoks = max(1, prompt_chars // 4)
    ctoks = max(0, len(content or "") // 4)
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "stub"),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": ptoks, "completion_tokens": ctoks, "total_tokens": ptoks + ctoks},
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
    stub: OpenAIStubServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, OSError)):
            return  # a client killed or gone mid-answer is part of the tests, not a server bug
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
        return

    def setup(self) -> None:
        super().setup()
        # headers and body are separate writes: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    rec: ReceivedRequest | None = None

    def _mark(self, status: int, outcome: str) -> None:
        """Log the answer before it is written, so a client that has it sees the log complete."""
        if self.rec is not None:
            self.rec.status, self.rec.outcome, self.rec.end_time = status, outcome, time.time()

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None, outcome: str = "") -> None:
        self._mark(status, outcome or str(status))
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _kill(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self) -> None:  # noqa: N802
        stub = self.server.stub
        if stub.is_down():
            self._kill()
            return
        if self.path.rstrip("/").endswith("/models"):
            models = stub.known_models or ["stub-model"]
            self._send_json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in models]})
        else:
            self._send_json(404, {"error": {"message": f"unknown path {self.path}"}})

    def do_POST(self) -> None:  # noqa: N802
        stub = self.server.stub
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if stub.is_down():
            self._kill()
            return
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization"}
        rec = ReceivedRequest(time.time(), "POST", self.path, headers, "Authorization" in self.headers, body)
        stub._record(rec)
        self.rec = rec
        try:
            stub._answer(self, rec)
        finally:
            self.rec = None


class OpenAIStubServer:
    """A real HTTP server on 127.0.0.1 speaking the chat-completions API (see module doc).

    Parameters (keyword-only): ``port`` (0 = random), ``responder`` (callable receiving the
    request JSON and returning the content ``str``, a full JSON ``dict`` or a :class:`Fault`),
    ``latency`` (seconds added to every answer), ``max_concurrency`` (requests processed at once;
    others wait), ``rps_limit`` (requests per second over a 1-second sliding window; beyond it the
    server answers 429, with ``Retry-After: 1`` when ``rps_retry_after``), ``known_models`` (others
    get 404), ``api_key`` (when set, other keys get 401), ``response_format_supported`` (when
    False, a request carrying ``response_format`` gets a 400 naming it), ``context_chars`` (prompts
    longer than that get a 400 context-length error).
    """

    def __init__(
        self,
        *,
        port: int = 0,
        responder: Callable[[dict[str, Any]], Any] | None = None,
        latency: float = 0.0,
        max_concurrency: int | None = None,
        rps_limit: float | None = None,
        rps_retry_after: bool = True,
        known_models: list[str] | None = None,
        api_key: str | None = None,
        response_format_supported: bool = True,
        context_chars: int | None = None,
    ) -> None:
        self.port = port
        self.responder = responder or default_responder
        self.latency = latency
        self.max_concurrency = max_concurrency
        self.rps_limit = rps_limit
        self.rps_retry_after = rps_retry_after
        self.known_models = known_models
        self._api_key = api_key
        self.response_format_supported = response_format_supported
        self.context_chars = context_chars
        self._lock = threading.Lock()
        self._log: list[ReceivedRequest] = []
        self._script: deque[Any] = deque()
        self._sem = threading.BoundedSemaphore(max_concurrency) if max_concurrency else None
        self._window: deque[float] = deque()
        self._down_until = 0.0
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.in_flight = 0
        self.max_in_flight = 0

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> OpenAIStubServer:
        """Bind and serve in a daemon thread; returns ``self``."""
        self._httpd = _Server(("127.0.0.1", self.port), _Handler)
        self._httpd.stub = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> OpenAIStubServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting ---------------------------------------------------------------------------
    def script(self, *items: Any) -> None:
        """Queue answers (``str`` content, ``dict`` body or :class:`Fault`) used before the responder."""
        with self._lock:
            self._script.extend(items)

    def down_for(self, seconds: float) -> None:
        """Close every connection without answering for ``seconds``, then serve again."""
        self._down_until = time.monotonic() + seconds

    def is_down(self) -> bool:
        return time.monotonic() < self._down_until

    # -- log ---------------------------------------------------------------------------------
    @property
    def requests(self) -> list[ReceivedRequest]:
        """A copy of the received chat-completion requests, in arrival order."""
        with self._lock:
            return list(self._log)

    def clear(self) -> None:
        with self._lock:
            self._log.clear()

    def _record(self, rec: ReceivedRequest) -> None:
        with self._lock:
            self._log.append(rec)

    # -- answering ---------------------------------------------------------------------------
    def _rate_limited(self) -> bool:
        if not self.rps_limit:
            return False
        now = time.monotonic()
        with self._lock:
            while self._window and now - self._window[0] > 1.0:
                self._window.popleft()
            if len(self._window) >= self.rps_limit:
                return True
            self._window.append(now)
            return False

    def _next_item(self, body: dict[str, Any]) -> Any:
        with self._lock:
            if self._script:
                return self._script.popleft()
        return self.responder(body)

    def _answer(self, h: _Handler, rec: ReceivedRequest) -> tuple[int, str]:
        body = rec.body
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            h._send_json(400, {"error": {"message": "body must be JSON with 'messages'", "type": "invalid_request_error"}}, outcome="bad_body")
            return 400, "bad_body"
        if self._rate_limited():
            hdr = {"Retry-After": "1"} if self.rps_retry_after else {}
            h._send_json(429, {"error": {"message": "Rate limit reached (requests per second).", "code": "rate_limit_exceeded"}}, hdr, outcome="rps_limit")
            return 429, "rps_limit"
        if self._api_key is not None and h.headers.get("Authorization") != f"Bearer {self._api_key}":
            h._send_json(401, {"error": {"message": "Incorrect API key provided.", "code": "invalid_api_key"}}, outcome="bad_key")
            return 401, "bad_key"
        if self.known_models is not None and body.get("model") not in self.known_models:
            h._send_json(404, {"error": {"message": f"The model '{body.get('model')}' does not exist.", "code": "model_not_found"}}, outcome="model_not_found")
            return 404, "model_not_found"
        if not self.response_format_supported and "response_format" in body:
            h._send_json(400, {"error": {"message": "Unsupported parameter: 'response_format' is not supported by this server.", "param": "response_format"}}, outcome="response_format")
            return 400, "response_format"
        if self.context_chars is not None:
            chars = sum(len(str(m.get("content", ""))) for m in body["messages"])
            if chars > self.context_chars:
                h._send_json(400, {"error": {"message": "This model's maximum context length is exceeded.", "code": "context_length_exceeded"}}, outcome="context_length")
                return 400, "context_length"
        if self._sem is not None:
            self._sem.acquire()
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            item = self._next_item(body)
            delay = self.latency + (item.delay if isinstance(item, Fault) and item.kind == "slow" else 0.0)
            if delay:
                time.sleep(delay)
            return self._emit(h, body, item)
        finally:
            with self._lock:
                self.in_flight -= 1
            if self._sem is not None:
                self._sem.release()

    def _emit(self, h: _Handler, body: dict[str, Any], item: Any) -> tuple[int, str]:
        if isinstance(item, Fault):
            if item.kind == "status":
                hdr = {} if item.retry_after is None else {"Retry-After": f"{item.retry_after:g}"}
                h._send_json(item.status, {"error": {"message": item.message, "code": item.code, "type": "error"}}, hdr, outcome=f"fault_{item.status}")
                return item.status, f"fault_{item.status}"
            if item.kind == "close":
                h._mark(0, "closed")
                h._kill()
                return 0, "closed"
            if item.kind == "truncate":
                data = json.dumps(_completion(body, default_responder(body))).encode()
                h._mark(200, "truncated")
                h.send_response(200)
                h.send_header("Content-Type", "application/json")
                h.send_header("Content-Length", str(len(data)))
                h.end_headers()
                h.wfile.write(data[: len(data) // 2])
                h.wfile.flush()
                h._kill()
                return 200, "truncated"
            if item.kind == "malformed":
                data = b'{"id": "chatcmpl-stub", "choices": [{"message": {"content": "OOPS'
                h._mark(200, "malformed")
                h.send_response(200)
                h.send_header("Content-Type", "application/json")
                h.send_header("Content-Length", str(len(data)))
                h.end_headers()
                h.wfile.write(data)
                return 200, "malformed"
            if item.kind == "empty":
                h._send_json(200, _completion(body, ""), outcome="empty")
                return 200, "empty"
            if item.kind == "slow":
                item = self.responder(body)
                return self._emit(h, body, item)
            raise ValueError(f"unknown fault kind {item.kind!r}")
        if isinstance(item, dict):
            h._send_json(200, item, outcome="dict")
            return 200, "dict"
        h._send_json(200, _completion(body, str(item)), outcome="ok")
        return 200, "ok"


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted; prints the base URL on the first line of stdout."""
    p = argparse.ArgumentParser(prog="python -m statcodgen.testing", description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--latency", type=float, default=0.0)
    p.add_argument("--max-concurrency", type=int, default=None)
    p.add_argument("--rps-limit", type=float, default=None)
    p.add_argument("--no-retry-after", action="store_true", help="429s from --rps-limit carry no Retry-After")
    a = p.parse_args(argv)
    srv = OpenAIStubServer(
        port=a.port, latency=a.latency, max_concurrency=a.max_concurrency,
        rps_limit=a.rps_limit, rps_retry_after=not a.no_retry_after,
    ).start()
    print(srv.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()


if __name__ == "__main__":
    main()
