"""airhttp.testing: activation (which sessions a router covers), upload progress of
mocked requests, and the pytest fixture, over the real session and middleware chain."""

from __future__ import annotations

import asyncio

import pytest
from yarl import URL

import airhttp
from airhttp.testing import MockRouter

from .mock_support import API, NoSocketConnector
from .mock_support import real_server as real_server
from .mock_support import router as router
from .mock_support import session as session

pytest_plugins = ("pytester",)


# --- activation -------------------------------------------------------------------------


async def test_every_session_is_covered_while_active_and_none_after(real_server: URL) -> None:
    async with airhttp.ClientSession() as before:
        router = MockRouter()
        router.get(real_server / "x", body="mocked", repeat=None)
        with router:
            async with airhttp.ClientSession() as inside:
                for session in (before, inside):
                    async with session.get(real_server / "x") as resp:
                        assert await resp.text() == "mocked"
                async with airhttp.request("GET", real_server / "x") as resp:
                    assert await resp.text() == "mocked"
            assert router.active
        assert not router.active
        async with before.get(real_server / "x") as resp:
            assert (await resp.json())["path"] == "/x"
    assert len(router.calls) == 3


async def test_nested_routers_ask_the_newest_first(session: airhttp.ClientSession) -> None:
    with MockRouter(assert_all_called=True) as outer:
        outer.get(f"{API}/a", body="outer a")
        outer.get(f"{API}/b", body="outer b")
        with MockRouter(passthrough=True) as inner:
            inner.get(f"{API}/a", body="inner a")
            async with session.get(f"{API}/a") as resp:
                assert await resp.text() == "inner a"
            async with session.get(f"{API}/b") as resp:
                assert await resp.text() == "outer b"
        async with session.get(f"{API}/a") as resp:
            assert await resp.text() == "outer a"
    with pytest.raises(RuntimeError, match="already active"), outer, outer:
        pass


async def test_assert_all_called_is_checked_on_a_clean_exit_only() -> None:
    router = MockRouter(assert_all_called=True)
    router.get(f"{API}/never")
    with pytest.raises(AssertionError, match="routes never called"):
        with router:
            pass
    with pytest.raises(KeyError), router:
        raise KeyError("the body's own error wins")


async def test_the_router_decorates_sync_and_async_functions(
    session: airhttp.ClientSession,
) -> None:
    router = MockRouter()
    router.get(f"{API}/d", body="decorated", repeat=None)

    @router
    async def fetch() -> str:
        async with session.get(f"{API}/d") as resp:
            return await resp.text()

    @router
    def is_active() -> bool:
        return router.active

    assert await fetch() == "decorated"
    assert is_active() and not router.active


async def test_each_activation_starts_with_no_calls_and_fresh_answers(
    session: airhttp.ClientSession,
) -> None:
    router = MockRouter()
    route = router.get(f"{API}/once", body="first", repeat=1)

    @router
    async def fetch() -> str:
        async with session.get(f"{API}/once") as resp:
            return await resp.text()

    assert await fetch() == "first"
    assert await fetch() == "first"
    assert len(router.calls) == 1 and route.call_count == 1 and route.exhausted
    with router:
        assert not router.calls and not route.calls and not route.exhausted
        assert router.routes == [route]
        await session.get(f"{API}/once")


def test_the_sync_context_manager_works_around_asyncio_run() -> None:
    async def main() -> str:
        async with airhttp.ClientSession(connector=NoSocketConnector()) as session:
            async with session.get(f"{API}/sync") as resp:
                return await resp.text()

    with MockRouter() as router:
        router.get(f"{API}/sync", body="ran")
        assert asyncio.run(main()) == "ran"


# --- upload progress of mocked requests ---------------------------------------------------


async def test_a_mocked_upload_reports_one_attempt_that_sent_the_whole_body(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    router.post(f"{API}/upload", status=201)
    tracker = airhttp.UploadTracker()
    async with session.post(f"{API}/upload", data=b"x" * 5000, upload_tracker=tracker) as resp:
        assert resp.status == 201
        with pytest.warns(DeprecationWarning):
            assert resp.output_size == 5000
    assert (tracker.attempts, tracker.bytes_written, tracker.bytes_total) == (1, 5000, 5000)
    await tracker.upload_complete  # UploadAbortedError if the body counted as unsent


async def test_a_mocked_streamed_upload_counts_every_hop_and_the_callers_bytes(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    router.post(f"{API}/start", status=307, headers={"Location": "/end"})
    router.post(f"{API}/end", status=201)
    tracker = airhttp.UploadTracker()
    async with session.post(
        f"{API}/start", data=b"compress me" * 100, compress="gzip", upload_tracker=tracker
    ) as resp:
        assert resp.status == 201
    assert (tracker.attempts, tracker.bytes_written, tracker.bytes_total) == (2, 1100, 1100)
    await tracker.upload_complete  # UploadAbortedError if the body counted as unsent


async def test_a_mocked_exception_after_the_body_leaves_the_upload_complete(
    session: airhttp.ClientSession, router: MockRouter
) -> None:
    router.post(f"{API}/slow", exception=airhttp.SocketTimeoutError)
    tracker = airhttp.UploadTracker()
    with pytest.raises(airhttp.SocketTimeoutError):
        await session.post(f"{API}/slow", data=b"sent", upload_tracker=tracker)
    assert (tracker.attempts, tracker.bytes_written) == (1, 4)
    await tracker.upload_complete  # UploadAbortedError if the body counted as unsent


# --- the pytest fixture ------------------------------------------------------------------

_FIXTURE_TESTS = """
import airhttp
import pytest


async def test_mocked(airhttp_mock):
    airhttp_mock.get("http://api.test/x", json={"ok": True})
    async with airhttp.ClientSession() as session:
        async with session.get("http://api.test/x") as resp:
            assert await resp.json() == {"ok": True}


async def test_uncalled_route_fails_at_teardown(airhttp_mock):
    airhttp_mock.get("http://api.test/never")


@pytest.mark.airhttp_mock(assert_all_called=False, passthrough=True)
async def test_marker_options(airhttp_mock):
    airhttp_mock.get("http://api.test/never")
    assert airhttp_mock.passthrough


async def test_failing_test_is_not_also_failed_at_teardown(airhttp_mock):
    airhttp_mock.get("http://api.test/never")
    assert False, "the test's own failure"


def test_no_fixture_no_router():
    from airhttp._mock_hook import ACTIVE
    assert ACTIVE == []
"""


def test_the_pytest_fixture_mocks_and_checks_each_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_uses_fixture=_FIXTURE_TESTS)
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        "filterwarnings = error\n"
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_uncalled_route_fails_at_teardown*",
            "*routes never called:*",
        ]
    )
    # errors=1 above: the test that failed on its own is not failed again at teardown.
    assert "ERROR at teardown of test_failing" not in result.stdout.str()
