"""The request, as request-bound verification sees it: method, URL, header fields.

Each adapter builds one :class:`HttpRequest` from its framework's own notion of
the request (the URL as the framework reconstructs it, honouring its proxy
settings) and hands it to :meth:`Verifier.verify_request
<bearerguard.Verifier.verify_request>`. Header names are compared
case-insensitively and every field is kept: a repeated ``Authorization`` or
``DPoP`` field must stay visible, since a request that repeats one is refused.

Example::

    request = HttpRequest(
        method="GET",
        url="https://api.example.com/api/contacts",
        headers={"Authorization": "DPoP eyJ...", "DPoP": "eyJ..."},
    )
    request.header_values("dpop")   # ('eyJ...',)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["HttpRequest"]

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


@dataclass(frozen=True, slots=True, init=False)
class HttpRequest:
    """An HTTP request's method, the URL the client used, and its header fields.

    ``headers`` is a mapping (one value per name) or a sequence of ``(name,
    value)`` pairs (repeated names kept, in order). A value that is not text is
    refused with a ``TypeError`` naming it: adapters pass what their framework
    decoded.
    """

    method: str
    url: str
    #: every field as ``(lower-case name, value)``, in the order given
    headers: tuple[tuple[str, str], ...] = field(repr=False)

    def __init__(self, method: str, url: str, headers: Headers = ()) -> None:
        if not isinstance(method, str) or not method or not method.isascii():
            raise TypeError(
                f"HttpRequest(method=...) must be the request's method, got {method!r}."
            )
        if not isinstance(url, str) or not url:
            raise TypeError(
                f"HttpRequest(url=...) must be the absolute URL the client used, got {url!r}."
            )
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "url", url)
        object.__setattr__(self, "headers", _fields(headers))

    def header_values(self, name: str) -> tuple[str, ...]:
        """Every value of the field ``name`` (any case), in order; ``()`` when absent."""
        wanted = name.lower()
        return tuple(value for field_name, value in self.headers if field_name == wanted)


def _fields(headers: object) -> tuple[tuple[str, str], ...]:
    if isinstance(headers, (str, bytes)) or not isinstance(headers, (Mapping, Iterable)):
        raise TypeError("HttpRequest(headers=...) takes a mapping or (name, value) pairs.")
    pairs: Iterable[object] = headers.items() if isinstance(headers, Mapping) else headers
    fields = []
    for pair in pairs:
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
        fields.append((name.lower(), value))
    return tuple(fields)
