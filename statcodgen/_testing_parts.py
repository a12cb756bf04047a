"""The parts of the scripted server of :mod:`statcodgen.testing` (which re-exports the public ones).

* :class:`Fault` (an injected misbehaviour) and :class:`ReceivedRequest` (one entry of the request
  log), :func:`default_responder` and ``completion`` (a whole chat-completion body);
* socket helpers: :func:`client_gone`, :func:`wait_for_exit` (waits that notice a client leaving);
* streamed answers: :func:`content_pieces`, :func:`stream_chunks` (SSE payloads), :func:`write_chunk`
  (HTTP/1.1 chunked encoding).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import select
import socket
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["Fault", "ReceivedRequest", "default_responder", "completion", "content_of", "client_gone",
           "wait_for_exit", "content_pieces", "stream_chunks", "write_chunk"]


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
    """One request as the server received it (the API key value is never kept).

    ``time`` received, ``end_time`` answered (or computed, when the client had left; 0 while
    running), ``index`` the arrival order (from 0), ``status``/``outcome`` what was answered
    (``client_gone``: nothing, the client had left), ``disconnected``/``disconnect_time`` whether and
    when the client closed the connection before the answer, ``chunks`` SSE chunks written."""

    time: float
    method: str
    path: str
    headers: dict[str, str]
    has_authorization: bool
    body: Any
    status: int = 0
    outcome: str = ""
    end_time: float = 0.0
    index: int = 0
    disconnected: bool = False
    disconnect_time: float | None = None
    chunks: int = 0

    @property
    def stream(self) -> bool:
        """Whether the request asked for a streamed answer (``"stream": true``)."""
        return isinstance(self.body, dict) and self.body.get("stream") is True

    @property
    def closed_at(self) -> float:
        """When the request stopped being open: the client left, else answered; ``inf`` while open."""
        if self.disconnected and self.disconnect_time is not None:
            return self.disconnect_time
        return self.end_time or math.inf

    @property
    def key(self) -> str | None:
        """The ``X-Request-Key`` header sent by statcodgen (the journal key), if any."""
        return self.headers.get("x-request-key")


def default_responder(request: dict[str, Any]) -> str:
    """Deterministic answer: 5 uppercase lines derived from a hash of the messages."""
    digest = hashlib.sha256(json.dumps(request.get("messages"), sort_keys=True).encode()).hexdigest()
    return "\n".join(f"ACTIVITE {digest[:8]} NUMERO {i}" for i in range(1, 6))


def completion(request: dict[str, Any], content: str | None) -> dict[str, Any]:
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


def content_of(item: Any) -> str | None:
    """The message content of a scripted answer (a ``str``, or a ``dict`` completion body); None for faults."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        try:
            content = item["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            return None
        return content if isinstance(content, str) else None
    return None





def client_gone(sock: socket.socket) -> bool:
    """True when the peer closed ``sock`` (readable with nothing to read) or the socket is broken."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def wait_for_exit(sock: socket.socket, seconds: float) -> float | None:
    """Wait up to ``seconds``; return ``time.time()`` as soon as the client closes ``sock``, else None
    after the full wait. Precise to well under a millisecond (``select`` on the socket)."""
    end = time.monotonic() + max(0.0, seconds)
    while True:
        remaining = end - time.monotonic()
        if remaining <= 0:
            return None
        try:
            readable, _, _ = select.select([sock], [], [], remaining)
        except (OSError, ValueError):
            return time.time()
        if not readable:
            return None
        try:
            gone = sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            gone = True
        if gone:
            return time.time()
        time.sleep(max(0.0, end - time.monotonic()))  # bytes waiting (not a close): nothing more to watch
        return None


def content_pieces(content: str) -> list[str]:
    """``content`` cut into word-sized pieces (each with its leading whitespace), joined back exactly."""
    pieces = re.findall(r"\s*\S+", content)
    tail = content[len("".join(pieces)):]
    if tail:
        pieces.append(tail)
    return pieces or [content]


def stream_chunks(body: dict[str, Any], content: str, *, usage: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` payloads of a streamed answer: the role, one per piece of
    content, the finish reason, then (when ``usage`` is given) a last chunk with no choice and the usage."""
    base = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": body.get("model", "stub")}
    out = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
    out += [{**base, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in content_pieces(content)]
    out.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    if usage is not None:
        out.append({**base, "choices": [], "usage": usage})
    return out


def write_chunk(wfile: Any, data: bytes) -> None:
    """Write ``data`` as one HTTP/1.1 chunk (``b""`` writes the terminating chunk) and flush."""
    wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
    wfile.flush()
