"""HTTP load benchmark: requests/s of a guarded route relative to the same route unguarded.

End to end, as a deployment runs: ONE server worker per app (uvicorn with
uvloop and httptools for the ASGI apps, gunicorn ``-w 1`` for the WSGI ones),
on 127.0.0.1, loaded by wrk (a C load generator) with ``-t1 -c16`` keep-alive
connections. For each framework the same view is served unguarded and behind
bearerguard requiring ``read:contacts`` (so the scope check is included), and
the ratio ``median(guarded req/s) / median(unguarded req/s)`` is compared with
the project's targets:

=========================================  ==============  =====================
adapter (server)                           reused tokens   new token per request
=========================================  ==============  =====================
bearerguard.asgi middleware (uvicorn)      >= 0.85x        >= 0.60x
bearerguard.fastapi ``Security`` (uvicorn)  >= 0.80x        >= 0.55x
bearerguard.flask ``@requires`` (gunicorn)  >= 0.90x        >= 0.75x
bearerguard.django middleware + decorator  >= 0.90x        >= 0.75x
=========================================  ==============  =====================

FastAPI also gets a route whose dependency only reads the header (peers measured
that at 0.86x): the price of FastAPI's dependency machinery, for reference.
The ASGI and FastAPI apps also serve ``/floor``, where the view is preceded by
the cheapest check of the token's RS256 signature (bearerguard's own) and nothing
else (no parsing, no claims; ``servers/_serving.signature_floor``), loaded with a new
token per request: the ratio no verifier could beat on that setup, and the
yardstick for bearerguard's own "new token" ratio.

DPoP (RFC 9449), ASGI and FastAPI: ``/dpop`` is guarded the same way for a
DPoP-bound token, each request carrying a new proof (the client's token is
reused, as clients do, with a proof never sent before), and ``/dpop-floor`` is
preceded by the check of the token's RS256 signature and of the proof's ES256
one and nothing else (``servers/_serving.dpop_signature_floor``). Both get the
same request bytes through ``servers/proofs.lua``. The proofs are signed just
before each measurement (``servers/proofs.py``, sized from the rate measured
before with room to spare), so every one is fresh and none is sent twice; a
file that ran out would send replays, which the guarded route refuses, voiding
the measurement. Target: ``/dpop`` serves at least 0.8x of ``/dpop-floor``'s
requests.

What "unguarded" means. The same view, the same request bytes (every variant
sends an ``Authorization: Bearer`` header through the same wrk script), and no
bearerguard code in the request path: the ASGI app dispatches ``/unguarded``
around the middleware, FastAPI's and Flask's unguarded routes take no
dependency or decorator, and Django's baseline is a second server whose
settings lack ``BearerTokenMiddleware`` (Django's middleware is process-wide and
would verify the token on every route). See ``benchmarks/servers/``.

Two kinds of clients:

* reused tokens: 16 tokens, cycled request by request, as a handful of clients
  calling again and again do; after the first request of each, a verifier that
  caches verified tokens answers from its cache.
* a new token per request: a pool of distinct RS256 tokens (RS256 is the
  reference algorithm), signed in advance by a pool of processes and cached in
  ``benchmarks/.cache/load/`` (with the throwaway key that signed them). wrk's
  script walks through the pool, and each server continues where its previous
  measurement stopped, so no token is ever sent twice to the same server
  process while the pool lasts. 200,000 tokens (``--pool``) cover the warm-up
  and three 5-second rounds of the fastest guarded server here (about 8,000
  new tokens/s, so some 140,000) with room to spare; the table says how many
  each server got and whether a pool ran out and wrapped (a wrapped token comes
  back only after 200,000 others, long evicted from any cache). Each request
  therefore pays a full verification: parse, signature, claims. Minting takes
  under a minute on two cores, once; the pool (~180 MB) is reused until
  less than a day of its 30-day validity is left or the token layout changes.

Method. Before timing, every guarded route must answer 200 to a good token,
401 to a forged signature and to no token, and 403 to a token without the
scope, and every unguarded route 200. Each variant then gets a warm-up
(``--warmup``, 2 s) that is thrown away, and ``--rounds`` rounds of ``--seconds``
(whole seconds: wrk sleeps that long) in which the variants take turns, the
order rotated every round, so drift and the noise of a shared host hit them
alike; the table gives the min, median and max over rounds and the median p50
and p99 latencies. A measurement with any answer above 399 (wrk's "Non-2xx or
3xx responses") voids its setup, which the table marks FAILED (the other setups
still run). The verifier's keys are fetched by ``warm_up()`` when a server
starts: the key server counts fetches, and a fetch during timing is reported.
The servers use bearerguard's defaults, verified-token cache included;
``--token-cache-size N`` sets their ``BEARERGUARD_TOKEN_CACHE_SIZE`` (0: off).

gunicorn's worker class. The default ``sync`` worker answers one request per
connection and closes it (peers measured Flask that way), so wrk reconnects for
every request and the TCP set-up is part of each request's cost. ``gthread``
(4 threads) keeps connections alive, which is what "keep-alive load" means,
but its threads hand requests over under one GIL: here its unguarded route was
*slower* than sync's, so neither is simply the leaner baseline. Both are
measured (``--gunicorn-workers``) and the targets are shown against each; sync
is the setting the peers' figures are comparable with.

The load generator runs on the same host as the server (loopback, as asked).
One wrk thread uses about half a core while the single Python worker uses a
whole one (measured against the ASGI app), so the server is the bottleneck. On
a shared 2-core host absolute numbers swing by a third between minutes, and the
WSGI ratios moved by up to 0.1 between two runs: read ratios from interleaved
rounds, and use more rounds on a quiet host before concluding on a target that
close.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import importlib.metadata
import importlib.util
import inspect
import os
import platform
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

if __package__ in (None, ""):  # run as a script from a checkout: python benchmarks/load.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bearerguard
from bearerguard import Verifier
from benchmarks._common import command_line, emit, verdict
from benchmarks.servers import (
    DPOP_FLOOR_PATH,
    DPOP_PATH,
    FLOOR_PATH,
    GUARDED_PATH,
    NOOP_PATH,
    UNGUARDED_PATH,
    WITHOUT_SCOPE,
    launch,
    proofs,
    tokens,
    wrk,
)
from benchmarks.servers.issuer import KeyServer

__all__ = ["TARGETS", "MissingPackagesError", "main", "report", "run"]

_ROOT = Path(__file__).resolve().parent.parent

FRAMEWORKS = ("asgi", "fastapi", "flask", "django")
GUNICORN_WORKERS = ("sync", "gthread")
# framework -> (reused tokens, new token per request): the least guarded/unguarded ratio.
TARGETS: dict[str, tuple[float, float]] = {
    "asgi": (0.85, 0.60),
    "fastapi": (0.80, 0.55),
    "flask": (0.90, 0.75),
    "django": (0.90, 0.75),
}
NOOP_PEERS = 0.86  # what peers measured for a FastAPI dependency that only reads the header
DPOP_TARGET = 0.80  # the DPoP route against the route checking its two signatures only
# Proofs per second assumed before any DPoP variant ran (more than either route serves here),
# and the room left above the rate measured: a proof file must outlast its measurement.
_FIRST_PROOF_RATE = 6000.0
_PROOF_MARGIN = 1.5
CONNECTIONS = 16
THREADS = 1
REUSED_TOKENS = 16
DEFAULT_POOL = 200_000
CACHE_DIR = _ROOT / "benchmarks" / ".cache" / "load"

# What the servers import: the bench extra (uvicorn[standard] brings uvloop and httptools).
_NEEDED = ("uvicorn", "uvloop", "httptools", "gunicorn", "fastapi", "flask", "django")
# Serial numbers (the tokens' sub) of the tokens minted at run time: far from the pool's.
_REUSED_SERIALS = 1 << 40
_CHECK_SERIALS = 1 << 41
_DPOP_SERIAL = 1 << 42


@dataclass(frozen=True)
class Variant:
    """One thing timed: a path of one server, with reused or new tokens."""

    name: str  # unguarded, noop, floor, dpop-floor, dpop, guarded-reused, guarded-new
    label: str
    server: str  # key of Setup.servers
    path: str
    pool: bool  # a new token per request (else the reused ones)
    proofs: bool = False  # DPoP: one bound token, a new proof per request


@dataclass(frozen=True)
class Setup:
    """A framework under one server program: its servers and its variants."""

    name: str
    framework: str
    adapter: str
    spec: launch.ServerSpec
    servers: dict[str, str]  # key -> target of spec.command()
    variants: tuple[Variant, ...]


_UNGUARDED = Variant("unguarded", "unguarded", "app", UNGUARDED_PATH, pool=False)
_REUSED = Variant("guarded-reused", "guarded, reused tokens", "app", GUARDED_PATH, pool=False)
_NEW = Variant("guarded-new", "guarded, new token per request", "app", GUARDED_PATH, pool=True)
_NOOP = Variant("noop", "no-op dependency (reference)", "app", NOOP_PATH, pool=False)
_FLOOR = Variant("floor", "signature check only (floor)", "app", FLOOR_PATH, pool=True)
_DPOP_FLOOR = Variant(
    "dpop-floor", "DPoP floor: both signatures", "app", DPOP_FLOOR_PATH, False, True
)
_DPOP = Variant("dpop", "DPoP: guarded, new proof each", "app", DPOP_PATH, False, True)


def setups(
    frameworks: Sequence[str] = FRAMEWORKS, gunicorn_workers: Sequence[str] = GUNICORN_WORKERS
) -> list[Setup]:
    """What to run for ``frameworks``, WSGI ones under each of ``gunicorn_workers``."""
    chosen: list[Setup] = []
    if "asgi" in frameworks:
        chosen.append(
            Setup(
                "asgi",
                "asgi",
                "bearerguard.asgi BearerMiddleware",
                launch.UVICORN,
                {"app": "benchmarks.servers.asgi_app:create_app"},
                (_UNGUARDED, _FLOOR, _DPOP_FLOOR, _DPOP, _REUSED, _NEW),
            )
        )
    if "fastapi" in frameworks:
        chosen.append(
            Setup(
                "fastapi",
                "fastapi",
                "bearerguard.fastapi Security(BearerAuth)",
                launch.UVICORN,
                {"app": "benchmarks.servers.fastapi_app:create_app"},
                (_UNGUARDED, _NOOP, _FLOOR, _DPOP_FLOOR, _DPOP, _REUSED, _NEW),
            )
        )
    for worker in gunicorn_workers:
        spec = launch.gunicorn(worker)
        if "flask" in frameworks:
            chosen.append(
                Setup(
                    f"flask-{worker}",
                    "flask",
                    "bearerguard.flask @requires",
                    spec,
                    {"app": "benchmarks.servers.flask_app:create_app()"},
                    (_UNGUARDED, _REUSED, _NEW),
                )
            )
        if "django" in frameworks:
            chosen.append(
                Setup(
                    f"django-{worker}",
                    "django",
                    "bearerguard.django BearerTokenMiddleware + @requires_scopes",
                    spec,
                    {
                        "plain": "benchmarks.servers.django_app:create_plain()",
                        "guarded": "benchmarks.servers.django_app:create_guarded()",
                    },
                    (
                        dataclasses.replace(_UNGUARDED, server="plain"),
                        dataclasses.replace(_REUSED, server="guarded"),
                        dataclasses.replace(_NEW, server="guarded"),
                    ),
                )
            )
    return chosen


# --- the run -------------------------------------------------------------------------------


@dataclass
class _Tokens:
    """Every token file and check token of a run."""

    reused: Path
    pool: tokens.TokenPool
    good: str
    forged: str
    unscoped: str
    last_of_pool: str
    dpop: proofs.DPoPClient


def run(
    *,
    seconds: float,
    rounds: int,
    frameworks: Sequence[str] | None = None,
    gunicorn_workers: Sequence[str] = GUNICORN_WORKERS,
    warmup: float = 2.0,
    pool_size: int = DEFAULT_POOL,
    token_cache_size: int | None = None,
    cache_dir: Path = CACHE_DIR,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the load benchmark; a JSON-serialisable result for :func:`report`.

    Raises :class:`benchmarks.servers.wrk.WrkMissingError` (naming
    ``scripts/bench.sh``) when wrk is not installed. A setup that fails (a
    server that does not start, a wrong answer, a refusal under load) is
    recorded with its error and the others still run. ``token_cache_size``
    sets the servers' ``BEARERGUARD_TOKEN_CACHE_SIZE`` (``None``: the default).
    """
    say = progress or (lambda message: None)
    wrk_path = wrk.find_wrk()
    missing = [name for name in _NEEDED if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingPackagesError(
            f"the load benchmark needs {', '.join(missing)}: run `bash scripts/bench.sh`, "
            "or pip install -e '.[bench]'"
        )
    unknown = set(frameworks or ()) - set(FRAMEWORKS)
    if unknown:
        raise ValueError(f"unknown frameworks {sorted(unknown)}; choose from {FRAMEWORKS}")
    if set(gunicorn_workers) - set(GUNICORN_WORKERS):
        raise ValueError(f"gunicorn workers must be among {GUNICORN_WORKERS}")
    whole_seconds, warmup_seconds = max(1, round(seconds)), max(1, round(warmup))
    started = time.monotonic()
    chosen = setups(frameworks or FRAMEWORKS, gunicorn_workers)
    key = tokens.load_or_create_key(cache_dir)
    pool = tokens.token_pool(key, cache_dir, pool_size, progress=say)
    python_path = [str(_ROOT), str(Path(bearerguard.__file__).resolve().parent.parent)]
    results = []
    with (
        _stopped_by_sigterm(),
        tempfile.TemporaryDirectory(prefix="bearerguard-load-") as scratch,
        KeyServer(tokens.public_jwk(key)) as key_server,
    ):
        workdir = Path(scratch)
        now = int(time.time())
        reused = [
            tokens.mint(key, _REUSED_SERIALS + i, issued_at=now) for i in range(REUSED_TOKENS)
        ]
        good = tokens.mint(key, _CHECK_SERIALS, issued_at=now)
        run_tokens = _Tokens(
            reused=tokens.write_tokens(workdir / "reused.tokens", reused),
            pool=pool,
            good=good,
            forged=tokens.forge(good, reused[0]),
            unscoped=tokens.mint(key, _CHECK_SERIALS + 1, issued_at=now, scope=WITHOUT_SCOPE),
            last_of_pool=_last_line(pool.path),
            dpop=proofs.DPoPClient.create(key, _DPOP_SERIAL),
        )
        env = launch.server_environment(key_server.jwks_uri, python_path)
        if token_cache_size is not None:
            env["BEARERGUARD_TOKEN_CACHE_SIZE"] = str(token_cache_size)
        for setup in chosen:
            say(f"== {setup.name}: {setup.adapter} under {setup.spec.label}")
            try:
                measured = _run_setup(
                    setup,
                    env=env,
                    workdir=workdir,
                    wrk_path=wrk_path,
                    run_tokens=run_tokens,
                    key_server=key_server,
                    seconds=whole_seconds,
                    warmup=warmup_seconds,
                    rounds=rounds,
                    say=say,
                )
            except (launch.ServerError, wrk.WrkError, _WrongAnswerError) as exc:
                say(f"   FAILED: {exc}")
                measured = {"error": str(exc)}
            results.append(_describe(setup) | measured)
    return {
        "versions": _versions(wrk_path),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "method": {
            "load_generator": f"wrk -t{THREADS} -c{CONNECTIONS}, keep-alive",
            "seconds": whole_seconds,
            "warmup_seconds": warmup_seconds,
            "rounds": rounds,
            "order": "variants take turns within each round, order rotated every round",
            "algorithm": "RS256",
            "reused_tokens": REUSED_TOKENS,
            "pool": {
                "size": pool.count,
                "minted_this_run": pool.minted_now,
                "file": str(pool.path),
            },
            "token_cache_size": (
                _token_cache_default() if token_cache_size is None else token_cache_size
            ),
            "token_cache_size_set": token_cache_size is not None,
        },
        "setups": results,
        "wall_seconds": time.monotonic() - started,
    }


class MissingPackagesError(RuntimeError):
    """A server or framework the benchmark runs is not installed."""


class _WrongAnswerError(RuntimeError):
    """A server answered a check, or the load, other than it must."""


def _run_setup(
    setup: Setup,
    *,
    env: dict[str, str],
    workdir: Path,
    wrk_path: str,
    run_tokens: _Tokens,
    key_server: KeyServer,
    seconds: int,
    warmup: int,
    rounds: int,
    say: Callable[[str], None],
) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        servers = {
            name: stack.enter_context(
                launch.serve(
                    setup.spec,
                    target,
                    env=env,
                    log_path=workdir / f"{setup.name}-{name}.log",
                    cwd=_ROOT,
                )
            )
            for name, target in setup.servers.items()
        }
        _check_answers(setup, servers, run_tokens)
        fetches_before = key_server.fetches
        next_first = dict.fromkeys(servers, 0)  # where each server's walk through the pool is
        proof_rate = _FIRST_PROOF_RATE  # the fastest DPoP rate seen so far
        proofs_sent = 0

        def measure(variant: Variant, duration: int) -> wrk.WrkResult:
            nonlocal proof_rate, proofs_sent
            server = servers[variant.server]
            url = server.url + variant.path
            token_file = run_tokens.pool.path if variant.pool else run_tokens.reused
            first = next_first[variant.server] if variant.pool else 0
            if variant.proofs:  # signed now, so that every proof is fresh when it is sent
                count = int(proof_rate * duration * _PROOF_MARGIN) + 1000
                token_file = proofs.write_proofs(
                    workdir / "proofs.txt", run_tokens.dpop, url, count
                )
            result = wrk.run(
                wrk_path,
                url,
                token_file,
                first=first,
                seconds=duration,
                connections=CONNECTIONS,
                threads=THREADS,
                script=wrk.PROOFS_SCRIPT if variant.proofs else wrk.LUA_SCRIPT,
            )
            if variant.pool:
                next_first[variant.server] += result.generated
            if variant.proofs:
                proofs_sent += result.generated
                proof_rate = max(proof_rate, result.requests_per_second)
                if result.generated > result.pool:
                    raise _WrongAnswerError(
                        f"{setup.name} {variant.name}: the {result.pool} proofs ran out "
                        f"({result.generated} requests): some were sent twice"
                    )
            if result.non_2xx:
                raise _WrongAnswerError(
                    f"{setup.name} {variant.name}: {result.non_2xx} answers above 399 under load"
                )
            return result

        for variant in setup.variants:
            warm = measure(variant, warmup)
            say(f"   warm-up {variant.name:<15} {warm.requests_per_second:>9,.0f} req/s")
        samples: dict[str, list[wrk.WrkResult]] = {variant.name: [] for variant in setup.variants}
        for number in range(rounds):
            shift = number % len(setup.variants)
            order = setup.variants[shift:] + setup.variants[:shift]
            for variant in order:
                result = measure(variant, seconds)
                samples[variant.name].append(result)
                say(
                    f"   round {number + 1}/{rounds} {variant.name:<15} "
                    f"{result.requests_per_second:>9,.0f} req/s"
                )
        fetches = key_server.fetches - fetches_before
        stopped = list(servers.values())
    leftovers = [server.group for server in stopped if not server.gone()]
    if leftovers:
        raise launch.ServerError(f"processes left in groups {leftovers}")
    return {
        "variants": {name: _summary(values) for name, values in samples.items()},
        "key_fetches_while_timing": fetches,
        "pool_tokens_sent": max(next_first.values()),
        "pool_wrapped": max(next_first.values()) > run_tokens.pool.count,
        "proofs_sent": proofs_sent,
    } | _verdicts(setup, samples)


def _check_answers(setup: Setup, servers: dict[str, launch.Server], run_tokens: _Tokens) -> None:
    """Every route answers as it must before anything is timed."""
    expected: list[tuple[str, str, str | None, int]] = []  # server, path, token, status
    for variant in setup.variants:
        if variant.proofs:
            continue  # below: each DPoP request needs a proof for its server's URL
        if variant.path == GUARDED_PATH:
            expected += [
                (variant.server, variant.path, run_tokens.good, 200),
                (variant.server, variant.path, run_tokens.last_of_pool, 200),
                (variant.server, variant.path, run_tokens.forged, 401),
                (variant.server, variant.path, None, 401),
                (variant.server, variant.path, run_tokens.unscoped, 403),
            ]
        else:
            expected.append((variant.server, variant.path, run_tokens.good, 200))
    for server_name, path, token, status in dict.fromkeys(expected):
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        what = "no token" if token is None else "a token"
        _expect(setup, server_name, servers[server_name], path, headers, what, status)
    client = run_tokens.dpop
    for variant in setup.variants:
        if not variant.proofs:
            continue
        server = servers[variant.server]
        url = server.url + variant.path
        bound = {"Authorization": f"DPoP {client.token}"}
        good = {**bound, "DPoP": client.proof(url)}
        checks = [(good, "a DPoP token and proof", 200)]
        if variant.path == DPOP_PATH:
            checks += [
                (good, "the same proof again", 401),
                ({**bound, "DPoP": client.proof(url + "/other")}, "another URL's proof", 401),
                ({"Authorization": f"Bearer {client.token}"}, "the bound token as Bearer", 401),
                ({}, "no token", 401),
            ]
        for headers, what, status in checks:
            _expect(setup, variant.server, server, variant.path, headers, what, status)


def _expect(  # noqa: PLR0917 - one call per check, all positional
    setup: Setup,
    server_name: str,
    server: launch.Server,
    path: str,
    headers: dict[str, str],
    what: str,
    status: int,
) -> None:
    got = _get_status(server, path, headers)
    if got != status:
        raise _WrongAnswerError(
            f"{setup.name}: GET {path} ({server_name}) with {what} answered {got}, not {status}"
        )


def _get_status(server: launch.Server, path: str, headers: dict[str, str]) -> int:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _summary(results: list[wrk.WrkResult]) -> dict[str, Any]:
    rates = [result.requests_per_second for result in results]
    return {
        "rps": rates,
        "rps_min": min(rates),
        "rps_median": statistics.median(rates),
        "rps_max": max(rates),
        "p50_ms": statistics.median(result.p50_ms for result in results),
        "p99_ms": statistics.median(result.p99_ms for result in results),
        "requests": sum(result.requests for result in results),
        "non_2xx": sum(result.non_2xx for result in results),
        "socket_errors": {
            name: sum(result.socket_errors[name] for result in results)
            for name in ("connect", "read", "write", "timeout")
        },
        "runs": [result.as_dict() for result in results],
    }


def _verdicts(setup: Setup, samples: dict[str, list[wrk.WrkResult]]) -> dict[str, Any]:
    def median(name: str) -> float:
        return statistics.median(result.requests_per_second for result in samples[name])

    baseline = median("unguarded")
    ratios = {
        "reused": median("guarded-reused") / baseline,
        "new": median("guarded-new") / baseline,
    }
    for reference in ("noop", "floor", "dpop-floor"):
        if reference in samples:
            ratios[reference] = median(reference) / baseline
    if "dpop" in samples:  # against its own floor, not the unguarded route
        ratios["dpop"] = median("dpop") / median("dpop-floor")
    return ratios_and_targets(setup.framework, ratios)


def ratios_and_targets(framework: str, ratios: dict[str, float]) -> dict[str, Any]:
    """The ratios with their targets and whether each is met (the references have none).

    ``reused``, ``new`` and the references are against the unguarded route; ``dpop``,
    when measured, against the DPoP floor (``dpop-floor``).
    """
    reused, new = TARGETS[framework]
    targets = {"reused": reused, "new": new}
    if "dpop" in ratios:
        targets["dpop"] = DPOP_TARGET
    return {
        "ratios": ratios,
        "targets": targets,
        "met": {mode: ratios[mode] >= target for mode, target in targets.items()},
    }


def _describe(setup: Setup) -> dict[str, Any]:
    return {
        "name": setup.name,
        "framework": setup.framework,
        "adapter": setup.adapter,
        "server": setup.spec.label,
        "labels": {variant.name: variant.label for variant in setup.variants},
    }


def _last_line(path: Path) -> str:
    with path.open("rb") as file:
        file.seek(max(0, path.stat().st_size - 8192))
        return file.read().decode("ascii").strip().splitlines()[-1]


def _versions(wrk_path: str) -> dict[str, str]:
    names = [
        "cryptography",
        "uvicorn",
        "uvloop",
        "httptools",
        "gunicorn",
        "fastapi",
        "starlette",
        "flask",
        "werkzeug",
        "django",
    ]
    found = {"python": platform.python_version(), "bearerguard": bearerguard.__version__}
    found |= {name: _package_version(name) for name in names}
    found["wrk"] = wrk.version(wrk_path)
    return found


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def _token_cache_default() -> int | None:
    """The verifier's default verified-token cache size; ``None`` if it has no such cache."""
    parameter = inspect.signature(Verifier).parameters.get("token_cache_size")
    return None if parameter is None else int(parameter.default)


@contextlib.contextmanager
def _stopped_by_sigterm() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt while running, so the servers get stopped."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --- the table -----------------------------------------------------------------------------


def report(result: dict[str, Any]) -> str:
    """The result as a readable table, targets marked met / NOT met."""
    versions, method = result["versions"], result["method"]
    pool = method["pool"]
    cache = method["token_cache_size"]
    cache_source = "set by --token-cache-size" if method.get("token_cache_size_set") else "default"
    lines = [
        f"bearerguard {versions['bearerguard']}, Python {versions['python']}, "
        f"cryptography {versions['cryptography']}, wrk {versions['wrk']}, "
        f"{result['machine']['cpus']} CPUs (load generator on the same host)",
        f"uvicorn {versions['uvicorn']} (uvloop {versions['uvloop']}, httptools "
        f"{versions['httptools']}), gunicorn {versions['gunicorn']}, FastAPI "
        f"{versions['fastapi']} (Starlette {versions['starlette']}), Flask {versions['flask']}, "
        f"Django {versions['django']}",
        f"{method['load_generator']}, one server worker; {method['rounds']} "
        f"round{'s' if method['rounds'] != 1 else ''} x "
        f"{method['seconds']} s per variant after a {method['warmup_seconds']} s warm-up; "
        "variants take turns, order rotated each round; medians over rounds",
        f"{method['algorithm']} tokens. reused: {method['reused_tokens']} tokens cycled. new: "
        f"{pool['size']:,} distinct pre-signed tokens "
        f"({'signed this run' if pool['minted_this_run'] else 'from the cache'}), "
        "each server walks on through them",
        "verified-token cache: "
        + (
            "not in this bearerguard"
            if cache is None
            else "off (0)"
            if cache == 0
            else f"{cache} tokens ({cache_source})"
        ),
        "",
        f"{'setup / variant':<34}{'req/s min':>10}{'median':>9}{'max':>9}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'ratio':>8}  target",
    ]
    for setup in result["setups"]:
        lines.append(f"{setup['name']}: {setup['adapter']}, {setup['server']}")
        if "error" in setup:
            lines.append(f"  FAILED: {setup['error'].splitlines()[0]}")
            continue
        for name, variant in setup["variants"].items():
            lines.append(
                f"  {setup['labels'][name]:<32}{variant['rps_min']:>10,.0f}"
                f"{variant['rps_median']:>9,.0f}{variant['rps_max']:>9,.0f}"
                f"{variant['p50_ms']:>8.2f}{variant['p99_ms']:>8.2f}{_verdict(setup, name)}"
            )
        notes = [
            f"{setup['pool_tokens_sent']:,} pool tokens sent to the server"
            + (
                " (the guarded and floor routes walk on through one pool)"
                if "floor" in setup["ratios"]
                else ""
            )
            + (", some twice: the pool wrapped" if setup["pool_wrapped"] else ", none twice")
        ]
        if setup.get("proofs_sent"):
            notes.append(
                f"{setup['proofs_sent']:,} DPoP proofs sent, each once, signed just before "
                "their measurement; the DPoP ratio is against the DPoP floor"
            )
        if setup["key_fetches_while_timing"]:
            notes.append(f"{setup['key_fetches_while_timing']} key fetches while timing")
        errors = {
            kind: sum(v["socket_errors"][kind] for v in setup["variants"].values())
            for kind in ("connect", "read", "write", "timeout")
        }
        if any(errors.values()):
            notes.append("socket errors " + ", ".join(f"{k} {n}" for k, n in errors.items() if n))
        lines += [f"  note: {note}" for note in notes]
    lines += ["", *summary_lines(result)]
    return "\n".join(lines)


def _verdict(setup: dict[str, Any], variant: str) -> str:
    mode = {"guarded-reused": "reused", "guarded-new": "new"}.get(variant, variant)
    if mode not in setup["ratios"]:
        return ""
    ratio = setup["ratios"][mode]
    if mode == "noop":
        return f"{ratio:>7.2f}x  (peers: {NOOP_PEERS:.2f}x)"
    if mode in ("floor", "dpop-floor"):
        return f"{ratio:>7.2f}x  (no verifier can beat it)"
    if mode == "dpop":
        target = setup["targets"][mode]
        return f"{ratio:>7.2f}x  >= {target:.2f}x of the DPoP floor {verdict(setup['met'][mode])}"
    target = setup["targets"][mode]
    return f"{ratio:>7.2f}x  >= {target:.2f}x {verdict(setup['met'][mode])}"


def summary_lines(result: dict[str, Any]) -> list[str]:
    """One line per target: how many are met, and which are not."""
    checked = [
        (setup["name"], mode, setup["ratios"][mode], setup["targets"][mode], met)
        for setup in result["setups"]
        if "error" not in setup
        for mode, met in setup["met"].items()
    ]
    failed = [setup["name"] for setup in result["setups"] if "error" in setup]
    lines = [f"targets met: {sum(met for *_, met in checked)} of {len(checked)}"]
    lines += [
        f"  NOT met: {name} {mode} {ratio:.2f}x < {target:.2f}x"
        for name, mode, ratio, target, met in checked
        if not met
    ]
    if failed:
        lines.append(f"FAILED setups: {', '.join(failed)}")
    lines.append(f"wall time: {result['wall_seconds']:.0f} s")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = command_line(__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement (whole s)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--warmup", type=float, default=2.0, help="per variant, thrown away")
    parser.add_argument(
        "--only", help=f"comma-separated frameworks among {','.join(FRAMEWORKS)} (default: all)"
    )
    parser.add_argument(
        "--gunicorn-workers",
        default=",".join(GUNICORN_WORKERS),
        help="gunicorn worker classes for flask and django (default: sync,gthread)",
    )
    parser.add_argument(
        "--pool", type=int, default=DEFAULT_POOL, help="distinct tokens for 'new token' mode"
    )
    parser.add_argument(
        "--token-cache-size",
        type=int,
        help="the servers' BEARERGUARD_TOKEN_CACHE_SIZE (default: bearerguard's; 0 turns it off)",
    )
    args = parser.parse_args(argv)
    frameworks = [name.strip() for name in args.only.split(",")] if args.only else None
    workers = [name.strip() for name in args.gunicorn_workers.split(",") if name.strip()]
    if frameworks is not None and (not frameworks or set(frameworks) - set(FRAMEWORKS)):
        parser.error(f"--only takes names among {','.join(FRAMEWORKS)}")
    if set(workers) - set(GUNICORN_WORKERS):
        parser.error(f"--gunicorn-workers takes names among {','.join(GUNICORN_WORKERS)}")
    if args.rounds < 1 or args.seconds <= 0 or args.pool < 1:
        parser.error("--rounds, --seconds and --pool must be positive")
    if args.token_cache_size is not None and args.token_cache_size < 0:
        parser.error("--token-cache-size must be 0 (off) or more")
    try:
        result = run(
            seconds=args.seconds,
            rounds=args.rounds,
            frameworks=frameworks,
            gunicorn_workers=workers,
            warmup=args.warmup,
            pool_size=args.pool,
            token_cache_size=args.token_cache_size,
            progress=lambda message: print(message, file=sys.stderr, flush=True),
        )
    except (wrk.WrkMissingError, MissingPackagesError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: every server was stopped", file=sys.stderr)
        return 130
    emit(result, report, args.json)
    return 1 if any("error" in setup for setup in result["setups"]) else 0  # a setup broke


if __name__ == "__main__":
    sys.exit(main())
