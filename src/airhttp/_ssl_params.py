"""The deprecated TLS arguments (verify_ssl, ssl_context, fingerprint) folded into `ssl`.

Shared by TCPConnector and the per-request arguments of ClientSession so that both
warn and refuse the same combinations. Values only: it opens nothing.
"""

from __future__ import annotations

import ssl
import warnings
from typing import Final

from ._reqrep_types import Fingerprint

__all__ = ("merge_ssl_params",)

_EXCLUSIVE: Final = "verify_ssl, ssl_context, fingerprint and ssl parameters are mutually exclusive"


def merge_ssl_params(
    ssl_param: ssl.SSLContext | bool | Fingerprint | None,
    verify_ssl: bool | None,
    ssl_context: ssl.SSLContext | None,
    fingerprint: bytes | None,
) -> ssl.SSLContext | bool | Fingerprint:
    """Fold the deprecated verify_ssl / ssl_context / fingerprint into one `ssl` value."""
    if ssl_param is True and verify_ssl is None and ssl_context is None and fingerprint is None:
        return True
    if ssl_param is None:
        ssl_param = True
    # stacklevel 3: the warning points at whoever called the connector or request.
    if verify_ssl is not None and not verify_ssl:
        warnings.warn("verify_ssl is deprecated, use ssl=False instead", DeprecationWarning, 3)
        if ssl_param is not True:
            raise ValueError(_EXCLUSIVE)
        ssl_param = False
    if ssl_context is not None:
        warnings.warn("ssl_context is deprecated, use ssl=context instead", DeprecationWarning, 3)
        if ssl_param is not True:
            raise ValueError(_EXCLUSIVE)
        ssl_param = ssl_context
    if fingerprint is not None:
        warnings.warn(
            "fingerprint is deprecated, use ssl=Fingerprint(fingerprint) instead",
            DeprecationWarning,
            3,
        )
        if ssl_param is not True:
            raise ValueError(_EXCLUSIVE)
        ssl_param = Fingerprint(fingerprint)
    if not isinstance(ssl_param, (bool, Fingerprint, ssl.SSLContext)):
        raise TypeError(
            f"ssl should be SSLContext, bool, Fingerprint or None, got {ssl_param!r} instead."
        )
    return ssl_param
