"""The airhttp bugs the fuzzers found, and a switch to step over known ones.

All seven below are fixed; their inputs stay in tests/test_fuzz_smoke.py as regressions (a
new bug's input goes there as a strict xfail until it is fixed). `python -m tests.fuzz.run
--lenient` (AIRHTTP_FUZZ_LENIENT=1) makes the targets step over the signatures listed here,
to look for other bugs behind an open one; the smoke test's random inputs run with it on.

1. (Fixed: lines are judged in order as they complete.) ResponseParser checked an
   incomplete head or trailer section only once it broke a size limit, and a complete
   one in another order: which HttpProcessingError came, or whether one came before the
   rest of the head, depended on how the bytes were cut.
2. (Fixed; the inputs are regressions now.) ClientRequest.update_cookies rebuilt each
   jar cookie with Morsel.set(), which raises CookieError for names the jar accepts
   ("a(b", "Version") and AttributeError for a name that is also an attribute ("path");
   aiohttp sends them all.
3. (Fixed.) Content-Disposition parameters in a charset whose codec raises UnicodeError
   (not UnicodeDecodeError), e.g. punycode, escaped parse_content_disposition.
4. (Fixed.) The response's Content-Type fast path took "/" as part of a parameter value;
   the email package, like aiohttp, ends the value there (`charset=utf-8/x` is "utf-8").
5. (Fixed: invalid text in a compressed message now fails at its end.) WebSocketReader
   inflated a compressed message as its frames arrive and checks its text
   as it comes out: for one that breaks two rules, the close code depends on where the
   frame was cut. Corrupt deflate data after invalid UTF-8 gives 1002 whole (zlib drops
   the chunk's output when it fails on it) but 1007 cut; text over max_msg_size that is
   invalid UTF-8 early gives 1009 whole but 1007 cut.
6. (Fixed.) A quoted Set-Cookie value whose escapes unquote to a control character
   ("\\000", "\\012") was stored and shown; aiohttp drops the cookie (found by the
   200 s run).
7. (Fixed.) The field count of an incomplete section was checked again only once its
   line count had doubled, so a split trailer section could miss "Too many headers" that
   the whole one raised; folded lines are now told apart as they are counted.
"""

from __future__ import annotations

import os

LENIENT = os.environ.get("AIRHTTP_FUZZ_LENIENT") == "1"


def lenient() -> bool:
    """Whether the known bugs above are stepped over (read at call time)."""
    return LENIENT
