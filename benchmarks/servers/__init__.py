"""The servers, keys and tokens of the HTTP load benchmark (``benchmarks/load.py``).

Each framework gets a small app (``asgi_app``, ``fastapi_app``, ``flask_app``,
``django_app``) serving one view twice: ``/unguarded`` without any bearerguard
code in the request path, and ``/guarded`` behind bearerguard requiring
``read:contacts``, so that the ratio of the two prices bearerguard and nothing
else. The apps trust one issuer whose key set a tiny loopback server
(``issuer.KeyServer``) publishes; ``tokens`` signs the tokens (RS256, the
reference algorithm), ``launch`` starts and stops the servers, ``wrk`` drives
the load generator with ``tokens.lua``. The ASGI and FastAPI apps also serve
``/dpop``: the same view behind bearerguard for DPoP-bound tokens, each request
with a new proof (``proofs`` signs them, ``proofs.lua`` sends them).

The names below are what both sides (the benchmark and the servers) agree on.
"""

from __future__ import annotations

# The issuer is never contacted: the servers fetch its keys from the loopback key server
# (BEARERGUARD_JWKS_URI), so tokens signed in an earlier run stay valid whatever port the
# key server gets this time, which lets the token pool be cached on disk.
ISSUER = "https://tenant.auth0.com/"
AUDIENCE = "https://api.example.com"
USERINFO = ISSUER + "userinfo"
KID = "load-bench-key-1"
SCOPE = "read:contacts"
# What an Auth0 token for a signed-in user of a single-page app typically grants.
GRANTED = "openid profile email read:contacts write:contacts read:orders offline_access"
WITHOUT_SCOPE = "openid profile email write:contacts read:orders"

UNGUARDED_PATH = "/unguarded"
GUARDED_PATH = "/guarded"
NOOP_PATH = "/noop"  # FastAPI only: a dependency that reads the header and does nothing else
# ASGI and FastAPI: the token's signature checked and nothing else (_serving.signature_floor)
FLOOR_PATH = "/floor"
# ASGI and FastAPI, DPoP (RFC 9449): the view behind bearerguard with a bound token and a new
# proof per request, and behind the two signature checks alone (_serving.dpop_signature_floor)
DPOP_PATH = "/dpop"
DPOP_FLOOR_PATH = "/dpop-floor"

# The environment variable naming the process whose death stops a server (see _serving).
PARENT_PID_VARIABLE = "LOAD_BENCH_PARENT_PID"


def contacts(subject: str | None) -> dict[str, object]:
    """The body every view answers: the same few bytes whether guarded or not."""
    return {"sub": subject, "contacts": [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}]}
