"""Async engine for OpenAI-compatible chat endpoints: bounded, retrying, resumable, budgeted.

In: :class:`~statcodgen.llm.config.Request` values, an
:class:`~statcodgen.llm.config.LLMConfig` and a :class:`~statcodgen.llm.journal.Journal`.
Out: answers parsed into lines and written to the journal, and a
:class:`~statcodgen.llm.config.RunStats`.

* :func:`run_requests` (sync) / :func:`run_requests_async` — send every request not already done in
  the journal, with a bounded worker pool per endpoint, retries with exponential backoff + full
  jitter honouring ``Retry-After`` on 429/5xx/timeouts/connection errors, optional AIMD adaptive
  concurrency, JSON output with automatic fallback, usage and cost accounting. Fatal answers
  (401/403/404, 400 context length, or ``max_consecutive_failures`` failures in a row) raise
  :class:`~statcodgen.errors.FatalLLMError` after cancelling the rest; reaching ``max_cost`` raises
  :class:`~statcodgen.errors.BudgetExceededError`. Both carry ``.stats``; the journal is written.
* :func:`register_requests` — record requests as pending with the exact body a run would send
  (for the Batch API export); sends nothing.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import BudgetExceededError, FatalLLMError
from .journal import Journal
from .config import LLMConfig, Request, RunStats
from .parsing import ParseResult, format_output

__all__ = ["run_requests", "run_requests_async", "register_requests"]

_RETRYABLE = {408, 409, 425, 429, 500, 502, 503, 504}


class _Limiter:
    """Concurrency gate per endpoint; AIMD when ``adaptive``."""

    def __init__(self, cap: int, adaptive: bool) -> None:
        self.cap, self.adaptive = cap, adaptive
        self.limit = float(cap)
        self.in_flight = 0
        self.epoch = 0
        self._cond = asyncio.Condition()
        self.trace: list[tuple[float, float]] = [(time.perf_counter(), self.limit)]  # (time, limit) at each change

    async def acquire(self) -> int:
        async with self._cond:
            await self._cond.wait_for(lambda: self.in_flight < max(1, int(self.limit)))
            self.in_flight += 1
            return self.epoch

    async def release(self) -> None:
        async with self._cond:
            self.in_flight -= 1
            self._cond.notify()

    def on_success(self) -> None:
        if self.adaptive and self.limit < self.cap:
            before = int(self.limit)
            self.limit = min(self.cap, self.limit + 1.0 / max(1.0, self.limit))
            if int(self.limit) != before:
                self.trace.append((time.perf_counter(), self.limit))

    def on_rate_limit(self, epoch: int) -> None:
        if self.adaptive and epoch == self.epoch:  # one decrease per window, not per in-flight 429
            self.limit = max(1.0, self.limit * 0.5)
            self.epoch += 1
            self.trace.append((time.perf_counter(), self.limit))


class _Attempt(Exception):
    """Outcome of one HTTP attempt that did not produce content."""

    def __init__(self, kind: str, message: str, *, retry_after: float | None = None, raw: str | None = None, status: int = 0):
        super().__init__(message)
        self.kind, self.message, self.retry_after, self.raw, self.status = kind, message, retry_after, raw, status


def _retry_after(headers: Any) -> float | None:
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


class _Run:
    """State shared by the workers of one run."""

    def __init__(self, config: LLMConfig, journal: Journal, parser: Callable[[str, Request], ParseResult], key: str) -> None:
        self.config, self.journal, self.parser, self.api_key = config, journal, parser, key
        self.stats = RunStats()
        self.rng = random.Random(config.seed)
        self.json_ok = config.json_output
        self.stop: str | None = None
        self.error: Exception | None = None
        self.consecutive_failures = 0
        self.tasks: list[asyncio.Task[None]] = []
        self.attempts: dict[str, int] = {}
        self.queue: asyncio.Queue[Request | None] = asyncio.Queue()
        self.outstanding = 0
        self.multi = len(config.endpoints()) > 1
        self.bar: Any = None

    def redact(self, text: str) -> str:
        text = text.replace(self.api_key, "***") if self.api_key else text
        return re.sub(r"\b(sk-[A-Za-z0-9_\-*]{2})[A-Za-z0-9_\-*]+", r"\1***", text)

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        c = self.config
        if retry_after is not None:
            return min(retry_after, c.retry_after_max)
        cap = min(c.backoff_max, c.backoff_base * 2 ** (attempt - 1))
        return self.rng.uniform(0, cap) if c.jitter else cap

    def body(self, r: Request) -> dict[str, Any]:
        b: dict[str, Any] = {"model": self.config.model, "messages": r.messages, **r.params}
        if self.json_ok:
            b["response_format"] = {"type": "json_object"}
        return b

    async def call(self, client: Any, r: Request, url: str) -> tuple[str, str, dict[str, int]]:
        """One HTTP attempt; returns (raw body, content, usage) or raises :class:`_Attempt`."""
        import openai

        body = self.body(r)
        self.stats.sent += 1
        try:
            # client.post with the body as is: same auth, headers and errors as chat.completions.create,
            # without its per-call typed transform (~0.7 ms of CPU per request, which caps throughput)
            raw = await client.post(
                "/chat/completions", body=body, cast_to=str, options={"headers": {"X-Request-Key": r.key}}
            )
        except openai.APIStatusError as e:
            status = e.status_code
            msg = self.redact(str(getattr(e, "message", e)))
            low = msg.lower()
            ra = _retry_after(e.response.headers)
            if status in _RETRYABLE or status >= 520:
                raise _Attempt("retry", f"HTTP {status}: {msg}", retry_after=ra, status=status) from None
            if status == 400 and "response_format" in body and ("response_format" in low or "json" in low):
                raise _Attempt("no_json", f"HTTP 400: {msg}", status=400) from None
            env = self.config.api_key_env
            if status in (401, 403):
                text = (f"The endpoint {url} rejected the API key from ${env} ({status}): {msg} "
                        f"Set {env} to a valid key for this endpoint.")
            elif status == 404:
                text = (f"The endpoint {url} does not know the model {self.config.model!r} or the path (404): {msg} "
                        "Check LLMConfig.model and base_url (it usually ends with /v1).")
            elif status == 400 and ("context" in low or "maximum" in low or "too long" in low or "tokens" in low):
                text = (f"Request {r.key[:12]} is longer than the model's context at {url} (400): {msg} "
                        "Shorten the prompt (fewer examples or items) or use a model with a longer context.")
            else:
                text = f"The endpoint {url} refused request {r.key[:12]} ({status}): {msg}"
            raise _Attempt("fatal", text, status=status) from None
        except openai.APITimeoutError:
            raise _Attempt("retry", f"timeout after {self.config.timeout:g} s") from None
        except openai.APIConnectionError as e:
            cause = e.__cause__ or e
            raise _Attempt("retry", f"connection error: {type(cause).__name__}: {self.redact(str(cause))[:200]}") from None
        try:
            data = json.loads(raw)
            content = data["choices"][0]["message"].get("content")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise _Attempt("retry", "malformed_response: the body is not a chat completion JSON", raw=raw) from None
        if content is None or not str(content).strip():
            raise _Attempt("retry", "empty_content: the answer has no text", raw=raw) from None
        usage = data.get("usage") or {}
        return raw, str(content), {
            "prompt_tokens": int(usage.get("prompt_tokens") or 0),
            "completion_tokens": int(usage.get("completion_tokens") or 0),
        }

    async def process(self, client: Any, limiter: _Limiter, r: Request, url: str, queue: asyncio.Queue[Request | None]) -> None:
        """Send ``r`` until done, failed or the run stops. With several endpoints, a request to retry
        goes back to the shared queue after its backoff, so a healthy endpoint can take it."""
        c = self.config
        while self.stop is None:
            attempts = self.attempts.get(r.key, 0) + 1
            self.attempts[r.key] = attempts
            epoch = await limiter.acquire()
            try:
                raw, content, usage = await self.call(client, r, url)
            except _Attempt as a:
                await limiter.release()
                if a.kind == "no_json":
                    self.json_ok, self.stats.json_fallback = False, True
                    self.attempts[r.key] -= 1
                    continue
                if a.kind == "fatal":
                    self.journal.record_failure(r.key, a.message, status="fatal", attempts=attempts, metadata=r.metadata)
                    self.fail(FatalLLMError(a.message), "fatal")
                    return
                if a.status == 429:
                    self.stats.rate_limited += 1
                    limiter.on_rate_limit(epoch)
                if attempts > c.max_retries:
                    self.journal.record_failure(r.key, f"gave up after {attempts} attempts: {a.message}", raw=a.raw,
                                                attempts=attempts, metadata=r.metadata)
                    self.stats.failed += 1
                    self.tick()
                    self.consecutive_failures += 1
                    if self.consecutive_failures >= c.max_consecutive_failures:
                        self.fail(FatalLLMError(
                            f"{self.consecutive_failures} requests in a row failed after {c.max_retries} retries each; "
                            f"last error at {url}: {a.message}. Completed requests are kept in the journal; re-run to resume."
                        ), "failures")
                    return
                self.stats.retries += 1
                await asyncio.sleep(self.backoff(attempts, a.retry_after))
                if self.multi and self.stop is None:
                    queue.put_nowait(r)
                    await asyncio.sleep(0)  # let an idle worker (maybe of another endpoint) take it first
                    return
                continue
            except BaseException:
                await limiter.release()
                raise
            await limiter.release()
            limiter.on_success()
            parsed = self.parser(content, r)
            self.journal.record_success(
                r.key, raw, lines=parsed.lines, rejected=parsed.rejected, attempts=attempts, metadata=r.metadata, **usage
            )
            self.consecutive_failures = 0
            st = self.stats
            st.succeeded += 1
            st.prompt_tokens += usage["prompt_tokens"]
            st.completion_tokens += usage["completion_tokens"]
            if c.prices is not None:
                st.cost += (usage["prompt_tokens"] * c.prices.prompt + usage["completion_tokens"] * c.prices.completion) / 1e6
                if c.max_cost is not None and st.cost >= c.max_cost and self.stop is None:
                    self.stop = "budget"
                    self.error = BudgetExceededError(
                        f"The run reached max_cost={c.max_cost:g} (spent {st.cost:.4f}); it stopped cleanly after "
                        f"{st.succeeded} requests. Completed requests are in the journal; raise max_cost and re-run to resume."
                    )
            self.tick()
            return

    def fail(self, err: Exception, reason: str) -> None:
        if self.stop is None or self.stop == "budget":
            self.stop, self.error = reason, err
        current = asyncio.current_task()
        for t in self.tasks:
            if t is not current:
                t.cancel()

    def tick(self) -> None:
        """One request resolved (done or failed for good); wake the idle workers when all are, or on stop."""
        self.outstanding -= 1
        if self.outstanding <= 0 or self.stop is not None:
            for _ in self.tasks:
                self.queue.put_nowait(None)
        if self.bar is not None:
            self.bar.update(1)
            if self.bar.n % 25 == 0:
                st = self.stats
                self.bar.set_postfix(retries=st.retries, http429=st.rate_limited, failed=st.failed,
                                     cost=round(st.cost, 4), refresh=False)


def _default_parser(config: LLMConfig) -> Callable[[str, Request], ParseResult]:
    def parse(content: str, request: Request) -> ParseResult:
        return format_output(content, json_expected=config.json_output)

    return parse


def register_requests(requests: Iterable[Request], *, config: LLMConfig, journal: Journal) -> int:
    """Record ``requests`` as pending in ``journal`` with the exact body a run would send, and send
    nothing (for :func:`statcodgen.llm.batch.export_batch`). Known keys are left as they are.
    Returns the number of requests not done yet."""
    reqs = list({r.key: r for r in requests}.values())
    return len(_register(_Run(config, journal, _default_parser(config), ""), reqs))


def _register(run: _Run, reqs: list[Request]) -> list[Request]:
    """Record ``reqs`` as pending (with the body ``run`` would send); return those not done yet."""
    run.journal.add_pending((r.key, run.body(r), r.metadata) for r in reqs)
    done = run.journal.done_keys()
    return [r for r in reqs if r.key not in done]


async def run_requests_async(
    requests: Iterable[Request],
    *,
    config: LLMConfig,
    journal: Journal,
    progress: bool = True,
    parser: Callable[[str, Request], ParseResult] | None = None,
    http_client: Any = None,
) -> RunStats:
    """Send the requests not yet done in ``journal``; see the module docstring.

    ``parser(content, request) -> ParseResult`` turns each answer into lines stored in the journal
    (default: :func:`~statcodgen.llm.parsing.format_output` with ``json_expected=config.json_output``).
    Duplicated keys are sent once. Raises ConfigError (no key), FatalLLMError, BudgetExceededError.
    """
    import openai
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    reqs = list({r.key: r for r in requests}.values())
    endpoints = config.endpoints()
    key = config.api_key()
    run = _Run(config, journal, parser or _default_parser(config), key)
    run.stats.requests = len(reqs)
    todo = _register(run, reqs)
    run.stats.cached = len(reqs) - len(todo)
    if not todo:
        run.stats.elapsed = time.perf_counter() - t0
        return run.stats
    queue = run.queue
    run.outstanding = len(todo)
    for r in todo:
        queue.put_nowait(r)
    clients = [
        openai.AsyncOpenAI(api_key=key, base_url=e.base_url, max_retries=0, timeout=config.timeout, http_client=http_client)
        for e in endpoints
    ]
    limiters = [_Limiter(e.concurrency, config.adaptive) for e in endpoints]

    async def worker(i: int) -> None:
        while run.stop is None:
            r = await queue.get()  # None: every request is resolved or the run stopped
            if r is None:
                return
            try:
                await run.process(clients[i], limiters[i], r, endpoints[i].base_url, queue)
            except Exception as e:  # noqa: BLE001 - e.g. a parser or disk error: stop everything, re-raise it
                run.fail(e, "error")
                return

    run.bar = tqdm(total=len(todo), disable=not progress, desc=f"LLM {config.model}", unit="req")
    try:
        run.tasks = [
            asyncio.create_task(worker(i)) for i, e in enumerate(endpoints) for _ in range(min(e.concurrency, len(todo)))
        ]
        await asyncio.gather(*run.tasks, return_exceptions=True)
    finally:
        run.bar.close()
        for cl in clients:
            await cl.close()
    st = run.stats
    st.elapsed = time.perf_counter() - t0
    st.final_concurrency = [lim.limit for lim in limiters]
    st.concurrency_trace = [[(t - t0, v) for t, v in lim.trace] for lim in limiters]
    st.stopped = run.stop
    if run.error is not None:
        run.error.stats = st  # type: ignore[attr-defined]
        raise run.error
    return st


def run_requests(
    requests: Iterable[Request],
    *,
    config: LLMConfig,
    journal: Journal,
    progress: bool = True,
    parser: Callable[[str, Request], ParseResult] | None = None,
) -> RunStats:
    """Synchronous :func:`run_requests_async`; works inside Jupyter (runs in a thread when a loop is running)."""
    coro = run_requests_async(requests, config=config, journal=journal, progress=progress, parser=parser)
    try:
        asyncio.get_running_loop()
        running = True
    except RuntimeError:
        running = False
    if not running:  # outside the except block: errors are not chained to "no running event loop"
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["out"] = asyncio.run(coro)
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            box["err"] = e

    th = threading.Thread(target=target)
    th.start()
    th.join()
    if "err" in box:
        raise box["err"]
    return box["out"]
