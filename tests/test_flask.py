"""bearerguard.flask: the extension, ``@requires``, ``protect`` and ``current_token``.

Every answer a route gives for every kind of token is pinned by the shared
adapter table (tests/adapters); this file pins what is Flask's own: settings
from ``app.config``, the app factory, the decorator forms, async views, error
handlers and the ImportError when Flask is missing. Tokens are signed for real
and verified by a real :class:`Verifier`; nothing is mocked.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Blueprint, Flask, copy_current_request_context
from flask.testing import FlaskClient
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import Client

from bearerguard import (
    BearerError,
    ConfigurationError,
    InsufficientScopeError,
    InvalidTokenError,
    Verifier,
)
from bearerguard.flask import BearerGuard, current_token, error_response, protect, requires
from tests.adapters.table import no_token_for

from .support import AUDIENCE, ISSUER, NOW, Provider, bearer, claims, sign_token
from .test_verify_request import bound_token, dpop_proof

MakeVerifier = Callable[..., Verifier]
SECRET = "a-shared-secret-of-at-least-32-bytes!"
# An app configured entirely from app.config: HS256 needs no key set, so no network.
CONFIG = {
    "BEARERGUARD_ISSUER": ISSUER,
    "BEARERGUARD_AUDIENCE": AUDIENCE,
    "BEARERGUARD_ALGORITHMS": "HS256",
    "BEARERGUARD_SECRET": SECRET,
}


def hs256_token(**overrides: Any) -> str:
    return sign_token(
        {"alg": "HS256", "typ": "JWT"}, claims(now=time.time(), **overrides), SECRET.encode()
    )


def whoami() -> dict[str, Any]:
    return {"sub": current_token.subject if current_token else None}


def app_with(verifier: Verifier, **routes: Callable[..., Any]) -> FlaskClient:
    """An app whose routes are ``/<name>`` -> view, guarded by ``verifier``."""
    app = Flask(__name__)
    BearerGuard(app, verifier=verifier)
    for name, view in routes.items():
        app.add_url_rule(f"/{name}", name, view)
    return app.test_client()


@pytest.fixture
def verifier(make_verifier: MakeVerifier) -> Verifier:
    return make_verifier()


# --- Settings: app.config, the app factory, an explicit verifier ----------------------------


def create_app(config: dict[str, Any], guard: BearerGuard) -> Flask:
    app = Flask(__name__)
    app.config.update(config)
    guard.init_app(app)
    app.add_url_rule("/private", "private", requires()(whoami))
    return app


def test_the_extension_builds_the_verifier_from_app_config():
    app = create_app({**CONFIG, "BEARERGUARD_ISSUER": f"{ISSUER},login.example.com"}, BearerGuard())

    verifier = app.extensions["bearerguard"]
    assert verifier.config.issuers == (ISSUER, "https://login.example.com/")
    assert app.test_client().get("/private", headers=bearer(hs256_token())).json == {
        "sub": "auth0|123"
    }


def test_settings_can_come_from_flask_prefixed_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
):
    for name, value in CONFIG.items():
        monkeypatch.setenv(f"FLASK_{name}", value)
    app = Flask(__name__)
    app.config.from_prefixed_env()
    BearerGuard(app)
    app.add_url_rule("/private", "private", requires()(whoami))

    assert app.test_client().get("/private", headers=bearer(hs256_token())).status_code == 200


def test_one_extension_serves_several_apps_each_with_its_own_settings():
    guard = BearerGuard()
    ours = create_app(CONFIG, guard)
    theirs = create_app({**CONFIG, "BEARERGUARD_AUDIENCE": "https://other.example.com"}, guard)
    token = hs256_token()

    assert ours.test_client().get("/private", headers=bearer(token)).status_code == 200
    assert theirs.test_client().get("/private", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({}, ["BEARERGUARD_ISSUER", "BEARERGUARD_RESOURCE (or BEARERGUARD_AUDIENCE)"]),
        ({"BEARERGUARD_AUDIENCE": AUDIENCE}, ["BEARERGUARD_ISSUER"]),
        (
            {"BEARERGUARD_ISSUER": ISSUER, "BEARERGUARD_AUDIENCE": " , "},
            ["BEARERGUARD_RESOURCE (or BEARERGUARD_AUDIENCE)"],
        ),
    ],
)
def test_init_app_says_which_settings_are_missing(config: dict[str, str], named: list[str]):
    app = Flask(__name__)
    app.config.update(config)

    with pytest.raises(ConfigurationError) as excinfo:
        BearerGuard(app)

    assert f"missing: {', '.join(named)}." in str(excinfo.value)
    assert "bearerguard" not in app.extensions


def test_a_resource_stands_for_the_audience():
    app = Flask(__name__)
    app.config.update(BEARERGUARD_ISSUER=ISSUER, BEARERGUARD_RESOURCE="https://api.example.com/mcp")

    BearerGuard(app)

    config = app.extensions["bearerguard"].config
    assert config.audiences == ("https://api.example.com/mcp",)


def test_invalid_settings_in_app_config_fail_at_init_app_not_per_request():
    app = Flask(__name__)
    app.config.update({**CONFIG, "BEARERGUARD_ISSUER": "http://idp.example.com/"})

    with pytest.raises(ConfigurationError, match="https"):
        BearerGuard(app)


def test_an_explicit_verifier_is_used_as_is(verifier: Verifier):
    app = Flask(__name__)
    BearerGuard(app, verifier=verifier)

    assert app.extensions["bearerguard"] is verifier


def test_requires_without_the_extension_is_a_setup_error():
    app = Flask(__name__)
    app.testing = True  # let the exception reach the test instead of a 500 page
    app.add_url_rule("/private", "private", requires()(whoami))

    with pytest.raises(RuntimeError, match=r"BearerGuard\(app\)"):
        app.test_client().get("/private")


# --- The decorator forms --------------------------------------------------------------------


def test_requires_with_no_scopes_accepts_any_valid_token(verifier: Verifier, provider: Provider):
    client = app_with(verifier, private=requires()(whoami))

    assert client.get("/private", headers=bearer(provider.token(scope=None))).json == {
        "sub": "auth0|123"
    }
    assert client.get("/private").status_code == 401


def test_requires_needs_every_scope_by_default(verifier: Verifier, provider: Provider):
    client = app_with(verifier, edit=requires("read:contacts", "write:contacts")(whoami))

    both = provider.token(scope="read:contacts write:contacts")
    one = provider.token(scope="read:contacts")
    assert client.get("/edit", headers=bearer(both)).status_code == 200
    answer = client.get("/edit", headers=bearer(one))
    assert answer.status_code == 403
    assert 'scope="read:contacts write:contacts"' in answer.headers["WWW-Authenticate"]


def test_requires_any_of_needs_one_scope(verifier: Verifier, provider: Provider):
    client = app_with(verifier, read=requires("read:contacts", "admin", any_of=True)(whoami))

    assert client.get("/read", headers=bearer(provider.token(scope="admin"))).status_code == 200
    assert client.get("/read", headers=bearer(provider.token(scope="openid"))).status_code == 403


def test_an_optional_route_runs_without_a_token_but_refuses_a_bad_one(
    verifier: Verifier, provider: Provider
):
    client = app_with(verifier, feed=requires(optional=True)(whoami))

    assert client.get("/feed").json == {"sub": None}
    assert client.get("/feed", headers=bearer(provider.token())).json == {"sub": "auth0|123"}
    expired = provider.token(exp=int(NOW) - 60)
    assert client.get("/feed", headers=bearer(expired)).status_code == 401
    assert client.get("/feed", headers={"Authorization": "Bearer"}).status_code == 400


def test_requires_any_of_with_no_scopes_accepts_any_valid_token(
    verifier: Verifier, provider: Provider
):
    client = app_with(verifier, private=requires(any_of=True)(whoami))

    assert client.get("/private", headers=bearer(provider.token(scope=None))).status_code == 200
    assert client.get("/private").status_code == 401


def test_stacked_requirements_all_apply(verifier: Verifier, provider: Provider):
    view = requires("write:contacts")(requires("read:contacts")(whoami))
    client = app_with(verifier, edit=view)

    assert client.get("/edit", headers=bearer(provider.token())).status_code == 403
    both = provider.token(scope="read:contacts write:contacts")
    assert client.get("/edit", headers=bearer(both)).status_code == 200


def test_a_request_is_verified_once_however_many_guards_apply(
    verifier: Verifier, provider: Provider, monkeypatch: pytest.MonkeyPatch
):
    calls: list[object] = []
    authenticate = verifier.authenticate

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return authenticate(*args, **kwargs)

    monkeypatch.setattr(verifier, "authenticate", counted)
    admin = Blueprint("admin", __name__)
    protect(admin, "read:contacts")
    admin.add_url_rule("/edit", "edit", requires("openid")(requires("read:contacts")(whoami)))
    app = Flask(__name__)
    BearerGuard(app, verifier=verifier)
    app.register_blueprint(admin)
    client = app.test_client()

    assert client.get("/edit", headers=bearer(provider.token())).json == {"sub": "auth0|123"}
    assert client.get("/edit").status_code == 401
    assert len(calls) == 2  # one per request, not one per guard


def test_the_decorated_view_keeps_its_name_and_signature():
    def contact(contact_id: int) -> dict[str, int]:
        """One contact."""
        return {"id": contact_id}

    guarded = requires("read:contacts")(contact)

    assert guarded.__name__ == "contact"
    assert guarded.__doc__ == "One contact."
    assert inspect.signature(guarded) == inspect.signature(contact)


def test_view_arguments_reach_the_view(verifier: Verifier, provider: Provider):
    app = Flask(__name__)
    BearerGuard(app, verifier=verifier)

    @app.get("/contacts/<int:contact_id>")
    @requires("read:contacts")
    def contact(contact_id: int) -> dict[str, int]:
        return {"id": contact_id}

    assert app.test_client().get("/contacts/7", headers=bearer(provider.token())).json == {"id": 7}


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (("read:contacts write:contacts",), ConfigurationError),  # one string, two scopes
        (("",), ConfigurationError),
        ((whoami,), ConfigurationError),  # @requires without parentheses
    ],
)
def test_bad_requirements_fail_when_the_module_loads(arguments: tuple[Any, ...], error: type):
    with pytest.raises(error):
        requires(*arguments)


def test_protect_checks_its_scope_names_when_called():
    with pytest.raises(ConfigurationError, match="not a scope name"):
        protect(Blueprint("admin", __name__), "read:contacts write:contacts")


def test_an_optional_route_cannot_require_scopes():
    with pytest.raises(ConfigurationError, match="optional"):
        requires("read:contacts", optional=True)


# --- current_token ------------------------------------------------------------------------


def test_current_token_is_the_verified_token(verifier: Verifier, provider: Provider):
    seen = []

    def view() -> str:
        seen.append((current_token.subject, current_token.scopes, current_token.issuer))
        return "ok"

    app_with(verifier, me=requires()(view)).get("/me", headers=bearer(provider.token()))

    assert seen == [("auth0|123", frozenset({"openid", "read:contacts"}), ISSUER)]


def test_current_token_is_falsy_where_no_token_was_verified(verifier: Verifier):
    seen = []

    def view() -> str:
        seen.append(bool(current_token))
        return "ok"

    app_with(verifier, public=view).get("/public")

    assert seen == [False]
    assert not current_token  # outside any request


def test_a_token_never_outlives_its_request(verifier: Verifier, provider: Provider):
    # Tests often keep an app context pushed; flask.g then spans several requests.
    app = Flask(__name__)
    BearerGuard(app, verifier=verifier)
    app.add_url_rule("/feed", "feed", requires(optional=True)(whoami))
    app.add_url_rule("/private", "private", requires()(whoami))
    client = app.test_client()

    with app.app_context():
        assert client.get("/feed", headers=bearer(provider.token())).json == {"sub": "auth0|123"}
        assert client.get("/feed").json == {"sub": None}
        assert client.get("/private").status_code == 401


def test_current_token_follows_a_copied_request_context(verifier: Verifier, provider: Provider):
    # copy_current_request_context hands the request to another thread, which gets an
    # app context (and flask.g) of its own: the token belongs to the request, so it follows.
    seen: list[str | None] = []

    def view() -> str:
        @copy_current_request_context
        def work() -> None:
            seen.append(current_token.subject if current_token else None)

        worker = threading.Thread(target=work)
        worker.start()
        worker.join()
        return "ok"

    app_with(verifier, me=requires()(view)).get("/me", headers=bearer(provider.token()))

    assert seen == ["auth0|123"]


# --- Async views ----------------------------------------------------------------------------


def test_async_views_are_guarded_too(verifier: Verifier, provider: Provider):
    @requires("read:contacts")
    async def contacts() -> dict[str, Any]:
        await asyncio.sleep(0)
        return whoami()

    client = app_with(verifier, contacts=contacts)

    assert client.get("/contacts", headers=bearer(provider.token())).json == {"sub": "auth0|123"}
    assert (
        client.get("/contacts", headers=bearer(provider.token(scope="openid"))).status_code == 403
    )
    assert client.get("/contacts").status_code == 401


# --- protect(): a whole blueprint ---------------------------------------------------------


def test_protect_guards_every_route_of_a_blueprint(verifier: Verifier, provider: Provider):
    admin = Blueprint("admin", __name__)
    protect(admin, "admin")
    admin.add_url_rule("/admin/users", "users", whoami)
    app = Flask(__name__)
    BearerGuard(app, verifier=verifier)
    app.register_blueprint(admin)
    app.add_url_rule("/public", "public", lambda: {"message": "public"})
    client = app.test_client()

    assert client.get("/admin/users").status_code == 401
    assert client.get("/admin/users", headers=bearer(provider.token())).status_code == 403
    granted = bearer(provider.token(scope="admin"))
    assert client.get("/admin/users", headers=granted).json == {"sub": "auth0|123"}
    assert client.get("/public").status_code == 200


# --- Errors: the RFC 6750 answer, never a 500 -------------------------------------------------


def test_errors_carry_the_configured_realm(make_verifier: MakeVerifier, provider: Provider):
    client = app_with(make_verifier(realm="contacts"), contacts=requires("read:contacts")(whoami))

    missing = client.get("/contacts").headers["WWW-Authenticate"]
    assert missing == no_token_for("read:contacts", realm="contacts")
    answer = client.get("/contacts", headers=bearer(provider.token(scope="openid")))
    assert answer.headers["WWW-Authenticate"].startswith('Bearer realm="contacts", ')


def test_a_bearer_error_raised_by_the_view_gets_the_rfc6750_answer(verifier: Verifier):
    def view() -> str:
        raise InsufficientScopeError(["admin"])

    app = Flask(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = True  # a 500 would surface as an exception here
    BearerGuard(app, verifier=verifier)
    app.add_url_rule("/admin", "admin", view)

    answer = app.test_client().get("/admin")

    assert answer.status_code == 403
    assert answer.content_type == "application/json"
    assert answer.json == {"error": "insufficient_scope", "error_description": "Insufficient scope"}
    assert answer.headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", '
        'error_description="Insufficient scope", scope="admin"'
    )


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer \u00ff\u00fe",  # latin-1 bytes that are not ASCII
        "Bearer " + "A" * 100_000,
        "Bearer ....",
        "Bearer eyJhbGciOiJSUzI1NiJ9.e30.",
        "Bearer a.b.c\x0b",
        "Bearer a.b.c, Bearer d.e.f",
    ],
)
def test_hostile_headers_never_cause_a_500(verifier: Verifier, authorization: str):
    app = Flask(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    BearerGuard(app, verifier=verifier)
    app.add_url_rule("/private", "private", requires()(whoami))
    client = app.test_client()

    for query_string in ("", "access_token=%ff", "%ff%fe=\u00ff&access%5Ftoken"):
        answer = client.get(
            "/private", headers={"Authorization": authorization}, query_string=query_string
        )
        assert answer.status_code in (400, 401)
        assert answer.is_json


def test_your_own_error_handler_wins_whenever_it_is_registered(verifier: Verifier):
    def handler(exc: BearerError) -> tuple[dict[str, str], int]:
        return {"problem": exc.reason}, exc.status_code

    before = Flask(__name__)
    before.register_error_handler(BearerError, handler)
    BearerGuard(before, verifier=verifier)
    after = Flask(__name__)
    BearerGuard(after, verifier=verifier)
    after.register_error_handler(BearerError, handler)

    for app in (before, after):
        app.add_url_rule("/private", "private", requires()(whoami))
        answer = app.test_client().get("/private")
        assert answer.status_code == 401
        assert answer.json == {"problem": "The request carries no bearer access token."}


def test_a_handler_for_one_error_class_can_reuse_the_default_answer(
    verifier: Verifier, provider: Provider
):
    logged: list[str] = []
    app = Flask(__name__)
    BearerGuard(app, verifier=verifier)
    app.add_url_rule("/private", "private", requires()(whoami))

    @app.errorhandler(InvalidTokenError)
    def log_then_answer(exc: InvalidTokenError) -> Any:
        logged.append(exc.reason)
        return error_response(exc)

    answer = app.test_client().get("/private", headers=bearer(provider.token(exp=int(NOW) - 60)))

    assert answer.status_code == 401
    assert answer.json == {
        "error": "invalid_token",
        "error_description": "The access token expired",
    }
    assert logged == ["The exp claim has passed."]


# --- DPoP (RFC 9449): the whole request, its URL as request.url -------------------------------


def dpop(token: str, url: str) -> dict[str, str]:
    return {"Authorization": f"DPoP {token}", "DPoP": dpop_proof(token, url=url)}


def contacts_app(verifier: Verifier) -> Flask:
    app = Flask(__name__)
    BearerGuard(app, verifier=verifier)
    app.add_url_rule("/api/contacts", "contacts", requires("read:contacts")(whoami))
    return app


def test_a_mount_point_is_part_of_the_url_a_proof_names(verifier: Verifier, provider: Provider):
    root = Flask("root")
    client = Client(DispatcherMiddleware(root, {"/v1": contacts_app(verifier)}))
    token = bound_token(provider, scope="read:contacts")

    mounted = client.get(
        "/v1/api/contacts", headers=dpop(token, "http://localhost/v1/api/contacts")
    )
    below = client.get("/v1/api/contacts", headers=dpop(token, "http://localhost/api/contacts"))

    assert mounted.status_code == 200
    assert mounted.json == {"sub": "auth0|123"}
    assert below.status_code == 401
    assert below.json is not None
    assert below.json["error"] == "invalid_dpop_proof"


def test_behind_proxy_fix_a_proof_names_the_url_the_client_used(
    verifier: Verifier, provider: Provider
):
    app = contacts_app(verifier)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1, x_prefix=1)  # type: ignore[method-assign]
    forwarded = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "api.example.com",
        "X-Forwarded-Prefix": "/people",
    }
    token = bound_token(provider, scope="read:contacts")
    public = "https://api.example.com/people/api/contacts"

    answer = app.test_client().get("/api/contacts", headers={**forwarded, **dpop(token, public)})
    internal = app.test_client().get(
        "/api/contacts", headers={**forwarded, **dpop(token, "http://localhost/api/contacts")}
    )

    assert answer.status_code == 200
    assert internal.status_code == 401


def test_a_proof_names_a_path_beyond_ascii_percent_encoded(verifier: Verifier, provider: Provider):
    app = Flask(__name__)
    BearerGuard(app, verifier=verifier)
    app.add_url_rule("/café/crème", "cafe", requires()(whoami))
    token = bound_token(provider)

    # request.url is an IRI ("/café/..."); the proof names the URI the client sent.
    answer = app.test_client().get(
        "/caf%C3%A9/cr%C3%A8me", headers=dpop(token, "http://localhost/caf%C3%A9/cr%C3%A8me")
    )

    assert answer.status_code == 200


def test_a_folded_dpop_field_is_refused_as_several_proofs(
    verifier: Verifier, provider: Provider, caplog: pytest.LogCaptureFixture
):
    token = bound_token(provider, scope="read:contacts")
    url = "http://localhost/api/contacts"
    folded = f"{dpop_proof(token, url=url)}, {dpop_proof(token, url=url)}"
    client = contacts_app(verifier).test_client()

    with caplog.at_level(logging.DEBUG, logger="bearerguard"):
        answer = client.get(
            "/api/contacts", headers={"Authorization": f"DPoP {token}", "DPoP": folded}
        )

    assert answer.status_code == 401
    assert answer.json is not None
    assert answer.json["error"] == "invalid_dpop_proof"
    (refused,) = [record.bearerguard_error for record in caplog.records]
    assert "the request has 2" in refused.reason


def test_a_dpop_request_is_verified_once_however_many_guards_apply(
    verifier: Verifier, provider: Provider
):
    # Verified twice, its proof would be a replay of itself.
    admin = Blueprint("admin", __name__)
    protect(admin, "read:contacts")
    admin.add_url_rule("/edit", "edit", requires("openid")(requires("read:contacts")(whoami)))
    app = Flask(__name__)
    BearerGuard(app, verifier=verifier)
    app.register_blueprint(admin)
    token = bound_token(provider, scope="openid read:contacts")

    answer = app.test_client().get("/edit", headers=dpop(token, "http://localhost/edit"))

    assert answer.status_code == 200
    assert answer.json == {"sub": "auth0|123"}


def test_only_dpop_requests_are_handed_over_whole(
    verifier: Verifier, provider: Provider, monkeypatch: pytest.MonkeyPatch
):
    seen: list[str] = []
    whole, shortcut = verifier.authenticate_request, verifier.authenticate
    monkeypatch.setattr(
        verifier, "authenticate_request", lambda request: seen.append(request.url) or whole(request)
    )
    monkeypatch.setattr(
        verifier, "authenticate", lambda *a, **k: seen.append("shortcut") or shortcut(*a, **k)
    )
    client = contacts_app(verifier).test_client()
    url = "http://localhost/api/contacts?page=2"

    assert client.get("/api/contacts?page=2", headers=bearer(provider.token())).status_code == 200
    bound = bound_token(provider, scope="read:contacts")
    assert client.get("/api/contacts?page=2", headers=dpop(bound, url)).status_code == 200
    assert seen == ["shortcut", url]


@pytest.mark.parametrize(
    "fields",
    [
        {"Host": "exa mple.com"},
        {"Host": "user@api.example.com"},
        {"Host": "[::1"},
        {"DPoP": "\u00ff\u00fe"},
        {"DPoP": ""},
        {"DPoP": "a.b.c, "},
        {"Authorization": "DPoP a.b.c, DPoP d.e.f"},
        {"Authorization": "DPoP \u00ff"},
    ],
)
def test_hostile_dpop_requests_never_cause_a_500(
    verifier: Verifier, provider: Provider, fields: dict[str, str]
):
    app = contacts_app(verifier)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    token = bound_token(provider, scope="read:contacts")

    for path in ("/api/contacts", "/api/contacts?access_token=x", "/api/%ff"):
        headers = {**dpop(token, "http://localhost/api/contacts"), **fields}
        answer = app.test_client().get(path, headers=headers)
        assert answer.status_code in (400, 401, 404)
