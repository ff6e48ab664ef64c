"""The pytest plugin: a :class:`~bearerguard.testing.FakeIssuer` for every test that asks.

bearerguard registers this module under the ``pytest11`` entry point named
``bearerguard``, so the fixtures are available as soon as bearerguard is
installed (``-p no:bearerguard`` turns the plugin off; with plugin autoloading
disabled, ``-p bearerguard`` turns it on).

Fixtures:
    ``bearerguard_settings``: the settings the fake is bound to, a dict with
        ``issuer`` and ``audience`` (and optionally ``algorithm``, ``jwks_uri``,
        ``lifetime``). By default read from the variables ``Verifier.from_env()``
        reads, so that an app configured by the environment is matched as it is:
        the first of ``BEARERGUARD_ISSUER``, the first of ``BEARERGUARD_AUDIENCE``
        (else ``BEARERGUARD_RESOURCE``, which the app's audience defaults to), the
        first asymmetric algorithm of ``BEARERGUARD_ALGORITHMS`` and
        ``BEARERGUARD_JWKS_URI``; FakeIssuer's defaults for what is not set.
        Define your own ``bearerguard_settings`` fixture to change them.
    ``fake_issuer``: an active :class:`~bearerguard.testing.FakeIssuer` for the
        test, stopped afterwards (whatever the outcome). While it is active, every
        ``Verifier`` trusting its issuer gets its keys from it, in-process.
    ``bearer_token``: ``bearer_token(**kwargs) -> str``, i.e. ``fake_issuer.token``.
    ``bearer_headers``: ``bearer_headers(**kwargs) -> {"Authorization": "Bearer ..."}``,
        i.e. ``fake_issuer.auth_header``.
    ``dpop_headers``: ``dpop_headers(method, url, **kwargs) -> {"Authorization": "DPoP ...",
        "DPoP": ...}``: a token bound to a fresh client key and that key's proof of the
        request (RFC 9449), i.e. ``fake_issuer.auth_header(dpop=(method, url), **kwargs)``.
    ``certificate_headers``: ``certificate_headers(client_certificate, **kwargs) ->
        {"Authorization": "Bearer ...", <the proxy's field>: ...}``: a token bound to a fresh
        client certificate and the field a proxy sets for it, as the app's
        ``client_certificate`` setting names it (RFC 8705), i.e.
        ``fake_issuer.auth_header(client_certificate=client_certificate, **kwargs)``.

Marker:
    ``@pytest.mark.bearerguard(issuer=..., audience=..., ...)`` on a test, class or
    module (``pytestmark``) overrides ``bearerguard_settings`` for the fake; the
    closest marker wins.

Report:
    When a test that uses the fake fails, its report gets a ``bearerguard`` section
    (next to "Captured log") naming every request bearerguard refused during the
    test, why, and what to change: the issuer or audience the application trusts
    against the fake's, a missing scope, an expired token, ... Nothing is shown for
    passing tests, nor for tests without the fake.

Example::

    def test_contacts(client, bearer_headers):
        response = client.get("/api/contacts", headers=bearer_headers(scopes=["read:contacts"]))
        assert response.status_code == 200
"""

from __future__ import annotations

import gc
import inspect
import os
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from bearerguard._config import ASYMMETRIC_ALGORITHMS, settings_from_mapping
from bearerguard._errors import ConfigurationError
from bearerguard._intercept import interceptions
from bearerguard.testing import FakeIssuer
from bearerguard.testing._refusals import Recorder
from bearerguard.testing._report import Binding, describe

if TYPE_CHECKING:
    from bearerguard import Verifier

__all__ = [
    "bearer_headers",
    "bearer_token",
    "bearerguard_settings",
    "certificate_headers",
    "dpop_headers",
    "fake_issuer",
]

MARKER = "bearerguard"
# What the settings may name: FakeIssuer's keyword arguments, except the clock (a test
# that controls time builds its own FakeIssuer).
SETTINGS = ("issuer", "audience", "algorithm", "jwks_uri", "lifetime")
REQUIRED = ("issuer", "audience")
_ALLOWED = ", ".join(SETTINGS)
# The variables Verifier.from_env() reads that decide what a token must look like to pass.
_ENVIRONMENT = (
    "BEARERGUARD_ISSUER",
    "BEARERGUARD_AUDIENCE",
    "BEARERGUARD_RESOURCE",
    "BEARERGUARD_ALGORITHMS",
    "BEARERGUARD_JWKS_URI",
)


def pytest_configure(config: pytest.Config) -> None:
    # --strict-markers (which bearerguard's own suite uses) refuses unregistered markers.
    config.addinivalue_line(
        "markers",
        f"{MARKER}({_ALLOWED}): the settings of this test's fake issuer "
        "(the fake_issuer fixture of bearerguard.testing)",
    )


@pytest.fixture
def bearerguard_settings() -> dict[str, Any]:
    """What the fake issuer is bound to: ``issuer``, ``audience`` (``algorithm``, ``jwks_uri``).

    Read from the environment variables the application's ``Verifier.from_env()``
    reads (see the module's docstring), else FakeIssuer's defaults. Override this
    fixture to bind the fake to other values, e.g. your app's own settings.
    """
    try:
        found = _from_environment(os.environ)
    except ConfigurationError as exc:  # the app's Verifier.from_env() refuses the same value
        raise _misuse(f"the environment cannot set the fake issuer up: {exc}") from None
    return {**_defaults(), **found}


@pytest.fixture
def fake_issuer(
    request: pytest.FixtureRequest, bearerguard_settings: Mapping[str, Any]
) -> Iterator[FakeIssuer]:
    """An active :class:`~bearerguard.testing.FakeIssuer` for this test, stopped after it."""
    chosen = _checked(bearerguard_settings)
    marked = _marker_settings(request.node)
    with _create({**chosen, **marked}) as fake:  # stopped afterwards, whatever the outcome
        _record(request.node, Binding(fake, _origins(chosen, marked)))
        yield fake


@pytest.fixture
def bearer_token(fake_issuer: FakeIssuer) -> Callable[..., str]:
    """``bearer_token(scopes=["read:contacts"], **claims)``: a token signed by the fake issuer."""
    return fake_issuer.token


@pytest.fixture
def bearer_headers(fake_issuer: FakeIssuer) -> Callable[..., dict[str, str]]:
    """``bearer_headers(scopes=[...], **claims)``: ``{"Authorization": "Bearer <token>"}``."""
    return fake_issuer.auth_header


@pytest.fixture
def dpop_headers(fake_issuer: FakeIssuer) -> Callable[..., dict[str, str]]:
    """``dpop_headers(method, url, scopes=[...], **claims)``: the headers of a DPoP request.

    ``{"Authorization": "DPoP <token>", "DPoP": <proof>}``: a fresh token bound to a
    fresh client key, and that key's proof of ``method`` and ``url``, the URL the app
    sees (``http://testserver/...`` with the test clients of Starlette, FastAPI and
    Django; ``http://localhost/...`` with Flask's). A proof is good for one request:
    call again for the next. ``dpop_key=`` signs with a key of your own (from
    ``fake_issuer.dpop_key()``), ``dpop_nonce=`` sends the nonce the API asked for;
    the other arguments are :meth:`FakeIssuer.token
    <bearerguard.testing.FakeIssuer.token>`'s.
    """

    def dpop_headers(method: str, url: str, **kwargs: Any) -> dict[str, str]:
        return fake_issuer.auth_header(dpop=(method, url), **kwargs)

    return dpop_headers


@pytest.fixture
def certificate_headers(fake_issuer: FakeIssuer) -> Callable[..., dict[str, str]]:
    """``certificate_headers(client_certificate, scopes=[...], **claims)``: the headers of a
    request with a certificate-bound token (RFC 8705), as the app's proxy forwards it.

    ``client_certificate`` is the app's setting of that name (``"header:Client-Cert"``,
    ``"header:X-Forwarded-Client-Cert"`` or ``"header:X-SSL-Client-Cert"``): the answer
    is ``{"Authorization": "Bearer <token>", <that field>: <the certificate>}``, the token
    bound to a fresh client certificate. ``certificate=`` uses one of your own (from
    ``fake_issuer.client_certificate()``), e.g. to send another one's field; the other
    arguments are :meth:`FakeIssuer.token <bearerguard.testing.FakeIssuer.token>`'s.
    """

    def certificate_headers(client_certificate: str, **kwargs: Any) -> dict[str, str]:
        return fake_issuer.auth_header(client_certificate=client_certificate, **kwargs)

    return certificate_headers


# --- the report of refusals -------------------------------------------------------------------


@dataclass
class _Recording:
    binding: Binding
    recorder: Recorder
    reported: bool = False


_RECORDING = pytest.StashKey[_Recording]()


def _record(item: pytest.Item, binding: Binding) -> None:
    """Record bearerguard's refusals from now until the end of the test's teardown."""
    recorder = Recorder()
    item.stash[_RECORDING] = _Recording(binding, recorder)
    recorder.start()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, None, None]:
    try:
        return (yield)
    finally:
        # Stopped once every fixture is torn down, not in fake_issuer's own teardown: caplog
        # restores the logger's level in its teardown, which may come after ours.
        recording = item.stash.get(_RECORDING, None)
        if recording is not None:
            recording.recorder.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    recording = item.stash.get(_RECORDING, None)
    if recording is None:
        return report
    if report.failed and not recording.reported:
        text = _section(recording)
        if text:
            report.sections.append(("bearerguard", text))
            recording.reported = True  # once: a failed teardown after a failed call says no more
    if report.when == "teardown":
        del item.stash[_RECORDING]
    return report


def _section(recording: _Recording) -> str:
    recorder = recording.recorder
    if not recorder.refusals and not recorder.log:
        return ""
    try:
        return describe(recorder, recording.binding, _live_verifiers())
    except Exception as exc:  # a report must never break the test run
        return f"bearerguard could not describe the refusals of this test: {exc!r}\n"


def _live_verifiers() -> tuple[Verifier, ...]:
    # The apps of earlier tests linger in reference cycles until the collector runs: their
    # verifiers would be listed as if the test's app had them. A failed test can afford this.
    gc.collect()
    return interceptions.verifiers()


def _origins(chosen: Mapping[str, Any], marked: Mapping[str, Any]) -> dict[str, str]:
    """Where each of the fake's settings came from, for the report's hints."""
    defaults = inspect.signature(FakeIssuer).parameters
    origins: dict[str, str] = {}
    for name in SETTINGS:
        if name in marked:
            origins[name] = "marker"
        elif name in chosen and chosen[name] != defaults[name].default:
            origins[name] = "settings"
        else:
            origins[name] = "default"
    return origins


# --- settings ----------------------------------------------------------------------------------


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """The fake's settings matching an app configured by ``BEARERGUARD_*`` variables.

    An app trusting several issuers or audiences accepts a token from any of them,
    so the first of each is enough. Without an audience, the app's defaults to its
    resource (RFC 8707): the fake's tokens name that.
    """
    # Only the variables that matter here: an unrelated malformed one (e.g. LEEWAY) is the
    # application's error to report, not this fixture's.
    found = settings_from_mapping({name: environ[name] for name in _ENVIRONMENT if name in environ})
    settings: dict[str, Any] = {}
    for name in REQUIRED:
        if found.get(name):
            settings[name] = found[name][0]
    if "audience" not in settings and found.get("resource"):
        settings["audience"] = found["resource"]
    # The fake signs with a key pair of its own: the first asymmetric algorithm the app allows.
    signable = [name for name in found.get("algorithms", ()) if name in ASYMMETRIC_ALGORITHMS]
    if signable:
        settings["algorithm"] = signable[0]
    if found.get("jwks_uri"):
        settings["jwks_uri"] = found["jwks_uri"]
    return settings


def _create(settings: dict[str, Any]) -> FakeIssuer:
    try:
        return FakeIssuer(**settings)
    except (TypeError, ValueError) as exc:  # ConfigurationError is a ValueError
        # The message says it all: "during handling of ..." would repeat it.
        raise _misuse(f"cannot create the fake issuer with {settings!r}: {exc}") from None


def _defaults() -> dict[str, Any]:
    # FakeIssuer's own defaults, read from its signature so that they are never restated here.
    parameters = inspect.signature(FakeIssuer).parameters
    return {name: parameters[name].default for name in REQUIRED}


def _checked(settings: object) -> dict[str, Any]:
    """The ``bearerguard_settings`` fixture's value, or a failure saying what is wrong with it."""
    example = "{'issuer': 'https://your-tenant.auth0.com/', 'audience': 'https://api.example.com'}"
    if not isinstance(settings, Mapping):
        raise _misuse(
            f"the bearerguard_settings fixture must return a dict such as {example}, "
            f"got {type(settings).__name__}."
        )
    unknown = sorted(str(name) for name in settings if name not in SETTINGS)
    if unknown:
        raise _misuse(
            f"the bearerguard_settings fixture returned unknown key(s) {', '.join(unknown)}; "
            f"allowed: {_ALLOWED}."
        )
    missing = [name for name in REQUIRED if name not in settings]
    if missing:
        raise _misuse(
            f"the bearerguard_settings fixture must give {' and '.join(REQUIRED)}, e.g. "
            f"{example}; missing: {', '.join(missing)}."
        )
    return dict(settings)


def _marker_settings(node: pytest.Item) -> dict[str, Any]:
    """The keyword arguments of the closest ``bearerguard`` marker, checked."""
    marker = node.get_closest_marker(MARKER)
    if marker is None:
        return {}
    if marker.args:
        raise _misuse(
            f"@pytest.mark.{MARKER} takes keyword arguments only ({_ALLOWED}), "
            f"got positional {', '.join(map(repr, marker.args))}."
        )
    unknown = sorted(name for name in marker.kwargs if name not in SETTINGS)
    if unknown:
        raise _misuse(
            f"@pytest.mark.{MARKER} got unknown keyword(s) {', '.join(unknown)}; "
            f"allowed: {_ALLOWED}."
        )
    return dict(marker.kwargs)


def _misuse(message: str) -> BaseException:
    # A setup error with the message alone: a traceback into this plugin would say nothing more.
    return pytest.fail.Exception(f"bearerguard: {message}", pytrace=False)
