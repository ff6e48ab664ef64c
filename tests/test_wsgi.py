"""bearerguard.wsgi: the pure WSGI middleware, called as a PEP 3333 server would.

Every call goes through ``wsgiref.validate.validator``, which checks both sides
of the gateway; the verifier behind the middleware is real. The shared adapter
table covers the token catalogue through werkzeug's test client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import httpx
import pytest

from bearerguard import AccessToken, InsufficientScopeError, Verifier
from bearerguard._request import wsgi_request
from bearerguard.wsgi import ACCESS_TOKEN_KEY, BearerMiddleware, Rule, access_token
from tests.support import AUDIENCE, ISSUER, NOW, Provider, bearer
from tests.test_verify_request import bound_token, dpop_proof

MakeVerifier = Callable[..., Verifier]


class Inner:
    """The protected app: records each environ it is handed and answers 200."""

    def __init__(self) -> None:
        self.environs: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.environs.append(environ)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    @property
    def token(self) -> AccessToken | None:
        return access_token(self.environs[-1])


@dataclass
class Reply:
    status: str
    headers: dict[str, str]
    body: bytes

    @property
    def code(self) -> int:
        return int(self.status[:3])


def call(
    app: Any,
    path: str = "/",
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    query: str = "",
    **environ: str,
) -> Reply:
    """One request through ``app``, both sides checked by wsgiref's validator."""
    env: dict[str, Any] = {"REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path}
    env["QUERY_STRING"] = query
    env.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in (headers or {}).items()})
    env.update(environ)
    setup_testing_defaults(env)
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, fields: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((status, fields))
        return ignore_start(status, fields)

    result = validator(app)(env, start_response)
    try:
        body = b"".join(result)
    finally:
        result.close()  # type: ignore[attr-defined]
    status, fields = started[0]
    return Reply(status, dict(fields), body)


def raw_environ(path: str, token: str) -> dict[str, Any]:
    """An environ for calling a middleware directly, without the validator."""
    env: dict[str, Any] = {"SCRIPT_NAME": "", "PATH_INFO": path}
    env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    setup_testing_defaults(env)
    return env


def ignore_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return lambda data: None


@pytest.fixture
def inner() -> Inner:
    return Inner()


@pytest.fixture
def protect(inner: Inner, make_verifier: MakeVerifier) -> Callable[..., BearerMiddleware]:
    def build(*rules: Rule, **options: Any) -> BearerMiddleware:
        return BearerMiddleware(inner, verifier=make_verifier(), rules=rules, **options)

    return build


# The public surface


def test_the_module_exports_the_rule_the_key_and_the_helper():
    import bearerguard.wsgi

    assert bearerguard.wsgi.Rule is bearerguard.Rule
    assert ACCESS_TOKEN_KEY == "bearerguard.access_token"
    assert bearerguard.wsgi.__all__ == sorted(bearerguard.wsgi.__all__)


# Rules: which requests need which token


def test_an_unmatched_path_needs_a_valid_token(protect, provider: Provider, inner: Inner):
    app = protect()
    assert call(app, "/anything").code == 401
    assert call(app, "/anything", headers=bearer(provider.token())).code == 200
    assert inner.token is not None
    assert inner.token.subject == "auth0|123"


def test_public_by_default_lets_unmatched_paths_through(protect):
    app = protect(Rule("/admin", "admin"), public_by_default=True)
    assert call(app, "/anything").code == 200
    assert call(app, "/admin").code == 401


def test_a_public_rule_passes_without_verifying_anything(protect, inner: Inner):
    app = protect(Rule("/health", public=True))
    assert call(app, "/health", headers={"Authorization": "Bearer not-a-jwt"}).code == 200
    assert inner.environs[-1][ACCESS_TOKEN_KEY] is None


def test_scopes_are_required_all_of_by_default_and_any_of_on_request(protect, provider):
    app = protect(
        Rule("/all", "read:contacts", "write:contacts"),
        Rule("/any", "read:contacts", "write:contacts", any_of=True),
    )
    token = bearer(provider.token(scope="read:contacts"))
    assert call(app, "/all", headers=token).code == 403
    assert call(app, "/any", headers=token).code == 200


def test_methods_narrow_a_rule_and_get_covers_head(protect):
    app = protect(Rule("/items", public=True, methods=["GET"]))
    assert call(app, "/items").code == 200
    assert call(app, "/items", method="HEAD").code == 200
    assert call(app, "/items", method="POST").code == 401


def test_path_parameters_match_one_segment_and_path_parameters_the_rest(protect, provider):
    app = protect(Rule("/users/{id}", "read:users"), Rule("/files/{rest:path}", public=True))
    token = bearer(provider.token())  # no read:users
    assert call(app, "/users/42", headers=token).code == 403
    assert call(app, "/users/42/posts", headers=token).code == 200  # unmatched
    assert call(app, "/files/a/b/c.txt").code == 200


def test_a_trailing_slash_and_repeated_slashes_do_not_escape_a_rule(protect, provider):
    app = protect(Rule("/admin", "admin"))
    token = bearer(provider.token())  # no admin
    for path in ("/admin", "/admin/", "//admin", "/admin//"):
        assert call(app, path, headers=token).code == 403, path


def test_the_first_matching_rule_wins(protect):
    app = protect(Rule("/api/status", public=True), Rule("/api/{name}", "admin"))
    assert call(app, "/api/status").code == 200
    assert call(app, "/api/users").code == 401


def test_rules_see_path_info_below_script_name(protect):
    app = protect(Rule("/admin", "admin"), public_by_default=True)
    assert call(app, "/admin", SCRIPT_NAME="/v1").code == 401
    assert call(app, "/elsewhere", SCRIPT_NAME="/admin").code == 200


def test_rules_see_the_path_decoded_as_routers_do(protect):
    # PEP 3333 passes the path's UTF-8 bytes as latin-1; routers decode them as UTF-8.
    app = protect(Rule("/café", public=True))
    assert call(app, "/café".encode().decode("latin-1")).code == 200
    assert call(app, "/caf\xe9").code == 401  # the latin-1 byte alone is another path


def test_a_cors_preflight_passes_unchecked(protect, inner: Inner):
    app = protect()
    preflight = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"}
    assert call(app, "/api/private", method="OPTIONS", headers=preflight).code == 200
    assert inner.token is None
    assert call(app, "/api/private", method="OPTIONS").code == 401
    assert call(app, "/api/private", headers=preflight).code == 401  # a GET


# Optional routes


def test_an_optional_route_admits_requests_without_a_token(protect, inner: Inner):
    app = protect(Rule("/feed", optional=True))
    assert call(app, "/feed").code == 200
    assert inner.token is None
    assert ACCESS_TOKEN_KEY in inner.environs[-1]


def test_an_optional_route_verifies_a_token_that_is_sent(protect, provider, inner: Inner):
    app = protect(Rule("/feed", optional=True))
    assert call(app, "/feed", headers=bearer(provider.token())).code == 200
    assert isinstance(inner.token, AccessToken)
    assert call(app, "/feed", headers=bearer(provider.token(exp=int(NOW) - 60))).code == 401
    assert call(app, "/feed", headers={"Authorization": "Bearer a b"}).code == 400


def test_access_token_ignores_anything_that_is_not_a_token():
    assert access_token({}) is None
    assert access_token({ACCESS_TOKEN_KEY: "eyJ..."}) is None


# Refusals: the error's own status line, challenge and JSON body


@pytest.mark.parametrize(
    ("token_scope", "error", "status"),
    [
        (
            None,
            Verifier(issuer=ISSUER, audience=AUDIENCE).missing_token(["admin"]),
            "401 Unauthorized",
        ),
        ("", InsufficientScopeError(["admin"]), "403 Forbidden"),
    ],
    ids=["missing", "insufficient"],
)
def test_a_refusal_is_the_errors_response(protect, provider, token_scope, error, status):
    app = protect(Rule("/x", "admin"))
    headers = None if token_scope is None else bearer(provider.token(scope=token_scope))
    reply = call(app, "/x", headers=headers)
    assert reply.status == status
    assert reply.headers == {
        **error.headers,
        "Content-Type": "application/json",
        "Content-Length": str(len(error.json_body())),
    }
    assert reply.body == error.json_body()


def test_a_malformed_header_is_a_400_bad_request(protect, provider):
    # A server folds two Authorization fields into one: not a single b64token.
    folded = f"Bearer {provider.token()}, Bearer {provider.token()}"
    for value in (folded, "Bearer \xff\xfe", "Bearer"):
        assert call(protect(), "/x", headers={"Authorization": value}).status == "400 Bad Request"


def test_a_provider_outage_answers_503_with_retry_after(inner, make_verifier, provider):
    down = httpx.MockTransport(lambda request: httpx.Response(500))
    app = BearerMiddleware(inner, verifier=make_verifier(transport=down))
    reply = call(app, "/x", headers=bearer(provider.token()))
    assert reply.status == "503 Service Unavailable"
    assert reply.headers["Retry-After"] == "1"


def test_a_token_in_the_query_string_is_refused(protect, provider):
    token = provider.token()
    assert call(protect(), "/x", query="access_token=" + token).code == 401
    assert call(protect(), "/x", headers=bearer(token), query="access_token=" + token).code == 400


# Verification is sync and only bearerguard's own errors are translated


def test_verification_uses_the_sync_driver(inner, make_verifier, provider):
    def async_fetch(request: httpx.Request) -> httpx.Response:
        raise AssertionError("the WSGI middleware has no event loop")

    verifier = make_verifier(async_transport=httpx.MockTransport(async_fetch))
    app = BearerMiddleware(inner, verifier=verifier)
    assert call(app, "/x", headers=bearer(provider.token())).code == 200
    assert provider.jwks_hits == 1


def test_a_bug_in_the_app_propagates_unchanged(make_verifier, provider):
    bug = RuntimeError("a bug in the app")

    def broken(environ: Any, start_response: Any) -> Iterable[bytes]:
        raise bug

    app = BearerMiddleware(broken, verifier=make_verifier())
    with pytest.raises(RuntimeError) as raised:
        app(raw_environ("/x", provider.token()), ignore_start)
    assert raised.value is bug


def test_the_apps_response_passes_through_untouched(make_verifier, provider):
    class Body(list[bytes]):
        closed = False

        def close(self) -> None:
            self.closed = True

    body = Body([b"a", b"b"])

    def app(environ: Any, start_response: Any) -> Iterable[bytes]:
        start_response("201 Created", [("Content-Type", "text/plain")])
        return body

    protected = BearerMiddleware(app, verifier=make_verifier())
    reply = call(protected, "/x", headers=bearer(provider.token()))
    assert (reply.status, reply.body) == ("201 Created", b"ab")
    assert body.closed  # the server's close() reaches the app's iterable
    assert protected(raw_environ("/x", provider.token()), ignore_start) is body


# DPoP (RFC 9449): a request that uses it is verified whole, its URL rebuilt as PEP 3333 says

HERE = "http://127.0.0.1"  # the host and scheme of wsgiref's testing defaults


def dpop(token: str, url: str, **proof: Any) -> dict[str, str]:
    return {"Authorization": f"DPoP {token}", "DPoP": dpop_proof(token, url=url, **proof)}


def test_the_mount_point_is_part_of_the_url_a_proof_names(protect, provider, inner: Inner):
    app = protect(Rule("/api/contacts", "read:contacts"))
    token = bound_token(provider, scope="read:contacts")

    mounted = call(
        app, "/api/contacts", headers=dpop(token, f"{HERE}/v1/api/contacts"), SCRIPT_NAME="/v1"
    )
    below = call(
        app, "/api/contacts", headers=dpop(token, f"{HERE}/api/contacts"), SCRIPT_NAME="/v1"
    )

    assert mounted.code == 200
    assert inner.token is not None
    assert inner.token.confirmation is not None
    assert below.code == 401
    assert 'error="invalid_dpop_proof"' in below.headers["WWW-Authenticate"]


def test_a_folded_dpop_field_is_refused_as_several_proofs(
    protect, provider, caplog: pytest.LogCaptureFixture
):
    # A server folds two DPoP fields into one "a, b" value; the verifier must see two proofs.
    token = bound_token(provider)
    url = f"{HERE}/api/contacts"
    folded = f"{dpop_proof(token, url=url)}, {dpop_proof(token, url=url)}"

    with caplog.at_level(logging.DEBUG, logger="bearerguard"):
        reply = call(
            protect(), "/api/contacts", headers={"Authorization": f"DPoP {token}", "DPoP": folded}
        )

    assert reply.code == 401
    assert 'error="invalid_dpop_proof"' in reply.headers["WWW-Authenticate"]
    (refused,) = [record.bearerguard_error for record in caplog.records]
    assert "exactly one DPoP header field" in refused.reason
    assert "the request has 2" in refused.reason


def test_only_dpop_requests_are_handed_over_whole(
    make_verifier: MakeVerifier, provider: Provider, inner: Inner, monkeypatch: pytest.MonkeyPatch
):
    seen: list[str] = []
    whole = Verifier.authenticate_request
    shortcut = Verifier.authenticate

    def authenticate_request(self: Verifier, request: Any) -> AccessToken | None:
        seen.append(f"request {request.method} {request.url}")
        return whole(self, request)

    def authenticate(self: Verifier, header: Any, *, query: str | None = None) -> Any:
        seen.append("shortcut")
        return shortcut(self, header, query=query)

    monkeypatch.setattr(Verifier, "authenticate_request", authenticate_request)
    monkeypatch.setattr(Verifier, "authenticate", authenticate)
    app = BearerMiddleware(inner, verifier=make_verifier())
    bound = bound_token(provider)
    url = f"{HERE}/x"

    assert call(app, "/x", headers=bearer(provider.token())).code == 200
    assert call(app, "/x", headers=dpop(bound, url)).code == 200
    assert call(app, "/x", headers={"DPoP": dpop_proof(None, url=url)}).code == 401
    assert seen == ["shortcut", f"request GET {url}", f"request GET {url}"]


def test_with_dpop_required_every_request_is_handed_over_whole(
    make_verifier: MakeVerifier, provider: Provider, inner: Inner
):
    app = BearerMiddleware(inner, verifier=make_verifier(dpop="required"))
    bound = bound_token(provider)

    assert call(app, "/x", headers=dpop(bound, f"{HERE}/x")).code == 200
    refused = call(app, "/x", headers=bearer(provider.token()))
    assert refused.code == 401
    assert refused.headers["WWW-Authenticate"].startswith("DPoP ")


def environ(**keys: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/"}
    found.update({"wsgi.url_scheme": "http", "SERVER_NAME": "api.example.com"})
    found["SERVER_PORT"] = "80"
    found.update(keys)
    return found


@pytest.mark.parametrize(
    ("keys", "url"),
    [
        ({"HTTP_HOST": "api.example.com:8080"}, "http://api.example.com:8080/"),
        ({}, "http://api.example.com/"),  # no Host field: the server's name and port
        ({"SERVER_PORT": "8000"}, "http://api.example.com:8000/"),
        ({"wsgi.url_scheme": "https", "SERVER_PORT": "443"}, "https://api.example.com/"),
        ({"wsgi.url_scheme": "https", "SERVER_PORT": "80"}, "https://api.example.com:80/"),
        ({"SERVER_NAME": "::1", "SERVER_PORT": "8080"}, "http://[::1]:8080/"),
        ({"SCRIPT_NAME": "/v1", "PATH_INFO": "/api/a b"}, "http://api.example.com/v1/api/a%20b"),
        ({"SCRIPT_NAME": "/v1", "PATH_INFO": ""}, "http://api.example.com/v1"),
        ({"PATH_INFO": ""}, "http://api.example.com/"),
        # PEP 3333: the path's bytes as latin-1; they go back as they came
        ({"PATH_INFO": "/café".encode().decode("latin-1")}, "http://api.example.com/caf%C3%A9"),
        ({"PATH_INFO": "/caf\xe9"}, "http://api.example.com/caf%E9"),  # the byte 0xE9
        ({"PATH_INFO": "/€"}, "http://api.example.com/%E2%82%AC"),  # decoded already
        ({"PATH_INFO": "/a%41"}, "http://api.example.com/a%2541"),  # a "%" sent as %25
        ({"PATH_INFO": "/a?b#c"}, "http://api.example.com/a%3Fb%23c"),
        ({"PATH_INFO": "/a:b;c=d@e,f(g)~"}, "http://api.example.com/a:b;c=d@e,f(g)~"),
        ({"QUERY_STRING": "x=1&y=%20"}, "http://api.example.com/?x=1&y=%20"),
        ({"QUERY_STRING": "x=1#y"}, "http://api.example.com/?x=1%23y"),
    ],
)
def test_wsgi_request_rebuilds_the_url_as_pep_3333_says(keys: dict[str, Any], url: str):
    assert wsgi_request(environ(**keys)).url == url


def test_wsgi_request_reads_the_method_and_the_header_fields():
    request = wsgi_request(
        environ(
            REQUEST_METHOD="POST",
            HTTP_AUTHORIZATION="DPoP abc",
            HTTP_X_REQUEST_ID="7",
            CONTENT_TYPE="application/json",
            CONTENT_LENGTH="2",
            REMOTE_ADDR="10.0.0.1",
            HTTP_NOT_TEXT=b"bytes",
        )
    )

    assert request.method == "POST"
    assert request.headers == (
        ("authorization", "DPoP abc"),
        ("x-request-id", "7"),
        ("content-type", "application/json"),
        ("content-length", "2"),
    )


@pytest.mark.parametrize(
    ("value", "proofs"),
    [
        ("a.b.c", ("a.b.c",)),
        ("a.b.c, d.e.f", ("a.b.c", "d.e.f")),  # folded by a WSGI server
        ("a.b.c,d.e.f", ("a.b.c", "d.e.f")),  # folded by Django's ASGI handler
        ("a.b.c,", ("a.b.c", "")),
        ("", ("",)),
    ],
)
def test_a_folded_dpop_field_is_split_into_the_fields_it_was(value: str, proofs: tuple[str, ...]):
    assert wsgi_request(environ(HTTP_DPOP=value)).header_values("dpop") == proofs
