"""The README's DPoP commands as a shell runs them: ``token --dpop-key``, then curl with a
proof from ``bearerguard proof``, against the dev issuer and the FastAPI example on loopback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bearerguard._cli._examples import API, FRAMEWORKS, missing_modules, serve_example
from bearerguard.devissuer import DevIssuer, default_config

ROOT = Path(__file__).resolve().parents[2]

# As the README and `bearerguard proof --help` write it; ISSUER and BASE are filled in.
SCRIPT = """
TOKEN=$(bearerguard token --dpop-key dpop.pem --issuer ISSUER \\
        --client-id m2m-client --client-secret m2m-secret --audience https://api.example.com)
URL=BASEapi/private
curl -sS -H "Authorization: DPoP $TOKEN" \\
     -H "DPoP: $(bearerguard proof --dpop-key dpop.pem --method GET --url $URL --token $TOKEN)" $URL
echo
PROOF=$(bearerguard proof --dpop-key dpop.pem --url $URL --token "$TOKEN")
status() { curl -sS -o /dev/null -w "$1 %{http_code}\\n" "${@:2}" $URL; }
status first -H "Authorization: DPoP $TOKEN" -H "DPoP: $PROOF"
status again -H "Authorization: DPoP $TOKEN" -H "DPoP: $PROOF"
status "as Bearer" -H "Authorization: Bearer $TOKEN"
"""


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is the point of this test")
@pytest.mark.skipif(bool(missing_modules(FRAMEWORKS["fastapi"])), reason="needs the examples")
def test_curl_with_a_proof_from_bearerguard_proof_is_served(tmp_path: Path):
    bash = shutil.which("bash")
    assert bash, "the commands are a bash script"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEARERGUARD_")}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    with DevIssuer(default_config(), port=0, auto_approve=True) as issuer:
        settings = {"BEARERGUARD_ISSUER": issuer.url, "BEARERGUARD_RESOURCE": API}
        with serve_example(FRAMEWORKS["fastapi"], ROOT, settings) as api:
            script = SCRIPT.replace("ISSUER", issuer.url).replace("BASE", api)
            result = subprocess.run(
                [bash, "-euo", "pipefail", "-c", script],
                cwd=tmp_path,  # where dpop.pem is created
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Hello from a private endpoint!" in result.stdout
    assert "first 200\nagain 401\nas Bearer 401\n" in result.stdout  # replay and theft refused
    assert "created a new ES256 DPoP key in dpop.pem" in result.stderr
