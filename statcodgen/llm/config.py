"""Settings and request values of an LLM run against OpenAI-compatible chat endpoints.

In: settings (``model``, endpoints, retries, prices...) and chat messages. Out: values the engine
in :mod:`statcodgen.llm.client` consumes, and estimates; nothing here sends a request.

* :class:`LLMConfig` (with :class:`Endpoint`, :class:`Prices`) — validated settings (pydantic,
  ``extra="forbid"``, errors raised as :class:`~statcodgen.errors.ConfigError`); the API key is read
  from the environment variable named by ``api_key_env`` when the run starts, never stored.
  :meth:`LLMConfig.timeout_for` resolves ``timeout="auto"`` per endpoint (:func:`is_local_url`).
* :class:`Request` / :func:`make_request` — one chat request with its deterministic journal key.
* :class:`RunStats` — the counters a run returns (requests, retries, tokens, cost, concurrency).
* :func:`dry_run` -> :class:`DryRunSummary` — requests, token and cost estimate; sends nothing.
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import ConfigError
from .journal import Journal, request_key

if TYPE_CHECKING:  # pandas is imported lazily: the run path must start fast
    import pandas as pd

__all__ = ["Endpoint", "Prices", "LLMConfig", "Request", "make_request", "RunStats", "dry_run", "DryRunSummary",
           "is_local_url", "AUTO_TIMEOUT_LOCAL", "AUTO_TIMEOUT_HOSTED"]

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}
#: ``timeout="auto"``: seconds for a server on this machine or the LAN (a CPU llama.cpp answer takes minutes)
AUTO_TIMEOUT_LOCAL = 900.0
#: ``timeout="auto"``: seconds for a hosted API (answers in seconds; a longer wait is a lost request)
AUTO_TIMEOUT_HOSTED = 120.0
#: ports of self-hosted servers: Ollama, vLLM, llama.cpp, LM Studio, SGLang
_LOCAL_PORTS = {11434, 8000, 8080, 1234, 30000}
_LAN_SUFFIXES = (".local", ".lan", ".internal", ".home.arpa", ".localhost")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")  # Tailscale and other overlay networks


def is_local_url(url: str) -> bool:
    """Whether ``url`` points to a self-hosted server (this machine or the LAN) rather than a hosted API.

    In: a base URL. Out: True when its host is loopback (``127.0.0.0/8``, ``localhost``, ``::1``,
    ``0.0.0.0``), a private, link-local or ``100.64.0.0/10`` address, a one-label name (``gpu1``, a
    compose service), a name ending in ``.local``/``.lan``/``.internal``/``.home.arpa``, or when its
    port is one of 11434 (Ollama), 8000 (vLLM), 8080 (llama.cpp), 1234 (LM Studio), 30000 (SGLang).
    An URL without a host is not local.
    """
    parsed = urlparse(str(url))
    host = (parsed.hostname or "").lower()
    if not host:
        return False
    if host in _LOCAL_HOSTS or host.endswith(_LAN_SUFFIXES) or ("." not in host and ":" not in host):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None and (ip.is_private or ip.is_loopback or ip.is_link_local or ip in _CGNAT):
        return True
    try:
        port = parsed.port
    except ValueError:
        port = None
    return port in _LOCAL_PORTS


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as e:
            errs = "; ".join(f"{'.'.join(map(str, x['loc'])) or '?'}: {x['msg']} (got {x.get('input')!r})" for x in e.errors())
            raise ConfigError(f"Invalid {type(self).__name__}: {errs}.") from None


class Endpoint(_Model):
    """One OpenAI-compatible server: its base URL and how many requests it takes at once."""

    base_url: str
    concurrency: int = Field(8, ge=1, le=4096)


class Prices(_Model):
    """Prices in currency units per 1 million tokens."""

    prompt: float = Field(ge=0)
    completion: float = Field(ge=0)


class LLMConfig(_Model):
    """Settings of an LLM run. ``base_url`` is one URL or a list of :class:`Endpoint` (or URLs).

    ``concurrency`` is the per-endpoint cap for a plain URL. ``max_retries`` counts retries after
    the first attempt. ``prices`` is per 1M tokens; ``max_cost`` stops the run when reached.
    ``adaptive`` enables AIMD concurrency (halve on a 429 or a timeout, +1 per window of successes
    up to the cap). ``max_tokens`` caps each answer (sent as ``max_tokens``; part of the request key); unset, a
    request for N lines is capped at 64 + 40 × N tokens (:func:`statcodgen.llm.client.answer_token_cap`).

    ``timeout`` — seconds the client waits for an answer before it gives up and retries (a server
    that does not cancel abandoned requests computes them again, so a too short timeout multiplies
    the work). A number is used as is; ``"auto"`` (the default; ``None`` means the same) is chosen
    per endpoint by :meth:`timeout_for`: :data:`AUTO_TIMEOUT_LOCAL` (900 s) for a self-hosted server
    (see :func:`is_local_url`: loopback, private LAN address, one-label host, ports 11434, 8000, 8080...),
    :data:`AUTO_TIMEOUT_HOSTED` (120 s) for a hosted API. After 3 timeouts the run warns once with
    the measured seconds per successful request and what to change.

    ``stream`` — use the streaming API: the answer is read chunk by chunk and ``timeout`` is an
    idle timeout (the longest wait for the next chunk, or for the first one while the server reads
    the prompt), so a slow but alive server is not mistaken for a dead one. Token usage comes from
    the last chunk (``stream_options={"include_usage": true}``); when the server sends none it is
    estimated as characters/4 and counted in ``RunStats.usage_estimated``.

    ``json_output`` — ask for JSON: a request whose metadata has ``n_lines`` = N (the generation
    requests) sends ``response_format={"type": "json_schema", ...}`` for ``{"lines": [N strings]}``
    (``minItems`` = ``maxItems`` = N); other requests send ``{"type": "json_object"}``. When an
    endpoint refuses it (HTTP 400 naming ``response_format``, ``json_schema`` or "unsupported"),
    that endpoint falls back once to plain text for the rest of the run, with one warning
    (``RunStats.json_fallback`` / ``json_schema_fallback``).
    """

    model: str = Field(min_length=1)
    base_url: str | list[Endpoint | str] = "https://api.openai.com/v1"
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = Field(8, ge=1, le=4096)
    timeout: float | Literal["auto"] | None = "auto"
    max_retries: int = Field(6, ge=0)
    backoff_base: float = Field(0.5, ge=0)
    backoff_max: float = Field(30.0, ge=0)
    retry_after_max: float = Field(120.0, ge=0)
    jitter: bool = True
    temperature: float | None = Field(1.0, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1)
    json_output: bool = False
    stream: bool = False
    prices: Prices | None = None
    max_cost: float | None = Field(None, gt=0)
    adaptive: bool = False
    max_consecutive_failures: int = Field(20, ge=1)
    seed: int = 0

    @field_validator("timeout", mode="before")
    @classmethod
    def _check_timeout(cls, v: Any) -> float | str:
        if v is None or v == "auto":
            return "auto"
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise ValueError("timeout must be a number of seconds > 0 or 'auto' (900 s for a local server, "
                             "120 s for a hosted API)")
        return float(v)

    def timeout_for(self, base_url: str) -> float:
        """Seconds to wait for ``base_url``: ``timeout`` when it is a number; for ``"auto"``,
        :data:`AUTO_TIMEOUT_LOCAL` when :func:`is_local_url`, else :data:`AUTO_TIMEOUT_HOSTED`."""
        if isinstance(self.timeout, (int, float)):
            return float(self.timeout)
        return AUTO_TIMEOUT_LOCAL if is_local_url(base_url) else AUTO_TIMEOUT_HOSTED

    def endpoints(self) -> list[Endpoint]:
        """The endpoints of the run, with their concurrency caps."""
        urls = self.base_url if isinstance(self.base_url, list) else [self.base_url]
        if not urls:
            raise ConfigError("The 'base_url' of LLMConfig must name at least one endpoint. Got [] instead.")
        return [u if isinstance(u, Endpoint) else Endpoint(base_url=u, concurrency=self.concurrency) for u in urls]

    def params(self) -> dict[str, Any]:
        """Sampling parameters sent with every request (and part of each request key)."""
        p: dict[str, Any] = {}
        if self.temperature is not None:
            p["temperature"] = self.temperature
        if self.max_tokens is not None:
            p["max_tokens"] = self.max_tokens
        return p

    def api_key(self) -> str:
        """Read the key from ``os.environ[api_key_env]``; local endpoints get a dummy key when unset."""
        key = os.environ.get(self.api_key_env, "")
        if key:
            return key
        remote = [e.base_url for e in self.endpoints() if (urlparse(e.base_url).hostname or "") not in _LOCAL_HOSTS]
        if remote:
            raise ConfigError(
                f"The environment variable {self.api_key_env} is not set, and the endpoint {remote[0]} needs an API key. "
                f"Set it (export {self.api_key_env}=...) or set LLMConfig.api_key_env to the variable that holds the key."
            )
        return "not-needed-for-local-server"


@dataclass(frozen=True)
class Request:
    """One chat request: journal ``key``, ``messages``, extra body ``params`` and ``metadata``
    (code, persona_id, prompt_id... stored in the journal, never sent)."""

    key: str
    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


def make_request(
    messages: Sequence[Mapping[str, Any]],
    *,
    config: LLMConfig,
    seed: int | None = None,
    sample_index: int = 0,
    params: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Request:
    """Build a :class:`Request` whose key is ``request_key(config.model, messages, params, seed, sample_index)``
    with ``params`` = ``config.params()`` updated by ``params``."""
    p = {**config.params(), **dict(params or {})}
    msgs = [dict(m) for m in messages]
    return Request(request_key(config.model, msgs, p, seed, sample_index), msgs, p, dict(metadata or {}))


@dataclass
class RunStats:
    """What a run did. ``sent`` counts HTTP attempts; ``cached`` requests were already done;
    ``final_concurrency`` / ``concurrency_trace`` (seconds since start, limit) and ``timeout_s``
    (the timeout used) are per endpoint. ``timeouts`` counts attempts that timed out;
    ``mean_request_s`` / ``max_request_s`` are the measured seconds of the successful attempts.
    ``usage_estimated`` counts answers without token usage from the server (tokens estimated as
    characters/4; ``to_dict()["usage_source"]`` says ``server``, ``estimated`` or ``mixed``).
    ``json_fallback``: an endpoint refused ``response_format`` and got plain text prompts afterwards
    (``json_schema_fallback``: it was the JSON schema). ``warnings``: the warnings the run emitted."""

    requests: int = 0
    cached: int = 0
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    retries: int = 0
    rate_limited: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    elapsed: float = 0.0
    json_fallback: bool = False
    json_schema_fallback: bool = False
    timeouts: int = 0
    usage_estimated: int = 0
    mean_request_s: float = 0.0
    max_request_s: float = 0.0
    timeout_s: list[float] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    final_concurrency: list[float] = field(default_factory=list)
    concurrency_trace: list[list[tuple[float, float]]] = field(default_factory=list)
    stopped: str | None = None

    @property
    def requests_per_s(self) -> float:
        done = self.succeeded + self.failed
        return done / self.elapsed if self.elapsed > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the counters (with ``requests_per_s``; without the concurrency trace)."""
        d = {k: v for k, v in vars(self).items() if k != "concurrency_trace"}
        d["requests_per_s"] = self.requests_per_s
        d["usage_source"] = ("server" if not self.usage_estimated else
                             "estimated" if self.usage_estimated >= self.succeeded else "mixed")
        return d


@dataclass
class DryRunSummary:
    """Estimate of a run: counts, tokens and cost, with one row per request in ``table``."""

    requests: int
    cached: int
    to_send: int
    prompt_tokens: int
    completion_tokens: int
    cost: float | None
    table: pd.DataFrame
    method: str

    def __str__(self) -> str:
        cost = "unknown (no prices)" if self.cost is None else f"{self.cost:.4f}"
        return (f"{self.to_send} requests to send ({self.cached} already done of {self.requests}); "
                f"~{self.prompt_tokens:,} prompt + ~{self.completion_tokens:,} completion tokens ({self.method}); "
                f"estimated cost {cost}")


def _token_counter(model: str) -> tuple[Callable[[str], int], str]:
    try:
        import tiktoken  # type: ignore[import-not-found]

        try:
            enc = tiktoken.encoding_for_model(model)
        except KeyError:
            enc = tiktoken.get_encoding("cl100k_base")
        return (lambda s: len(enc.encode(s))), "tiktoken"
    except Exception:  # noqa: BLE001 - tiktoken absent or without its files offline
        return (lambda s: max(1, len(s) // 4)), "chars/4"


def dry_run(
    requests: Iterable[Request],
    *,
    config: LLMConfig,
    journal: Journal | None = None,
    completion_tokens: int | None = None,
) -> DryRunSummary:
    """Estimate a run without sending anything.

    Prompt tokens come from tiktoken when installed, else characters/4 (+4 per message).
    Completion tokens per request: ``completion_tokens``, else ``max_tokens``, else 300.
    Requests already done in ``journal`` are counted as cached and cost nothing.
    """
    import pandas as pd

    count, method = _token_counter(config.model)
    done = journal.done_keys() if journal is not None else set()
    per_completion = completion_tokens or config.max_tokens or 300
    rows = []
    for r in {r.key: r for r in requests}.values():
        pt = sum(count(str(m.get("content", ""))) + 4 for m in r.messages)
        ct = int(r.params.get("max_tokens") or per_completion)
        cached = r.key in done
        cost = None if config.prices is None else (0.0 if cached else (pt * config.prices.prompt + ct * config.prices.completion) / 1e6)
        rows.append({"key": r.key, "cached": cached, "prompt_tokens": pt, "completion_tokens": ct, "cost": cost,
                     **{k: v for k, v in r.metadata.items() if isinstance(v, (str, int, float))}})
    table = pd.DataFrame(rows)
    send = table[~table["cached"]] if len(table) else table
    return DryRunSummary(
        requests=len(table), cached=int(table["cached"].sum()) if len(table) else 0, to_send=len(send),
        prompt_tokens=int(send["prompt_tokens"].sum()) if len(send) else 0,
        completion_tokens=int(send["completion_tokens"].sum()) if len(send) else 0,
        cost=None if config.prices is None else float(send["cost"].sum()) if len(send) else 0.0,
        table=table, method=method,
    )
