"""A provider that stops answering stalls only the requests that need its keys.

Under uvicorn an ASGI example serves every request from one event loop. While a
request waits on a key-set fetch that never answers, the loop must keep serving
others; once the fetch times out (the verifier's default ``fetch_timeout``, 5 s)
the waiting request gets a 503 with ``Retry-After``, never a 401 and never a hang,
and the keys are fetched again once the provider is back.

Why the provider is held until the waiting request has its answer: released any
earlier, the outcome would depend on whether the release beat the 5-second
fetch timeout. Held, the outcome is a 503 on every machine, fast or slow.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.adapters.table import challenge
from tests.support import AUDIENCE

from .identity_provider import SUB, IdentityProvider
from .servers import EXAMPLES, REQUEST_TIMEOUT, Deployment, deploy

pytestmark = pytest.mark.e2e

# Bounds for a broken run, not measurements: a passing run needs a fraction of them.
WAIT = 30.0
UNAVAILABLE = "The token cannot be checked right now; try again later"
METADATA = f'resource_metadata="{AUDIENCE}/.well-known/oauth-protected-resource"'


@pytest.fixture(scope="module", params=[name for name, example in EXAMPLES.items() if example.asgi])
def api(
    request: pytest.FixtureRequest,
    identity_provider: IdentityProvider,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployment]:
    """A server whose key cache is cold: nothing has asked for a key yet."""
    tenant = identity_provider.add_tenant(request.param)
    with deploy(request.param, tenant, tmp_path_factory.mktemp(request.param)) as deployment:
        yield deployment


def get_private(api: Deployment, token: str) -> httpx.Response:
    # A client of its own: this runs on another thread than the test's client.
    with httpx.Client(trust_env=False, timeout=REQUEST_TIMEOUT) as client:
        return client.get(
            api.server.url + "/api/private", headers={"Authorization": f"Bearer {token}"}
        )


def test_a_hanging_key_set_fetch_stalls_only_the_request_that_needs_it(api: Deployment) -> None:
    tenant = api.tenant
    token = tenant.token()
    tenant.hold_key_sets()
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(get_private, api, token)
            # The server has discovered the key-set URL and is now waiting on it.
            assert tenant.wait_until_held(WAIT)

            public = api.get("/api/public")

            # Ordering, not speed: the public answer came back while the token's
            # request was still waiting on the provider. (Its only way out before the
            # release is the server's own 5-second fetch timeout, which a loopback
            # round trip does not come near.)
            assert public.status_code == 200
            assert not pending.done()
            assert tenant.held == 1

            refused = pending.result(timeout=WAIT)
    finally:
        tenant.release_key_sets()

    assert (refused.status_code, refused.headers["www-authenticate"], refused.json()) == (
        503,
        # The example is started with its resource: the challenge names its metadata.
        challenge("temporarily_unavailable", UNAVAILABLE) + f", {METADATA}",
        {"error": "temporarily_unavailable", "error_description": UNAVAILABLE},
    )
    retry_after = refused.headers["retry-after"]
    assert retry_after.isdigit()
    assert int(retry_after) >= 1

    # The provider is back: after Retry-After the same token is accepted, and the
    # keys were fetched exactly once more.
    granted = retry_until_served(api, token, first_wait=int(retry_after))
    assert granted.status_code == 200
    assert granted.json()["sub"] == SUB
    assert tenant.key_set_fetches(tenant.issuer) == 2


def retry_until_served(api: Deployment, token: str, first_wait: int) -> httpx.Response:
    """Retry as a well-behaved client does: wait ``Retry-After`` after each 503."""
    deadline = time.monotonic() + WAIT
    wait = first_wait
    while True:
        time.sleep(wait)
        response = api.get("/api/private", token=token)
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        wait = int(response.headers["retry-after"])
