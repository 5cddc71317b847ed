"""The `airhttp` command (and `python -m airhttp`): a curl-like client over the public API.

Parses the arguments, sends one request (or opens a WebSocket session) and maps failures
to curl's exit codes. It uses only `import airhttp`; drawing on a terminal is `_cli_render`'s.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import enum
import getpass
import mimetypes
import os
import re
import ssl
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from multidict import CIMultiDict
from yarl import URL

import airhttp

from . import _cli_render, _cli_ws

__all__ = ("ExitCode", "exit_code_for", "main")


class ExitCode(enum.IntEnum):
    """curl's numbers for the same failures, so scripts written for curl keep working."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    COULDNT_RESOLVE_HOST = 6
    COULDNT_CONNECT = 7
    HTTP_ERROR = 22
    TIMEOUT = 28
    TLS_ERROR = 35
    TOO_MANY_REDIRECTS = 47
    INTERRUPTED = 130


# RFC 9110 5.6.2: a method and a field name are tokens.
_TOKEN: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_SCHEMES: Final = frozenset({"http", "https", "ws", "wss"})
_PROXY_SCHEMES: Final = frozenset({"http", "https", "socks4", "socks4a", "socks5", "socks5h"})
# No header may carry these: they would end the field, or the head, early (RFC 9110 5.5).
_FORBIDDEN_IN_HEADER: Final = re.compile(r"[\r\n\x00]")
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})

_EPILOG: Final = """\
exit codes (curl's numbers): 0 ok, 1 other error, 2 bad usage, 6 could not resolve host,
7 failed to connect (also to a proxy), 22 HTTP status >= 400 with --fail, 28 timeout,
35 TLS handshake or certificate error, 47 too many redirects, 130 interrupted."""


@dataclasses.dataclass(frozen=True)
class FormField:
    """One -F field: a value, or a file sent with its file name and media type."""

    name: str
    value: str = ""
    path: Path | None = None
    filename: str | None = None
    content_type: str | None = None


@dataclasses.dataclass(frozen=True)
class CliRequest:
    """Everything the command line asked for, checked: what `run` needs and nothing else."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    skip_headers: frozenset[str]
    data: bytes | None
    form: tuple[FormField, ...]
    output: str | None
    follow: bool
    max_redirs: int
    timeout: airhttp.ClientTimeout
    insecure: bool
    proxy: URL | None
    auth: airhttp.BasicAuth | None
    verbose: bool
    head_only: bool
    fail: bool


def build_parser() -> argparse.ArgumentParser:
    """The command line, curl's option names where curl has one."""
    parser = argparse.ArgumentParser(
        prog="airhttp",
        usage="%(prog)s [options] [METHOD] URL",
        description="Send an HTTP request (or open a WebSocket) and write the response body.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("target", nargs="+", metavar="[METHOD] URL", help="method (default GET, POST with a body)")
    add("-H", "--header", action="append", default=[], metavar="'K: V'", help="add a header")
    body = parser.add_mutually_exclusive_group()
    body.add_argument("-d", "--data", action="append", metavar="DATA", help="body; @file, @-")
    body.add_argument("--json", action="append", metavar="JSON", help="JSON body; @file, @-")
    body.add_argument("-F", "--form", action="append", metavar="K=V", help="multipart field")
    add("-o", "--output", metavar="FILE", help="write the body to FILE")
    add("-L", "--location", action="store_true", help="follow redirects")
    add("--max-redirs", type=int, default=50, metavar="N", help="redirect limit (50; -1: none)")
    add("-m", "--max-time", "--timeout", dest="timeout", type=float, metavar="S", help="time limit")
    add("-k", "--insecure", action="store_true", help="do not verify TLS certificates")
    add("-x", "--proxy", metavar="URL", help="http(s)://, socks4(a)://, socks5(h):// proxy")
    add("-u", "--user", metavar="USER[:PASS]", help="basic auth (asks for PASS if missing)")
    add("-v", "--verbose", action="store_true", help="show the heads on stderr")
    add("-I", "--head", action="store_true", help="HEAD request, print the response head")
    add("-f", "--fail", action="store_true", help="exit 22 on HTTP status >= 400")
    add("--http1.1", dest="http11", action="store_true", help="HTTP/1.1 (the only version)")
    add("--version", action="version", version=f"airhttp {airhttp.__version__}")
    return parser


def parse_args(argv: Sequence[str] | None) -> CliRequest:
    """The checked request; a usage error exits with 2 (argparse's own code)."""
    parser = build_parser()
    args = parser.parse_intermixed_args(argv)
    try:
        return _request_from(args)
    except ValueError as exc:
        parser.error(str(exc))


def _request_from(args: argparse.Namespace) -> CliRequest:
    method, url = _method_and_url(args.target, args)
    headers, skip = _parse_headers(args.header)
    data = _data_from(args, headers, skip)
    form = tuple(_parse_form_field(spec) for spec in args.form or ())
    if args.timeout is not None and args.timeout <= 0:
        raise ValueError("--max-time must be positive")
    return CliRequest(
        method=method,
        url=url,
        headers=headers,
        skip_headers=skip,
        data=data,
        form=form,
        output=args.output,
        follow=args.location,
        max_redirs=args.max_redirs,
        # The library's default with the total replaced: -m, or no limit (as curl), but
        # still airhttp's limit on opening a connection (sock_connect, 30 s).
        timeout=dataclasses.replace(airhttp.client.DEFAULT_TIMEOUT, total=args.timeout),
        insecure=args.insecure,
        proxy=_proxy_from(args.proxy),
        auth=_auth_from(args.user),
        verbose=args.verbose,
        head_only=args.head,
        fail=args.fail,
    )


def _method_and_url(target: list[str], args: argparse.Namespace) -> tuple[str, URL]:
    if len(target) > 2:
        raise ValueError(f"expected [METHOD] URL, got {len(target)} words")
    raw_url = target[-1]
    has_body = bool(args.data or args.json or args.form)
    if len(target) == 2:
        method = target[0].upper()
        if not _TOKEN.fullmatch(method):
            raise ValueError(f"not a method: {target[0]!r}")
    else:
        method = "HEAD" if args.head else "POST" if has_body else "GET"
    if args.head and (method != "HEAD" or has_body):
        raise ValueError("-I sends HEAD without a body")
    if "://" not in raw_url:
        raw_url = "http://" + raw_url  # as curl does for a bare host
    try:
        url = URL(raw_url)
    except ValueError as exc:
        raise ValueError(f"bad URL {raw_url!r}: {exc}") from None
    if url.scheme not in _SCHEMES or not url.host:
        raise ValueError(f"unsupported URL {raw_url!r} (http, https, ws or wss)")
    if url.scheme in ("ws", "wss") and (has_body or args.head or args.output):
        raise ValueError("a WebSocket session takes its messages from stdin, not -d/-F/-I/-o")
    return method, url


def _parse_headers(specs: list[str]) -> tuple[CIMultiDict[str], frozenset[str]]:
    """`K: V` adds a header, `K:` drops one airhttp would add, `K;` sends K empty (as curl)."""
    headers: CIMultiDict[str] = CIMultiDict()
    skip: set[str] = set()
    for spec in specs:
        name, colon, value = spec.partition(":")
        if not colon and spec.endswith(";"):
            name, value = spec[:-1], ""
        elif not colon:
            raise ValueError(f"header {spec!r} is not 'Name: value'")
        name = name.strip()
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"bad header name in {spec!r}")
        value = value.strip()
        if _FORBIDDEN_IN_HEADER.search(value):
            raise ValueError(f"header {spec!r}: CR, LF and NUL are not allowed in a value")
        if colon and not value:
            skip.add(name)
            headers.popall(name, None)
            continue
        headers.add(name, value)
    return headers, frozenset(skip)


def _read_argument(value: str) -> bytes:
    """A body argument: text as given, `@file` read from a file, `@-` from stdin."""
    if not value.startswith("@"):
        return value.encode()
    if value == "@-":
        return sys.stdin.buffer.read()
    try:
        return Path(value[1:]).read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {value[1:]!r}: {exc.strerror}") from None


def _data_from(
    args: argparse.Namespace, headers: CIMultiDict[str], skip: frozenset[str]
) -> bytes | None:
    """The -d / --json body (several are joined, with "&" for -d, as curl does).

    Its default headers are added unless given, or removed with `-H 'Name:'`.
    """
    if args.json:
        defaults = {"Content-Type": "application/json", "Accept": "application/json"}
        body = b"".join(_read_argument(part) for part in args.json)
    elif args.data:
        defaults = {"Content-Type": "application/x-www-form-urlencoded"}
        body = b"&".join(_read_argument(part) for part in args.data)
    else:
        return None
    removed = {name.lower() for name in skip}
    for name, value in defaults.items():
        if name.lower() not in removed:
            headers.setdefault(name, value)
    return body


def _proxy_from(value: str | None) -> URL | None:
    """The -x proxy URL, checked; without a scheme it is an HTTP proxy (as for curl)."""
    if value is None:
        return None
    raw = value if "://" in value else "http://" + value
    try:
        url = URL(raw)
    except ValueError as exc:
        raise ValueError(f"bad proxy URL {value!r}: {exc}") from None
    if url.scheme not in _PROXY_SCHEMES:
        raise ValueError(
            f"unsupported proxy URL {value!r} (http, https, socks4, socks4a, socks5 or socks5h)"
        )
    if not url.host:
        raise ValueError(f"proxy URL {value!r} names no host")
    return url


def _parse_form_field(spec: str) -> FormField:
    """`name=value`, or `name=@path[;type=MIME][;filename=NAME]` for a file."""
    name, equals, value = spec.partition("=")
    if not equals or not name:
        raise ValueError(f"form field {spec!r} is not name=value")
    if not value.startswith("@"):
        return FormField(name, value)
    path_text, *params = value[1:].split(";")
    path = Path(path_text)
    if not path.is_file():
        raise ValueError(f"form file {path_text!r} does not exist")
    options = dict(param.partition("=")[::2] for param in params)
    content_type = options.get("type") or mimetypes.guess_type(path.name)[0]
    return FormField(
        name,
        path=path,
        filename=options.get("filename") or path.name,
        content_type=content_type or "application/octet-stream",
    )


def _auth_from(user: str | None) -> airhttp.BasicAuth | None:
    if user is None:
        return None
    login, colon, password = user.partition(":")
    if not colon:
        try:
            with warnings.catch_warnings():
                # Without a terminal getpass itself says the input may be echoed.
                warnings.simplefilter("ignore", getpass.GetPassWarning)
                password = getpass.getpass(f"Enter password for {login}: ")
        except EOFError:
            sys.stderr.write("\n")  # ends the prompt's line
            raise ValueError(f"-u {login}: no password given (stdin ended)") from None
    return airhttp.BasicAuth(login, password)


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: parse, run, and return the exit code."""
    try:
        # Parsing may wait too: for the password of -u.
        request = parse_args(argv)
        return asyncio.run(run(request))
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED


async def run(request: CliRequest) -> int:
    """Send the request (or run the WebSocket session); failures become exit codes."""
    # A plain-HTTP proxy gets the absolute form (RFC 9112 3.2.2); anything else the path.
    absolute_form = request.proxy is not None and request.proxy.scheme in ("http", "https")
    trace_configs = [_cli_render.verbose_trace(absolute_form)] if request.verbose else None
    try:
        # trust_env: HTTP(S)_PROXY, ALL_PROXY and NO_PROXY apply, as they do for curl.
        async with airhttp.ClientSession(
            timeout=request.timeout, trace_configs=trace_configs, trust_env=True
        ) as session:
            if request.url.scheme in ("ws", "wss"):
                return await _websocket(session, request)
            return await _fetch(session, request)
    except BrokenPipeError:
        # The reader of our output left (`| head`): nothing to report, and nothing more
        # may reach the closed pipe, not even the flush at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.FAILURE
    except (airhttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        code = exit_code_for(exc)
        sys.stderr.write(f"airhttp: ({int(code)}) {_describe(exc, request)}\n")
        return code


def exit_code_for(exc: BaseException) -> ExitCode:
    """curl's exit code for a failure of the request."""
    if isinstance(exc, airhttp.TooManyRedirects):
        return ExitCode.TOO_MANY_REDIRECTS
    if isinstance(exc, airhttp.ClientConnectorDNSError):
        return ExitCode.COULDNT_RESOLVE_HOST
    if isinstance(exc, (airhttp.ClientSSLError, airhttp.ServerFingerprintMismatch, ssl.SSLError)):
        return ExitCode.TLS_ERROR
    if isinstance(exc, asyncio.TimeoutError):
        return ExitCode.TIMEOUT
    if isinstance(exc, (airhttp.ClientConnectorError, airhttp.ClientHttpProxyError)):
        return ExitCode.COULDNT_CONNECT
    return ExitCode.FAILURE


def _describe(exc: BaseException, request: CliRequest) -> str:
    if isinstance(exc, airhttp.TooManyRedirects):
        return f"Maximum ({request.max_redirs}) redirects followed"
    if isinstance(exc, asyncio.TimeoutError) and not str(exc):
        return f"Operation timed out after {request.timeout.total} seconds"
    return str(exc) or type(exc).__name__


def _request_options(request: CliRequest) -> dict[str, Any]:
    """The keyword arguments of `session.request` / `ws_connect` shared by both."""
    options: dict[str, Any] = {
        "headers": request.headers,
        "proxy": request.proxy,
        "auth": request.auth,
    }
    if request.insecure:
        options["ssl"] = False
    return options


async def _fetch(session: airhttp.ClientSession, request: CliRequest) -> int:
    follow = request.follow and request.max_redirs != 0
    options = _request_options(request)
    async with session.request(
        request.method,
        request.url,
        data=_body(request),
        skip_auto_headers=request.skip_headers,
        allow_redirects=follow,
        # curl's -1 is "no limit"; airhttp needs a number.
        max_redirects=request.max_redirs if request.max_redirs > 0 else sys.maxsize,
        **options,
    ) as response:
        if request.follow and not follow and _is_redirect(response):
            raise airhttp.TooManyRedirects(response.request_info, response.history)
        if request.head_only:
            _cli_render.write_heads(response)
        if request.fail and response.status >= 400:
            sys.stderr.write(
                f"airhttp: ({int(ExitCode.HTTP_ERROR)}) The requested URL returned error: "
                f"{response.status}\n"
            )
            return ExitCode.HTTP_ERROR
        if not request.head_only:
            await _cli_render.write_body(response, request.output)
    return ExitCode.OK


def _is_redirect(response: airhttp.ClientResponse) -> bool:
    return response.status in _REDIRECTS and "Location" in response.headers


def _body(request: CliRequest) -> bytes | airhttp.FormData | None:
    if not request.form:
        return request.data
    form = airhttp.FormData()
    for field in request.form:
        if field.path is None:
            form.add_field(field.name, field.value)
        else:
            # The session closes the file once the body is sent.
            form.add_field(
                field.name,
                field.path.open("rb"),
                filename=field.filename,
                content_type=field.content_type,
            )
    return form


async def _websocket(session: airhttp.ClientSession, request: CliRequest) -> int:
    try:
        async with session.ws_connect(request.url, **_request_options(request)) as ws:
            return await _cli_ws.chat(ws, sys.stdin.fileno(), sys.stdout)
    except airhttp.WSServerHandshakeError as exc:
        if request.fail and exc.status >= 400:
            sys.stderr.write(f"airhttp: ({int(ExitCode.HTTP_ERROR)}) handshake refused: {exc}\n")
            return ExitCode.HTTP_ERROR
        raise
