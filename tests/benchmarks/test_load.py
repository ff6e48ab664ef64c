"""The HTTP load benchmark's parts, everything that can be checked without wrk.

CI may not have wrk, so nothing here runs it: the apps are driven through their
framework's test client or a real server on 127.0.0.1, wrk's output is read from
captured samples, and the table is rendered from a made-up result. The apps get
their keys the way they do under load: from ``issuer.KeyServer`` on loopback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from benchmarks.servers import (
    AUDIENCE,
    DPOP_FLOOR_PATH,
    DPOP_PATH,
    FLOOR_PATH,
    GUARDED_PATH,
    ISSUER,
    NOOP_PATH,
    PARENT_PID_VARIABLE,
    UNGUARDED_PATH,
    WITHOUT_SCOPE,
    asgi_app,
    fastapi_app,
    flask_app,
    launch,
    proofs,
    tokens,
    wrk,
)
from benchmarks.servers._serving import dpop_signature_floor, signature_floor
from benchmarks.servers.issuer import KeyServer
from cryptography.hazmat.primitives.asymmetric import rsa

from bearerguard import Verifier
from benchmarks import load

REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON_PATH = [str(REPO_ROOT), str(REPO_ROOT / "src")]


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def key_server(key: rsa.RSAPrivateKey) -> Iterator[KeyServer]:
    with KeyServer(tokens.public_jwk(key)) as server:
        yield server


@pytest.fixture(scope="module")
def verifier(key_server: KeyServer) -> Verifier:
    verifier = Verifier(issuer=ISSUER, audience=AUDIENCE, jwks_uri=key_server.jwks_uri)
    verifier.warm_up()
    return verifier


@pytest.fixture(scope="module")
def cases(key: rsa.RSAPrivateKey) -> list[tuple[str, dict[str, str], int]]:
    """(path, headers, status) every benchmark app must answer before anything is timed."""
    good = tokens.mint(key, 1)
    bearer = {"Authorization": f"Bearer {good}"}
    forged = tokens.forge(good, tokens.mint(key, 2))
    unscoped = tokens.mint(key, 3, scope=WITHOUT_SCOPE)
    return [
        (UNGUARDED_PATH, bearer, 200),
        (GUARDED_PATH, bearer, 200),
        (GUARDED_PATH, {"Authorization": f"Bearer {forged}"}, 401),
        (GUARDED_PATH, {}, 401),
        (GUARDED_PATH, {"Authorization": f"Bearer {unscoped}"}, 403),
    ]


@pytest.fixture(scope="module")
def floor(key_server: KeyServer) -> Any:
    return signature_floor(key_server.jwks_uri)


def test_the_floor_checks_the_signature_and_nothing_else(floor: Any, key: Any, cases: Any) -> None:
    good = cases[1][1]["Authorization"]
    assert floor(good)
    assert not floor(cases[2][1]["Authorization"])  # forged signature
    assert not floor(None)
    assert not floor("Basic dXNlcjpwYXNz")
    assert not floor("Bearer \u00e9.\u00e9.\u00e9")  # not ASCII: refused, not raised
    assert not floor("Bearer a.b.c")
    expired = tokens.mint(key, 4, issued_at=0)
    assert floor(f"Bearer {expired}")  # claims are not its business


@pytest.fixture(scope="module")
def dpop_floor(key_server: KeyServer) -> Any:
    return dpop_signature_floor(key_server.jwks_uri)


@pytest.fixture(scope="module")
def dpop_client(key: rsa.RSAPrivateKey) -> proofs.DPoPClient:
    return proofs.DPoPClient.create(key, 9)


def test_the_dpop_floor_checks_both_signatures_and_nothing_else(
    dpop_floor: Any, dpop_client: proofs.DPoPClient, key: Any
) -> None:
    authorization = f"DPoP {dpop_client.token}"
    proof = dpop_client.proof("http://testserver/anywhere", method="DELETE", iat=0)
    assert dpop_floor(authorization, proof)  # neither htm, htu nor iat is its business
    assert dpop_floor(authorization, proof)  # nor a replay
    other = proofs.DPoPClient.create(key, 10)
    assert not dpop_floor(authorization, tokens.forge(proof, other.proof("http://x/")))
    forged = tokens.forge(dpop_client.token, tokens.mint(key, 11))
    assert not dpop_floor(f"DPoP {forged}", proof)
    assert not dpop_floor(f"Bearer {dpop_client.token}", proof)
    assert not dpop_floor(authorization, None)
    assert not dpop_floor(authorization, "a.b.c")  # not a proof: refused, not raised


def test_a_proof_file_is_the_bound_token_then_distinct_fresh_proofs(
    dpop_client: proofs.DPoPClient, verifier: Verifier, tmp_path: Path
) -> None:
    from bearerguard import HttpRequest

    url = "http://127.0.0.1:8000" + DPOP_PATH
    lines = proofs.write_proofs(tmp_path / "p.txt", dpop_client, url, 5).read_text().split()
    authorization, sent = f"{lines[0]} {lines[1]}", lines[2:]

    assert authorization == f"DPoP {dpop_client.token}"
    assert len(set(sent)) == len(sent) == 5
    for proof in sent:  # each one passes once, as the server sees it
        request = HttpRequest("GET", url, [("Authorization", authorization), ("DPoP", proof)])
        assert verifier.verify_request(request).confirmation == {
            "jkt": dpop_client.key.thumbprint()
        }


def dpop_answers(client: Any, dpop_client: proofs.DPoPClient) -> dict[str, list[int]]:
    """Each DPoP route's answers: a good proof, the same one again, a Bearer, nothing."""
    answers: dict[str, list[int]] = {}
    for path in (DPOP_PATH, DPOP_FLOOR_PATH):
        bound = {"Authorization": f"DPoP {dpop_client.token}"}
        good = {**bound, "DPoP": dpop_client.proof("http://testserver" + path)}
        answers[path] = [
            client.get(path, headers=headers).status_code
            for headers in (good, good, {"Authorization": f"Bearer {dpop_client.token}"}, {})
        ]
    return answers


def floor_answers(client: Any, cases: Any) -> list[int]:
    return [
        client.get(FLOOR_PATH, headers=cases[1][1]).status_code,
        client.get(FLOOR_PATH, headers=cases[2][1]).status_code,
        client.get(FLOOR_PATH).status_code,
    ]


def answers(client: Any, cases: list[tuple[str, dict[str, str], int]]) -> list[int]:
    return [client.get(path, headers=headers).status_code for path, headers, _ in cases]


def expected(cases: list[tuple[str, dict[str, str], int]]) -> list[int]:
    return [status for *_, status in cases]


# --- the apps ------------------------------------------------------------------------------


def test_the_asgi_app_guards_only_its_guarded_route(
    verifier: Verifier, floor: Any, dpop_floor: Any, dpop_client: Any, cases: Any
) -> None:
    from starlette.testclient import TestClient

    with TestClient(asgi_app.build(verifier, floor, dpop_floor)) as client:
        assert answers(client, cases) == expected(cases)
        assert floor_answers(client, cases) == [200, 401, 401]
        assert dpop_answers(client, dpop_client) == {
            DPOP_PATH: [200, 401, 401, 401],  # the replay refused
            DPOP_FLOOR_PATH: [200, 200, 401, 401],  # the floor checks signatures only
        }
        granted = client.get(GUARDED_PATH, headers=cases[1][1]).json()
    assert granted["sub"] == "auth0|000000000000000000000001"


def test_the_fastapi_app_guards_only_its_guarded_route(
    verifier: Verifier, floor: Any, dpop_floor: Any, dpop_client: Any, cases: Any
) -> None:
    from fastapi.testclient import TestClient

    with TestClient(fastapi_app.build(verifier, floor, dpop_floor)) as client:
        assert answers(client, cases) == expected(cases)
        assert floor_answers(client, cases) == [200, 401, 401]
        assert dpop_answers(client, dpop_client) == {
            DPOP_PATH: [200, 401, 401, 401],
            DPOP_FLOOR_PATH: [200, 200, 401, 401],
        }
        assert client.get(NOOP_PATH, headers=cases[0][1]).status_code == 200
        forged = client.get(GUARDED_PATH, headers=cases[2][1])
    assert forged.json()["error"] == "invalid_token"  # install(app): the RFC 6750 body


def test_the_flask_app_guards_only_its_guarded_route(verifier: Verifier, cases: Any) -> None:
    client = flask_app.build(verifier).test_client()

    assert answers(client, cases) == expected(cases)
    unguarded = client.get(UNGUARDED_PATH, headers=cases[1][1]).get_json()
    assert unguarded == {
        "sub": None,
        "contacts": [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}],
    }


def test_the_django_apps_under_gunicorn_and_the_launcher_leaves_nothing_behind(
    key_server: KeyServer, cases: Any, tmp_path: Path
) -> None:
    # Django's settings are process-wide (other tests configure their own): real servers.
    env = launch.server_environment(key_server.jwks_uri, PYTHON_PATH)
    spec = launch.gunicorn("sync")
    target = "benchmarks.servers.django_app:create_{}()"
    with (
        launch.serve(
            spec, target.format("plain"), env=env, log_path=tmp_path / "p.log", cwd=REPO_ROOT
        ) as plain,
        launch.serve(
            spec, target.format("guarded"), env=env, log_path=tmp_path / "g.log", cwd=REPO_ROOT
        ) as guarded,
        httpx.Client(base_url=guarded.url, trust_env=False, timeout=10) as client,
    ):
        assert answers(client, cases) == expected(cases)
        unguarded = httpx.get(plain.url + UNGUARDED_PATH, headers=cases[0][1], trust_env=False)
        assert unguarded.status_code == 200
        groups = [plain.group, guarded.group]
        assert all(_group_alive(group) for group in groups)
    assert plain.gone()
    assert guarded.gone()
    assert not any(_group_alive(group) for group in groups)


def test_the_launcher_runs_uvicorn_on_loopback_and_stops_it(
    key_server: KeyServer, cases: Any, tmp_path: Path
) -> None:
    env = launch.server_environment(key_server.jwks_uri, PYTHON_PATH)
    target = "benchmarks.servers.asgi_app:create_app"
    spec = launch.uvicorn(loop="asyncio", http="h11")  # CI's uvicorn comes without its extras
    with (
        launch.serve(spec, target, env=env, log_path=tmp_path / "u.log", cwd=REPO_ROOT) as server,
        httpx.Client(base_url=server.url, trust_env=False, timeout=10) as client,
    ):
        assert server.host == "127.0.0.1"
        assert server.port > 0
        assert answers(client, cases) == expected(cases)
    assert server.gone()
    assert "Uvicorn running on http://127.0.0.1:" in server.log()


def test_the_launcher_quotes_the_log_of_a_server_that_dies(tmp_path: Path) -> None:
    env = launch.server_environment("http://127.0.0.1:9/jwks.json", PYTHON_PATH)

    with (
        pytest.raises(launch.ServerError, match="exited with status") as failure,
        launch.serve(
            launch.uvicorn(loop="asyncio", http="h11"),
            "benchmarks.servers.no_such_app:create_app",
            env=env,
            log_path=tmp_path / "dead.log",
            cwd=REPO_ROOT,
        ),
    ):
        pass  # pragma: no cover - never reached
    assert "no_such_app" in str(failure.value)


def test_a_server_whose_benchmark_died_kills_its_own_group(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid that names no live process (reuse within a second is unlikely)
    script = textwrap.dedent(
        """
        import time
        from benchmarks.servers._serving import watch_parent
        watch_parent()
        time.sleep(30)
        """
    )
    env = {
        **os.environ,
        PARENT_PID_VARIABLE: str(gone.pid),
        "PYTHONPATH": os.pathsep.join(PYTHON_PATH),
    }
    orphan = subprocess.Popen([sys.executable, "-c", script], env=env, start_new_session=True)
    try:
        assert orphan.wait(timeout=10) == -signal.SIGKILL
    finally:
        if orphan.poll() is None:  # pragma: no cover - only when the watchdog failed
            os.killpg(orphan.pid, signal.SIGKILL)
            orphan.wait()


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


# --- the tokens ----------------------------------------------------------------------------


def test_the_token_pool_is_distinct_valid_and_cached(
    key: rsa.RSAPrivateKey, verifier: Verifier, tmp_path: Path
) -> None:
    pool = tokens.token_pool(key, tmp_path, 12, processes=2)
    minted = pool.path.read_text().split()

    assert pool.minted_now
    assert pool.count == len(minted) == len(set(minted)) == 12
    assert {verifier.verify(token).subject for token in minted[::5]} == {
        f"auth0|{serial:024x}" for serial in (0, 5, 10)
    }
    again = tokens.token_pool(key, tmp_path, 10, processes=2)
    assert not again.minted_now
    assert again.path == pool.path
    assert tokens.token_pool(key, tmp_path, 13, processes=1).minted_now  # too few: minted again


def test_a_pool_about_to_expire_is_minted_again(key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    pool = tokens.token_pool(key, tmp_path, 3, processes=1)
    manifest = pool.path.with_suffix(".json")
    manifest.write_text(manifest.read_text().replace(str(pool.not_after), str(int(time.time()))))

    assert tokens.token_pool(key, tmp_path, 3, processes=1).minted_now


def test_the_signing_key_is_kept_so_the_pool_stays_usable(tmp_path: Path) -> None:
    first = tokens.load_or_create_key(tmp_path)
    again = tokens.load_or_create_key(tmp_path)

    assert tokens.public_jwk(first) == tokens.public_jwk(again)


# --- wrk's output --------------------------------------------------------------------------

CLEAN = """\
Running 5s test @ http://127.0.0.1:34495/guarded
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   196.59us  108.13us   2.61ms   93.05%
    Req/Sec    20.71k   369.70    21.35k    72.73%
  22639 requests in 1.10s, 5.01MB read
Requests/sec:  20583.87
Transfer/sec:      4.55MB
LOADBENCH {"requests": 22639, "duration_us": 1099842, "bytes": 5252248, \
"errors": {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}, \
"latency_us": {"p50": 150, "p90": 297, "p99": 386, "mean": 196.6, "max": 2609}, \
"generated": 22643, "pool": 200000, "first": 3}
"""

REFUSED = """\
Running 1s test @ http://127.0.0.1:34495/guarded
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   522.12us  339.75us   4.84ms   86.84%
    Req/Sec     8.04k     1.49k   10.07k    60.00%
  7994 requests in 1.00s, 2.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 3996
Requests/sec:   7991.22
Transfer/sec:      2.00MB
LOADBENCH {"requests": 7994, "duration_us": 1000348, "bytes": 2094368, \
"errors": {"connect": 0, "read": 2, "write": 0, "status": 3996, "timeout": 1}, \
"latency_us": {"p50": 465, "p90": 857, "p99": 1871, "mean": 522.1, "max": 4836}, \
"generated": 7998, "pool": 2, "first": 1}
"""


def test_wrk_output_is_read_from_the_lua_summary() -> None:
    result = wrk.parse(CLEAN)

    assert result.requests == 22639
    assert result.requests_per_second == pytest.approx(22639 / 1.099842)
    assert (result.non_2xx, result.p50_ms, result.p99_ms) == (0, 0.15, 0.386)
    assert (result.generated, result.pool, result.first) == (22643, 200000, 3)
    assert result.socket_errors == {"connect": 0, "read": 0, "write": 0, "timeout": 0}


def test_refusals_and_socket_errors_are_counted() -> None:
    result = wrk.parse(REFUSED)

    assert result.non_2xx == 3996
    assert result.socket_errors == {"connect": 0, "read": 2, "write": 0, "timeout": 1}


@pytest.mark.parametrize(
    "output",
    [
        pytest.param(CLEAN.replace("LOADBENCH", "SOMETHING"), id="no-summary-line"),
        pytest.param(CLEAN.replace('"status": 0', '"status": 5'), id="refusals-disagree"),
        pytest.param(REFUSED.replace("read 2", "read 3"), id="socket-errors-disagree"),
        pytest.param(CLEAN.replace('"requests": 22639, ', ""), id="broken-summary"),
        pytest.param(CLEAN.replace("Requests/sec", "Req/s"), id="no-rate"),
    ],
)
def test_output_that_does_not_add_up_is_an_error(output: str) -> None:
    with pytest.raises(wrk.WrkError):
        wrk.parse(output)


def test_a_missing_wrk_names_the_script_that_installs_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    assert load.main(["--seconds", "1", "--rounds", "1"]) == 2
    assert "scripts/bench.sh" in capsys.readouterr().err


# --- ratios, targets and the table ---------------------------------------------------------


def test_the_dpop_ratio_is_against_its_floor_with_its_own_target() -> None:
    verdicts = load.ratios_and_targets(
        "fastapi", {"reused": 0.9, "new": 0.6, "dpop-floor": 0.3, "dpop": 0.79}
    )

    assert verdicts["targets"] == {"reused": 0.80, "new": 0.55, "dpop": 0.80}
    assert verdicts["met"] == {"reused": True, "new": True, "dpop": False}


def test_asgi_and_fastapi_time_the_dpop_route_and_its_floor() -> None:
    chosen = {setup.name: setup for setup in load.setups(load.FRAMEWORKS, ["sync"])}

    for name in ("asgi", "fastapi"):
        by_name = {variant.name: variant for variant in chosen[name].variants}
        assert {by_name["dpop"].path, by_name["dpop-floor"].path} == {DPOP_PATH, DPOP_FLOOR_PATH}
        assert by_name["dpop"].proofs
        assert by_name["dpop-floor"].proofs
        assert not by_name["dpop"].pool
    assert not any(v.proofs for v in chosen["flask-sync"].variants)


def test_wrk_sends_proofs_with_its_proof_script() -> None:
    assert wrk.PROOFS_SCRIPT.exists()
    script = wrk.PROOFS_SCRIPT.read_text()
    assert "DPoP: " in script
    assert "LOADBENCH" in script


def test_a_ratio_meets_its_target_from_the_target_up() -> None:
    ratios = {"reused": 0.85, "new": 0.5999, "noop": 0.1, "floor": 0.2}
    verdicts = load.ratios_and_targets("asgi", ratios)

    assert verdicts["targets"] == {"reused": 0.85, "new": 0.60}
    assert verdicts["met"] == {"reused": True, "new": False}  # the references have no target


@pytest.mark.parametrize("framework", ["asgi", "fastapi", "flask", "django"])
def test_every_framework_has_the_targets_of_the_issue(framework: str) -> None:
    reused, new = load.TARGETS[framework]

    assert 0.5 < new < reused < 1


def test_every_framework_times_unguarded_reused_and_new_on_its_own_servers() -> None:
    chosen = load.setups(load.FRAMEWORKS, ["sync"])

    assert [setup.name for setup in chosen] == ["asgi", "fastapi", "flask-sync", "django-sync"]
    for setup in chosen:
        names = [variant.name for variant in setup.variants]
        assert names[0] == "unguarded"
        assert names[-2:] == ["guarded-reused", "guarded-new"]
        assert ("floor" in names) == (setup.framework in ("asgi", "fastapi"))
        assert {variant.server for variant in setup.variants} == set(setup.servers)
    django = chosen[-1]
    assert {v.name: v.server for v in django.variants}["unguarded"] == "plain"


def _variant(rps: float) -> dict[str, Any]:
    return {
        "rps": [rps],
        "rps_min": rps * 0.9,
        "rps_median": rps,
        "rps_max": rps * 1.1,
        "p50_ms": 1.0,
        "p99_ms": 3.0,
        "requests": int(rps * 5),
        "non_2xx": 0,
        "socket_errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0},
    }


def made_up_result() -> dict[str, Any]:
    fastapi = {
        "name": "fastapi",
        "framework": "fastapi",
        "adapter": "bearerguard.fastapi Security(BearerAuth)",
        "server": "uvicorn",
        "labels": {
            "unguarded": "unguarded",
            "noop": "no-op dependency (reference)",
            "floor": "signature check only (floor)",
            "dpop-floor": "DPoP floor: both signatures",
            "dpop": "DPoP: guarded, new proof each",
            "guarded-reused": "guarded, reused tokens",
            "guarded-new": "guarded, new token per request",
        },
        "variants": {
            "unguarded": _variant(10000),
            "noop": _variant(8600),
            "floor": _variant(6000),
            "dpop-floor": _variant(4000),
            "dpop": _variant(3400),
            "guarded-reused": _variant(8100),
            "guarded-new": _variant(5000),
        },
        "key_fetches_while_timing": 0,
        "pool_tokens_sent": 300000,
        "pool_wrapped": True,
        "proofs_sent": 51000,
    } | load.ratios_and_targets(
        "fastapi",
        {"reused": 0.81, "new": 0.50, "noop": 0.86, "floor": 0.60, "dpop-floor": 0.4, "dpop": 0.85},
    )
    broken = {
        "name": "django-sync",
        "framework": "django",
        "adapter": "bearerguard.django",
        "server": "gunicorn -k sync",
        "labels": {},
        "error": "GET /guarded (guarded) with a token answered 500, not 200\nmore",
    }
    return {
        "versions": dict.fromkeys(
            [
                *("python", "bearerguard", "cryptography", "wrk", "uvicorn", "uvloop"),
                *("httptools", "gunicorn", "fastapi", "starlette", "flask", "django"),
            ],
            "1.0",
        ),
        "machine": {"cpus": 2, "platform": "Linux"},
        "method": {
            "load_generator": "wrk -t1 -c16",
            "seconds": 5,
            "warmup_seconds": 2,
            "rounds": 3,
            "algorithm": "RS256",
            "reused_tokens": 16,
            "pool": {"size": 200000, "minted_this_run": False, "file": "x"},
            "token_cache_size": 1024,
        },
        "setups": [fastapi, broken],
        "wall_seconds": 100.0,
    }


def test_the_table_marks_each_target_met_or_not_and_says_what_went_wrong() -> None:
    table = load.report(made_up_result())

    assert "0.81x  >= 0.80x met" in table
    assert "0.50x  >= 0.55x NOT met" in table
    assert "0.86x  (peers: 0.86x)" in table
    assert "0.60x  (no verifier can beat it)" in table
    assert "0.85x  >= 0.80x of the DPoP floor met" in table
    assert "51,000 DPoP proofs sent, each once" in table
    assert "targets met: 2 of 3" in table
    assert "NOT met: fastapi new 0.50x < 0.55x" in table
    assert "300,000 pool tokens sent to the server (the guarded and floor routes" in table
    assert "some twice: the pool wrapped" in table
    assert "FAILED: GET /guarded (guarded) with a token answered 500, not 200" in table
    assert "FAILED setups: django-sync" in table
    assert "10,000" in table  # req/s of the unguarded route


def test_the_result_is_json_serialisable() -> None:
    import json

    assert json.loads(json.dumps(made_up_result())) == made_up_result()
