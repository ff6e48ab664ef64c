"""The two functions behind ``bearerguard dev-issuer``: options, banner, Ctrl-C."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import subprocess
import sys

import httpx
import pytest

from bearerguard import Verifier
from bearerguard.devissuer import DevIssuer, cli, default_config

from .proofs import ClientKey


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bearerguard dev-issuer")
    cli.add_arguments(parser)
    return parser.parse_args(argv)


def issuer_url(lines: list[str]) -> str:
    (line,) = [line for line in lines if line.startswith("Issuer:")]
    return line.split()[-1]


def test_the_options_and_their_defaults():
    args = parse()
    assert (args.host, args.port, args.config, args.keys) == ("127.0.0.1", 9000, None, None)
    assert not args.auto_approve
    assert not args.allow_remote
    args = parse("--port", "0", "--config", "c.json", "--keys", "k.json", "--auto-approve")
    assert (args.port, args.config, args.keys, args.auto_approve) == (0, "c.json", "k.json", True)
    assert not args.dpop_nonce
    assert parse("--dpop-nonce").dpop_nonce


def test_run_prints_the_banner_serves_and_stops_on_ctrl_c(monkeypatch, tmp_path):
    lines: list[str] = []
    seen: dict[str, object] = {}

    def interrupted() -> None:
        # Runs where run() waits for Ctrl-C: the server is up and the banner printed.
        url = issuer_url(lines)
        with httpx.Client() as http:
            seen["issuer"] = http.get(url + ".well-known/openid-configuration").json()["issuer"]
        seen["url"] = url
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_wait_for_interrupt", interrupted)
    keys = tmp_path / "keys.json"
    assert cli.run(parse("--port", "0", "--keys", str(keys)), lines.append) == 0

    text = "\n".join(lines)
    assert "DEVELOPMENT TOOL — not for production" in text
    assert seen["issuer"] == seen["url"]
    assert f"Custom domain:  {str(seen['url']).replace('127.0.0.1', 'localhost')}" in text
    assert f"{seen['url']}oauth/token" in text
    assert "m2m-client  secret m2m-secret  grants: client_credentials" in text
    assert "spa-client  public (PKCE)" in text
    (spa,) = [line for line in lines if line.startswith("  spa-client")]
    assert spa.endswith("http://localhost:8000/docs/oauth2-redirect  (loopback ones: any port)")
    (web,) = [line for line in lines if line.startswith("  web-client")]
    assert "any port" not in web  # a confidential client's redirect URIs match exactly
    assert "https://api.example.com  scopes: read:messages read:contacts write:contacts" in text
    assert "auth0|alice  Alice Example <alice@example.com>" in text
    assert f"(kept in {keys})" in text
    assert keys.exists()
    assert "curl -s" in text
    assert "grant_type=client_credentials" in text
    assert "DPoP:           a proof in a DPoP header gets a bound token" in text
    assert "no server nonce required" in text
    assert f"  registration  {seen['url']}oidc/register  (POST: RFC 7591" in text
    assert "MCP servers:    any loopback URL (http://127.0.0.1:<port>/mcp) is an API" in text
    assert "Press Ctrl-C to stop." in text
    assert any("GET /.well-known/openid-configuration" in line for line in lines)  # request log
    assert lines[-1] == "Stopping the dev-issuer."
    with httpx.Client() as http, pytest.raises(httpx.ConnectError):
        http.get(str(seen["url"]))  # stopped: nothing listens any more


def test_dpop_nonce_makes_the_token_endpoint_demand_nonces(monkeypatch):
    lines: list[str] = []
    seen: dict[str, httpx.Response] = {}

    def interrupted() -> None:
        url = issuer_url(lines) + "oauth/token"
        proof = ClientKey().proof(url)
        form = {"grant_type": "client_credentials", "client_id": "m2m-client"}
        with httpx.Client() as http:
            seen["answer"] = http.post(url, data=form, headers={"DPoP": proof})
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_wait_for_interrupt", interrupted)
    assert cli.run(parse("--port", "0", "--dpop-nonce"), lines.append) == 0
    assert seen["answer"].status_code == 400
    assert seen["answer"].json()["error"] == "use_dpop_nonce"
    assert seen["answer"].headers["DPoP-Nonce"]
    (line,) = [line for line in lines if line.startswith("DPoP:")]
    assert line.endswith("a server nonce is required")


def test_configuration_mistakes_exit_2_with_the_message(tmp_path):
    lines: list[str] = []
    assert cli.run(parse("--config", str(tmp_path / "missing.json")), lines.append) == 2
    assert lines == [
        f"bearerguard dev-issuer: {tmp_path / 'missing.json'}: no such configuration file."
    ]
    lines.clear()
    assert cli.run(parse("--host", "0.0.0.0"), lines.append) == 2  # noqa: S104
    assert "--allow-remote" in lines[0]


def test_a_taken_port_exits_1():
    lines: list[str] = []
    with DevIssuer() as running:
        port = running.url.rsplit(":", 1)[1].rstrip("/")
        assert cli.run(parse("--port", port), lines.append) == 1
    assert "Choose one with --port" in lines[0]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is how POSIX terminals send Ctrl-C")
def test_a_real_ctrl_c_stops_the_command_cleanly():
    code = (
        "import argparse, sys\n"
        "from bearerguard.devissuer import cli\n"
        "parser = argparse.ArgumentParser()\n"
        "cli.add_arguments(parser)\n"
        "sys.exit(cli.run(parser.parse_args(['--port', '0']), lambda s: print(s, flush=True)))\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            for line in process.stdout:
                if line.startswith("Press Ctrl-C"):
                    break
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:  # never leave the server behind, even on failure
                process.kill()
                process.communicate()
    assert process.returncode == 0, err
    assert "Stopping the dev-issuer." in out
    assert "Traceback" not in err


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "ML-DSA-65"])
def test_the_banners_verifier_accepts_the_issuers_tokens(algorithm):
    # The printed line is what a newcomer pastes: it must name any algorithm that is not
    # the default, or every token would be a 401 (ML-DSA is never allowed by default).
    config = dataclasses.replace(default_config(), signing_algorithm=algorithm)
    with DevIssuer(config, port=0) as issuer:
        (line,) = [line for line in cli.banner(issuer) if line.startswith("  Verifier(")]
        verifier = eval(line.strip(), {"Verifier": Verifier})  # noqa: S307 - our own output
        with httpx.Client(trust_env=False) as http:
            answer = http.post(
                issuer.url + "oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": "m2m-client",
                    "client_secret": "m2m-secret",
                    "audience": "https://api.example.com",
                },
            )
        token = verifier.verify(answer.json()["access_token"])

    assert token.header["alg"] == algorithm
    assert ("algorithms=" in line) is (algorithm != "RS256")
