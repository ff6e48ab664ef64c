"""Client certificates (RFC 8705 §3): where a request's certificate is found, how it is read,
and the thumbprint a certificate-bound token names.

Where the certificate comes from is configured (``client_certificate=``), never guessed:

* ``"tls"``: the server terminated TLS itself and says which certificate the client
  presented: the ASGI ``tls`` extension's ``client_cert_chain`` (its first PEM, the
  client's own) or the WSGI environ's ``SSL_CLIENT_CERT`` (a PEM);
* ``"header:Client-Cert"``: RFC 9440, one Structured Field Byte Sequence of the DER,
  ``:MIIB...:``;
* ``"header:X-Forwarded-Client-Cert"``: Envoy's XFCC, the ``Cert`` key (a URL-encoded
  PEM) of the header's one element;
* ``"header:X-SSL-Client-Cert"``: nginx's ``$ssl_client_escaped_cert``, a URL-encoded PEM.

Naming a header says that a trusted proxy in front of the API terminated the client's
TLS, sets that field and removes any copy a client sent; without the setting no such
field is ever read. Every value is read strictly and bounded (16 KiB): a value that is
not exactly one certificate in its source's format gives no certificate, and the reason
says what was wrong (for the log: a certificate-bound token is then refused, 401
``invalid_token``, as RFC 8705 §3 says of a certificate that does not match).

Pure: header fields, an ASGI scope or a WSGI environ in, DER bytes (or why there are
none) out. ``cryptography.x509`` is imported on the first certificate read.

Example::

    source = CertificateSource("header:Client-Cert")
    der, why = source.from_fields([("client-cert", ":MIIB...:")])
    certificate_thumbprint(der)        # what a token bound to it names in cnf["x5t#S256"]
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

from ._coerce import given
from ._errors import ConfigurationError
from ._jose import b64url_encode

__all__ = [
    "MAX_CERTIFICATE_TEXT",
    "NO_CERTIFICATE",
    "SOURCES",
    "CertificateSource",
    "Presented",
    "certificate_der",
    "certificate_thumbprint",
    "check_client_certificate",
]

#: The sources ``client_certificate`` may name, as they are written.
SOURCES = (
    "tls",
    "header:Client-Cert",
    "header:X-Forwarded-Client-Cert",
    "header:X-SSL-Client-Cert",
)
#: Characters of a field value or PEM read at most: a client certificate is 1 to 2 KB of DER
#: (some 4 KB with a 4096-bit key and many names), its PEM a third more, URL-encoded a little
#: more again. A longer value is refused before it is decoded.
MAX_CERTIFICATE_TEXT = 16 * 1024
#: What a request presents: the certificate's DER, else ``None`` and why (``None`` when no
#: source is configured: nothing was looked for).
Presented = tuple[bytes | None, str | None]
NO_CERTIFICATE: Presented = (None, None)

_BY_LOWER = {name.lower(): name for name in SOURCES}
_MEMO_SIZE = 64  # certificates remembered per source: a client sends the same one again and again
_BEGIN = "-----BEGIN CERTIFICATE-----"
_END = "-----END CERTIFICATE-----"
_PEM_SPACE = str.maketrans("", "", " \t\r\n")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
# RFC 8941 §3.3.5: a Byte Sequence is base64 (RFC 4648 §4) between colons.
_BYTE_SEQUENCE = re.compile(r":([A-Za-z0-9+/=]*):")
# One XFCC key=value pair (Envoy: keys case-insensitive; a value holding , ; or = is
# double-quoted, a quote in it written \").
_XFCC_PAIR = re.compile(r'[ \t]*([A-Za-z]+)=("(?:[^"\\]|\\.)*"|[^;,="\\]*)[ \t]*')
_XFCC_ESCAPE = re.compile(r"\\(.)")
# What URL-encoded text is made of: printable ASCII, never a space.
_URL_ENCODED = re.compile(r"[\x21-\x7e]*")


def check_client_certificate(value: object) -> str | None:
    """The ``client_certificate`` setting: ``None`` (read no certificate: certificate-bound
    tokens are refused), or one of :data:`SOURCES` (the header name in any letter case).

    Example::

        check_client_certificate("header:client-cert")   # 'header:Client-Cert'
        check_client_certificate("header:X-Client-Cert")  # ConfigurationError naming the choices
    """
    if value is None:
        return None
    if isinstance(value, str) and value.lower() in _BY_LOWER:
        return _BY_LOWER[value.lower()]
    choices = ", ".join(repr(name) for name in SOURCES)
    raise ConfigurationError(
        f"client_certificate must be None (no certificate is read) or one of {choices}; "
        f"got {given(value)}. Name a header only when a proxy you trust terminates the "
        "client's TLS, sets that header and removes any copy a client sends "
        "(docs/security.md, 'Certificate-bound tokens').",
        setting="client_certificate",
    )


def certificate_thumbprint(der: bytes) -> str:
    """The RFC 8705 §3.1 thumbprint of a certificate: the base64url (unpadded) SHA-256 of its
    DER, what a token bound to it names as ``cnf["x5t#S256"]``.

    Example::

        certificate_thumbprint(der)   # 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2'
    """
    return b64url_encode(hashlib.sha256(der).digest())


def certificate_der(der: object) -> bytes:
    """``der`` if it is the DER of one X.509 certificate and nothing else; else ``ValueError``.

    Example::

        certificate_der(ssl_object.getpeercert(binary_form=True))
    """
    if isinstance(der, (bytearray, memoryview)):
        der = bytes(der)
    if not isinstance(der, bytes):
        raise TypeError(f"a client certificate is DER bytes, got {type(der).__name__}")
    try:
        return _checked_der(der, "The value")
    except _Unreadable as why:
        raise ValueError(str(why)) from None


class _Unreadable(ValueError):
    """A value that is not exactly one certificate in its source's format; its text is the
    reason (fixed words, the field's name at most: never the value)."""


class CertificateSource:
    """Where one verifier's requests carry their client certificate, and how it is read.

    Made from the ``client_certificate`` setting. Each ``from_*`` method answers
    :data:`Presented`: the DER of the request's certificate, else ``None`` and why. The
    certificates read last are remembered (bounded), so a client sending the same one
    request after request costs a dictionary lookup.

    Example::

        source = CertificateSource("header:X-SSL-Client-Cert")
        source.from_fields(request.headers)   # (b'0\\x82...', None) or (None, 'The ...')
    """

    __slots__ = ("_known", "field", "name", "setting")

    def __init__(self, setting: str) -> None:
        checked = check_client_certificate(setting)
        if checked is None:
            raise ConfigurationError(
                "A CertificateSource reads from one of the sources; with none, make none.",
                setting="client_certificate",
            )
        #: the setting, as :data:`SOURCES` writes it
        self.setting: str = checked
        _, _, name = checked.partition(":")
        #: the field's name as written (``None`` for ``"tls"``), and in lower case
        self.name: str | None = name or None
        self.field: str | None = name.lower() or None
        self._known: dict[str, Presented] = {}

    def from_fields(self, fields: Iterable[tuple[str, str]]) -> Presented:
        """The certificate of a request whose header fields (lower-case names) are ``fields``.

        With ``"tls"`` there is none to be had from fields: the ``from_asgi`` and
        ``from_wsgi`` methods read the server's word.
        """
        if self.field is None:
            return None, (
                "client_certificate='tls' reads the certificate from the server's TLS layer, "
                "and this request was built from its header fields alone."
            )
        field = self.field
        values = [value for name, value in fields if name == field]
        if not values:
            return None, (
                f"The request has no {self.name} field: no client certificate reached the "
                "proxy, or the proxy does not set the field."
            )
        if len(values) > 1:
            return None, (
                f"The request repeats the {self.name} field: one certificate is expected (a "
                "copy a client sent must be removed by the proxy, RFC 9440 §2.4)."
            )
        return self._read(values[0].strip(" \t"), self.name or "")

    def from_asgi(self, scope: Mapping[str, Any], fields: Iterable[tuple[str, str]]) -> Presented:
        """The certificate of an ASGI request: its ``tls`` extension with ``"tls"``, else its
        ``fields``."""
        if self.field is not None:
            return self.from_fields(fields)
        extensions = scope.get("extensions")
        tls = extensions.get("tls") if isinstance(extensions, Mapping) else None
        if not isinstance(tls, Mapping):
            return None, (
                "The ASGI server provides no tls extension (a plain HTTP connection, or a "
                "server that does not report TLS): no client certificate."
            )
        error = tls.get("client_cert_error")
        if error:
            return None, "The server could not verify the client certificate (client_cert_error)."
        chain: object = tls.get("client_cert_chain")
        first: object = None
        if isinstance(chain, Iterable) and not isinstance(chain, (str, bytes, Mapping)):
            first = next(iter(chain), None)
        if first is None:
            return None, "The TLS handshake carried no client certificate (client_cert_chain)."
        if not isinstance(first, str):
            return None, "The ASGI tls extension's client_cert_chain holds no PEM text."
        return self._read(first, "client_cert_chain")

    def from_wsgi(
        self,
        environ: Mapping[str, Any],
        fields: Iterable[tuple[str, str]],
        asgi_scope: Mapping[str, Any] | None = None,
    ) -> Presented:
        """The certificate of a WSGI request (or one a framework shaped so, such as Django's
        ``request.META``): ``SSL_CLIENT_CERT`` with ``"tls"``, else its ``fields``.
        ``asgi_scope``: the ASGI scope behind it (Django under ASGI), whose ``tls``
        extension then says."""
        if self.field is not None:
            return self.from_fields(fields)
        if asgi_scope is not None:
            return self.from_asgi(asgi_scope, ())
        pem = environ.get("SSL_CLIENT_CERT")
        if not isinstance(pem, str) or not pem.strip():
            return None, (
                "The WSGI environ has no SSL_CLIENT_CERT: no client certificate, or a server "
                "that does not export it (Apache: SSLOptions +ExportCertData)."
            )
        return self._read(pem, "SSL_CLIENT_CERT")

    def _read(self, text: str, where: str) -> Presented:
        known = self._known.get(text)
        if known is not None:
            return known
        if not text:
            return None, f"The {where} field is empty: no client certificate."
        if len(text) > MAX_CERTIFICATE_TEXT:
            return None, (
                f"The {where} value is longer than {MAX_CERTIFICATE_TEXT // 1024} KiB, which "
                "no client certificate needs: refused unread."
            )
        try:
            found: Presented = (self._decode(text, where), None)
        except _Unreadable as why:
            found = (None, str(why))
        if len(self._known) >= _MEMO_SIZE:
            self._known.clear()  # keys come from clients: bounded, and cleared when full
        self._known[text] = found
        return found

    def _decode(self, text: str, where: str) -> bytes:
        if self.field is None:
            return _from_pem(text, where)
        if self.field == "client-cert":
            return _from_byte_sequence(text, where)
        if self.field == "x-forwarded-client-cert":
            return _from_xfcc(text, where)
        return _from_pem(_url_decoded(text, where), where)

    def __repr__(self) -> str:
        return f"CertificateSource({self.setting!r})"


def _from_byte_sequence(text: str, where: str) -> bytes:
    """RFC 9440 §2.2: one sf-binary, the certificate's DER. Parameters, lists and anything
    else are refused; missing "=" padding is accepted, as RFC 8941 §4.2.7 asks of parsers."""
    match = _BYTE_SEQUENCE.fullmatch(text)
    if match is None:
        raise _Unreadable(
            f"The {where} field is not one Structured Field Byte Sequence (:base64 of the "
            "DER:, RFC 9440 §2.2, RFC 8941 §3.3.5)."
        )
    encoded = match[1]
    body = encoded.rstrip("=")
    if "=" in body or len(encoded) - len(body) > 2 or len(body) % 4 == 1:
        raise _Unreadable(f"The {where} field's Byte Sequence is not base64 (RFC 8941 §3.3.5).")
    der = base64.b64decode(body + "=" * (-len(body) % 4))
    return _checked_der(der, f"The {where} field's Byte Sequence")


def _from_xfcc(text: str, where: str) -> bytes:
    """Envoy's XFCC: comma-separated elements, each ``key=value`` pairs separated by ``;``.

    Exactly one element is taken, the one the proxy in front of the API set (Envoy's
    ``SANITIZE_SET``). Envoy appends an element per proxy that forwards it, so the first
    elements may come from a client (a proxy that forwards what it was sent) and the last
    one describes the nearest proxy's own peer, which behind a second proxy is that proxy,
    not the OAuth client: no position is right in every topology, so a header with several
    elements is refused rather than one guessed.
    """
    elements: list[list[tuple[str, str]]] = [[]]
    position = 0
    while True:
        match = _XFCC_PAIR.match(text, position)
        if match is None:
            raise _Unreadable(f"The {where} field is not in Envoy's key=value;key=value format.")
        elements[-1].append((match[1].lower(), match[2]))
        position = match.end()
        if position == len(text):
            break
        separator = text[position]
        if separator == ",":
            elements.append([])
        elif separator != ";":
            raise _Unreadable(f"The {where} field is not in Envoy's key=value;key=value format.")
        position += 1
    if len(elements) > 1:
        raise _Unreadable(
            f"The {where} field has {len(elements)} elements: one is expected, the one the "
            "proxy in front of the API sets (Envoy: forward_client_cert_details SANITIZE_SET)."
        )
    certificates = [value for key, value in elements[0] if key == "cert"]
    if len(certificates) != 1:
        raise _Unreadable(
            f"The {where} field has {len(certificates)} Cert keys: one is expected (Envoy: "
            "set_current_client_cert_details with cert: true)."
        )
    value = certificates[0]
    if value.startswith('"'):
        value = _XFCC_ESCAPE.sub(r"\1", value[1:-1])
    return _from_pem(_url_decoded(value, f"{where} field's Cert"), f"{where} field's Cert")


def _url_decoded(text: str, where: str) -> str:
    """A URL-encoded PEM (nginx's ``$ssl_client_escaped_cert``, XFCC's ``Cert``), decoded:
    %XX escapes only (a "+" is a base64 character, never a space). Encoded text holds no
    whitespace: a PEM sent as it is (its line breaks made spaces) is not URL-encoded."""
    if not _URL_ENCODED.fullmatch(text):
        raise _Unreadable(f"The {where} value is not a URL-encoded PEM.")
    try:
        decoded = unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise _Unreadable(f"The {where} value is not a URL-encoded PEM.") from None
    if not decoded.isascii():
        raise _Unreadable(f"The {where} value is not a URL-encoded PEM.")
    return decoded


def _from_pem(text: str, where: str) -> bytes:
    """One PEM certificate (RFC 7468 §5, its strict form) and nothing else around it."""
    pem = text.strip(" \t\r\n")
    blocks = pem.count("-----BEGIN ")
    if blocks > 1:
        raise _Unreadable(
            f"The {where} value holds {blocks} PEM blocks: one certificate is expected, the "
            "client's own (a chain is not its certificate)."
        )
    if not (pem.startswith(_BEGIN) and pem.endswith(_END)) or len(pem) < len(_BEGIN + _END):
        raise _Unreadable(f"The {where} value is not one PEM certificate.")
    body = pem[len(_BEGIN) : -len(_END)].translate(_PEM_SPACE)
    if not body or len(body) % 4 or not _BASE64.fullmatch(body):
        raise _Unreadable(f"The {where} value's PEM is not base64.")
    try:
        der = base64.b64decode(body, validate=True)
    except binascii.Error:
        raise _Unreadable(f"The {where} value's PEM is not base64.") from None
    return _checked_der(der, f"The {where} value's PEM")


def _checked_der(der: bytes, what: str) -> bytes:
    """``der`` once ``cryptography`` read it as one X.509 certificate with nothing after it."""
    from cryptography import x509  # noqa: PLC0415 - on the first certificate, not at import

    try:
        x509.load_der_x509_certificate(der)
    except ValueError:
        raise _Unreadable(f"{what} is not the DER of one X.509 certificate.") from None
    return der
