"""Why a test's requests were refused: the text of the pytest plugin's report section.

Each refusal a :class:`~bearerguard.testing._refusals.Recorder` saw is named with
its error class and reason, then explained by comparing the test's fake issuer
with the settings of the verifiers alive in the process (the application's among
them), and followed by the fix in the plugin's own terms: ``bearerguard_settings``,
the ``bearerguard`` marker, or the application's settings.

Example::

    describe(recorder, Binding(fake, {"issuer": "default", "audience": "default"}), verifiers)
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bearerguard._config import ASYMMETRIC_ALGORITHMS
from bearerguard._errors import (
    BearerError,
    ExpiredTokenError,
    ImmatureTokenError,
    InsufficientScopeError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidSignatureError,
    KeySetUnavailableError,
    UnknownKeyError,
)

from ._fake_issuer import FakeIssuer
from ._refusals import Recorder, Refusal

if TYPE_CHECKING:
    from bearerguard._verifier import Verifier

__all__ = ["Binding", "describe"]

MARKER = "@pytest.mark.bearerguard"
# Enough to find the application's verifier among those of other tests still alive.
_MOST_VERIFIERS = 3
_WIDTH = 92  # the report's lines, indented, wrapped at spaces (never inside a URL)


@dataclass(frozen=True)
class Binding:
    """The test's fake issuer, and where each of its settings came from.

    ``origins`` maps a setting (``issuer``, ``audience``, ...) to ``"marker"``,
    ``"settings"`` (the ``bearerguard_settings`` fixture) or ``"default"``
    (FakeIssuer's own: nothing chose it).
    """

    fake: FakeIssuer
    origins: Mapping[str, str] = field(default_factory=dict)

    def origin(self, name: str) -> str:
        """Where the fake's setting ``name`` came from, in parentheses."""
        where = self.origins.get(name, "default")
        if where == "marker":
            return f"(set by {MARKER})"
        if where == "settings":
            return "(from bearerguard_settings)"
        return "(FakeIssuer's default)"


@dataclass(frozen=True)
class _Scene:
    """What a refusal is explained with: the test's fake and the verifiers alive."""

    binding: Binding
    verifiers: Sequence[Verifier]

    @property
    def fake(self) -> FakeIssuer:
        return self.binding.fake

    def trusts(self, verifier: Verifier) -> bool:
        """Whether ``verifier`` accepts the fake's issuer (under any spelling of its URL)."""
        return self.fake.issuer in verifier.config.issuer_index

    def trusting(self) -> list[Verifier]:
        """The verifiers that trust the fake's issuer."""
        return [v for v in self.verifiers if self.trusts(v)]

    def jwks_uri(self, verifier: Verifier) -> str | None:
        """Where ``verifier`` fetches the fake issuer's keys, when it skips discovery."""
        configured = verifier.config.issuer_index.find(self.fake.issuer)
        return None if configured is None else verifier.config.jwks_uris.get(configured)

    def named(self, verifiers: Sequence[Verifier]) -> list[tuple[str, Verifier]]:
        """Each verifier with what to call it: "your app's" when it is the only one."""
        if len(verifiers) == 1:
            return [("Your app's verifier", verifiers[0])]
        return [(repr(v), v) for v in verifiers[:_MOST_VERIFIERS]]


def describe(recorder: Recorder, binding: Binding, verifiers: Sequence[Verifier]) -> str:
    """The report section, or ``""`` when bearerguard had nothing to say."""
    if not recorder.refusals and not recorder.log:
        return ""
    # One of each setting (the apps of earlier tests may be alive still), in the same
    # order from run to run, whatever the weak set's.
    distinct = {repr(v): v for v in verifiers}
    scene = _Scene(binding, [distinct[name] for name in sorted(distinct)])
    lines: list[str] = []
    if recorder.refusals:
        total = sum(recorder.refusals.values())
        lines.append(f"bearerguard refused {_times(total, 'request')} during this test.")
    for refusal, count in recorder.refusals.items():
        error = refusal.error
        named = f"{error.__name__} ({error.status_code} {error.error})" if error else "Refused"
        repeated = f", {_times(count, 'time')}" if count > 1 else ""
        lines += ["", f"{named}{repeated}: {refusal.reason}"]
        explain = _EXPLAIN.get(error, _other) if error else _other
        for paragraph in explain(refusal, scene):
            lines += textwrap.wrap(
                paragraph,
                _WIDTH,
                initial_indent="  ",
                subsequent_indent="    ",
                break_long_words=False,
                break_on_hyphens=False,
            )
    if recorder.log:
        lines += ["", "bearerguard's log during this test:"]
        for (level, message), count in recorder.log.items():
            repeated = f" ({_times(count, 'time')})" if count > 1 else ""
            lines.append(f"  {level} {message}{repeated}")
    return "\n".join(lines) + "\n"


def _issuer(refusal: Refusal, scene: _Scene) -> list[str]:
    fake, binding = scene.fake, scene.binding
    signs = f"the fake issuer signs as {fake.issuer!r} {binding.origin('issuer')}."
    others = [v for v in scene.verifiers if not scene.trusts(v)]
    if not others:
        if not scene.verifiers:  # the app's verifier is gone: nothing to compare with
            return [_sentence(signs)]
        return [
            f"Every verifier alive trusts the fake's issuer, {fake.issuer!r}: the token named "
            "another one (minted with iss=...?).",
            "Fix: mint it without iss=, or bind the fake to the issuer it should name.",
        ]
    named = scene.named(others)
    paragraphs = [f"{who} trusts {_listed(v.config.issuers)}" for who, v in named]
    paragraphs[-1] += f"; {signs}"
    paragraphs.append(
        "No key was fetched: a verifier refuses a token of an issuer it does not trust "
        "before any network call."
    )
    wanted = others[0].config
    if binding.origins.get("issuer") == "marker":
        return [
            *paragraphs,
            f"Fix: the marker binds the fake to another issuer than your app's: make it "
            f"{MARKER}(issuer={wanted.issuers[0]!r}), or drop its issuer= (a test of this "
            "refusal expects the 401).",
        ]
    settings = {"issuer": wanted.issuers[0], "audience": wanted.audiences[0]}
    return [
        *paragraphs,
        f"Fix: bind the fake to your app's issuer, with a bearerguard_settings fixture "
        f"returning {settings!r}, or with {MARKER}(issuer={wanted.issuers[0]!r}) on the "
        "test; or configure your app with the fake's issuer.",
    ]


def _audience(refusal: Refusal, scene: _Scene) -> list[str]:
    fake, binding = scene.fake, scene.binding
    audiences = (fake.audience,) if isinstance(fake.audience, str) else fake.audience
    names = f"the fake's tokens name {_listed(audiences)} {binding.origin('audience')}."
    trusting = scene.trusting()
    others = [v for v in trusting if set(audiences).isdisjoint(v.config.audiences)]
    if not others:
        if not trusting:
            return [_sentence(names)]
        return [
            f"Every verifier trusting {fake.issuer!r} accepts the fake's audience: the token "
            "named another one (minted with aud=...?).",
            "Fix: mint it without aud=, or bind the fake to the audience it should name.",
        ]
    paragraphs = [f"{who} expects {_listed(v.config.audiences)}" for who, v in scene.named(others)]
    paragraphs[-1] += f"; {names}"
    wanted = others[0].config.audiences[0]
    if binding.origins.get("audience") == "marker":
        return [
            *paragraphs,
            f"Fix: the marker binds the fake to another audience than your app's: make it "
            f"{MARKER}(audience={wanted!r}), or drop its audience= (a test of this refusal "
            "expects the 401).",
        ]
    return [
        *paragraphs,
        f"Fix: bind the fake to your app's audience, with 'audience': {wanted!r} in a "
        f"bearerguard_settings fixture, or with {MARKER}(audience={wanted!r}) on the test; "
        "or configure your app with the fake's audience.",
    ]


def _key_set(refusal: Refusal, scene: _Scene) -> list[str]:
    fake = scene.fake
    fetched = (
        "The verifier asked for keys that no fake issuer serves, so the request went to the "
        "network (bearerguard's log below names the URL and what happened)."
    )
    elsewhere = _elsewhere(scene)
    if elsewhere:
        return [fetched, *elsewhere]
    return [
        fetched,
        f"The fake serves only the URLs of its own issuer, {fake.issuer!r}: a token minted "
        "with iss= naming another issuer sends the verifier to that issuer's real URLs.",
        f"Fix: bind the fake to that issuer (bearerguard_settings, or {MARKER}(issuer=...)) "
        "instead of passing iss=.",
    ]


def _unknown_key(refusal: Refusal, scene: _Scene) -> list[str]:
    return [
        "No key of the issuer's key set has the token's kid: a token from "
        "unknown_key_token(), one signed with a key retired by rotate(keep_old=False), one "
        "minted by another FakeIssuer (each makes its own keys: a token kept from an earlier "
        "test?), or one whose keys came from the network (minted with iss=...?).",
        *_elsewhere(scene),
    ]


def _elsewhere(scene: _Scene) -> list[str]:
    """Where verifiers trusting the fake's issuer fetch its keys, when not from the fake."""
    fake = scene.fake
    found = [v for v in scene.trusting() if scene.jwks_uri(v) not in (None, fake.jwks_uri)]
    if not found:
        return []
    paragraphs = [
        f"{who} fetches the keys of {fake.issuer!r} from {scene.jwks_uri(v)!r}"
        for who, v in scene.named(found)
    ]
    paragraphs[-1] += (
        f"; the fake publishes them at {fake.jwks_uri!r} {scene.binding.origin('jwks_uri')}."
    )
    wanted = scene.jwks_uri(found[0])
    return [
        *paragraphs,
        f"Fix: give the fake your app's jwks_uri, with 'jwks_uri': {wanted!r} in "
        f"bearerguard_settings, or with {MARKER}(jwks_uri={wanted!r}).",
    ]


def _signature(refusal: Refusal, scene: _Scene) -> list[str]:
    return [
        "The signature does not verify with the issuer's key of the token's kid: a token "
        "from tampered_token(), or one changed after it was minted."
    ]


def _expired(refusal: Refusal, scene: _Scene) -> list[str]:
    return [
        f"The token's exp had passed, the verifier's leeway included (the fake's tokens are "
        f"valid for {scene.fake.lifetime:g}s): a token from expired_token(), one minted with "
        "expires_in= or exp= in the past, or one kept while the clock moved on.",
        "A verifier with a clock of its own (Verifier(clock=...)) needs a FakeIssuer with "
        "the same clock: FakeIssuer(clock=...).",
    ]


def _immature(refusal: Refusal, scene: _Scene) -> list[str]:
    return [
        "The token's nbf or iat lies in the future for the verifier: a token from "
        "immature_token(), or one checked by a verifier with a clock of its own "
        "(Verifier(clock=...)), which needs a FakeIssuer(clock=...) with the same clock.",
    ]


def _scope(refusal: Refusal, scene: _Scene) -> list[str]:
    needed = list(refusal.required)
    if not needed:  # a route whose own list of scopes is malformed (DRF)
        return []
    which = "one of " if refusal.any_of and needed[1:] else "all of " if needed[1:] else ""
    granted = " ".join(sorted(refusal.granted)) or "no scope at all"
    example = needed[:1] if refusal.any_of else needed
    return [
        f"The route requires {which}{' '.join(needed)}; the token grants {granted}.",
        f"Fix: mint the token with the scope{'s' if example[1:] else ''} it needs, e.g. "
        f"bearer_headers(scopes={example!r}).",
    ]


def _other(refusal: Refusal, scene: _Scene) -> list[str]:
    """A refusal with a reason of its own: the mismatch the reason cannot name, if any."""
    fake = scene.fake
    narrow = [v for v in scene.trusting() if fake.algorithm not in v.config.algorithms]
    if not narrow:
        return []
    paragraphs = [
        f"{who} allows {', '.join(sorted(v.config.algorithms))}" for who, v in scene.named(narrow)
    ]
    paragraphs[-1] += f"; the fake signs with {fake.algorithm} {scene.binding.origin('algorithm')}."
    signable = sorted(ASYMMETRIC_ALGORITHMS & narrow[0].config.algorithms)
    if not signable:
        return [
            *paragraphs,
            "A FakeIssuer signs with key pairs only: it cannot mint the shared-secret (HS*) "
            "tokens this verifier allows.",
        ]
    return [
        *paragraphs,
        f"Fix: 'algorithm': {signable[0]!r} in bearerguard_settings, or "
        f"{MARKER}(algorithm={signable[0]!r}).",
    ]


_EXPLAIN: dict[type[BearerError], Callable[[Refusal, _Scene], list[str]]] = {
    InvalidIssuerError: _issuer,
    InvalidAudienceError: _audience,
    KeySetUnavailableError: _key_set,
    UnknownKeyError: _unknown_key,
    InvalidSignatureError: _signature,
    ExpiredTokenError: _expired,
    ImmatureTokenError: _immature,
    InsufficientScopeError: _scope,
}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]  # str.capitalize() would lower the rest, URLs too


def _listed(values: Sequence[str]) -> str:
    return ", ".join(repr(value) for value in values)


def _times(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
