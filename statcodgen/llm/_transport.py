"""One HTTP attempt of the engine: send a chat request (whole or streamed) and classify what went wrong.

In: an ``openai.AsyncOpenAI`` client, the JSON body, the request key and the endpoint's timeout.
Out: an :class:`Answer` (raw body, content, usage, whether the usage is estimated) or an
:class:`Attempt` exception saying whether to retry, give up (``fatal``), drop ``response_format``
(``no_json``) or ``stream_options`` (``no_stream_options``). Private to :mod:`statcodgen.llm.client`.

Streaming (``stream=True``): the SSE chunks are read one by one and their ``delta.content``
accumulated; the client's timeout then bounds each wait for the next chunk (an idle timeout), not
the whole answer. Usage comes from the last chunk when the server sends it
(``stream_options={"include_usage": True}``), else it is estimated as characters/4.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Answer", "Attempt", "retry_after", "lines_schema", "send"]

_RETRYABLE = {408, 409, 425, 429, 500, 502, 503, 504}
_FORMAT_WORDS = ("response_format", "json_schema", "json", "schema", "unsupported", "not supported")


class Attempt(Exception):
    """Outcome of one HTTP attempt that did not produce content. ``kind``: ``retry``, ``fatal``,
    ``no_json``, ``no_stream_options``; ``timed_out`` when the client gave up waiting; ``refused_format``: the
    ``response_format`` type of a ``no_json`` refusal."""

    def __init__(self, kind: str, message: str, *, retry_after: float | None = None, raw: str | None = None,
                 status: int = 0, timed_out: bool = False, refused_format: str | None = None):
        super().__init__(message)
        self.kind, self.message, self.retry_after, self.raw, self.status = kind, message, retry_after, raw, status
        self.timed_out = timed_out
        self.refused_format = refused_format  # no_json: the response_format type the refused request carried


@dataclass
class Answer:
    """A chat completion: ``raw`` JSON text (rebuilt as one ``chat.completion`` when streamed), the
    ``content``, ``usage`` (prompt/completion tokens), ``estimated`` (usage not from the server)
    and ``chunks`` (streamed pieces of content; 0 when not streamed)."""

    raw: str
    content: str
    usage: dict[str, int]
    estimated: bool = False
    chunks: int = 0


def lines_schema(n: int) -> dict[str, Any]:
    """``response_format`` asking for exactly ``n`` lines: ``{"lines": [n strings]}`` (strict JSON schema)."""
    return {"type": "json_schema", "json_schema": {"name": "lines", "strict": True, "schema": {
        "type": "object",
        "properties": {"lines": {"type": "array", "items": {"type": "string"}, "minItems": n, "maxItems": n}},
        "required": ["lines"], "additionalProperties": False}}}


def retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``retry-after`` (seconds or an HTTP date), or None."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    val = headers.get("retry-after")
    if not val:
        return None
    try:
        return max(0.0, float(val))
    except ValueError:
        dt = email.utils.parsedate_to_datetime(val) if val else None
        return None if dt is None else max(0.0, dt.timestamp() - time.time())


def _estimate(body: dict[str, Any], content: str) -> dict[str, int]:
    prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages") or [])
    return {"prompt_tokens": max(1, prompt_chars // 4), "completion_tokens": max(1, len(content) // 4)}


def _usage(usage: Any) -> dict[str, int] | None:
    if not isinstance(usage, dict):
        return None
    return {"prompt_tokens": int(usage.get("prompt_tokens") or 0), "completion_tokens": int(usage.get("completion_tokens") or 0)}


def _format_type(body: dict[str, Any]) -> str | None:
    fmt = body.get("response_format")
    return str(fmt.get("type")) if isinstance(fmt, dict) and fmt.get("type") else None


def _status_error(e: Any, body: dict[str, Any], *, key: str, url: str, model: str, api_key_env: str,
                  redact: Callable[[str], str]) -> Attempt:
    status = e.status_code
    msg = redact(str(getattr(e, "message", e)))
    low = msg.lower()
    ra = retry_after(e.response.headers)
    if status == 500 and "response_format" in body and "response_format" in low:
        # llama-cpp-python answers an unknown response_format type with a 500 naming the field: a refusal, not a crash
        return Attempt("no_json", f"HTTP {status}: {msg}", status=status, refused_format=_format_type(body))
    if status in _RETRYABLE or status >= 520:
        return Attempt("retry", f"HTTP {status}: {msg}", retry_after=ra, status=status)
    if status in (400, 422) and "response_format" in body and any(w in low for w in _FORMAT_WORDS):
        return Attempt("no_json", f"HTTP {status}: {msg}", status=status, refused_format=_format_type(body))
    if status in (400, 422) and "stream_options" in body and "stream_options" in low:
        return Attempt("no_stream_options", f"HTTP {status}: {msg}", status=status)
    if status in (401, 403):
        text = (f"The endpoint {url} rejected the API key from ${api_key_env} ({status}): {msg} "
                f"Set {api_key_env} to a valid key for this endpoint.")
    elif status == 404:
        text = (f"The endpoint {url} does not know the model {model!r} or the path (404): {msg} "
                "Check LLMConfig.model and base_url (it usually ends with /v1).")
    elif status == 400 and ("context" in low or "maximum" in low or "too long" in low or "tokens" in low):
        text = (f"Request {key[:12]} is longer than the model's context at {url} (400): {msg} "
                "Shorten the prompt (fewer examples or items) or use a model with a longer context.")
    else:
        text = f"The endpoint {url} refused request {key[:12]} ({status}): {msg}"
    return Attempt("fatal", text, status=status)


async def _read_stream(stream: Any, on_chunk: Callable[[int], None] | None) -> tuple[str, dict[str, int] | None, str | None, int]:
    parts: list[str] = []
    usage: dict[str, int] | None = None
    finish: str | None = None
    async for chunk in stream:
        if not isinstance(chunk, dict):
            continue
        usage = _usage(chunk.get("usage")) or usage
        for choice in chunk.get("choices") or []:
            piece = (choice.get("delta") or {}).get("content") if isinstance(choice, dict) else None
            if piece:
                parts.append(str(piece))
                if on_chunk is not None:
                    on_chunk(1)
            if isinstance(choice, dict) and choice.get("finish_reason"):
                finish = str(choice["finish_reason"])
    return "".join(parts), usage, finish, len(parts)


async def send(client: Any, body: dict[str, Any], *, key: str, url: str, timeout: float, model: str, api_key_env: str,
               redact: Callable[[str], str], on_chunk: Callable[[int], None] | None = None) -> Answer:
    """One attempt of ``body`` (streamed when ``body["stream"]``); returns an :class:`Answer` or
    raises :class:`Attempt`. ``on_chunk(n)`` is called for each streamed piece of content."""
    import openai

    streamed = bool(body.get("stream"))
    idle = " without a chunk (idle timeout)" if streamed else ""
    try:
        # client.post with the body as is: same auth, headers and errors as chat.completions.create,
        # without its per-call typed transform (~0.7 ms of CPU per request, which caps throughput)
        opts: Any = {"headers": {"X-Request-Key": key}}
        if streamed:
            stream = await client.post("/chat/completions", body=body, cast_to=object, options=opts, stream=True,
                                       stream_cls=openai.AsyncStream[object])
            content, usage, finish, chunks = await _read_stream(stream, on_chunk)
        else:
            raw = await client.post("/chat/completions", body=body, cast_to=str, options=opts)
    except openai.APIStatusError as e:
        raise _status_error(e, body, key=key, url=url, model=model, api_key_env=api_key_env, redact=redact) from None
    except openai.APITimeoutError:
        raise Attempt("retry", f"timeout after {timeout:g} s{idle}", timed_out=True) from None
    except openai.APIConnectionError as e:
        cause = e.__cause__ or e
        raise Attempt("retry", f"connection error: {type(cause).__name__}: {redact(str(cause))[:200]}") from None
    except openai.APIError as e:  # an error event inside a stream
        raise Attempt("retry", f"stream error: {redact(str(getattr(e, 'message', e)))[:200]}") from None
    except Exception as e:  # noqa: BLE001 - transport errors raised while a stream is read (older openai)
        if not streamed or not type(e).__module__.startswith(("httpx", "httpcore")):
            raise
        if "Timeout" in type(e).__name__:
            raise Attempt("retry", f"timeout after {timeout:g} s{idle}", timed_out=True) from None
        raise Attempt("retry", f"connection error: {type(e).__name__}: {redact(str(e))[:200]}") from None
    if streamed:
        if not content.strip():
            raise Attempt("retry", f"empty_content: the streamed answer has no text ({chunks} chunks)")
        estimated = usage is None
        usage = usage or _estimate(body, content)
        raw = json.dumps({"object": "chat.completion", "model": model, "streamed": True, "usage_estimated": estimated,
                          "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                       "finish_reason": finish}], "usage": usage}, ensure_ascii=False)
        return Answer(raw, content, usage, estimated, chunks)
    try:
        data = json.loads(raw)
        content = data["choices"][0]["message"].get("content")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise Attempt("retry", "malformed_response: the body is not a chat completion JSON", raw=raw) from None
    if content is None or not str(content).strip():
        raise Attempt("retry", "empty_content: the answer has no text", raw=raw) from None
    usage = _usage(data.get("usage"))
    return Answer(raw, str(content), usage or _estimate(body, str(content)), usage is None)
