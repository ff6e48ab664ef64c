"""The request, as request-bound verification sees it: method, URL, header fields, and the
client certificate.

Each adapter builds one :class:`HttpRequest` from its framework's own notion of
the request (the URL as the framework reconstructs it, honouring its proxy
settings) and hands it to :meth:`Verifier.verify_request
<bearerguard.Verifier.verify_request>`. Header names are compared
case-insensitively and every field is kept: a repeated ``Authorization`` or
``DPoP`` field must stay visible, since a request that repeats one is refused.
The client certificate (RFC 8705) is read from the one source the verifier is
configured with (``client_certificate=``, :mod:`._certificates`) by
:func:`asgi_request` and :func:`wsgi_request`, through which every adapter builds
its request; with no source, none is ever looked for.

Example::

    request = HttpRequest(
        method="GET",
        url="https://api.example.com/api/contacts",
        headers={"Authorization": "DPoP eyJ...", "DPoP": "eyJ..."},
    )
    request.header_values("dpop")   # ('eyJ...',)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ._certificates import NO_CERTIFICATE, CertificateSource, Presented, certificate_der

__all__ = ["HttpRequest", "asgi_request", "wants_request", "wsgi_headers", "wsgi_request"]

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


@dataclass(frozen=True, slots=True, init=False)
class HttpRequest:
    """An HTTP request's method, the URL the client used, its header fields, and the client
    certificate it was made with.

    ``headers`` is a mapping (one value per name) or a sequence of ``(name,
    value)`` pairs (repeated names kept, in order). A value that is not text is
    refused with a ``TypeError`` naming it: adapters pass what their framework
    decoded. ``client_certificate`` is the DER of the certificate the client
    presented in its TLS handshake, when the caller has it from a source it trusts
    (e.g. ``ssl_object.getpeercert(binary_form=True)``); bytes that are not one
    X.509 certificate are refused with a ``ValueError``.

    Example::

        HttpRequest("GET", "https://api.example.com/api/contacts",
                    {"Authorization": "Bearer eyJ..."}, client_certificate=der)
    """

    method: str
    url: str
    #: every field as ``(lower-case name, value)``, in the order given
    headers: tuple[tuple[str, str], ...] = field(repr=False)
    #: the DER of the client's certificate, from the verifier's configured source; else None
    client_certificate: bytes | None = field(default=None, repr=False)
    #: why the configured source gave no certificate (a sentence for the log), else None
    client_certificate_error: str | None = field(default=None, repr=False)

    def __init__(
        self,
        method: str,
        url: str,
        headers: Headers = (),
        *,
        client_certificate: bytes | None = None,
    ) -> None:
        presented = NO_CERTIFICATE
        if client_certificate is not None:
            try:
                presented = (certificate_der(client_certificate), None)
            except (TypeError, ValueError) as exc:
                raise type(exc)(
                    f"HttpRequest(client_certificate=...) must be the DER bytes of the one "
                    f"X.509 certificate the client presented: {exc}"
                ) from None
        self._set(method, url, _fields(headers), presented)

    @classmethod
    def _of_fields(
        cls,
        method: str,
        url: str,
        fields: tuple[tuple[str, str], ...],
        presented: Presented = NO_CERTIFICATE,
    ) -> HttpRequest:
        """A request whose fields are already ``(lower-case name, str value)`` pairs: what
        the adapters' builders below make, spared a second pass over every field.
        ``presented`` is what the verifier's certificate source read."""
        request = object.__new__(cls)
        request._set(method, url, fields, presented)
        return request

    def _set(
        self,
        method: str,
        url: str,
        fields: tuple[tuple[str, str], ...],
        presented: Presented = NO_CERTIFICATE,
    ) -> None:
        # Exact types first (one test each); subclasses of str pass the slow way.
        if (
            (type(method) is not str and not isinstance(method, str))
            or not method
            or not method.isascii()
        ):
            raise TypeError(
                f"HttpRequest(method=...) must be the request's method, got {method!r}."
            )
        if (type(url) is not str and not isinstance(url, str)) or not url:
            raise TypeError(
                f"HttpRequest(url=...) must be the absolute URL the client used, got {url!r}."
            )
        _set_method(self, method)
        _set_url(self, url)
        _set_headers(self, fields)
        _set_certificate(self, presented[0])
        _set_certificate_error(self, presented[1])

    def header_values(self, name: str) -> tuple[str, ...]:
        """Every value of the field ``name`` (any case), in order; ``()`` when absent."""
        wanted = name.lower()
        return tuple(value for field_name, value in self.headers if field_name == wanted)


# The slots' own setters, which object.__setattr__ finds by name on every call: a frozen
# dataclass is set up this way, one request at a time.
_set_method, _set_url, _set_headers, _set_certificate, _set_certificate_error = (
    vars(HttpRequest)[name].__set__
    for name in ("method", "url", "headers", "client_certificate", "client_certificate_error")
)


def _fields(headers: object) -> tuple[tuple[str, str], ...]:
    if type(headers) is list or type(headers) is tuple:
        pairs: Iterable[object] = headers  # the usual case: no abstract-class checks
    elif isinstance(headers, (str, bytes)) or not isinstance(headers, (Mapping, Iterable)):
        raise TypeError("HttpRequest(headers=...) takes a mapping or (name, value) pairs.")
    else:
        pairs = headers.items() if isinstance(headers, Mapping) else headers
    fields = []
    for pair in pairs:
        # Exact types first (one test each); subclasses of str and tuple pass the slow way.
        if type(pair) is tuple and len(pair) == 2:
            name, value = pair
            if type(name) is str and type(value) is str:
                fields.append((name.lower(), value))
                continue
        fields.append(_field(pair))
    return tuple(fields)


def _field(pair: object) -> tuple[str, str]:
    """One ``(name, value)`` pair checked, with the error that says what is wrong."""
    if not (isinstance(pair, tuple) and len(pair) == 2):
        raise TypeError(
            f"HttpRequest(headers=...) takes a mapping or (name, value) pairs, got {pair!r}."
        )
    name, value = pair
    if not isinstance(name, str) or not isinstance(value, str):
        raise TypeError(
            f"HttpRequest header {name!r}: names and values must be str (decode bytes as "
            "latin-1, as ASGI servers send them)."
        )
    return name.lower(), value


def wants_request(
    dpop: str,
    authorization: str | Sequence[str] | None,
    has_proof: bool,
    *,
    whole: bool = False,
) -> bool:
    """Whether an adapter must hand the verifier the whole request (``verify_request``):
    DPoP is on and the request uses it (the scheme, or a ``DPoP`` field), or it is required,
    or the verifier reads client certificates (``certificates``: a token's binding to one is
    known only once the token is verified, so every request with credentials goes whole).

    Otherwise the ``Authorization`` field alone decides, on the bearer path's shortcut.

    Example::

        wants_request("allowed", "Bearer eyJ...", has_proof=False)   # False
        wants_request("allowed", "DPoP eyJ...", has_proof=True)      # True
        wants_request("off", "Bearer eyJ...", False, whole=True)   # True
    """
    if whole and authorization:
        return True
    if dpop == "off":
        return False
    if dpop == "required" or has_proof:
        return True
    values = (authorization,) if isinstance(authorization, str) else authorization or ()
    return any(value.lstrip(" \t")[:4].lower() == "dpop" for value in values)


def asgi_request(
    scope: Mapping[str, Any], certificates: CertificateSource | None = None
) -> HttpRequest:
    """The request of an ASGI ``scope``, its URL built as Starlette builds ``request.url``:
    the scheme, the ``Host`` field (else the server's address), the path, the query.

    ``certificates`` is the verifier's client-certificate source
    (``verifier.config.certificate_source``): the request then carries the certificate
    it names (the ``tls`` extension, or a header field), or why there is none.
    """
    # ASGI asks servers for lower-case names, but does not require them.
    headers = tuple(
        [
            (name.decode("latin-1").lower(), value.decode("latin-1"))
            for name, value in scope["headers"]
        ]
    )
    scheme = scope.get("scheme", "http")
    host = next((value for name, value in headers if name == "host"), None)
    if not host and scope.get("server"):
        name, port = scope["server"]
        name = f"[{name}]" if ":" in name and not name.startswith("[") else name
        host = name if port == _DEFAULT_PORTS.get(scheme) else f"{name}:{port}"
    path = quote(scope["path"], safe=_PATH_SAFE)
    query = (scope.get("query_string") or b"").decode("latin-1")
    url = f"{scheme}://{host or 'localhost'}{path}" + (f"?{query}" if query else "")
    method = scope.get("method", "GET")  # a WebSocket handshake is a GET
    presented = NO_CERTIFICATE if certificates is None else certificates.from_asgi(scope, headers)
    return HttpRequest._of_fields(method, url, headers, presented)


_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# Characters a path keeps as they are when it is put back in a URL (RFC 3986 pchar and "/").
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def wsgi_request(
    environ: Mapping[str, Any],
    certificates: CertificateSource | None = None,
    *,
    method: str | None = None,
    url: str | None = None,
    asgi_scope: Mapping[str, Any] | None = None,
) -> HttpRequest:
    """The request of a WSGI ``environ``, its URL rebuilt as PEP 3333 says: the scheme, the
    ``Host`` field (else the server's name and port), ``SCRIPT_NAME`` and ``PATH_INFO``
    quoted again, the query. Its header fields are :func:`wsgi_headers`.

    ``certificates`` is the verifier's client-certificate source: the request then carries
    the certificate it names (``SSL_CLIENT_CERT``, or a header field), or why there is none.
    A framework with its own notion of the request passes its ``method`` and ``url`` (Flask's
    ``request.url``, Django's ``build_absolute_uri()``, which honour their proxy settings),
    and, serving under ASGI with an environ-shaped request (Django's ``request.META``), the
    ASGI scope behind it as ``asgi_scope``, whose ``tls`` extension ``"tls"`` reads.

    Example::

        wsgi_request(environ, verifier.config.certificate_source)
    """
    fields = wsgi_headers(environ)
    presented = (
        NO_CERTIFICATE
        if certificates is None
        else certificates.from_wsgi(environ, fields, asgi_scope)
    )
    if url is None:
        url = _wsgi_url(environ)
    method = method or environ.get("REQUEST_METHOD") or "GET"
    return HttpRequest._of_fields(method, url, tuple(fields), presented)


def _wsgi_url(environ: Mapping[str, Any]) -> str:
    """The URL of a WSGI ``environ``, as PEP 3333 rebuilds it."""
    scheme = environ.get("wsgi.url_scheme") or "http"
    host = environ.get("HTTP_HOST")
    if not host:
        name, port = environ.get("SERVER_NAME") or "localhost", environ.get("SERVER_PORT")
        name = f"[{name}]" if ":" in name and not name.startswith("[") else name
        host = name if not port or port == str(_DEFAULT_PORTS.get(scheme)) else f"{name}:{port}"
    path = _wsgi_quote(environ.get("SCRIPT_NAME", "")) + _wsgi_quote(environ.get("PATH_INFO", ""))
    # A "#" a client let into its query would end the URL's query here: keep it in.
    query = environ.get("QUERY_STRING", "").replace("#", "%23")
    return f"{scheme}://{host}{path or '/'}" + (f"?{query}" if query else "")


def wsgi_headers(environ: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The header fields of a WSGI ``environ`` (or of Django's ``request.META``): the
    ``HTTP_*`` keys, ``CONTENT_TYPE`` and ``CONTENT_LENGTH``.

    A server folds a repeated field into one comma-joined value. A DPoP proof (a compact
    JWS) never holds a comma, so a ``DPoP`` value with one is split back into the fields
    it was made of, and a request that sent several proofs is seen to (RFC 9449 §4.3).
    """
    fields: list[tuple[str, str]] = []
    for key, value in environ.items():
        if not isinstance(value, str):
            continue  # not a field a server received
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key.replace("_", "-").lower()
        else:
            continue
        if name == "dpop" and "," in value:
            fields.extend((name, part.strip(" \t")) for part in value.split(","))
        else:
            fields.append((name, value))
    return fields


def _wsgi_quote(path: str) -> str:
    """A ``SCRIPT_NAME`` or ``PATH_INFO`` put back in a URL: its bytes (latin-1, PEP 3333)
    percent-encoded, a literal "%" included, RFC 3986 path characters kept."""
    try:
        return quote(path, safe=_WSGI_PATH_SAFE, encoding="latin-1")
    except UnicodeEncodeError:  # a server that decoded it as UTF-8 already
        return quote(path, safe=_WSGI_PATH_SAFE)


# A WSGI path is decoded: a "%" in it was sent as "%25" and is encoded again.
_WSGI_PATH_SAFE = _PATH_SAFE.replace("%", "")
