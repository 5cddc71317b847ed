"""TCPConnector(os_trust_store=True): verifying with the OS certificate store via truststore.

A test cannot add a CA to the real OS store. On Linux truststore asks OpenSSL's default verify
paths, which honour SSL_CERT_FILE / SSL_CERT_DIR, so the test CA is "installed" by pointing
those at it, in a subprocess so that the variables never reach the rest of the suite. Failures
need no such trick: no OS store holds a CA made for this run.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import ssl
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

import airhttp
from airhttp import Fingerprint
from airhttp.client_exceptions import ClientConnectorCertificateError
from airhttp.connector import TCPConnector

from .conftest import WebServer, read_request
from .tcp_support import LoopbackServer, ok_app, pipe, tls_material

HAS_TRUSTSTORE = importlib.util.find_spec("truststore") is not None
needs_truststore = pytest.mark.skipif(not HAS_TRUSTSTORE, reason="truststore is not installed")
# macOS and Windows ask their own stores, which a test cannot write to without admin rights.
needs_openssl_store = pytest.mark.skipif(
    sys.platform in ("darwin", "win32", "ios"),
    reason="only where truststore verifies with OpenSSL (Linux) can a test install a CA",
)

_OK: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


class ForwardProxy(LoopbackServer):
    """CONNECT relays to the named port; any other request is answered "ok" by the proxy.

    Given a server context, the proxy itself speaks TLS (an https:// proxy).
    """

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        super().__init__()
        self._context = context
        self.scheme = "https" if context is not None else "http"

    async def start(self) -> URL:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self._context)
        port = self._server.sockets[0].getsockname()[1]
        return URL.build(scheme=self.scheme, host="127.0.0.1", port=port)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await read_request(reader)
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()
            return
        if not head.startswith(b"CONNECT "):
            writer.write(_OK)
            await writer.drain()
            writer.close()
            return
        host, _, port = head.split(b" ")[1].decode().rpartition(":")
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.fixture
async def tls_url(web_server: WebServer) -> URL:
    """An aiohttp.web server whose certificate (localhost, 127.0.0.1) the test CA signed."""
    return await web_server.start(ok_app(), ssl_context=tls_material().server_context())


@pytest.fixture
async def tunnel_proxy() -> AsyncIterator[URL]:
    proxy = ForwardProxy()
    yield await proxy.start()
    await proxy.close()


@pytest.fixture
async def tls_proxy() -> AsyncIterator[URL]:
    proxy = ForwardProxy(tls_material().server_context())
    yield await proxy.start()
    await proxy.close()


@pytest.fixture
def built_contexts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the truststore contexts made (one entry each) from now on in this process."""
    import truststore

    built: list[int] = []

    class CountingContext(truststore.SSLContext):
        def __init__(self, protocol: int) -> None:
            built.append(protocol)
            super().__init__(protocol)

    monkeypatch.setattr(truststore, "SSLContext", CountingContext)
    return built


async def _get(connector: TCPConnector, url: URL, times: int = 1, **kwargs: Any) -> str:
    async with airhttp.ClientSession(connector=connector) as session:
        text = ""
        for _ in range(times):
            async with session.get(url, **kwargs) as resp:
                text = await resp.text()
        return text


# --- the package is optional -----------------------------------------------------------------


async def test_os_trust_store_without_the_package_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # None in sys.modules makes `import truststore` fail as if it were not installed.
    monkeypatch.setitem(sys.modules, "truststore", None)
    with pytest.raises(RuntimeError, match=r"pip install 'airhttp\[truststore\]'"):
        TCPConnector(os_trust_store=True)


async def test_a_default_connector_needs_no_truststore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "truststore", None)
    await TCPConnector().close()


async def test_importing_airhttp_does_not_import_truststore() -> None:
    script = (
        "import asyncio, sys, airhttp\n"
        "async def main():\n"
        "    await airhttp.TCPConnector().close()\n"
        "asyncio.run(main())\n"
        "print('truststore' in sys.modules)\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0
    assert out.decode().strip() == "False"


# --- what the OS store does not hold fails (this process, the real store) ---------------------


@needs_truststore
async def test_os_trust_store_rejects_a_ca_the_os_store_lacks(
    tls_url: URL, built_contexts: list[int]
) -> None:
    with pytest.raises(ClientConnectorCertificateError) as info:
        await _get(TCPConnector(os_trust_store=True), tls_url)
    assert info.value.port == tls_url.port
    assert built_contexts == [ssl.PROTOCOL_TLS_CLIENT]


@needs_truststore
@pytest.mark.skipif(sys.version_info < (3, 11), reason="TLS inside TLS needs asyncio 3.11")
async def test_os_trust_store_verifies_the_target_through_a_tunnel(
    tls_url: URL, tunnel_proxy: URL, built_contexts: list[int]
) -> None:
    with pytest.raises(ClientConnectorCertificateError) as info:
        await _get(TCPConnector(os_trust_store=True), tls_url, proxy=tunnel_proxy)
    assert info.value.port == tls_url.port
    assert len(built_contexts) == 1


@needs_truststore
async def test_os_trust_store_verifies_an_https_proxy(
    tls_proxy: URL, built_contexts: list[int]
) -> None:
    with pytest.raises(ClientConnectorCertificateError) as info:
        await _get(TCPConnector(os_trust_store=True), URL("http://127.0.0.1:9/"), proxy=tls_proxy)
    assert info.value.port == tls_proxy.port
    assert len(built_contexts) == 1


@needs_truststore
async def test_os_trust_store_context_is_built_on_first_tls_use_once_per_connector(
    tls_url: URL, built_contexts: list[int]
) -> None:
    connector = TCPConnector(os_trust_store=True, force_close=True)
    assert built_contexts == []
    async with airhttp.ClientSession(connector=connector) as session:
        for _ in range(2):  # force_close: each request is a new TLS handshake
            with pytest.raises(ClientConnectorCertificateError):
                await session.get(tls_url)
    assert len(built_contexts) == 1
    with pytest.raises(ClientConnectorCertificateError):
        await _get(TCPConnector(os_trust_store=True), tls_url)
    assert len(built_contexts) == 2


# --- explicit choices keep their meaning ------------------------------------------------------


@needs_truststore
@pytest.mark.parametrize(
    "connector_ssl",
    [False, Fingerprint(tls_material().fingerprint), tls_material().client_context()],
    ids=["ssl=False", "Fingerprint", "SSLContext"],
)
async def test_explicit_connector_ssl_wins_over_the_os_trust_store(
    tls_url: URL, built_contexts: list[int], connector_ssl: Any
) -> None:
    assert await _get(TCPConnector(os_trust_store=True, ssl=connector_ssl), tls_url) == "ok"
    assert built_contexts == []


@needs_truststore
@pytest.mark.parametrize(
    "request_ssl",
    [False, Fingerprint(tls_material().fingerprint), tls_material().client_context()],
    ids=["ssl=False", "Fingerprint", "SSLContext"],
)
async def test_explicit_request_ssl_wins_over_the_os_trust_store(
    tls_url: URL, built_contexts: list[int], request_ssl: Any
) -> None:
    assert await _get(TCPConnector(os_trust_store=True), tls_url, ssl=request_ssl) == "ok"
    assert built_contexts == []


# --- a CA the OS store holds is trusted (a subprocess with SSL_CERT_FILE) ---------------------

_TRUSTING_CLIENT = """
import asyncio, json, sys
import truststore
import airhttp

built = []


class CountingContext(truststore.SSLContext):
    def __init__(self, protocol):
        built.append(protocol)
        super().__init__(protocol)


truststore.SSLContext = CountingContext


async def fetch(url, times=1, force_close=False, **kwargs):
    before = len(built)
    connector = airhttp.TCPConnector(os_trust_store=True, force_close=force_close)
    try:
        async with airhttp.ClientSession(connector=connector) as session:
            for _ in range(times):
                async with session.get(url, **kwargs) as resp:
                    outcome = await resp.text()
    except airhttp.ClientError as exc:
        outcome = type(exc).__name__
    return [outcome, len(built) - before]


async def main(urls):
    results = {
        "direct": await fetch(urls["target"]),
        "twice": await fetch(urls["target"], times=2, force_close=True),
        "https_proxy": await fetch(urls["plain"], proxy=urls["tls_proxy"]),
    }
    if sys.version_info >= (3, 11):
        results["tunnel"] = await fetch(urls["target"], proxy=urls["tunnel_proxy"])
    print(json.dumps(results))


asyncio.run(main(json.loads(sys.argv[1])))
"""


@needs_truststore
@needs_openssl_store
async def test_os_trust_store_trusts_a_ca_the_os_store_holds(
    tls_url: URL, tunnel_proxy: URL, tls_proxy: URL, tmp_path: Path
) -> None:
    ca_file = tmp_path / "ca.pem"
    tls_material().ca.cert_pem.write_to_path(str(ca_file))
    no_dir = tmp_path / "certs"
    no_dir.mkdir()
    # The test CA is the whole OS store: any system CA directory is masked by an empty one.
    env = {**os.environ, "SSL_CERT_FILE": str(ca_file), "SSL_CERT_DIR": str(no_dir)}
    urls = {
        "target": str(tls_url),
        "plain": "http://127.0.0.1:9/",
        "tunnel_proxy": str(tunnel_proxy),
        "tls_proxy": str(tls_proxy),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _TRUSTING_CLIENT,
        json.dumps(urls),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    results = json.loads(out)
    # [what the request got, truststore contexts built for its connector]
    assert results.pop("direct") == ["ok", 1]
    assert results.pop("twice") == ["ok", 1]  # two handshakes, one context
    assert results.pop("https_proxy") == ["ok", 1]
    if sys.version_info >= (3, 11):
        assert results.pop("tunnel") == ["ok", 1]
    assert results == {}
