"""Where an API's interactive documentation logs in: the provider's OAuth2 endpoints.

A :class:`Login` knows the authorization and token endpoints, given or read
from the provider's metadata document, and turns them into an OpenAPI OAuth2
security scheme (authorization code; Swagger UI runs it with PKCE) and into
Swagger UI's client settings. The FastAPI adapter documents it beside the
bearer scheme; nothing here depends on a framework.

Discovery happens when the scheme is first asked for (when the OpenAPI
document is built), never at import: a provider that cannot be reached then
costs the documentation its Authorize button, with a warning in the log, and
is asked again :data:`RETRY_AFTER` seconds later; the API's checks are not
affected.

Example::

    login = login_from_settings(verifier, scheme_name="OAuth2", discover=True,
                                client_id="spa-client")
    login.security_scheme(["read:contacts"])
    # {'type': 'oauth2', 'flows': {'authorizationCode': {...}}}
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._errors import SCOPE_TOKEN, ConfigurationError
from ._metadata import MetadataUnavailable
from ._urls import check_url
from ._verifier import Verifier

__all__ = ["RETRY_AFTER", "Login", "login_from_settings"]

logger = logging.getLogger("bearerguard")

#: seconds before a provider whose metadata could not be read is asked again
RETRY_AFTER = 30.0
_AUDIENCE_PARAMETERS = ("audience", "resource")


class Login:
    """The endpoints Swagger UI's Authorize button uses, and its client settings."""

    def __init__(
        self,
        verifier: Verifier,
        *,
        scheme_name: str,
        authorization_url: str | None,
        token_url: str | None,
        scopes: Mapping[str, str] | None,
        client_id: str | None,
        audience_parameter: str | None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.verifier = verifier
        self.scheme_name = scheme_name
        self.scopes = None if scopes is None else dict(scopes)
        self.client_id = client_id
        self.audience_parameter = audience_parameter
        #: the endpoints given, or discovered (None until then)
        self.endpoints: tuple[str | None, str] | None = (
            None if token_url is None else (authorization_url, token_url)
        )
        self.discovered = token_url is None
        self._monotonic = monotonic
        self._next_try = float("-inf")

    def security_scheme(self, needed_scopes: Iterable[str]) -> dict[str, Any] | None:
        """The OpenAPI OAuth2 scheme, or ``None`` while the endpoints are unknown.

        ``needed_scopes`` (every scope the operations ask for) are the scopes
        offered when none were described. An authorization URL gives the
        authorization-code flow; a token URL alone (given, not discovered) the
        client-credentials flow, for machine clients.
        """
        endpoints = self._endpoints()
        if endpoints is None:
            return None
        authorization_url, token_url = endpoints
        scopes = self.scopes
        if scopes is None:
            scopes = {scope: f"Needed by some operations ({scope})" for scope in needed_scopes}
        flows: dict[str, Any] = {}
        if authorization_url is not None:
            flows["authorizationCode"] = {
                "authorizationUrl": authorization_url,
                "tokenUrl": token_url,
                "scopes": scopes,
            }
        if not self.discovered:  # as documented before discovery existed: both flows
            flows["clientCredentials"] = {"tokenUrl": token_url, "scopes": scopes}
        return {"type": "oauth2", "flows": flows}

    def swagger_ui_init_oauth(self) -> dict[str, Any]:
        """Swagger UI's ``initOAuth`` settings: PKCE, the client, the audience, the scopes."""
        settings: dict[str, Any] = {"usePkceWithAuthorizationCodeGrant": True}
        if self.client_id is not None:
            settings["clientId"] = self.client_id
        if self.scopes:
            settings["scopes"] = list(self.scopes)  # ticked when the dialog opens
        if self.audience_parameter is not None:
            audience = self.verifier.config.audiences[0]
            settings["additionalQueryStringParams"] = {self.audience_parameter: audience}
        return settings

    def _endpoints(self) -> tuple[str | None, str] | None:
        if self.endpoints is not None or self._monotonic() < self._next_try:
            return self.endpoints
        try:
            metadata = self.verifier._provider_metadata()
            self.endpoints = (
                metadata.endpoint("authorization_endpoint"),
                metadata.endpoint("token_endpoint"),
            )
        except MetadataUnavailable as why:
            self._next_try = self._monotonic() + RETRY_AFTER
            logger.warning(
                "The API documentation offers no login (Swagger UI's Authorize) for now: "
                "the provider's metadata could not be read (%s). Tokens can still be pasted; "
                "it is asked again in %d s. Check the issuer setting, or name the endpoints "
                "with authorization_url=... and token_url=....",
                why.detail,
                RETRY_AFTER,
            )
        return self.endpoints


def login_from_settings(
    verifier: Verifier,
    *,
    scheme_name: str,
    authorization_url: str | None = None,
    token_url: str | None = None,
    scopes: Mapping[str, str] | None = None,
    discover: bool = False,
    client_id: str | None = None,
    audience_parameter: str | None = "audience",
) -> Login | None:
    """A checked :class:`Login`, or ``None`` when nothing asks for one.

    Every mistake is a :class:`ConfigurationError` naming the setting.
    """
    if not isinstance(discover, bool):
        raise _error("discover", f"discover must be True or False, got {discover!r}.")
    for name, url in (("authorization_url", authorization_url), ("token_url", token_url)):
        if url is not None:
            check_url(url, what=name)
    if discover and (authorization_url is not None or token_url is not None):
        raise _error(
            "discover",
            "Either discover=True (the endpoints come from the provider's metadata) or "
            "authorization_url=.../token_url=..., not both.",
        )
    if token_url is None and authorization_url is not None:
        raise _error("token_url", "A login with authorization_url needs token_url=... as well.")
    if client_id is not None and (not isinstance(client_id, str) or not client_id.strip()):
        raise _error("client_id", f"client_id must be a non-empty string, got {client_id!r}.")
    if audience_parameter is not None and audience_parameter not in _AUDIENCE_PARAMETERS:
        raise _error(
            "audience_parameter",
            f"audience_parameter must be 'audience' (Auth0), 'resource' (RFC 8707) or None, "
            f"got {audience_parameter!r}.",
        )
    checked = None if scopes is None else _checked_scopes(scopes)
    if not discover and token_url is None:
        for name, value in (("scopes", scopes), ("client_id", client_id)):
            if value:
                raise _error(
                    name,
                    f"{name} configures the documentation's login: pass discover=True (the "
                    "provider's endpoints from its metadata) or token_url=... as well.",
                )
        return None
    return Login(
        verifier,
        scheme_name=scheme_name,
        authorization_url=authorization_url,
        token_url=token_url,
        scopes=checked,
        client_id=client_id,
        audience_parameter=audience_parameter,
    )


def _checked_scopes(scopes: object) -> dict[str, str]:
    if not isinstance(scopes, Mapping):
        raise _error(
            "scopes",
            "scopes must map scope names to descriptions, e.g. "
            f"{{'read:contacts': 'Read your contacts'}}, got {type(scopes).__name__}.",
        )
    for name, text in scopes.items():
        if not isinstance(name, str) or not SCOPE_TOKEN.fullmatch(name):
            raise _error("scopes", f"scopes: {name!r} is not a scope name (no spaces or quotes).")
        if not isinstance(text, str):
            raise _error("scopes", f"scopes[{name!r}]: the description must be a string.")
    return dict(scopes)


def _error(setting: str, message: str) -> ConfigurationError:
    return ConfigurationError(message, setting=setting)
