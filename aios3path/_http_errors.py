"""The errors of the lean path's HTTP client (:mod:`aios3path._http`) and its body streams."""

from __future__ import annotations


class HttpConnectionError(ConnectionError):
    """The connection could not be made, broke, or carried something that is not HTTP/1.1."""


class HttpConnectError(HttpConnectionError):
    """No connection could be made (refused, unreachable, name not found, or too slow)."""


class HttpPoolClosedError(HttpConnectionError):
    """The pool was closed (its client is closing): no request can be sent, now or later."""


class HttpTLSError(HttpConnectError):
    """The TLS handshake failed."""


class HttpCertificateError(HttpTLSError):
    """The server's certificate does not verify: trying again cannot help."""


class HttpConnectTimeoutError(HttpConnectError, TimeoutError):
    """No connection within the connect timeout."""


class HttpTimeoutError(HttpConnectionError, TimeoutError):
    """No byte of the response arrived within the read timeout."""


class UnframedStreamError(Exception):
    """A response to stream has no ``Content-Length`` (chunked, or ended by closing).

    Such a body can only be read whole, which a stream exists to avoid; the connection is
    closed and the caller can ask another way.
    """


class StreamPreemptedError(HttpConnectionError):
    """A streamed body's connection went to another request while nobody was reading it.

    The bytes that had arrived are still read first; the rest needs a new request.
    """
