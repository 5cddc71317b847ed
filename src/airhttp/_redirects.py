"""The rules for following a redirect: where to, with which method and body.

Pure decisions on a response already received (RFC 9110 15.4); the session runs the
loop and owns the connections.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from yarl import URL

from . import hdrs
from .client_exceptions import (
    ClientPayloadError,
    InvalidUrlRedirectClientError,
    NonHttpUrlRedirectClientError,
)
from .payload import Payload

if TYPE_CHECKING:
    from ._client_response import ClientResponse

__all__ = ("REDIRECT_CODES", "redirect_becomes_get", "redirect_target", "replayable_body")

REDIRECT_CODES: Final = frozenset({301, 302, 303, 307, 308})
_HTTP_SCHEMES: Final = frozenset({"http", "https"})


def redirect_becomes_get(status: int, method: str) -> bool:
    """RFC 9110 15.4.4: 303 turns into GET (HEAD stays HEAD); so do 301/302 after a POST."""
    return (status == 303 and method != hdrs.METH_HEAD) or (
        (status == 301 or status == 302) and method == hdrs.METH_POST
    )


def replayable_body(body: Any, data: Any) -> Any:
    """The body to send again on a 307/308 (RFC 9110 15.4.8), or an error if it is spent."""
    if isinstance(body, Payload):
        if body.consumed:
            raise ClientPayloadError(
                "Cannot follow redirect with a consumed request body. "
                "Use bytes, a seekable file-like object, or set allow_redirects=False."
            )
        return body
    return data


def redirect_target(resp: ClientResponse, url: URL, requote: bool) -> URL | None:
    """The absolute URL a redirect points to, or None when it names no location."""
    location = resp.headers.get(hdrs.LOCATION) or resp.headers.get(hdrs.URI)
    if location is None:
        return None
    try:
        target = URL(location, encoded=not requote)
    except ValueError as exc:
        raise InvalidUrlRedirectClientError(
            location,
            "Server attempted redirecting to a location that does not look like a URL",
        ) from exc
    scheme = target.scheme
    if scheme not in _HTTP_SCHEMES and scheme != "":
        resp.close()
        raise NonHttpUrlRedirectClientError(location)
    if not scheme:
        target = url.join(target)
    try:
        target.origin()
    except ValueError as exc:
        raise InvalidUrlRedirectClientError(target, "Invalid redirect URL origin") from exc
    return target
