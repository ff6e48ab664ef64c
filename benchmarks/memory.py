"""Memory: a million distinct tokens through one verifier, and the size of every cache.

Usage::

    python benchmarks/memory.py [--tokens N] [--json]
    python -m benchmarks.memory ...

The performance issue asks that the caches be bounded and that "1 million
distinct tokens do not grow the process beyond a stated figure". This feeds one
``Verifier`` ``--tokens`` (1,000,000) distinct tokens, each built just before it
is verified (nothing holds the tokens), and reads the process's resident set
(``VmRSS`` from ``/proc/self/status``, after a ``gc.collect()``) at checkpoints:
1k, 10k, 100k, 250k, 500k and 1M tokens. tracemalloc would slow the loop
tenfold, so it only runs in a calibration before the loop (see below).

The verifier: one issuer, ``algorithms=["HS256", "RS256"]`` with a secret, the
key set (one RSA key) served by an in-process ``httpx.MockTransport`` and
fetched by ``warm_up()``; default cache sizes. Signing a million RS256 tokens
would take over a quarter of an hour, so the valid tokens are HS256 (a few µs to
sign and verify) and RS256 tokens come only as forgeries, which need no signing.

Token mix, per 100 tokens, interleaved evenly, every token distinct:

=====  ============  ====================================================  ======
share  kind          what it exercises                                     answer
=====  ============  ====================================================  ======
  50   valid         HS256, distinct sub/jti, sent once: the cache's       ok
                     doorkeeper (a token is kept only when seen twice)
  20   valid-twice   the same, sent twice in a row: the verified-token     ok
                     cache (kept on the second sighting), full and churning
   5   valid-kid     HS256 with a distinct ``kid`` header: header memo     ok
   5   expired       HS256, correctly signed, ``exp`` passed               401
   5   bad-hmac      HS256 signed with another secret                      401
   5   unknown-kid   RS256 with a random ``kid``: the unknown-kid path     401
   5   forged-rs256  RS256, known ``kid``, bogus signature (RSA verify)    401
   5   malformed     distinct garbage in three segments                    401
=====  ============  ====================================================  ======

So 1M tokens are 1.2M verifications.

Stated bound: **RSS growth from the 10,000th token to the last <= 8 MB.**
Why 8 MB: every cache is bounded (verified-token cache 1024 entries and its
doorkeeper 4096 hashes, header memo 64 entries, key cache one entry per JWKS URL
and discovered issuer, at most 100 keys a set) and all of them are full by the
10,000th token (the token cache after about 5,100). The calibration measures,
with tracemalloc, what they hold when full (about 3.5 MB); 8 MB leaves room for
allocator slack (pymalloc arenas freed late, fragmentation) while any leak of 8
bytes or more per token would break it over a million tokens. Growth before 10k
is start-up (imports, the first fetch, the caches filling): reported, not bounded.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import hashlib
import hmac
import json
import math
import os
import platform
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script from a checkout
    _ROOT = Path(__file__).resolve().parent.parent
    sys.path.append(str(_ROOT / "src"))
    sys.path.append(str(_ROOT))

import cryptography
import httpx

from bearerguard import BearerError, Verifier
from bearerguard._version import __version__ as bearerguard_version
from benchmarks._common import command_line, emit, verdict
from benchmarks._jwks_tokens import API, RsaSigner

ISSUER = "https://tenant.example.com/"
JWKS_URI = "https://tenant.example.com/.well-known/jwks.json"
SECRET = b"memory-benchmark-shared-secret-0123456789"
OTHER_SECRET = b"not-the-verifier-secret-0123456789abcdefgh"
KID = "rsa-1"
BOUND_MB = 8.0
WARM_UP = 10_000
CHECKPOINTS = (1_000, 10_000, 100_000, 250_000, 500_000, 1_000_000)
MIX = (  # kind, tokens per 100, times each token is sent, the answer expected
    ("valid", 50, 1, "ok"),
    ("valid-twice", 20, 2, "ok"),
    ("valid-kid", 5, 1, "ok"),
    ("expired", 5, 1, "401"),
    ("bad-hmac", 5, 1, "401"),
    ("unknown-kid", 5, 1, "401"),
    ("forged-rs256", 5, 1, "401"),
    ("malformed", 5, 1, "401"),
)


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _schedule() -> list[str]:
    """The 100 kinds of one cycle, each kind spread evenly over it."""
    slots = [((k + 0.5) / share, name) for name, share, _, _ in MIX for k in range(share)]
    return [name for _, name in sorted(slots)]


class _Minter:
    """Builds token ``i`` of each kind on demand; the same ``i`` never repeats a token."""

    def __init__(self) -> None:
        self.now = int(time.time())
        self.hs256 = _b64(b'{"alg":"HS256","typ":"at+jwt"}')
        self.rs256 = _b64(json.dumps({"alg": "RS256", "typ": "at+jwt", "kid": KID}).encode())
        self.makers: dict[str, Callable[[int], str]] = {
            "valid": self.valid,
            "valid-twice": self.valid,
            "valid-kid": self.valid_kid,
            "expired": self.expired,
            "bad-hmac": self.bad_hmac,
            "unknown-kid": self.unknown_kid,
            "forged-rs256": self.forged_rs256,
            "malformed": self.malformed,
        }

    def _claims(self, i: int, exp: int) -> bytes:
        return _b64(
            (
                f'{{"iss":"{ISSUER}","sub":"auth0|{i:024x}","aud":["{API}","{ISSUER}userinfo"],'
                f'"iat":{self.now},"exp":{exp},"azp":"client-1",'
                f'"scope":"openid read:contacts","jti":"{i:x}"}}'
            ).encode()
        )

    def _hs256(self, header: bytes, i: int, exp: int, secret: bytes = SECRET) -> str:
        signing_input = header + b"." + self._claims(i, exp)
        signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
        return (signing_input + b"." + _b64(signature)).decode()

    def valid(self, i: int) -> str:
        return self._hs256(self.hs256, i, self.now + 3600)

    def valid_kid(self, i: int) -> str:
        header = _b64(f'{{"alg":"HS256","typ":"at+jwt","kid":"h{i:x}"}}'.encode())
        return self._hs256(header, i, self.now + 3600)

    def expired(self, i: int) -> str:
        return self._hs256(self.hs256, i, self.now - 3600)

    def bad_hmac(self, i: int) -> str:
        return self._hs256(self.hs256, i, self.now + 3600, OTHER_SECRET)

    def unknown_kid(self, i: int) -> str:
        header = _b64(f'{{"alg":"RS256","typ":"at+jwt","kid":"u{i:x}"}}'.encode())
        return (header + b"." + self._claims(i, self.now + 3600) + b"." + _b64(bytes(256))).decode()

    def forged_rs256(self, i: int) -> str:
        # Below the modulus (leading zero byte), so the RSA operation runs before it fails.
        signature = b"\x00" + os.urandom(255)
        claims = self._claims(i, self.now + 3600)
        return (self.rs256 + b"." + claims + b"." + _b64(signature)).decode()

    def malformed(self, i: int) -> str:
        return f"eyJ{i:x}.not-a-claims-set.{i:x}"


def _memory_mb() -> dict[str, float]:
    """Resident set now and at its peak (``VmRSS``/``VmHWM``), in MB."""
    figures: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                figures[name] = int(value.split()[0]) / 1024
    if "VmHWM" not in figures:  # not Linux: the peak is all there is
        import resource  # noqa: PLC0415 - POSIX only

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        figures["VmHWM"] = peak / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return {"rss": figures.get("VmRSS", float("nan")), "peak": figures["VmHWM"]}


def cache_sizes(verifier: Verifier) -> dict[str, dict[str, int | None]]:
    """Each cache of ``verifier``: its size now and its bound (``None``: not present).

    The one place that reads bearerguard's private attributes, so that a change
    of its internals breaks this function only.
    """
    from bearerguard._flow import _MAX_KNOWN_HEADERS  # noqa: PLC0415
    from bearerguard._keys import MAX_KEYS  # noqa: PLC0415

    plan = verifier._plan
    entries = plan.cache._entries
    issuers = len(verifier.config.issuers)
    key_sets = [entry.value for (kind, _), entry in entries.items() if kind == "jwks"]
    tokens = getattr(plan, "tokens", None)
    return {
        "key cache entries": {"size": len(entries), "bound": 2 * issuers},
        "keys in cached key sets": {
            "size": sum(len(keys) for keys in key_sets if keys is not None),
            "bound": MAX_KEYS * issuers,
        },
        "header memo (VerifyPlan.headers)": {
            "size": len(plan.headers),
            "bound": _MAX_KNOWN_HEADERS,
        },
        "verified-token cache": {
            "size": None if tokens is None else len(tokens),
            "bound": getattr(verifier.config, "token_cache_size", None),
        },
        # The cache's doorkeeper: hashes of tokens seen once, admitted on a second sighting.
        "token cache doorkeeper": {
            "size": len(seen) if (seen := getattr(tokens, "_seen", None)) is not None else None,
            "bound": getattr(tokens, "_seen_max", None),
        },
        "fetches in flight": {"size": len(verifier._refresher._in_flight), "bound": 2 * issuers},
    }


def _make_verifier(fetches: Counter[str]) -> Verifier:
    signer = RsaSigner(KID)
    body = json.dumps({"keys": [signer.jwk()]}).encode()

    def serve(request: httpx.Request) -> httpx.Response:
        fetches[str(request.url)] += 1
        headers = {"content-type": "application/json", "cache-control": "max-age=600"}
        return httpx.Response(200, content=body, headers=headers)

    verifier = Verifier(
        issuer=ISSUER,
        audience=API,
        algorithms=["HS256", "RS256"],
        secret=SECRET,
        jwks_uri=JWKS_URI,
        transport=httpx.MockTransport(serve),
    )
    verifier.warm_up()
    return verifier


def _calibrate(minter: _Minter) -> dict[str, Any]:
    """What the caches hold when full, by tracemalloc, on a verifier of their own."""
    verifier = _make_verifier(Counter())
    bounds = {name: figures["bound"] for name, figures in cache_sizes(verifier).items()}
    bound = bounds["verified-token cache"] or 1024
    one_offs = max(0, (bounds["token cache doorkeeper"] or 0) - bound - 2)
    verifier.verify(minter.valid(-1))
    gc.collect()
    tracing = tracemalloc.is_tracing()  # e.g. python -X tracemalloc: leave it running
    if not tracing:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(bound):
            token = minter.valid_kid(-2 - i)  # distinct headers: the memo fills too
            verifier.verify(token)
            verifier.verify(token)  # seen twice: the token cache keeps it
        for i in range(one_offs):  # the doorkeeper fills up with tokens seen once
            verifier.verify(minter.valid(-2 - bound - i))
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        if not tracing:
            tracemalloc.stop()
    sizes = cache_sizes(verifier)
    del verifier
    gc.collect()
    return {
        "tokens": bound,
        "caches_full_mb": held / 2**20,
        "bytes_per_cached_token": held / bound,
        "sizes": {name: figures["size"] for name, figures in sizes.items()},
    }


def _checkpoints(tokens: int) -> list[int]:
    return sorted({c for c in CHECKPOINTS if c < tokens} | {tokens, _warm_up(tokens)})


def _warm_up(tokens: int) -> int:
    """The checkpoint growth is measured from: 10k, or a fifth of a short run."""
    return WARM_UP if tokens >= 5 * WARM_UP else max(1, tokens // 5)


def run(*, tokens: int = 1_000_000) -> dict[str, Any]:
    """Feed ``tokens`` distinct tokens to one verifier; RSS and cache sizes at checkpoints."""
    started = time.perf_counter()
    minter = _Minter()
    calibration = _calibrate(minter)
    fetches: Counter[str] = Counter()
    verifier = _make_verifier(fetches)
    schedule = _schedule()
    makers = [minter.makers[kind] for kind in schedule]
    sends = {name: times for name, _, times, _ in MIX}
    repeats = [range(sends[kind]) for kind in schedule]
    cycle = len(schedule)
    outcomes: Counter[tuple[str, str]] = Counter()
    fetched_before = sum(fetches.values())  # the warm-up's fetch
    gc.collect()
    start_memory = _memory_mb()
    marks = _checkpoints(tokens)
    checkpoints: list[dict[str, Any]] = []
    verify = verifier.verify
    loop_started = time.perf_counter()
    done = 0
    for mark in marks:
        for i in range(done, mark):
            token = makers[i % cycle](i)
            for _ in repeats[i % cycle]:
                try:
                    verify(token)
                except BearerError as exc:  # noqa: PERF203 - refusals are half the point
                    outcomes[(schedule[i % cycle], str(exc.status_code))] += 1
                else:
                    outcomes[(schedule[i % cycle], "ok")] += 1
        done = mark
        elapsed = time.perf_counter() - loop_started
        gc.collect()
        checkpoints.append(
            {
                "tokens": mark,
                "seconds": elapsed,
                **_memory_mb(),
                "gc_objects": len(gc.get_objects()),
                "caches": {name: f["size"] for name, f in cache_sizes(verifier).items()},
            }
        )
    loop_seconds = time.perf_counter() - loop_started
    warm = next(c for c in checkpoints if c["tokens"] == _warm_up(tokens))
    last = checkpoints[-1]
    growth = last["rss"] - warm["rss"]
    sizes = cache_sizes(verifier)
    within = {
        name: figures["size"] is None or figures["size"] <= (figures["bound"] or 0)
        for name, figures in sizes.items()
    }
    expected = {name: answer for name, _, _, answer in MIX}
    by_kind: dict[str, dict[str, int]] = {}
    for (kind, answer), count in sorted(outcomes.items()):
        by_kind.setdefault(kind, {})[answer] = count
    answers_met = all(set(answers) == {expected[kind]} for kind, answers in by_kind.items())
    refetched = sum(fetches.values()) - fetched_before
    # Unknown kids may refetch once per cooldown, never per token.
    most_refetches = math.floor(loop_seconds / verifier.config.cache.unknown_kid_cooldown) + 1
    checks = {
        "rss_growth": growth <= BOUND_MB,
        "caches_within_bounds": all(within.values()),
        "answers": answers_met,
        "fetches": refetched <= most_refetches,
    }
    return {
        "benchmark": "memory",
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "bearerguard": bearerguard_version,
        "httpx": httpx.__version__,
        "cryptography": cryptography.__version__,
        "machine": f"{platform.system()} {platform.machine()}",
        "method": {
            "tokens": tokens,
            "mix_per_100": {name: share for name, share, _, _ in MIX},
            "sends_per_token": sends,
            "requests": sum(outcomes.values()),
            "expected": expected,
            "rss": "VmRSS from /proc/self/status after gc.collect()",
            "warm_up_tokens": _warm_up(tokens),
        },
        "calibration": calibration,
        "start": start_memory,
        "checkpoints": checkpoints,
        "outcomes": by_kind,
        "answers_met": answers_met,
        "key_set_fetches": refetched,
        "key_set_fetches_bound": most_refetches,
        "caches": sizes,
        "caches_within_bounds": within,
        "rss_growth_after_warm_up_mb": growth,
        "rss_growth_total_mb": last["rss"] - start_memory["rss"],
        "bound_mb": BOUND_MB,
        "bound_met": growth <= BOUND_MB,
        "us_per_token": loop_seconds / tokens * 1e6,
        "loop_seconds": loop_seconds,
        "wall_seconds": time.perf_counter() - started,
        "checks": checks,
        "met": all(checks.values()),
    }


def report(result: dict[str, Any]) -> str:
    """Checkpoints, cache sizes against their bounds, and the stated bound."""
    method = result["method"]
    mix = ", ".join(f"{share} {name}" for name, share in method["mix_per_100"].items())
    calibration = result["calibration"]
    lines = [
        f"Python {result['python']}, bearerguard {result['bearerguard']}, httpx {result['httpx']}, "
        f"cryptography {result['cryptography']}, {result['machine']}",
        f"{method['tokens']:,} distinct tokens ({method['requests']:,} verifications), built on "
        f"the fly; per 100: {mix}",
        f"RSS: {method['rss']}; at start {result['start']['rss']:.1f} MB",
        "",
        f"{'tokens':>10}{'seconds':>9}{'RSS MB':>9}{'peak MB':>9}{'gc objects':>12}"
        f"{'token cache':>13}{'header memo':>13}",
    ]
    for point in result["checkpoints"]:
        caches = point["caches"]
        cached = caches["verified-token cache"]
        lines.append(
            f"{point['tokens']:>10,}{point['seconds']:>9.1f}{point['rss']:>9.1f}"
            f"{point['peak']:>9.1f}{point['gc_objects']:>12,}"
            f"{'-' if cached is None else cached:>13}"
            f"{caches['header memo (VerifyPlan.headers)']:>13}"
        )
    lines += ["", f"{'cache (at the end)':<36}{'size':>8}{'bound':>8}  within"]
    for name, figures in result["caches"].items():
        size = "-" if figures["size"] is None else figures["size"]
        bound = "-" if figures["bound"] is None else figures["bound"]
        within = "yes" if result["caches_within_bounds"][name] else "NO"
        lines.append(f"{name:<36}{size:>8}{bound:>8}  {within}")
    lines += ["", f"{'kind':<14}{'answers':<20}expected"]
    for kind, answers in result["outcomes"].items():
        text = " ".join(f"{count:,} {answer}" for answer, count in answers.items())
        lines.append(f"{kind:<14}{text:<20}{method['expected'][kind]}")
    lines += [
        "",
        f"calibration (tracemalloc): caches full hold {calibration['caches_full_mb']:.2f} MB "
        f"({calibration['bytes_per_cached_token']:.0f} B per cached token, "
        f"{calibration['tokens']} tokens)",
        f"key-set fetches after warm-up: {result['key_set_fetches']} (bound <= "
        f"{result['key_set_fetches_bound']}: one per unknown-kid cooldown of the run; "
        f"{verdict(result['checks']['fetches'])})",
        f"RSS growth after {method['warm_up_tokens']:,} tokens: "
        f"{result['rss_growth_after_warm_up_mb']:+.1f} MB (bound <= {result['bound_mb']:g} MB: "
        f"{verdict(result['bound_met'])}); since start {result['rss_growth_total_mb']:+.1f} MB",
        f"{result['us_per_token']:.1f} µs per token (build + verify); loop "
        f"{result['loop_seconds']:.1f} s, wall {result['wall_seconds']:.1f} s; "
        f"all targets: {verdict(result['met'])}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = command_line(__doc__)
    parser.add_argument(
        "--tokens", type=int, default=1_000_000, help="distinct tokens to feed (1,000,000)"
    )
    args = parser.parse_args(argv)
    result = run(tokens=args.tokens)
    return emit(result, report, args.json)


if __name__ == "__main__":
    sys.exit(main())
