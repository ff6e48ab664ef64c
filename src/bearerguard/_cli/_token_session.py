"""What every request of a ``bearerguard token`` run goes through: the :class:`Session`
(HTTP client, endpoints, settings, DPoP key) and :func:`form_fields`, the fields
it sends.

Example::

    session = Session(http, endpoints, args, settings, dpop=key)
    form_fields({"scope": None, "resource": ["https://a", "https://b"]})
    # {'resource': ['https://a', 'https://b']}: left out, then sent as a repeated field
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import httpx

from bearerguard._mint import SigningKey

from ._provider import Endpoints
from ._token_settings import TokenSettings

__all__ = ["Fields", "Session", "form_fields"]

#: the fields of a request, as httpx sends them: a list is a repeated field
Fields = dict[str, "str | list[str]"]


@dataclass(frozen=True)
class Session:
    """What every flow needs: the HTTP client, the endpoints and the settings."""

    http: httpx.Client
    endpoints: Endpoints
    args: argparse.Namespace
    settings: TokenSettings
    #: the client's DPoP key: every token request then carries a proof signed by it
    dpop: SigningKey | None = None

    @property
    def resources(self) -> list[str] | None:
        """The ``resource`` parameters (RFC 8707 §2.1, §2.2), ``None`` when there are none."""
        return list(self.settings.resources) or None


def form_fields(values: Mapping[str, str | Sequence[str] | None]) -> Fields:
    """The fields to send: ``None`` left out, a sequence sent as a repeated field."""
    fields: Fields = {}
    for name, value in values.items():
        if isinstance(value, str):
            fields[name] = value
        elif value:
            fields[name] = list(value)
    return fields
