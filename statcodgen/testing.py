"""A real OpenAI-compatible HTTP server for tests and benchmarks (no mocks).

:class:`OpenAIStubServer` listens on ``127.0.0.1`` (random port by default) and speaks
``POST /v1/chat/completions`` and ``GET /v1/models``. Answers come from a scripted queue
(:meth:`OpenAIStubServer.script`) and then from a ``responder(request_json) -> str | dict | Fault``
callable (a ``str`` is the message content, a ``dict`` the whole JSON body). Faults can be injected
(:class:`Fault`): any HTTP status with or without ``Retry-After``, truncated bodies, malformed JSON,
empty content, slow answers, closed connections; plus a server-side concurrency cap (slots), a
requests-per-second limit answering 429 and :meth:`OpenAIStubServer.down_for`. A slow model is
``delay`` (seconds before the first token, for every request or the first ``delay_first``) plus
``chunk_delay`` per piece of content; ``stream: true`` requests get SSE chunks (``data: {...}``,
``data: [DONE]``), others the whole answer after the same total time. Like a llama.cpp server, a
request whose client left is still computed (``cancel_on_disconnect=True`` drops it, like vLLM).

Every received request is recorded (:class:`ReceivedRequest`): headers without the value of
``Authorization`` (only whether it was present), the JSON body, the time, what was answered and
whether (and when) the client disconnected before the answer; :meth:`OpenAIStubServer.peak_open`
is the most requests open at once.

Run as a separate process for benchmarks::

    python -m statcodgen.testing --port 8765 --latency 0.2 --max-concurrency 64
    python -m statcodgen.testing --delay 20 --chunk-delay 0.1 --max-concurrency 1   # a CPU llama.cpp
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ._testing_parts import (Fault, ReceivedRequest, client_gone, completion, content_of, content_pieces,
                             default_responder, stream_chunks, wait_for_exit, write_chunk)

__all__ = ["Fault", "ReceivedRequest", "OpenAIStubServer", "default_responder"]


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
    False, a request carrying ``response_format`` gets a 400 naming it), ``response_format_types``
    (when set, e.g. ``{"json_object"}``, another ``response_format`` type gets a 400 as from an older
    llama.cpp) with status ``response_format_status`` (400; 500 answers as llama-cpp-python's server does, with
    its validation message), ``context_chars`` (prompts longer than that get a 400 context-length error).
    A slow model: ``delay`` seconds before the first token (a number, or ``delay(index, body)``), for
    the first ``delay_first`` requests only when set; ``chunk_delay`` seconds per piece of content
    (between SSE chunks when streamed, added to the wait otherwise). ``cancel_on_disconnect``:
    stop computing a request whose client left (default False: computed anyway, as llama.cpp does).
    ``stream_usage``: the last SSE chunk carries the usage when the request asks for it
    (``stream_options.include_usage``).
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
        response_format_types: set[str] | frozenset[str] | None = None,
        response_format_status: int = 400,
        context_chars: int | None = None,
        delay: float | Callable[[int, dict[str, Any]], float] = 0.0,
        delay_first: int | None = None,
        chunk_delay: float = 0.0,
        cancel_on_disconnect: bool = False,
        stream_usage: bool = True,
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
        self.response_format_types = None if response_format_types is None else set(response_format_types)
        if response_format_status not in (400, 422, 500):
            raise ValueError(f"The 'response_format_status' parameter of OpenAIStubServer must be 400, 422 or 500. Got {response_format_status!r} instead.")
        self.response_format_status = response_format_status
        self.context_chars = context_chars
        if not callable(delay) and (isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0):
            raise ValueError(f"The 'delay' parameter of OpenAIStubServer must be a number >= 0 or a callable. Got {delay!r} instead.")
        if delay_first is not None and (isinstance(delay_first, bool) or not isinstance(delay_first, int) or delay_first < 0):
            raise ValueError(f"The 'delay_first' parameter of OpenAIStubServer must be an int >= 0 or None. Got {delay_first!r} instead.")
        if isinstance(chunk_delay, bool) or not isinstance(chunk_delay, (int, float)) or chunk_delay < 0:
            raise ValueError(f"The 'chunk_delay' parameter of OpenAIStubServer must be a number >= 0. Got {chunk_delay!r} instead.")
        self.delay, self.delay_first, self.chunk_delay = delay, delay_first, float(chunk_delay)
        self.cancel_on_disconnect, self.stream_usage = cancel_on_disconnect, stream_usage
        self._lock = threading.Lock()
        self._log: list[ReceivedRequest] = []
        self._count = 0  # requests received since start (clear() keeps counting)
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

    def peak_open(self, *, tolerance: float = 0.0) -> int:
        """The most requests open at once: received, neither answered nor left by their client.
        A request closed less than ``tolerance`` seconds before another arrived does not count with it
        (the server notices a closed connection within a few milliseconds)."""
        events: list[tuple[float, int]] = []
        for r in self.requests:
            events += [(r.time, 1), (max(r.time, r.closed_at - tolerance), -1)]
        peak = now = 0
        for _, step in sorted(events):
            now += step
            peak = max(peak, now)
        return peak

    def _record(self, rec: ReceivedRequest) -> None:
        with self._lock:
            rec.index = self._count
            self._count += 1
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
        fmt = body.get("response_format")
        if self.response_format_types is not None and fmt is not None and (fmt or {}).get("type") not in self.response_format_types:
            allowed = " or ".join(f"'{t}'" for t in sorted(self.response_format_types))
            got = (fmt or {}).get("type")
            code = self.response_format_status
            if code == 500:  # llama-cpp-python: a pydantic validation error, as a 500
                msg = (f"1 validation error:\n  {{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
                       f"'msg': \"Input should be {allowed}\", 'input': '{got}'}}")
            else:
                msg = f'"response_format" type must be one of {allowed}, but got: {got}'
            h._send_json(code, {"error": {"message": msg, "type": "invalid_request_error"}}, outcome="response_format")
            return code, "response_format"
        if self.context_chars is not None:
            chars = sum(len(str(m.get("content", ""))) for m in body["messages"])
            if chars > self.context_chars:
                h._send_json(400, {"error": {"message": "This model's maximum context length is exceeded.", "code": "context_length_exceeded"}}, outcome="context_length")
                return 400, "context_length"
        if self._sem is not None and not self._take_slot(h, rec):
            h._mark(0, "cancelled")
            return 0, "cancelled"
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            item = self._next_item(body)
            delay = self.latency
            if isinstance(item, Fault) and item.kind == "slow":
                delay, item = delay + item.delay, self.responder(body)
            if self.delay_first is None or rec.index < self.delay_first:
                delay += float(self.delay(rec.index, body) if callable(self.delay) else self.delay)
            content = content_of(item)
            streamed = rec.stream and content is not None
            if content is not None and not streamed and self.chunk_delay:
                delay += self.chunk_delay * len(content_pieces(content))  # the tokens take as long unstreamed
            if not self._hold(h, rec, delay):
                h._mark(0, "cancelled")
                return 0, "cancelled"
            if client_gone(h.connection):
                self._left(rec, time.time())
            if rec.disconnected:
                h._mark(0, "client_gone")
                return 0, "client_gone"
            if streamed:
                return self._stream(h, rec, body, str(content))
            return self._emit(h, body, item)
        finally:
            with self._lock:
                self.in_flight -= 1
            if self._sem is not None:
                self._sem.release()

    def _left(self, rec: ReceivedRequest, when: float) -> None:
        if not rec.disconnected:
            rec.disconnected, rec.disconnect_time = True, when

    def _take_slot(self, h: _Handler, rec: ReceivedRequest) -> bool:
        """Wait for a processing slot, watching the client; False when it left and requests are cancelled."""
        assert self._sem is not None
        while not self._sem.acquire(timeout=0.005):
            if not rec.disconnected and client_gone(h.connection):
                self._left(rec, time.time())
            if rec.disconnected and self.cancel_on_disconnect:
                return False
        return True

    def _hold(self, h: _Handler, rec: ReceivedRequest, seconds: float) -> bool:
        """Compute for ``seconds``, noting when the client leaves; False when it left and requests are cancelled."""
        end = time.monotonic() + seconds
        while not rec.disconnected:
            left = wait_for_exit(h.connection, end - time.monotonic())
            if left is None:
                return True
            self._left(rec, left)
        if self.cancel_on_disconnect:
            return False
        time.sleep(max(0.0, end - time.monotonic()))
        return True

    def _stream(self, h: _Handler, rec: ReceivedRequest, body: dict[str, Any], content: str) -> tuple[int, str]:
        """SSE answer: one chunk per piece of content, ``chunk_delay`` apart, then ``data: [DONE]``."""
        opts = body.get("stream_options") or {}
        usage = completion(body, content)["usage"] if self.stream_usage and opts.get("include_usage") else None
        try:
            h.send_response(200)
            h.send_header("Content-Type", "text/event-stream")
            h.send_header("Cache-Control", "no-cache")
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            pieces = len(content_pieces(content))
            for i, payload in enumerate(stream_chunks(body, content, usage=usage)):  # role, pieces, stop, usage
                if 1 <= i <= pieces and self.chunk_delay and not self._hold(h, rec, self.chunk_delay):
                    break
                if rec.disconnected:
                    break
                write_chunk(h.wfile, b"data: " + json.dumps(payload).encode() + b"\n\n")
                rec.chunks += 1
            else:
                h._mark(200, "stream")
                write_chunk(h.wfile, b"data: [DONE]\n\n")
                write_chunk(h.wfile, b"")
                return 200, "stream"
        except OSError:
            self._left(rec, time.time())
        h._mark(0, "client_gone")
        h.close_connection = True
        return 0, "client_gone"

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
                data = json.dumps(completion(body, default_responder(body))).encode()
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
                h._send_json(200, completion(body, ""), outcome="empty")
                return 200, "empty"
            if item.kind == "slow":  # the responder answers after the delay (the scripted slow fault)
                return self._emit(h, body, self.responder(body))
            raise ValueError(f"unknown fault kind {item.kind!r}")
        if isinstance(item, dict):
            h._send_json(200, item, outcome="dict")
            return 200, "dict"
        h._send_json(200, completion(body, str(item)), outcome="ok")
        return 200, "ok"


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted; prints the base URL on the first line of stdout."""
    p = argparse.ArgumentParser(prog="python -m statcodgen.testing", description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--latency", type=float, default=0.0)
    p.add_argument("--max-concurrency", type=int, default=None)
    p.add_argument("--rps-limit", type=float, default=None)
    p.add_argument("--no-retry-after", action="store_true", help="429s from --rps-limit carry no Retry-After")
    p.add_argument("--delay", type=float, default=0.0, help="seconds before the first token of each request")
    p.add_argument("--delay-first", type=int, default=None, help="delay only the first K requests")
    p.add_argument("--chunk-delay", type=float, default=0.0, help="seconds per piece of content (streamed or not)")
    p.add_argument("--cancel-on-disconnect", action="store_true", help="stop computing a request whose client left")
    a = p.parse_args(argv)
    srv = OpenAIStubServer(
        port=a.port, latency=a.latency, max_concurrency=a.max_concurrency,
        rps_limit=a.rps_limit, rps_retry_after=not a.no_retry_after, delay=a.delay, delay_first=a.delay_first,
        chunk_delay=a.chunk_delay, cancel_on_disconnect=a.cancel_on_disconnect,
    ).start()
    print(srv.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()


if __name__ == "__main__":
    main()
