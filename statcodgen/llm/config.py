"""Settings and request values of an LLM run against OpenAI-compatible chat endpoints.

In: settings (``model``, endpoints, retries, prices...) and chat messages. Out: values the engine
in :mod:`statcodgen.llm.client` consumes, and estimates; nothing here sends a request.

* :class:`LLMConfig` (with :class:`Endpoint`, :class:`Prices`) — validated settings (pydantic,
  ``extra="forbid"``, errors raised as :class:`~statcodgen.errors.ConfigError`); the API key is read
  from the environment variable named by ``api_key_env`` when the run starts, never stored.
* :class:`Request` / :func:`make_request` — one chat request with its deterministic journal key.
* :class:`RunStats` — the counters a run returns (requests, retries, tokens, cost, concurrency).
* :func:`dry_run` -> :class:`DryRunSummary` — requests, token and cost estimate; sends nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError
from .journal import Journal, request_key

if TYPE_CHECKING:  # pandas is imported lazily: the run path must start fast
    import pandas as pd

__all__ = ["Endpoint", "Prices", "LLMConfig", "Request", "make_request", "RunStats", "dry_run", "DryRunSummary"]

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


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
    ``adaptive`` enables AIMD concurrency (halve on 429, +1 per window of successes up to the cap).
    ``json_output`` asks for ``response_format={"type": "json_object"}`` and falls back to plain
    text automatically when the server rejects it.
    """

    model: str = Field(min_length=1)
    base_url: str | list[Endpoint | str] = "https://api.openai.com/v1"
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = Field(8, ge=1, le=4096)
    timeout: float = Field(60.0, gt=0)
    max_retries: int = Field(6, ge=0)
    backoff_base: float = Field(0.5, ge=0)
    backoff_max: float = Field(30.0, ge=0)
    retry_after_max: float = Field(120.0, ge=0)
    jitter: bool = True
    temperature: float | None = Field(1.0, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1)
    json_output: bool = False
    prices: Prices | None = None
    max_cost: float | None = Field(None, gt=0)
    adaptive: bool = False
    max_consecutive_failures: int = Field(20, ge=1)
    seed: int = 0

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
    ``final_concurrency`` / ``concurrency_trace`` (seconds since start, limit) are per endpoint."""

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
