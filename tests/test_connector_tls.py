"""TLS through TCPConnector: verification, hostnames, pinning, errors and shutdown."""

from __future__ import annotations

import asyncio
import ssl
import sys
from collections.abc import AsyncIterator

import pytest
from yarl import URL

import airhttp
from airhttp import Fingerprint
from airhttp.client_exceptions import (
    ClientConnectorCertificateError,
    ClientConnectorSSLError,
    ClientSSLError,
    ServerFingerprintMismatch,
)
from airhttp.connector import TCPConnector

from .conftest import WebServer
from .tcp_support import FakeResolver, TLSCloseProbe, ok_app, tls_material


async def _get_text(session: airhttp.ClientSession, url: URL | str, **kwargs: object) -> str:
    async with session.get(url, **kwargs) as resp:  # type: ignore[arg-type]
        assert resp.status == 200
        return await resp.text()


@pytest.fixture
async def tls_url(web_server: WebServer) -> URL:
    """An aiohttp.web server whose certificate (for localhost, 127.0.0.1) our CA signed."""
    return await web_server.start(ok_app(), ssl_context=tls_material().server_context())


@pytest.fixture
async def other_url(web_server: WebServer) -> URL:
    """A server whose certificate names only "other.test"."""
    material = tls_material()
    return await web_server.start(ok_app(), ssl_context=material.server_context(material.other))


@pytest.fixture
async def probe() -> AsyncIterator[TLSCloseProbe]:
    server = TLSCloseProbe(tls_material().server_context())
    yield server
    await server.close()


# --- verification ----------------------------------------------------------------------------


async def test_context_trusting_the_ca_verifies_the_server(tls_url: URL) -> None:
    connector = TCPConnector(ssl=tls_material().client_context())
    async with airhttp.ClientSession(connector=connector) as session:
        assert await _get_text(session, tls_url) == "ok"


async def test_per_request_context_verifies_the_server(tls_url: URL) -> None:
    async with airhttp.ClientSession() as session:
        assert await _get_text(session, tls_url, ssl=tls_material().client_context()) == "ok"


async def test_name_in_the_certificate_verifies_through_the_default_resolver(
    tls_url: URL,
) -> None:
    connector = TCPConnector(ssl=tls_material().client_context())
    async with airhttp.ClientSession(connector=connector) as session:
        assert await _get_text(session, tls_url.with_host("localhost")) == "ok"


async def test_trailing_dot_of_the_host_is_left_out_of_the_checked_name(tls_url: URL) -> None:
    # The certificate names "localhost"; a fully qualified "localhost." must match it.
    resolver = FakeResolver({"localhost.": ["127.0.0.1"]})
    connector = TCPConnector(ssl=tls_material().client_context(), resolver=resolver)
    async with airhttp.ClientSession(connector=connector) as session:
        assert await _get_text(session, tls_url.with_host("localhost.")) == "ok"


async def test_default_verification_rejects_an_unknown_ca(tls_url: URL) -> None:
    async with airhttp.ClientSession() as session:
        with pytest.raises(ClientConnectorCertificateError) as info:
            await session.get(tls_url)
    err = info.value
    assert isinstance(err, ClientSSLError)
    assert isinstance(err, ssl.CertificateError)
    assert isinstance(err.certificate_error, ssl.SSLCertVerificationError)
    assert (err.host, err.port, err.ssl) == ("127.0.0.1", tls_url.port, True)
    assert "certificate verify failed" in str(err)


async def test_ssl_false_skips_verification(tls_url: URL) -> None:
    async with airhttp.ClientSession(connector=TCPConnector(ssl=False)) as session:
        assert await _get_text(session, tls_url) == "ok"
    async with airhttp.ClientSession() as session:
        assert await _get_text(session, tls_url, ssl=False) == "ok"


async def test_deprecated_verify_ssl_false_skips_verification(tls_url: URL) -> None:
    with pytest.warns(DeprecationWarning, match="verify_ssl is deprecated"):
        connector = TCPConnector(verify_ssl=False)
    async with airhttp.ClientSession(connector=connector) as session:
        assert await _get_text(session, tls_url) == "ok"


async def test_certificate_for_another_name_is_rejected(other_url: URL) -> None:
    connector = TCPConnector(ssl=tls_material().client_context())
    async with airhttp.ClientSession(connector=connector) as session:
        with pytest.raises(ClientConnectorCertificateError) as info:
            await session.get(other_url)
    assert "mismatch" in str(info.value.certificate_error)


async def test_server_hostname_overrides_the_name_checked(other_url: URL) -> None:
    connector = TCPConnector(ssl=tls_material().client_context())
    async with airhttp.ClientSession(connector=connector) as session:
        text = await _get_text(session, other_url, server_hostname="other.test")
    assert text == "ok"


async def test_plain_http_server_spoken_to_with_https_raises_ssl_error(
    web_server: WebServer,
) -> None:
    url = (await web_server.start(ok_app())).with_scheme("https")
    async with airhttp.ClientSession() as session:
        with pytest.raises(ClientConnectorSSLError) as info:
            await session.get(url, ssl=False)
    err = info.value
    assert isinstance(err, ClientSSLError)
    assert isinstance(err, ssl.SSLError)
    assert isinstance(err.os_error, ssl.SSLError)
    assert (err.host, err.port, err.ssl) == ("127.0.0.1", url.port, False)


async def test_tls_connection_is_reused_for_the_next_request(tls_url: URL) -> None:
    connector = TCPConnector(ssl=tls_material().client_context())
    async with airhttp.ClientSession(connector=connector) as session:
        async with session.get(tls_url) as first:
            await first.read()
            assert first.connection is None
        async with session.get(tls_url) as second:
            await second.read()
        assert sum(len(pool) for pool in connector._idle.values()) == 1


# --- fingerprint pinning ------------------------------------------------------------------


async def test_matching_fingerprint_passes_without_ca_verification(tls_url: URL) -> None:
    pin = Fingerprint(tls_material().fingerprint)
    async with airhttp.ClientSession() as session:
        assert await _get_text(session, tls_url, ssl=pin) == "ok"
    async with airhttp.ClientSession(connector=TCPConnector(ssl=pin)) as session:
        assert await _get_text(session, tls_url) == "ok"


async def test_deprecated_fingerprint_argument_pins_the_certificate(tls_url: URL) -> None:
    with pytest.warns(DeprecationWarning, match="fingerprint is deprecated"):
        connector = TCPConnector(fingerprint=tls_material().fingerprint)
    async with airhttp.ClientSession(connector=connector) as session:
        assert await _get_text(session, tls_url) == "ok"


async def test_mismatching_fingerprint_raises_with_expected_and_got(tls_url: URL) -> None:
    wrong = bytes(32)
    async with airhttp.ClientSession(connector=TCPConnector(ssl=Fingerprint(wrong))) as session:
        with pytest.raises(ServerFingerprintMismatch) as info:
            await session.get(tls_url)
        # The pinned-out connection must not linger in the pool.
        assert not session.connector._idle  # type: ignore[union-attr]
    err = info.value
    assert err.expected == wrong
    assert err.got == tls_material().fingerprint
    assert (err.host, err.port) == ("127.0.0.1", tls_url.port)


@pytest.mark.parametrize("length", [16, 20])
def test_md5_and_sha1_length_fingerprints_are_refused(length: int) -> None:
    with pytest.raises(
        ValueError, match=r"^md5 and sha1 are insecure and not supported\. Use sha256\.$"
    ):
        Fingerprint(bytes(length))


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_fingerprints_of_other_lengths_are_refused(length: int) -> None:
    with pytest.raises(ValueError, match=r"^fingerprint has invalid length$"):
        Fingerprint(bytes(length))


# --- shutdown on close -----------------------------------------------------------------------


async def _one_request_then_close(url: URL, connector: TCPConnector, **close: bool) -> None:
    async with airhttp.ClientSession(connector=connector, connector_owner=False) as session:
        assert await _get_text(session, url) == "ok"
    await connector.close(**close)


async def test_closing_aborts_tls_connections_by_default(probe: TLSCloseProbe) -> None:
    url = await probe.start()
    await _one_request_then_close(url, TCPConnector(ssl=tls_material().client_context()))
    await asyncio.wait_for(probe.ended.wait(), 1)
    assert probe.endings == ["abrupt"]


async def test_ssl_shutdown_timeout_zero_aborts_tls_connections(probe: TLSCloseProbe) -> None:
    url = await probe.start()
    with pytest.warns(DeprecationWarning):
        connector = TCPConnector(ssl=tls_material().client_context(), ssl_shutdown_timeout=0)
    await _one_request_then_close(url, connector)
    await asyncio.wait_for(probe.ended.wait(), 1)
    assert probe.endings == ["abrupt"]


_NO_GRACEFUL_TLS_SHUTDOWN = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="asyncio shuts TLS down gracefully only from 3.11"
)


@_NO_GRACEFUL_TLS_SHUTDOWN
async def test_positive_ssl_shutdown_timeout_shuts_tls_down_gracefully(
    probe: TLSCloseProbe,
) -> None:
    url = await probe.start()
    with pytest.warns(DeprecationWarning):
        connector = TCPConnector(ssl=tls_material().client_context(), ssl_shutdown_timeout=0.5)
    await _one_request_then_close(url, connector)
    await asyncio.wait_for(probe.ended.wait(), 1)
    assert probe.endings == ["close_notify"]


@_NO_GRACEFUL_TLS_SHUTDOWN
async def test_abort_ssl_on_close_overrides_a_graceful_timeout(probe: TLSCloseProbe) -> None:
    url = await probe.start()
    with pytest.warns(DeprecationWarning):
        connector = TCPConnector(ssl=tls_material().client_context(), ssl_shutdown_timeout=0.5)
    await _one_request_then_close(url, connector, abort_ssl=True)
    await asyncio.wait_for(probe.ended.wait(), 1)
    assert probe.endings == ["abrupt"]
