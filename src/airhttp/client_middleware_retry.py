"""Retries as a client middleware: attempts, backoff with jitter, Retry-After.

Sends only through the handler it is given: it never opens connections, never reads a
response body, and changes nothing in the request it sends again.
"""

from __future__ import annotations

import asyncio
import datetime
import inspect
import math
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from multidict import MultiMapping

from . import hdrs
from .client_exceptions import (
    ClientConnectionResetError,
    ClientOSError,
    ClientSocksProxyError,
    ClientSSLError,
    InvalidURL,
    NonHttpUrlClientError,
    ServerDisconnectedError,
    ServerFingerprintMismatch,
    ServerTimeoutError,
)
from .client_reqrep import ClientHandlerType, ClientRequest, ClientResponse
from .helpers import IDEMPOTENT_METHODS, client_logger, parse_http_date
from .multipart import MultipartWriter
from .payload import AsyncIterablePayload, IOBasePayload, Payload
from .tracing import Trace

__all__ = (
    "DEFAULT_EXCEPTIONS",
    "DEFAULT_METHODS",
    "DEFAULT_STATUSES",
    "PERMANENT_EXCEPTIONS",
    "ClientHandlerType",
    "ClientRequest",
    "ClientResponse",
    "RetryEvent",
    "RetryMiddleware",
    "body_replayable",
    "parse_retry_after",
)

# The answers that say "try again later": too many requests, and the gateway or the
# server being briefly unable to answer.
DEFAULT_STATUSES: Final = frozenset({429, 502, 503, 504})
# RFC 9110 9.2.2: sending one of these twice has the effect of sending it once.
DEFAULT_METHODS: Final = IDEMPOTENT_METHODS
# Connection failures (refused, reset, closed before the answer, DNS) and the connect
# and read timeouts. Not ClientResponseError (the server answered) and not the total
# timeout (no time is left for another attempt).
DEFAULT_EXCEPTIONS: Final[tuple[type[BaseException], ...]] = (
    ClientOSError,
    ClientConnectionResetError,
    ServerDisconnectedError,
    ServerTimeoutError,
)
# Failures another attempt would meet again: a TLS handshake or certificate failure, a
# pin mismatch, a SOCKS proxy refusing the credentials or the target, a URL that cannot
# be sent. Not retried even when a broader listed class covers them (ClientOSError
# covers the first and the third); only naming the class, or a subclass, retries them.
PERMANENT_EXCEPTIONS: Final[tuple[type[BaseException], ...]] = (
    ClientSSLError,
    ServerFingerprintMismatch,
    ClientSocksProxyError,
    InvalidURL,
    NonHttpUrlClientError,
)


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """What `on_retry` is told before the middleware waits to send a request again."""

    request: ClientRequest
    # The attempt about to start: 2 for the first retry.
    attempt: int
    # Seconds until it starts.
    delay: float
    # What the previous attempt ended with: a response (its status is to be retried,
    # and it is already released) or an exception.
    response: ClientResponse | None
    exception: BaseException | None


OnRetry = Callable[[RetryEvent], Awaitable[None] | None]


def parse_retry_after(value: str | None, now: datetime.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (RFC 9110 10.2.3); None if unusable.

    The value is delay-seconds (1*DIGIT) or an HTTP-date; a date in the past means 0.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    when = parse_http_date(value)
    if when is None:
        return None
    if now is None:
        now = datetime.datetime.now(datetime.timezone.utc)
    return max((when - now).total_seconds(), 0.0)


def body_replayable(body: object) -> bool:
    """Whether a request body can be sent once more, unchanged.

    In-memory bodies (bytes, text, JSON, url-encoded forms) always can; a seekable file
    is rewound; an async iterable or a non-seekable stream is read once and cannot.
    """
    if not isinstance(body, Payload):
        return True
    if body.consumed:
        return False
    if isinstance(body, AsyncIterablePayload):
        return False
    if isinstance(body, IOBasePayload):
        return body.rewindable
    if isinstance(body, MultipartWriter):
        return all(body_replayable(part) for part, _, _ in body)
    return True


class RetryMiddleware:
    """Client middleware sending a request again after a failure or a "try later" status.

    `attempts` counts every try (3: the first and two retries). Between tries it waits
    `backoff * backoff_factor ** (retry - 1)` seconds, at most `backoff_max`, drawn
    uniformly from [0, that] with `jitter` ("full jitter"), or what the answer's
    Retry-After asks when `respect_retry_after`. Only `methods` are retried (None: every
    method), and only bodies that can be sent twice. It gives up, and logs why, when no
    attempt is left, when Retry-After asks for more than `retry_after_max` seconds, or
    when the wait would not end before the call's total timeout: the last response is
    returned as it is, the last exception raised.
    """

    __slots__ = (
        "_attempts",
        "_backoff",
        "_backoff_factor",
        "_backoff_max",
        "_exceptions",
        "_jitter",
        "_methods",
        "_on_retry",
        "_respect_retry_after",
        "_retry_after_max",
        "_statuses",
    )

    def __init__(
        self,
        *,
        attempts: int = 3,
        statuses: Iterable[int] = DEFAULT_STATUSES,
        methods: Iterable[str] | None = DEFAULT_METHODS,
        exceptions: Iterable[type[BaseException]] = DEFAULT_EXCEPTIONS,
        backoff: float = 0.5,
        backoff_factor: float = 2.0,
        backoff_max: float = 30.0,
        jitter: bool = True,
        respect_retry_after: bool = True,
        retry_after_max: float | None = 60.0,
        on_retry: OnRetry | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {attempts!r}")
        if backoff < 0 or backoff_max < 0:
            raise ValueError("backoff and backoff_max must not be negative")
        if backoff_factor < 1:
            raise ValueError(f"backoff_factor must be at least 1, not {backoff_factor!r}")
        if retry_after_max is not None and retry_after_max < 0:
            raise ValueError("retry_after_max must not be negative")
        self._attempts = attempts
        self._statuses = frozenset(statuses)
        self._methods = None if methods is None else frozenset(m.upper() for m in methods)
        self._exceptions = tuple(exceptions)
        self._backoff = backoff
        self._backoff_factor = backoff_factor
        self._backoff_max = backoff_max
        self._jitter = jitter
        self._respect_retry_after = respect_retry_after
        self._retry_after_max = retry_after_max
        self._on_retry = on_retry

    async def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        methods = self._methods
        if methods is not None and request.method not in methods:
            return await handler(request)
        attempt = 1
        while True:
            response: ClientResponse | None = None
            error: Exception | None = None
            try:
                response = await handler(request)
            except Exception as exc:
                delay = self._exception_delay(exc, attempt, request)
                if delay is None:
                    raise
                error = exc
            else:
                delay = self._status_delay(response, attempt, request)
                if delay is None:
                    return response
                await _release(response)
            # A body still being uploaded stops with its connection: wait for that, so
            # two uploads never read the same file at once.
            await request.close()
            attempt += 1
            await self._announce(request, attempt, delay, response, error)
            await self.sleep(delay)

    def _exception_delay(
        self, exc: Exception, attempt: int, request: ClientRequest
    ) -> float | None:
        """How long to wait before retrying after `exc`; None to raise it."""
        if type(exc) is asyncio.TimeoutError or not self._retries_type(exc):
            # The total timeout (a plain TimeoutError) leaves no time for another try.
            return None
        return self._delay_or_give_up(request, attempt, _describe_error(exc), None)

    def _status_delay(
        self, response: ClientResponse, attempt: int, request: ClientRequest
    ) -> float | None:
        """How long to wait before retrying after `response`; None to return it."""
        if response.status not in self._statuses:
            return None
        asked = self.retry_after(response.headers) if self._respect_retry_after else None
        return self._delay_or_give_up(request, attempt, _describe_status(response), asked)

    def _delay_or_give_up(
        self, request: ClientRequest, attempt: int, outcome: str, asked: float | None
    ) -> float | None:
        """The wait before the next attempt, or None (logged) when there is to be none.

        `asked` is what Retry-After asks for; without it the wait is the backoff.
        """
        limit = self._retry_after_max
        if attempt >= self._attempts:
            why = f"that was attempt {attempt} of {self._attempts}"
        elif not body_replayable(request.body):
            why = "its body cannot be sent again"
        elif asked is not None and limit is not None and asked > limit:
            why = f"Retry-After asks for {asked:.0f} s, more than retry_after_max ({limit:g} s)"
        else:
            delay = self.backoff_delay(attempt) if asked is None else asked
            left = request.time_left()
            if left is None or delay < left:
                return delay
            why = (
                f"a wait of {delay:.2f} s does not fit in the {left:.2f} s left "
                "of the total timeout"
            )
        client_logger.info(
            "Giving up on %s %s after %s: %s", request.method, request.url, outcome, why
        )
        return None

    def _retries_type(self, exc: BaseException) -> bool:
        """Whether `exc` is one of `exceptions`, and not a permanent failure left unnamed.

        A failure in PERMANENT_EXCEPTIONS is retried only when a listed class that
        matches it is that permanent class or a subclass of it: `ClientOSError` covers
        certificate errors but does not name them, `ClientSSLError` does.
        """
        listed = [cls for cls in self._exceptions if isinstance(exc, cls)]
        if not listed:
            return False
        return all(
            any(issubclass(cls, permanent) for cls in listed)
            for permanent in PERMANENT_EXCEPTIONS
            if isinstance(exc, permanent)
        )

    def retry_after(self, headers: MultiMapping[str]) -> float | None:
        """The seconds a response's Retry-After asks for, or None."""
        return parse_retry_after(headers.get(hdrs.RETRY_AFTER))

    def backoff_delay(self, retry: int) -> float:
        """The wait before retry number `retry` (1 for the first), jitter included."""
        try:
            delay = self._backoff * self._backoff_factor ** (retry - 1)
        except OverflowError:
            delay = math.inf
        delay = min(delay, self._backoff_max)
        if self._jitter:
            # Full jitter: clients that failed together do not come back together.
            return random.uniform(0.0, delay)
        return delay

    async def sleep(self, delay: float) -> None:
        """Wait `delay` seconds before the next attempt (a seam for tests)."""
        await asyncio.sleep(delay)

    async def _announce(
        self,
        request: ClientRequest,
        attempt: int,
        delay: float,
        response: ClientResponse | None,
        exc: Exception | None,
    ) -> None:
        """Log the retry, fire `on_request_retry` and call `on_retry`."""
        reason = _describe_status(response) if response is not None else _describe_error(exc)
        client_logger.info(
            "Retrying %s %s in %.2f s (attempt %d of %d) after %s",
            request.method,
            request.url,
            delay,
            attempt,
            self._attempts,
            reason,
        )
        for trace in _tracers(request):
            await trace.send_request_retry(
                request.method, request.url, request.headers, attempt, delay, response, exc
            )
        if self._on_retry is not None:
            result = self._on_retry(RetryEvent(request, attempt, delay, response, exc))
            if inspect.isawaitable(result):
                await result


def _describe_status(response: ClientResponse) -> str:
    return f"{response.status} {response.reason or ''}".rstrip()


def _describe_error(exc: BaseException | None) -> str:
    return f"{type(exc).__name__}: {exc}"


def _tracers(request: ClientRequest) -> Sequence[Trace]:
    # The request's own tracers, each with the call's trace_config_ctx.
    return [trace for trace in request.traces if isinstance(trace, Trace)]


async def _release(response: ClientResponse) -> None:
    # The retried answer's connection goes back (or is closed) before the wait.
    result = response.release()
    if inspect.isawaitable(result):
        await result
