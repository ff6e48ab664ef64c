"""The fault server does what each fault says on the wire, so the fault table tests what it claims.

Plain httpx clients here, no verifier: these check the harness, not bearerguard.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from .server import DISCOVERY_PATH, OVERSIZED_BYTES, Fault, FaultyProvider

WAIT = 10.0


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=WAIT) as plain:
        yield plain


def test_a_healthy_provider_serves_discovery_and_its_key_set_from_two_origins(
    faulty_idp: FaultyProvider, client: httpx.Client
) -> None:
    idp = faulty_idp
    metadata = client.get(idp.issuer + DISCOVERY_PATH.lstrip("/")).json()
    assert metadata == {"issuer": idp.issuer, "jwks_uri": idp.jwks_uri}
    assert httpx.URL(idp.issuer).port != httpx.URL(idp.jwks_uri).port
    keys = client.get(idp.jwks_uri)
    assert [k["kid"] for k in keys.json()["keys"]] == ["k1"]
    assert keys.headers["cache-control"] == "public, max-age=600"


def test_refused_means_no_listener_and_the_port_is_kept_for_the_recovery(
    faulty_idp: FaultyProvider, client: httpx.Client
) -> None:
    idp = faulty_idp
    port = httpx.URL(idp.jwks_uri).port
    assert port is not None
    idp.jwks.fail(Fault.REFUSED)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=WAIT).close()
    idp.jwks.fail(Fault.HEALTHY)
    assert client.get(idp.jwks_uri).status_code == 200


def test_a_held_request_is_answered_with_the_fault_that_replaces_timeout(
    faulty_idp: FaultyProvider, client: httpx.Client
) -> None:
    idp = faulty_idp
    idp.jwks.fail(Fault.TIMEOUT)
    answers: list[httpx.Response] = []
    getter = threading.Thread(target=lambda: answers.append(client.get(idp.jwks_uri)))
    getter.start()
    try:
        assert idp.jwks.wait_until_held()
        assert idp.jwks.held == 1
    finally:
        idp.jwks.fail(Fault.HTTP_503)
        getter.join(WAIT)
    assert [a.status_code for a in answers] == [503]
    assert idp.jwks.held == 0


@pytest.mark.parametrize(
    ("fault", "declared"), [(Fault.OVERSIZED, True), (Fault.OVERSIZED_CHUNKED, False)]
)
def test_oversized_answers_are_valid_documents_with_or_without_a_declared_length(
    faulty_idp: FaultyProvider, client: httpx.Client, fault: Fault, declared: bool
) -> None:
    faulty_idp.jwks.fail(fault)
    answer = client.get(faulty_idp.jwks_uri)
    assert ("content-length" in answer.headers) is declared
    assert len(answer.content) > OVERSIZED_BYTES
    assert [k["kid"] for k in answer.json()["keys"]] == ["k1"]  # only too big


@pytest.mark.parametrize(
    ("fault", "location"),
    [
        (Fault.REDIRECT_OTHER_PORT, "{elsewhere}/jwks.json"),
        (Fault.REDIRECT_OTHER_HOST, "http://localhost:{port}/jwks.json"),
        (Fault.REDIRECT_SAME_ORIGIN, "/moved/jwks.json"),
    ],
)
def test_redirects_lead_where_they_say(
    faulty_idp: FaultyProvider, client: httpx.Client, fault: Fault, location: str
) -> None:
    idp = faulty_idp
    idp.jwks.fail(fault)
    answer = client.get(idp.jwks_uri)
    assert answer.status_code == 302
    port = httpx.URL(idp.jwks_uri).port
    assert answer.headers["location"] == location.format(elsewhere=idp.elsewhere.origin, port=port)
    # The other origin would even serve the key set: a followed redirect would succeed.
    assert client.get(idp.elsewhere.origin + "/jwks.json").status_code == 200


@pytest.mark.parametrize(
    ("fault", "named"),
    [(Fault.ISSUER_TRAILING_SLASH, "{issuer}/"), (Fault.ISSUER_OTHER_HOST, "{other}")],
)
def test_issuer_mismatches_change_only_the_issuer(
    faulty_idp: FaultyProvider, client: httpx.Client, fault: Fault, named: str
) -> None:
    idp = faulty_idp
    idp.discovery.fail(fault)
    metadata = client.get(idp.issuer + DISCOVERY_PATH.lstrip("/")).json()
    other = idp.issuer.replace("127.0.0.1", "localhost")
    assert metadata["issuer"] == named.format(issuer=idp.issuer, other=other)
    assert metadata["jwks_uri"] == idp.jwks_uri


def test_closing_the_provider_leaves_no_thread_behind() -> None:
    before = set(threading.enumerate())
    with FaultyProvider() as idp:
        idp.jwks.fail(Fault.TIMEOUT)
        sock = socket.create_connection(("127.0.0.1", httpx.URL(idp.jwks_uri).port or 0))
        sock.sendall(b"GET /jwks.json HTTP/1.1\r\nHost: x\r\n\r\n")
        assert idp.jwks.wait_until_held()
    sock.close()
    assert set(threading.enumerate()) <= before
