"""The RFC 9728 metadata document as an HTTP resource: where it is answered, and the answers.

Every adapter serves a verifier's metadata the same way, through :class:`MetadataRoute`:
which request paths are the document's, and the status, header fields and body of
each answer. Adapters only read the request and write the answer in their
framework's terms.

Where: at the path of :attr:`Verifier.resource_metadata_url
<bearerguard.Verifier.resource_metadata_url>` (RFC 9728 §3.1, the well-known path
inserted before the resource's path), compared with the request's *whole* path,
mount point included (ASGI ``scope["path"]``, which holds ``root_path``; WSGI
``SCRIPT_NAME`` + ``PATH_INFO``). A mounted app sees that path only when whatever
is in front of it routes the document's URL to it: §3.1 puts the well-known segment
before the mount's prefix, outside the mount. ``public_url`` moves nothing either:
the document's URL lies outside any prefix a proxy strips, so the proxy forwards it
with its path unchanged.

Pure: no framework and no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from ._errors import ConfigurationError

if TYPE_CHECKING:
    from ._verifier import Verifier

__all__ = [
    "ALLOWED_METHODS",
    "CACHE_CONTROL",
    "SCOPES_MARK",
    "MetadataRoute",
    "asgi_path",
    "marked_scopes",
    "wsgi_path",
]

ALLOWED_METHODS = "GET, HEAD, OPTIONS"
# The document changes only when the settings do, i.e. on a deployment. An hour spares
# clients a fetch per connection while a changed document (a new issuer, DPoP turned on)
# reaches them within the hour; "public" lets shared caches keep it, as it holds nothing
# that depends on who asks.
CACHE_CONTROL = "public, max-age=3600"
_PREFLIGHT_MAX_AGE = "3600"  # seconds a browser may reuse the preflight's answer
# The attribute by which the framework adapters' decorators leave the scopes a view
# requires, so that the metadata can list them (scopes_supported).
SCOPES_MARK = "__bearerguard_scopes__"

Answer = tuple[int, list[tuple[str, str]], bytes]


class MetadataRoute:
    """Where a verifier's RFC 9728 document is served, and every answer there.

    ``scopes`` are the scopes the routes require: the document lists them as
    ``scopes_supported`` unless the verifier is configured with its own. The body is
    built once: the verifier's settings never change.

    Example::

        route = MetadataRoute.of(verifier, scopes=["read:contacts"])  # None: no resource
        if route is not None and route.serves("/.well-known/oauth-protected-resource/mcp"):
            status, headers, body = route.answer("GET", preflight=False)
    """

    __slots__ = ("body", "path")

    def __init__(
        self, verifier: Verifier, scopes: Iterable[str] = (), *, without: Iterable[str] = ()
    ) -> None:
        url = verifier.resource_metadata_url
        if url is None:
            raise ConfigurationError(
                "This verifier has no resource, so it serves no RFC 9728 metadata: pass "
                "resource='https://api.example.com/mcp' (or set BEARERGUARD_RESOURCE).",
                setting="resource",
            )
        document = verifier.resource_metadata(scopes=scopes)
        for member in without:  # what this route's clients cannot use (e.g. DPoP's)
            document.pop(member, None)
        #: the document, as served to every client
        self.body = json.dumps(document, separators=(",", ":")).encode()
        #: the path the document is answered at, decoded as servers hand paths over
        self.path = unquote(urlsplit(url).path)

    @classmethod
    def of(cls, verifier: Verifier, scopes: Iterable[str] = ()) -> MetadataRoute | None:
        """The route of ``verifier``'s document; ``None`` when it has no ``resource``."""
        if verifier.resource_metadata_url is None:
            return None
        return cls(verifier, scopes)

    def serves(self, path: str) -> bool:
        """Whether a request for this whole path (mount point included) is the document's."""
        return path == self.path

    def answer(self, method: str, *, preflight: bool) -> Answer:
        """Status, header fields and body answering ``method`` at the document's path.

        ``preflight`` says the request carries ``Access-Control-Request-Method``.
        Every answer lets any origin read it: the document is public by nature (a
        client learns from it where to get a token), and browser-based clients fetch it.
        """
        method = method.upper()
        if method in ("GET", "HEAD"):
            headers = [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(self.body))),
                ("Cache-Control", CACHE_CONTROL),
                ("Access-Control-Allow-Origin", "*"),
            ]
            return 200, headers, self.body if method == "GET" else b""
        if method == "OPTIONS" and preflight:
            # The client may send headers of its own (MCP clients send MCP-Protocol-Version):
            # the wildcard allows any, which suffices as the request carries no credentials.
            return (
                204,
                [
                    ("Access-Control-Allow-Origin", "*"),
                    ("Access-Control-Allow-Methods", "GET, HEAD"),
                    ("Access-Control-Allow-Headers", "*"),
                    ("Access-Control-Max-Age", _PREFLIGHT_MAX_AGE),
                ],
                b"",
            )
        status = 204 if method == "OPTIONS" else 405  # RFC 9110 §9.3.7, §15.5.6
        return (
            status,
            [
                ("Allow", ALLOWED_METHODS),
                ("Access-Control-Allow-Origin", "*"),
                ("Content-Length", "0"),
            ],
            b"",
        )


def asgi_path(scope: Mapping[str, Any]) -> str:
    """An ASGI request's whole path, mount point included.

    ASGI puts ``root_path`` in ``path``; a server that does not (an older convention)
    gets it put back, so that both spellings of a mount name the same path.
    """
    path: str = scope["path"]
    root: str = scope.get("root_path") or ""
    if not root or (path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/")):
        return path
    return root + path


def wsgi_path(environ: Mapping[str, Any]) -> str:
    """A WSGI request's whole path: ``SCRIPT_NAME`` + ``PATH_INFO``, decoded as UTF-8.

    PEP 3333 hands the bytes over as latin-1; a server that decoded them as UTF-8
    already is taken as it is.
    """
    path = (environ.get("SCRIPT_NAME") or "") + (environ.get("PATH_INFO") or "")
    if path.isascii():
        return path
    try:
        return path.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return path


def marked_scopes(view: object) -> tuple[str, ...]:
    """The scopes a framework adapter's decorator recorded on ``view``, else none."""
    scopes = getattr(view, SCOPES_MARK, ())
    return tuple(scopes) if isinstance(scopes, tuple) else ()
