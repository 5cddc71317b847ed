"""Tests for airhttp.tracing and airhttp._signal: signals, contexts and Trace senders."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import attrs
import pytest
from multidict import CIMultiDict
from yarl import URL

from airhttp import tracing
from airhttp._signal import Signal
from airhttp.tracing import (
    Trace,
    TraceConfig,
    TraceConnectionCreateEndParams,
    TraceConnectionCreateStartParams,
    TraceConnectionQueuedEndParams,
    TraceConnectionQueuedStartParams,
    TraceConnectionReuseconnParams,
    TraceDnsCacheHitParams,
    TraceDnsCacheMissParams,
    TraceDnsResolveHostEndParams,
    TraceDnsResolveHostStartParams,
    TraceRequestChunkSentParams,
    TraceRequestEndParams,
    TraceRequestExceptionParams,
    TraceRequestHeadersSentParams,
    TraceRequestRedirectParams,
    TraceRequestRetryParams,
    TraceRequestStartParams,
    TraceResponseChunkReceivedParams,
)

URL_ = URL("http://example.com/path")
HEADERS: CIMultiDict[str] = CIMultiDict({"Accept": "*/*"})
RESPONSE = object()
EXCEPTION = ValueError("boom")

# (signal property, Trace sender, sender arguments, expected params)
CASES: list[tuple[str, str, tuple[Any, ...], object]] = [
    (
        "on_request_start",
        "send_request_start",
        ("GET", URL_, HEADERS),
        TraceRequestStartParams("GET", URL_, HEADERS),
    ),
    (
        "on_request_chunk_sent",
        "send_request_chunk_sent",
        ("POST", URL_, b"chunk"),
        TraceRequestChunkSentParams("POST", URL_, b"chunk"),
    ),
    (
        "on_response_chunk_received",
        "send_response_chunk_received",
        ("GET", URL_, b"data"),
        TraceResponseChunkReceivedParams("GET", URL_, b"data"),
    ),
    (
        "on_request_end",
        "send_request_end",
        ("GET", URL_, HEADERS, RESPONSE),
        TraceRequestEndParams("GET", URL_, HEADERS, RESPONSE),  # type: ignore[arg-type]
    ),
    (
        "on_request_exception",
        "send_request_exception",
        ("GET", URL_, HEADERS, EXCEPTION),
        TraceRequestExceptionParams("GET", URL_, HEADERS, EXCEPTION),
    ),
    (
        "on_request_redirect",
        "send_request_redirect",
        ("GET", URL_, HEADERS, RESPONSE),
        TraceRequestRedirectParams("GET", URL_, HEADERS, RESPONSE),  # type: ignore[arg-type]
    ),
    (
        "on_request_headers_sent",
        "send_request_headers",
        ("PUT", URL_, HEADERS),
        TraceRequestHeadersSentParams("PUT", URL_, HEADERS),
    ),
    (
        "on_request_retry",
        "send_request_retry",
        ("GET", URL_, HEADERS, 2, 0.5, None, EXCEPTION),
        TraceRequestRetryParams("GET", URL_, HEADERS, 2, 0.5, None, EXCEPTION),
    ),
    (
        "on_connection_queued_start",
        "send_connection_queued_start",
        (),
        TraceConnectionQueuedStartParams(),
    ),
    (
        "on_connection_queued_end",
        "send_connection_queued_end",
        (),
        TraceConnectionQueuedEndParams(),
    ),
    (
        "on_connection_create_start",
        "send_connection_create_start",
        (),
        TraceConnectionCreateStartParams(),
    ),
    (
        "on_connection_create_end",
        "send_connection_create_end",
        (),
        TraceConnectionCreateEndParams(),
    ),
    (
        "on_connection_reuseconn",
        "send_connection_reuseconn",
        (),
        TraceConnectionReuseconnParams(),
    ),
    (
        "on_dns_resolvehost_start",
        "send_dns_resolvehost_start",
        ("example.com",),
        TraceDnsResolveHostStartParams("example.com"),
    ),
    (
        "on_dns_resolvehost_end",
        "send_dns_resolvehost_end",
        ("example.com",),
        TraceDnsResolveHostEndParams("example.com"),
    ),
    (
        "on_dns_cache_hit",
        "send_dns_cache_hit",
        ("example.com",),
        TraceDnsCacheHitParams("example.com"),
    ),
    (
        "on_dns_cache_miss",
        "send_dns_cache_miss",
        ("example.com",),
        TraceDnsCacheMissParams("example.com"),
    ),
]

SIGNAL_NAMES = [case[0] for case in CASES]
# What airhttp adds to aiohttp's tracing surface: the retries of RetryMiddleware.
OWN_SIGNALS = {"on_request_retry"}
OWN_SENDERS = {"send_request_retry"}
OWN_PARAMS = {"TraceRequestRetryParams"}


@pytest.mark.parametrize(("signal_name", "sender", "args", "expected"), CASES)
async def test_each_sender_fires_its_signal_with_session_ctx_and_params(
    signal_name: str, sender: str, args: tuple[Any, ...], expected: object
) -> None:
    config = TraceConfig()
    calls: list[tuple[object, SimpleNamespace, object]] = []

    async def receiver(session: object, ctx: SimpleNamespace, params: object) -> None:
        calls.append((session, ctx, params))

    getattr(config, signal_name).append(receiver)
    config.freeze()
    session = object()
    ctx = config.trace_config_ctx(trace_request_ctx={"k": "v"})
    await getattr(Trace(session, config, ctx), sender)(*args)  # type: ignore[arg-type]

    assert len(calls) == 1
    got_session, got_ctx, params = calls[0]
    assert got_session is session
    assert got_ctx is ctx
    assert type(params) is type(expected)
    assert params == expected


@pytest.mark.parametrize(("signal_name", "sender", "args", "expected"), CASES)
async def test_a_sender_fires_no_other_signal(
    signal_name: str, sender: str, args: tuple[Any, ...], expected: object
) -> None:
    config = TraceConfig()
    fired: list[str] = []
    for name in SIGNAL_NAMES:

        async def receiver(*_: object, _name: str = name) -> None:
            fired.append(_name)

        getattr(config, name).append(receiver)
    config.freeze()
    trace = Trace(object(), config, config.trace_config_ctx())  # type: ignore[arg-type]
    await getattr(trace, sender)(*args)
    assert fired == [signal_name]


async def test_receivers_run_in_registration_order() -> None:
    config = TraceConfig()
    order: list[int] = []

    async def first(*_: object) -> None:
        order.append(1)

    async def second(*_: object) -> None:
        order.append(2)

    config.on_dns_cache_hit.append(first)
    config.on_dns_cache_hit.append(second)
    config.freeze()
    trace = Trace(object(), config, config.trace_config_ctx())  # type: ignore[arg-type]
    await trace.send_dns_cache_hit("h")
    assert order == [1, 2]


async def test_a_failing_receiver_propagates_and_stops_the_rest() -> None:
    config = TraceConfig()
    later: list[int] = []

    async def failing(*_: object) -> None:
        raise KeyError("bad")

    async def after(*_: object) -> None:
        later.append(1)

    config.on_request_start.append(failing)
    config.on_request_start.append(after)
    config.freeze()
    trace = Trace(object(), config, config.trace_config_ctx())  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        await trace.send_request_start("GET", URL_, HEADERS)
    assert later == []


def test_freeze_freezes_every_signal() -> None:
    config = TraceConfig()
    assert not any(getattr(config, name).frozen for name in SIGNAL_NAMES)
    config.freeze()
    assert all(getattr(config, name).frozen for name in SIGNAL_NAMES)


def test_appending_to_a_frozen_signal_raises() -> None:
    config = TraceConfig()
    config.freeze()

    async def receiver(*_: object) -> None:
        pass

    with pytest.raises(RuntimeError, match="Cannot modify frozen list"):
        config.on_request_start.append(receiver)


async def test_sending_through_an_unfrozen_signal_with_receivers_raises() -> None:
    config = TraceConfig()

    async def receiver(*_: object) -> None:
        pass

    config.on_request_end.append(receiver)
    trace = Trace(object(), config, config.trace_config_ctx())  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="Cannot send non-frozen signal"):
        await trace.send_request_end("GET", URL_, HEADERS, RESPONSE)  # type: ignore[arg-type]


def test_signals_belong_to_their_config() -> None:
    first = TraceConfig()
    second = TraceConfig()
    assert first.on_request_start is first.on_request_start
    assert first.on_request_start is not second.on_request_start
    assert "owner=<airhttp.tracing.TraceConfig" in repr(first.on_request_start)


def test_default_ctx_is_a_simple_namespace_holding_the_request_ctx() -> None:
    config = TraceConfig()
    assert config.trace_config_ctx() == SimpleNamespace(trace_request_ctx=None)
    marker = object()
    ctx = config.trace_config_ctx(trace_request_ctx=marker)
    assert isinstance(ctx, SimpleNamespace)
    assert ctx.trace_request_ctx is marker
    assert config.trace_config_ctx() is not config.trace_config_ctx()


def test_custom_ctx_factory_receives_trace_request_ctx_as_keyword() -> None:
    class Ctx(SimpleNamespace):
        pass

    config = TraceConfig(trace_config_ctx_factory=Ctx)
    ctx = config.trace_config_ctx(trace_request_ctx=5)
    assert type(ctx) is Ctx
    assert ctx.trace_request_ctx == 5


def test_params_are_frozen() -> None:
    params = TraceRequestStartParams("GET", URL_, HEADERS)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        params.method = "POST"  # type: ignore[misc]
    assert not hasattr(params, "__dict__")


# --- Signal on its own -----------------------------------------------------------------


async def test_signal_send_passes_positional_and_keyword_arguments() -> None:
    signal: Signal[...] = Signal(owner="me")
    received: list[tuple[tuple[object, ...], dict[str, object]]] = []

    async def receiver(*args: object, **kwargs: object) -> None:
        received.append((args, kwargs))

    signal.append(receiver)
    signal.freeze()
    await signal.send(1, 2, key="v")
    assert received == [((1, 2), {"key": "v"})]


async def test_signal_refuses_to_send_before_it_is_frozen() -> None:
    signal: Signal[...] = Signal(owner="me")
    with pytest.raises(RuntimeError, match="Cannot send non-frozen signal"):
        await signal.send()


def test_signal_is_a_list_until_frozen() -> None:
    signal: Signal[...] = Signal(owner="me")

    async def receiver() -> None:
        pass

    signal.append(receiver)
    signal.insert(0, receiver)
    del signal[0]
    assert list(signal) == [receiver]
    assert repr(signal) == f"<Signal owner='me', frozen=False, [{receiver!r}]>"
    signal.freeze()
    assert signal.frozen
    with pytest.raises(RuntimeError):
        signal.clear()
    with pytest.raises(RuntimeError):
        signal[0] = receiver


# --- Surface compared with aiohttp -----------------------------------------------------


def test_trace_config_exposes_the_same_signals_as_aiohttp() -> None:
    aiohttp_tracing = pytest.importorskip("aiohttp.tracing")
    theirs = {name for name in dir(aiohttp_tracing.TraceConfig) if name.startswith("on_")}
    assert set(SIGNAL_NAMES) == theirs | OWN_SIGNALS
    ours = {name for name in dir(TraceConfig) if name.startswith("on_")}
    assert ours == theirs | OWN_SIGNALS


def test_params_classes_have_the_same_fields_as_aiohttp() -> None:
    aiohttp_tracing = pytest.importorskip("aiohttp.tracing")
    names = [name for name in aiohttp_tracing.__all__ if name.endswith("Params")]
    ours_all = {n for n in tracing.__all__ if n.endswith("Params")}
    assert sorted(names) == sorted(ours_all - OWN_PARAMS)
    for name in names:
        ours = [field.name for field in attrs.fields(getattr(tracing, name))]
        theirs = [field.name for field in attrs.fields(getattr(aiohttp_tracing, name))]
        assert ours == theirs, name


def test_trace_has_the_same_senders_as_aiohttp() -> None:
    aiohttp_tracing = pytest.importorskip("aiohttp.tracing")
    theirs = {name for name in dir(aiohttp_tracing.Trace) if name.startswith("send_")}
    ours = {name for name in dir(Trace) if name.startswith("send_")}
    assert ours == theirs | OWN_SENDERS
    assert {case[1] for case in CASES} == ours
