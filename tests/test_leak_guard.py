"""The suite's own guard: a test that leaks a socket in a reference cycle must fail.

conftest.py collects (and then freezes) after every test; this checks that freezing
the survivors never hides what the next test leaks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ("pytester",)

_LEAKY = """
import socket


class Holder:
    pass


def test_clean_before():
    assert True


def test_leaks_a_socket_in_a_cycle():
    holder = Holder()
    holder.sock = socket.socket()
    holder.me = holder


def test_clean_after():
    assert True
"""


def test_a_socket_leaked_in_a_cycle_fails_the_test_that_leaked_it(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest((Path(__file__).parent / "conftest.py").read_text())
    pytester.makepyfile(test_leaky=_LEAKY)
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        "filterwarnings = error\n"
    )
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*ERROR*test_leaks_a_socket_in_a_cycle*"])
