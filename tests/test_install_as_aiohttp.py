"""airhttp.install_as_aiohttp(): code written for aiohttp, run unchanged on airhttp.

Each case runs in a fresh interpreter (the switch changes sys.modules for good), with a
small raw HTTP server inside the same script, in the style of popular aiohttp-based SDKs.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# A tiny HTTP/1.1 server the scripts share: it answers with what it received, and the
# first two requests to /flaky get their connections closed without an answer (the
# session itself sends a GET once more after that, as aiohttp does).
SERVER = """
import asyncio, json

FLAKY = {"left": 2}

async def handle(reader, writer):
    while True:
        try:
            head = await reader.readuntil(b"\\r\\n\\r\\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            break
        length = 0
        for line in head.split(b"\\r\\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await reader.readexactly(length) if length else b""
        if b" /flaky " in head.split(b"\\r\\n")[0] and FLAKY["left"]:
            FLAKY["left"] -= 1
            writer.close()
            return
        reply = json.dumps({"head": head.decode("latin-1"), "body": body.decode("latin-1")})
        data = reply.encode()
        writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\n"
                     b"Content-Length: %d\\r\\n\\r\\n" % len(data) + data)
        await writer.drain()
    writer.close()

async def start():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, "http://127.0.0.1:%d" % server.sockets[0].getsockname()[1]
"""


def run(script: str) -> str:
    """Run `script` (after the shared server code) in a fresh interpreter; its stdout."""
    code = SERVER + textwrap.dedent(script)
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_aiohttp_and_its_modules_are_airhttps() -> None:
    out = run(
        """
        import airhttp
        airhttp.install_as_aiohttp()
        airhttp.install_as_aiohttp()  # a second call is harmless
        import aiohttp
        import aiohttp.client
        from aiohttp.client_exceptions import ClientError
        from aiohttp import hdrs, connector
        assert aiohttp is airhttp
        assert aiohttp.client is airhttp.client
        assert ClientError is airhttp.ClientError
        assert hdrs is airhttp.hdrs and connector is airhttp.connector
        import sys
        assert sys.modules["aiohttp.client"] is airhttp.client
        print("ok")
        """
    )
    assert out == "ok"


def test_the_server_side_is_refused_with_the_reason() -> None:
    out = run(
        """
        import airhttp
        airhttp.install_as_aiohttp()
        for name in ("aiohttp.web", "aiohttp.web_request", "aiohttp.test_utils"):
            try:
                __import__(name)
            except ImportError as exc:
                assert "server" in str(exc) and "install_as_aiohttp" in str(exc), exc
                assert exc.name == name
            else:
                raise AssertionError(name + " was importable")
        try:
            import aiohttp.no_such_module
        except ModuleNotFoundError:
            pass
        print("ok")
        """
    )
    assert out == "ok"


def test_it_refuses_when_the_real_aiohttp_is_already_imported() -> None:
    out = run(
        """
        import aiohttp
        import airhttp
        try:
            airhttp.install_as_aiohttp()
        except RuntimeError as exc:
            print(exc)
        import sys
        assert sys.modules["aiohttp"] is aiohttp and aiohttp is not airhttp
        """
    )
    assert out == (
        "aiohttp is already imported; call airhttp.install_as_aiohttp() before "
        "anything imports aiohttp"
    )


def test_a_bot_framework_building_its_user_agent_from_server_software() -> None:
    # In the style of aiogram's session: User-Agent from aiohttp.http.SERVER_SOFTWARE.
    out = run(
        """
        import airhttp
        airhttp.install_as_aiohttp()
        import asyncio, json
        import aiohttp
        from aiohttp.http import SERVER_SOFTWARE

        class BotSession:
            def __init__(self):
                self._session = None
            async def create(self):
                if self._session is None or self._session.closed:
                    self._session = aiohttp.ClientSession(
                        headers={"User-Agent": f"{SERVER_SOFTWARE} bot/3.0"},
                        timeout=aiohttp.ClientTimeout(total=5),
                    )
                return self._session
            async def call(self, url, payload):
                session = await self.create()
                async with session.post(url, json=payload) as resp:
                    resp.raise_for_status()
                    return await resp.json()
            async def close(self):
                if self._session is not None:
                    await self._session.close()

        async def main():
            server, base = await start()
            bot = BotSession()
            try:
                got = await bot.call(base + "/sendMessage", {"chat_id": 1, "text": "hi"})
            finally:
                await bot.close()
                server.close()
            head = got["head"]
            ua = [l for l in head.split("\\r\\n") if l.lower().startswith("user-agent:")][0]
            print(ua)
            print(json.loads(got["body"]))

        asyncio.run(main())
        """
    )
    ua, body = out.splitlines()
    assert " aiohttp/" in ua and " airhttp/" in ua and ua.endswith(" bot/3.0")
    assert body == "{'chat_id': 1, 'text': 'hi'}"


def test_an_sdk_uploading_multipart_without_quoting_fields() -> None:
    out = run(
        """
        import airhttp
        airhttp.install_as_aiohttp()
        import asyncio, io
        import aiohttp

        async def upload(session, url, name, data):
            form = aiohttp.FormData(quote_fields=False)
            form.add_field("purpose", "assistants")
            form.add_field("file", io.BytesIO(data), filename=name,
                           content_type="application/octet-stream")
            async with session.post(url, data=form) as resp:
                return await resp.json()

        async def main():
            server, base = await start()
            async with aiohttp.ClientSession() as session:
                got = await upload(session, base + "/files", "my report.txt", b"hello")
            server.close()
            head, body = got["head"], got["body"]
            assert "multipart/form-data; boundary=" in head
            assert 'name="purpose"' in body and "assistants" in body
            assert 'filename="my report.txt"' in body and "hello" in body
            print("ok")

        asyncio.run(main())
        """
    )
    assert out == "ok"


def test_a_retry_wrapper_catching_server_disconnected() -> None:
    out = run(
        """
        import airhttp
        airhttp.install_as_aiohttp()
        import asyncio
        import aiohttp

        async def get_with_retries(session, url, attempts=3):
            for attempt in range(attempts):
                try:
                    async with session.get(url) as resp:
                        return attempt, resp.status
                except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                    await asyncio.sleep(0.01)
            raise RuntimeError("gave up")

        async def main():
            server, base = await start()
            async with aiohttp.ClientSession() as session:
                print(await get_with_retries(session, base + "/flaky"))
            server.close()

        asyncio.run(main())
        """
    )
    assert out == "(1, 200)"


@pytest.mark.parametrize("name", ["aiohttp.web", "aiohttp.web_response"])
def test_without_the_call_nothing_changes(name: str) -> None:
    # The real aiohttp (a test dependency here) is untouched unless asked.
    out = run(
        f"""
        import airhttp, importlib
        module = importlib.import_module("{name}")
        import aiohttp
        assert aiohttp is not airhttp and module.__name__ == "{name}"
        print("ok")
        """
    )
    assert out == "ok"
