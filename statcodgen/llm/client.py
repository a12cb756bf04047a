"""Async engine for OpenAI-compatible chat endpoints: bounded, retrying, resumable, budgeted.

In: :class:`~statcodgen.llm.config.Request` values, an
:class:`~statcodgen.llm.config.LLMConfig` and a :class:`~statcodgen.llm.journal.Journal`.
Out: answers parsed into lines and written to the journal, and a
:class:`~statcodgen.llm.config.RunStats`.

* :func:`run_requests` (sync) / :func:`run_requests_async` — send every request not already done in
  the journal, with a bounded worker pool per endpoint, retries with exponential backoff + full
  jitter honouring ``Retry-After`` on 429/5xx/timeouts/connection errors, optional AIMD adaptive
  concurrency (a 429 and a timeout both halve it), a timeout per endpoint (``LLMConfig.timeout_for``)
  and one :class:`LLMTimeoutWarning` after repeated timeouts, optional streaming (idle timeout),
  JSON output (a JSON schema of N lines) with a fallback to text per endpoint, usage and cost
  accounting (see :mod:`statcodgen.llm._transport` for one HTTP attempt). Fatal answers
  (401/403/404, 400 context length, or ``max_consecutive_failures`` failures in a row) raise
  :class:`~statcodgen.errors.FatalLLMError` after cancelling the rest; reaching ``max_cost`` raises
  :class:`~statcodgen.errors.BudgetExceededError`. Both carry ``.stats``; the journal is written.
* :func:`register_requests` — record requests as pending with the exact body a run would send
  (for the Batch API export); sends nothing.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import BudgetExceededError, FatalLLMError
from ._transport import Answer, Attempt, lines_schema, send
from .journal import Journal
from .config import LLMConfig, Request, RunStats
from .parsing import ParseResult, format_output

__all__ = ["run_requests", "run_requests_async", "register_requests", "answer_token_cap", "LLMTimeoutWarning"]

log = logging.getLogger(__name__)
#: timeouts in a run after which :class:`LLMTimeoutWarning` is emitted (once)
TIMEOUT_WARN_AFTER = 3


def answer_token_cap(n_lines: int) -> int:
    """The default ``max_tokens`` of a request for ``n_lines`` lines: 64 + 40 per line (a line of a registration form is
    5-15 tokens). Measured need: a 1.5B model once wrote 3,936 tokens in 9 minutes for 20 lines; the cap ends that at
    864. ``LLMConfig.max_tokens`` overrides it."""
    return 64 + 40 * int(n_lines)


class LLMTimeoutWarning(UserWarning):
    """Requests keep timing out: the message gives the measured seconds per successful request,
    the timeout and what to change (``--timeout`` / ``[llm] timeout``, ``--concurrency``)."""


class _Limiter:
    """Concurrency gate per endpoint; AIMD when ``adaptive`` (halved by a 429 or a timeout, once per window)."""

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


class _Run:
    """State shared by the workers of one run."""

    def __init__(self, config: LLMConfig, journal: Journal, parser: Callable[[str, Request], ParseResult], key: str) -> None:
        self.config, self.journal, self.parser, self.api_key = config, journal, parser, key
        self.stats = RunStats()
        self.rng = random.Random(config.seed)
        self.no_format: set[str] = set()  # endpoints that refused response_format: text mode
        self.no_schema: set[str] = set()  # endpoints that refused a JSON schema: plain JSON mode (json_object)
        self.no_stream_options: set[str] = set()  # endpoints that refused stream_options
        self.timeouts = {e.base_url: config.timeout_for(e.base_url) for e in config.endpoints()}
        self.timeout_warned = False
        self.done_seconds: list[float] = []  # duration of each successful attempt
        self.chunks = 0
        self.postfix_at = 0.0
        self.t0 = time.perf_counter()
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

    def response_format(self, r: Request, url: str | None) -> dict[str, Any] | None:
        """JSON schema of ``n_lines`` lines (from the request's metadata), else ``json_object`` (also for an
        endpoint that refused the schema); None when ``json_output`` is off or ``url`` refused JSON mode too."""
        if not self.config.json_output or (url is not None and url in self.no_format):
            return None
        if url is not None and url in self.no_schema:
            return {"type": "json_object"}
        n = r.metadata.get("n_lines")
        return lines_schema(n) if isinstance(n, int) and not isinstance(n, bool) and n >= 1 else {"type": "json_object"}

    def body(self, r: Request, url: str | None = None) -> dict[str, Any]:
        """The JSON body sent to ``url`` (without the streaming fields; also what the journal keeps)."""
        b: dict[str, Any] = {"model": self.config.model, "messages": r.messages, **r.params}
        n = r.metadata.get("n_lines")
        if "max_tokens" not in b and isinstance(n, int) and not isinstance(n, bool) and n >= 1:
            b["max_tokens"] = answer_token_cap(n)  # a runaway answer stops (not part of the key: journals still match)
        fmt = self.response_format(r, url)
        if fmt is not None:
            b["response_format"] = fmt
        return b

    async def call(self, client: Any, r: Request, url: str) -> Answer:
        """One HTTP attempt; returns an :class:`Answer` or raises :class:`Attempt`."""
        body = self.body(r, url)
        if self.config.stream:
            body["stream"] = True
            if url not in self.no_stream_options:
                body["stream_options"] = {"include_usage": True}
        self.stats.sent += 1
        return await send(client, body, key=r.key, url=url, timeout=self.timeouts[url], model=self.config.model,
                          api_key_env=self.config.api_key_env, redact=self.redact,
                          on_chunk=self.on_chunk if self.config.stream else None)

    async def process(self, client: Any, limiter: _Limiter, r: Request, url: str, queue: asyncio.Queue[Request | None]) -> None:
        """Send ``r`` until done, failed or the run stops. With several endpoints, a request to retry
        goes back to the shared queue after its backoff, so a healthy endpoint can take it."""
        c = self.config
        while self.stop is None:
            attempts = self.attempts.get(r.key, 0) + 1
            self.attempts[r.key] = attempts
            epoch = await limiter.acquire()
            t0 = time.perf_counter()
            try:
                ans = await self.call(client, r, url)
            except Attempt as a:
                await limiter.release()
                if a.kind == "no_stream_options":
                    self.no_stream_options.add(url)
                if a.kind == "no_json":
                    self.drop_format(r, url, a)
                if a.kind in ("no_json", "no_stream_options"):  # not an attempt: the same request, adapted
                    self.attempts[r.key] -= 1
                    continue
                if a.kind == "fatal":
                    self.journal.record_failure(r.key, a.message, status="fatal", attempts=attempts, metadata=r.metadata)
                    self.fail(FatalLLMError(a.message), "fatal")
                    return
                if a.status == 429:
                    self.stats.rate_limited += 1
                    limiter.on_rate_limit(epoch)
                elif a.timed_out:  # the server is overloaded as surely as with a 429: same decrease
                    self.stats.timeouts += 1
                    limiter.on_rate_limit(epoch)
                    self.warn_timeouts(url, limiter)
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
            self.done_seconds.append(time.perf_counter() - t0)
            parsed = self.parser(ans.content, r)
            usage = ans.usage
            self.journal.record_success(
                r.key, ans.raw, lines=parsed.lines, rejected=parsed.rejected, attempts=attempts, metadata=r.metadata, **usage
            )
            self.consecutive_failures = 0
            st = self.stats
            st.succeeded += 1
            st.usage_estimated += int(ans.estimated)
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

    def drop_format(self, r: Request, url: str, a: Attempt) -> None:
        """``url`` refused ``response_format``: a JSON schema gives way to plain JSON mode (``json_object``, which
        llama-cpp-python and older servers know), plain JSON mode to text prompts; warn once per step and endpoint."""
        sent = a.refused_format or (self.response_format(r, url) or {}).get("type")
        if not sent or url in self.no_format or (sent == "json_schema" and url in self.no_schema):
            return  # another request in flight already took this step
        if sent == "json_schema":
            self.no_schema.add(url)
            self.stats.json_schema_fallback = True
            then = "ask for plain JSON (response_format='json_object') for the rest of the run."
        else:
            self.no_format.add(url)
            self.stats.json_fallback = True
            then = "are sent without response_format for the rest of the run and the answers are parsed as text."
        msg = f"The endpoint {url} refused response_format={sent!r} ({a.message[:200]}); its requests {then}"
        log.warning(msg)
        self.stats.warnings.append(msg)

    def warn_timeouts(self, url: str, limiter: _Limiter) -> None:
        """After :data:`TIMEOUT_WARN_AFTER` timeouts, once per run: log and warn with the measured
        seconds per successful request, the timeout and what to change."""
        st, c = self.stats, self.config
        if self.timeout_warned or st.timeouts < TIMEOUT_WARN_AFTER:
            return
        self.timeout_warned = True
        t = self.timeouts[url]
        done = self.done_seconds
        if done:
            mean, slowest = sum(done) / len(done), max(done)
            every = (time.perf_counter() - self.t0) / len(done)
            measured = (f"Successful requests took {mean:.1f} s each on average (slowest {slowest:.1f} s; "
                        f"{len(done)} done so far, one every {every:.1f} s)")
        else:
            slowest = t
            measured = f"No request has succeeded yet: every answer took longer than {t:g} s"
        want = max(2 * t, 3 * slowest)  # the slowest answers are longer than any success: keep a margin
        suggest = math.ceil(want) if want < 60 else int(math.ceil(want / 10.0) * 10)
        msg = (f"{st.timeouts} requests to {url} timed out after {t:g} s: the client gave up and sent them again, and a "
               f"server that does not cancel abandoned requests computes each of them again. {measured}. Raise the "
               f"timeout above the slowest answer (--timeout {suggest} on the command line, or timeout = {suggest} "
               f"under [llm]) and/or lower the concurrency (now {limiter.cap}: --concurrency {max(1, limiter.cap // 2)}, "
               f"or concurrency under [llm])"
               + ("" if c.adaptive else "; --adaptive (adaptive = true) lowers it by itself on timeouts")
               + ("" if c.stream else "; --stream (stream = true) makes the timeout an idle timeout between chunks")
               + ".")
        log.warning(msg)
        warnings.warn(msg, LLMTimeoutWarning, stacklevel=2)
        st.warnings.append(msg)

    def on_chunk(self, n: int) -> None:
        """A streamed piece of content arrived: count it, refresh the progress bar at most once a second."""
        self.chunks += n
        now = time.perf_counter()
        if self.bar is not None and now - self.postfix_at >= 1.0:
            self.postfix_at = now
            self.postfix()

    def postfix(self) -> None:
        st = self.stats
        extra = {"chunks": self.chunks} if self.config.stream else {}
        self.bar.set_postfix(retries=st.retries, timeouts=st.timeouts, http429=st.rate_limited, failed=st.failed,
                             cost=round(st.cost, 4), **extra, refresh=False)

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
            if self.bar.n % 25 == 0 or self.stats.timeouts:
                self.postfix()


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
    run.stats.timeout_s = [run.timeouts[e.base_url] for e in endpoints]
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
        openai.AsyncOpenAI(api_key=key, base_url=e.base_url, max_retries=0, timeout=run.timeouts[e.base_url],
                           http_client=http_client)
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
    if run.done_seconds:
        st.mean_request_s, st.max_request_s = sum(run.done_seconds) / len(run.done_seconds), max(run.done_seconds)
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
