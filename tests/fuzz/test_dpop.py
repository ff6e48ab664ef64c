"""Properties of DPoP proofs (RFC 9449) on the whole request path, ``verify_request()`` and
``averify_request()`` alike.

A genuine request carries a token bound to the client's key and a proof the client
signed for it. Whatever an attacker changes (the proof's bytes, its segments, its
header or claims members under the old signature or re-signed by a key of its own,
the layout of the ``Authorization`` and ``DPoP`` fields) the request is refused,
with nothing but a ``BearerError`` and a fixed answer that echoes none of it; the
only changes accepted are a proof the client itself signed for a spelling of the
URL that RFC 3986 makes the same. A refused request never uses up its proof: the
genuine request is accepted after each mutant was refused.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Callable
from typing import Any, cast

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from bearerguard import (
    AccessToken,
    BearerError,
    HttpRequest,
    InvalidDPoPProofError,
    InvalidRequestError,
    InvalidTokenError,
    MissingTokenError,
    SenderConstrainedTokenError,
    UseDPoPNonceError,
    Verifier,
)
from tests.hostile.builders import Env
from tests.hostile.dpop_builders import (
    ATTACKER,
    CLIENT,
    World,
    flip_unused_bits,
    jws,
    proof,
)
from tests.support import AUDIENCE, ISSUER, Clock, Provider, b64url

from .checks import ECHO_LENGTH, attempt, refused, source_text
from .conftest import bounded, budget
from .strategies import ALPHABET

pytestmark = pytest.mark.fuzz

BASE_URL = "https://api.example.com"
PATH = "/api/contacts"
# Every description a refusal of this path may carry: fixed sentences only.
DESCRIPTIONS = frozenset(
    cls.default_description
    for cls in (
        MissingTokenError,
        InvalidRequestError,
        InvalidTokenError,
        SenderConstrainedTokenError,
        InvalidDPoPProofError,
        UseDPoPNonceError,
    )
) | {
    "Malformed Authorization header",
    "A DPoP proof was sent with a Bearer token",
    "The access token is not bound to a DPoP key",
    "The request uses more than one method to send the access token",
}
_TEXT = r'"[\x20\x21\x23-\x5b\x5d-\x7e]*"'
# One challenge per accepted scheme, each parameter at most once (RFC 9110 §11.6.1).
_BEARER = rf"Bearer realm={_TEXT}(?:, error=\"[a-z_]+\", error_description={_TEXT})?"
_DPOP = rf"DPoP realm={_TEXT}(?:, error=\"[a-z_]+\", error_description={_TEXT})?, algs={_TEXT}"
CHALLENGE = re.compile(rf"{_BEARER}(?:, {_DPOP})?|{_DPOP}")


class Api:
    """A verifier (DPoP allowed, nonces off) of a frozen clock, the client's bound token."""

    def __init__(self) -> None:
        self.provider = Provider()
        self.clock = Clock()
        self.verifier = Verifier(
            issuer=ISSUER,
            audience=AUDIENCE,
            transport=self.provider.transport(),
            async_transport=self.provider.async_transport(),
            clock=self.clock.time,
            monotonic=self.clock.monotonic,
        )
        self.verifier.warm_up()
        self.world = World(Env(self.provider, self.clock), BASE_URL, self._unused)
        self.token = self.world.bound_token()

    @staticmethod
    def _unused(sent: Any) -> Any:
        raise AssertionError("no property sends a request first")

    def proof(self, **options: Any) -> str:
        """A genuine proof of the request (a new jti each time)."""
        return proof(self.world, self.token, **options)

    def fields(self, proof_value: str) -> list[tuple[str, str]]:
        return [("Authorization", f"DPoP {self.token}"), ("DPoP", proof_value)]

    def outcome(self, fields: list[tuple[str, str]]) -> AccessToken | BearerError:
        """Both drivers; a refusal must be the same from both and leave nothing behind, so
        only a request that is refused is sent twice."""
        request = HttpRequest("GET", BASE_URL + PATH, fields)
        sync = attempt(self.verifier.verify_request, request)
        if isinstance(sync, AccessToken):
            return sync
        from_async = attempt(lambda r: asyncio.run(self.verifier.averify_request(r)), request)
        assert isinstance(from_async, BearerError), "accepted by averify_request only"
        assert (type(sync), sync.reason) == (type(from_async), from_async.reason)
        assert_safe_dpop_refusal(sync, [value for _, value in fields])
        return sync

    def assert_genuine_still_passes(self, genuine: str) -> None:
        result = self.outcome(self.fields(genuine))
        assert isinstance(result, AccessToken), f"the genuine proof was refused: {result!r}"


def assert_safe_dpop_refusal(exc: BearerError, given: list[str]) -> None:
    """A fixed answer, one well-formed challenge per scheme, nothing of the input in it."""
    assert exc.description in DESCRIPTIONS, exc.description
    challenge = exc.headers["WWW-Authenticate"]
    assert CHALLENGE.fullmatch(challenge), challenge
    assert json.loads(exc.json_body()) == exc.to_json()
    answer = f"{challenge}\n{exc.json_body().decode()}\n{exc!r}"
    for value in given:
        for piece in {value, *re.split(r"[\s.,;=]+", value)}:
            if len(piece) >= ECHO_LENGTH and piece not in source_text():
                assert piece not in answer, f"the answer echoes {piece!r}"


@pytest.fixture(scope="module")
def api() -> Api:
    return Api()


# --- mutations of a genuine proof ---------------------------------------------------------------

Mutation = Callable[[st.DrawFn, str], str]


def drawing(data: st.DataObject) -> st.DrawFn:
    """``data.draw`` as the draw function the mutations take (the same call)."""
    return cast(st.DrawFn, data.draw)


def _position(draw: st.DrawFn, text: str) -> int:
    return draw(st.integers(0, len(text) - 1))


def _replace_character(draw: st.DrawFn, genuine: str) -> str:
    at = _position(draw, genuine)
    return genuine[:at] + draw(st.sampled_from(ALPHABET + ".=+/ ")) + genuine[at + 1 :]


def _insert_characters(draw: st.DrawFn, genuine: str) -> str:
    at = _position(draw, genuine)
    return genuine[:at] + draw(st.text(ALPHABET + ".=", min_size=1, max_size=4)) + genuine[at:]


def _delete_characters(draw: st.DrawFn, genuine: str) -> str:
    at = _position(draw, genuine)
    return genuine[:at] + genuine[at + draw(st.integers(1, 4)) :]


def _swap_case(draw: st.DrawFn, genuine: str) -> str:
    at = _position(draw, genuine)
    return genuine[:at] + genuine[at:].swapcase()[: draw(st.integers(1, 8))] + genuine[at + 8 :]


def _truncate(draw: st.DrawFn, genuine: str) -> str:
    return genuine[: _position(draw, genuine)]


def _rearrange_segments(draw: st.DrawFn, genuine: str) -> str:
    parts = genuine.split(".")
    return ".".join(draw(st.lists(st.sampled_from(parts), min_size=1, max_size=5)))


def _set_unused_bits(draw: st.DrawFn, genuine: str) -> str:
    parts = genuine.split(".")
    index = draw(st.sampled_from([i for i, part in enumerate(parts) if len(part) % 4 in (2, 3)]))
    parts[index] = flip_unused_bits(parts[index])
    return ".".join(parts)


def _decoded(segment: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(b64url_decode(segment))
    return value


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


HEADER_POOL: dict[str, st.SearchStrategy[Any]] = {
    "typ": st.sampled_from(["DPoP+JWT", "jwt", "at+jwt", "application/dpop+jwt", None]),
    "alg": st.sampled_from(["none", "HS256", "ES384", "RS256", "EdDSA", "es256", None]),
    "jwk": st.sampled_from([ATTACKER.bare_jwk(), {**CLIENT.bare_jwk(), "d": "AAAA"}, None]),
    "kid": st.text(ALPHABET, min_size=1, max_size=8),
    "crit": st.just(["b64"]),
    "b64": st.just(False),
    "jku": st.just("https://evil.example.com/jwks.json"),
    "x5c": st.just(["MIIB"]),
}
CLAIMS_POOL: dict[str, st.SearchStrategy[Any]] = {
    "htm": st.sampled_from(["POST", "get", "GET ", None]),
    "htu": st.sampled_from([BASE_URL + "/api/private", "http://api.example.com" + PATH, None]),
    "iat": st.one_of(st.integers(0, 2**33), st.floats(allow_nan=False), st.none()),
    "jti": st.one_of(st.text(max_size=4), st.integers(), st.none()),
    "ath": st.one_of(st.text(ALPHABET, max_size=43), st.none()),
    "nonce": st.text(ALPHABET, max_size=32),
}


def _members_changed(pool: dict[str, st.SearchStrategy[Any]]) -> Callable[..., dict[str, Any]]:
    def change(draw: st.DrawFn, members: dict[str, Any]) -> dict[str, Any]:
        names = draw(st.lists(st.sampled_from(sorted(pool)), min_size=1, max_size=3, unique=True))
        changed = dict(members)
        for name in names:
            value = draw(pool[name])
            if value is None:
                changed.pop(name, None)
            else:
                changed[name] = value
        return changed

    return change


_change_header = _members_changed(HEADER_POOL)
_change_claims = _members_changed(CLAIMS_POOL)


def _segment(members: dict[str, Any]) -> str:
    return b64url(json.dumps(members, separators=(",", ":")).encode())


def _header_changed_old_signature(draw: st.DrawFn, genuine: str) -> str:
    head, body, signature = genuine.split(".")
    return f"{_segment(_change_header(draw, _decoded(head)))}.{body}.{signature}"


def _claims_changed_old_signature(draw: st.DrawFn, genuine: str) -> str:
    head, body, signature = genuine.split(".")
    return f"{head}.{_segment(_change_claims(draw, _decoded(body)))}.{signature}"


def _same_json_other_bytes(draw: st.DrawFn, genuine: str) -> str:
    """The same members spelt otherwise (spaces, order): other bytes, the old signature."""
    head, body, signature = genuine.split(".")
    index = draw(st.integers(0, 1))
    members = _decoded((head, body)[index])
    spelt = json.dumps(dict(sorted(members.items(), reverse=True)), separators=(", ", ": "))
    parts = [head, body, signature]
    parts[index] = b64url(spelt.encode())
    return ".".join(parts)


def _resigned_by_the_attacker(draw: st.DrawFn, genuine: str) -> str:
    """The attacker's own key signs (its jwk in the header, or the client's kept)."""
    head, body, _ = genuine.split(".")
    header = _decoded(head)
    if draw(st.booleans()):
        header["jwk"] = ATTACKER.bare_jwk()
    claims = _change_claims(draw, _decoded(body)) if draw(st.booleans()) else _decoded(body)
    return jws(header, claims, ATTACKER)


MUTATIONS: dict[str, Mutation] = {
    "replace a character": _replace_character,
    "insert characters": _insert_characters,
    "delete characters": _delete_characters,
    "swap letter case": _swap_case,
    "truncate": _truncate,
    "rearrange segments": _rearrange_segments,
    "set unused bits": _set_unused_bits,
    "header changed, old signature": _header_changed_old_signature,
    "claims changed, old signature": _claims_changed_old_signature,
    "same JSON, other bytes": _same_json_other_bytes,
    "re-signed by the attacker": _resigned_by_the_attacker,
}


@budget(150)
@given(st.data())
@bounded
def test_no_mutation_of_a_genuine_proof_is_accepted(api: Api, data: st.DataObject):
    genuine = api.proof()
    how = data.draw(st.sampled_from(sorted(MUTATIONS)))
    mutant = MUTATIONS[how](drawing(data), genuine)
    if mutant != genuine:
        result = api.outcome(api.fields(mutant))
        assert isinstance(result, BearerError), f"{how}: accepted {mutant!r}"
        event(f"{how} -> {refused(result)}")
    api.assert_genuine_still_passes(genuine)  # the refusal used up nothing


# --- the URL a proof names: spelt otherwise, or another one ------------------------------------

# RFC 3986 §6.2.2-6.2.3: the same URL. Each takes (scheme, host, path) and returns them.
Spelling = Callable[[st.DrawFn, str, str, str], tuple[str, str, str]]
TWINS: dict[str, Spelling] = {
    "scheme case": lambda d, s, h, p: (d(st.sampled_from(["HTTPS", "Https"])), h, p),
    "host case": lambda d, s, h, p: (s, h.upper(), p),
    "default port": lambda d, s, h, p: (s, h + ":443", p),
    "unreserved percent-encoded": lambda d, s, h, p: (
        s,
        h,
        p.replace("o", d(st.sampled_from(["%6f", "%6F"])), 1),
    ),
    "dot segment": lambda d, s, h, p: (s, h, p.replace("/api/", "/api/./", 1)),
    "dot-dot segment": lambda d, s, h, p: (s, h, p.replace("/api/", "/api/v2/../", 1)),
}
# Another URL, however close.
OTHERS: dict[str, Spelling] = {
    "other scheme": lambda d, s, h, p: ("http", h, p),
    "other port": lambda d, s, h, p: (s, h + d(st.sampled_from([":8443", ":80", ":4430"])), p),
    "other host": lambda d, s, h, p: (s, d(st.sampled_from(["api.example.org", "example.com"])), p),
    "userinfo": lambda d, s, h, p: (s, "user@" + h, p),
    "trailing slash": lambda d, s, h, p: (s, h, p + "/"),
    "encoded slash": lambda d, s, h, p: (s, h, p.replace("/", "%2F", 2)),
    "one character more": lambda d, s, h, p: (s, h, p + d(st.sampled_from(ALPHABET))),
    "reserved percent-encoded": lambda d, s, h, p: (s, h, p.replace("c", "%63", 1) + "%3B"),
}


@budget(100)
@given(st.data())
@bounded
def test_a_proof_is_accepted_for_exactly_the_spellings_of_its_url(api: Api, data: st.DataObject):
    names = data.draw(st.lists(st.sampled_from(sorted(TWINS)), max_size=3, unique=True))
    other = data.draw(st.none() | st.sampled_from(sorted(OTHERS)))
    scheme, host, path = "https", "api.example.com", PATH
    for name in names:
        scheme, host, path = TWINS[name](drawing(data), scheme, host, path)
    if other is not None:
        scheme, host, path = OTHERS[other](drawing(data), scheme, host, path)
    htu = f"{scheme}://{host}{path}"

    result = api.outcome(api.fields(api.proof(claims={"htu": htu})))

    if other is None:
        assert isinstance(result, AccessToken), f"{htu} is the request's URL: {result!r}"
    else:
        assert isinstance(result, InvalidDPoPProofError), f"{other}: {htu} accepted"
    event(f"{other or 'twin'}: {type(result).__name__}")


# --- the layout of the header fields --------------------------------------------------------------

AUTHORIZATIONS = ("DPoP {token}", "dpop {token}", "Bearer {token}", "DPoP", "DPoP  {token}")
PROOF_VALUES = ("genuine", "another genuine", "junk", "")


@budget(150)
@given(
    authorizations=st.lists(st.sampled_from(AUTHORIZATIONS), max_size=2),
    proofs=st.lists(st.sampled_from(PROOF_VALUES), max_size=3),
    names=st.lists(st.sampled_from(["DPoP", "dpop", "DPOP"]), min_size=3, max_size=3),
)
@bounded
def test_only_one_dpop_authorization_with_one_genuine_proof_is_accepted(
    api: Api, authorizations: list[str], proofs: list[str], names: list[str]
):
    values = {"genuine": api.proof(), "another genuine": api.proof(), "junk": "x.y.z", "": ""}
    fields = [("Authorization", value.replace("{token}", api.token)) for value in authorizations]
    fields += [(name, values[kind]) for name, kind in zip(names, proofs, strict=False)]

    result = api.outcome(fields)

    expected = (
        len(authorizations) == 1
        and re.fullmatch(r"dpop +\{token\}", authorizations[0].lower()) is not None
        and len(proofs) == 1
        and proofs[0] in ("genuine", "another genuine")
    )
    assert isinstance(result, AccessToken) is expected, (fields, result)
    event(refused(result) if isinstance(result, BearerError) else "accepted")


@budget(150)
@given(value=st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
@bounded
def test_any_dpop_field_value_is_refused_with_a_fixed_answer(api: Api, value: str):
    result = api.outcome(api.fields(value))
    assert isinstance(result, InvalidDPoPProofError), result
    event(refused(result))
