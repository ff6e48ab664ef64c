"""The protected resource (RFC 9728): its identifier, its metadata document, and where that is.

A verifier given a ``resource`` (the URL clients call, an MCP server's
``https://api.example.com/mcp``) describes itself to clients. The §2 document is
derived from the verifier's settings, never configured twice: the issuers are its
authorization servers (or those ``authorization_servers=`` names among them, which a
verifier whose ``issuer=`` is a function must), the DPoP mode gives the DPoP fields,
a client-certificate source ``tls_client_certificate_bound_access_tokens`` (RFC 8705),
the configured scopes (else those the routes require) its ``scopes_supported``. The
document's URL (§3.1) is named by every challenge the verifier's refusals render
(§5.1), so that a client refused for want of a token learns where to get one.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ._coerce import LISTS, names, refuse
from ._errors import SCOPE_TOKEN, ConfigurationError
from ._issuers import IssuerIndex, issuer_key, normalize_issuer
from ._urls import check_page_url, check_url, resource_problem

if TYPE_CHECKING:
    from ._config import VerifierConfig

__all__ = [
    "WELL_KNOWN_PATH",
    "check_authorization_servers",
    "check_resource",
    "check_resource_documentation",
    "check_resource_name",
    "check_scopes_supported",
    "metadata_document",
    "metadata_url",
]

#: RFC 9728 §3: the well-known URI suffix, inserted between the host and the path
WELL_KNOWN_PATH = "/.well-known/oauth-protected-resource"
# RFC 9728 §2 bearer_methods_supported: the Authorization header only. A token in the
# query is never accepted (RFC 6750 §2.3) and none is read from a form body.
_BEARER_METHODS = ("header",)
_MAX_NAME_LENGTH = 200  # a name people read in a consent screen, not a paragraph
_RESOURCE_EXAMPLE = "resource='https://api.example.com/mcp'"
_SCOPES_EXAMPLE = "scopes_supported=['read:contacts', 'write:contacts']"


def check_resource(value: object) -> str:
    """The ``resource`` setting: an absolute https URL (http for loopback) without a fragment,
    a query or credentials (RFC 9728 §1.2, RFC 8707 §2). Kept as written: it is the
    identifier clients compare the metadata's ``resource`` with.

    Example::

        check_resource("https://api.example.com/mcp")   # 'https://api.example.com/mcp'
        check_resource("api.example.com/mcp")           # ConfigurationError: not absolute
    """
    if not isinstance(value, str) or not value:
        raise refuse(
            "resource", "must be the URL clients call, as a string", value, _RESOURCE_EXAMPLE
        )
    problem = resource_problem(value)
    if problem is not None:
        raise refuse("resource", problem, value, _RESOURCE_EXAMPLE)
    check_url(value, what="resource")
    return value


def check_authorization_servers(value: object, trusted: IssuerIndex) -> tuple[str, ...]:
    """The ``authorization_servers`` setting: the issuers the metadata names (RFC 9728 §2),
    each one ``trusted`` (a configured issuer, or one ``issuer=``'s function accepts), spelt
    as written (a bare domain as its https URL); ``()`` when not set (the default: every
    issuer).

    Example::

        check_authorization_servers(["login.example.com"], index)
        # ('https://login.example.com/',)
    """
    example = "authorization_servers=['https://tenant.auth0.com/']"
    if value is None or (isinstance(value, LISTS) and not value):
        return ()
    servers = names(value, "authorization_servers", example)
    written: dict[str, str] = {}
    for server in servers:
        normal = normalize_issuer(server, setting="authorization_servers")
        if trusted.find(normal) is None:
            raise ConfigurationError(
                f"authorization_servers names {server!r}, which is not a trusted issuer: "
                "clients would get tokens this verifier refuses. Name issuers of issuer=.",
                setting="authorization_servers",
            )
        written.setdefault(issuer_key(normal) or normal, server if "://" in server else normal)
    return tuple(written.values())


def check_scopes_supported(value: object) -> tuple[str, ...]:
    """The ``scopes_supported`` setting: scope names (RFC 6749 §3.3), none by default.

    Example::

        check_scopes_supported(["read:contacts", "write:contacts"])
        check_scopes_supported("read:contacts")    # ('read:contacts',)
    """
    if value is None:
        return ()
    scopes = names(value, "scopes_supported", _SCOPES_EXAMPLE, allow_empty=True)
    for scope in scopes:
        if not SCOPE_TOKEN.fullmatch(scope):
            raise refuse(
                "scopes_supported",
                f"must hold scope names without spaces, quotes or backslashes; {scope!r} is "
                "not one (RFC 6749 §3.3)",
                value,
                _SCOPES_EXAMPLE,
            )
    return scopes


def check_resource_name(value: object) -> str | None:
    """The ``resource_name`` setting: a short human-readable name, or ``None``."""
    example = "resource_name='Contacts API'"
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise refuse("resource_name", "must be a non-empty string", value, example)
    if value != value.strip() or not value.isprintable() or len(value) > _MAX_NAME_LENGTH:
        raise refuse(
            "resource_name",
            f"must be printable text of at most {_MAX_NAME_LENGTH} characters, without "
            "spaces around it",
            value,
            example,
        )
    return value


def check_resource_documentation(value: object) -> str | None:
    """The ``resource_documentation`` setting: the URL of a page about the API, or ``None``."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise refuse(
            "resource_documentation",
            "must be a URL, as a string",
            value,
            "resource_documentation='https://docs.example.com/api'",
        )
    check_page_url(value, what="resource_documentation")
    return value


def metadata_url(resource: str) -> str:
    """Where the metadata of ``resource`` is: RFC 9728 §3.1, the well-known path inserted
    between the host and the path (a path of just ``/`` is dropped first).

    Written in the URL's normal form (lower-case scheme and host, no default port), as
    every spelling of the resource names the same document.

    Example::

        metadata_url("https://api.example.com/mcp")
        # 'https://api.example.com/.well-known/oauth-protected-resource/mcp'
        metadata_url("https://api.example.com")
        # 'https://api.example.com/.well-known/oauth-protected-resource'
    """
    normal = issuer_key(resource)
    if normal is None:
        raise ConfigurationError(
            f"resource {resource!r} is not an http(s) URL without credentials, query or "
            f"fragment; write e.g. {_RESOURCE_EXAMPLE}.",
            setting="resource",
        )
    scheme, _, rest = normal.partition("://")
    authority, _, path = rest.partition("/")  # the normal form always has a path
    return f"{scheme}://{authority}{WELL_KNOWN_PATH}{'/' + path if path else ''}"


def metadata_document(config: VerifierConfig, scopes: Iterable[str] = ()) -> dict[str, Any]:
    """The RFC 9728 §2 metadata of ``config``'s resource, as a JSON-ready dict.

    ``scopes`` are the scopes the routes require: listed as ``scopes_supported`` when
    the configuration names none (configured scopes are the resource's own choice: §2
    lets it leave some out). Members without a value are left out (§3.2).

    Example::

        metadata_document(config, scopes=["read:contacts"])
        # {'resource': 'https://api.example.com/mcp',
        #  'authorization_servers': ['https://tenant.auth0.com/'],
        #  'scopes_supported': ['read:contacts'], 'bearer_methods_supported': ['header'],
        #  'dpop_signing_alg_values_supported': ['ES256', ...]}
    """
    if config.resource is None:
        raise ConfigurationError(
            "This verifier has no resource, so it has no RFC 9728 metadata: pass "
            f"{_RESOURCE_EXAMPLE} (or set BEARERGUARD_RESOURCE).",
            setting="resource",
        )
    document: dict[str, Any] = {
        "resource": config.resource,
        "authorization_servers": list(config.authorization_servers),
    }
    listed = config.scopes_supported or _route_scopes(scopes)
    if listed:
        document["scopes_supported"] = list(listed)
    document["bearer_methods_supported"] = list(_BEARER_METHODS)
    if config.dpop != "off":
        document["dpop_signing_alg_values_supported"] = sorted(config.dpop_algorithms)
    if config.dpop == "required":
        document["dpop_bound_access_tokens_required"] = True
    if config.client_certificate is not None:  # RFC 8705 bound tokens: the default is false
        document["tls_client_certificate_bound_access_tokens"] = True
    if config.resource_name is not None:
        document["resource_name"] = config.resource_name
    if config.resource_documentation is not None:
        document["resource_documentation"] = config.resource_documentation
    return document


def _route_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """The routes' scopes, checked, duplicates dropped, in the order given."""
    if isinstance(scopes, str):  # one scope, not its letters
        scopes = (scopes,)
    elif not isinstance(scopes, LISTS):
        raise ConfigurationError(
            f"resource_metadata(scopes=...) takes a list of scope names, got "
            f"{type(scopes).__name__}: e.g. scopes=['read:contacts'].",
            setting="scopes",
        )
    listed = list(dict.fromkeys(scopes))
    for scope in listed:
        if not isinstance(scope, str) or not SCOPE_TOKEN.fullmatch(scope):
            raise ConfigurationError(
                f"resource_metadata(scopes=...) holds {scope!r}, which is not a scope name: "
                "scopes contain no spaces, quotes or backslashes (RFC 6749 §3.3).",
                setting="scopes",
            )
    # A set has no order of its own: sorted, so the document is the same on every run.
    return tuple(sorted(listed) if isinstance(scopes, (set, frozenset)) else listed)
