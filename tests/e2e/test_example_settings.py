"""Every example reads every ``BEARERGUARD_*`` setting from the environment, Django's included.

Each example module is imported in a fresh interpreter (their settings are read at
import, and Django's are process-wide) with the environment the README starts them with
(``BEARERGUARD_RESOURCE``, no ``BEARERGUARD_AUDIENCE``) and DPoP required.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESOURCE = "https://api.example.com"
ENVIRONMENT = {
    "BEARERGUARD_ISSUER": "https://tenant.auth0.com/",
    "BEARERGUARD_RESOURCE": RESOURCE,
    "BEARERGUARD_DPOP": "required",
    "BEARERGUARD_DPOP_PROOF_MAX_AGE": "30",
    "BEARERGUARD_DOCS_CLIENT_ID": "spa-client",  # the FastAPI example's; the others ignore it
}
# How each example's verifier is reached once its module is imported.
VERIFIER_OF = {
    "fastapi": "from examples.fastapi_app import auth; verifier = auth.verifier",
    "starlette": "from examples.starlette_app import verifier",
    "flask": "from examples.flask_app import app; verifier = app.extensions['bearerguard']",
    "django": (
        "import django; django.setup(); from bearerguard.django.apps import get_verifier; "
        "verifier = get_verifier()"
    ),
}


@pytest.mark.parametrize("example", sorted(VERIFIER_OF))
def test_the_resource_and_dpop_of_the_environment_reach_the_verifier(example: str):
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BEARERGUARD_")},
        **ENVIRONMENT,
        "DJANGO_SETTINGS_MODULE": "examples.django_app.settings",
        "PYTHONPATH": str(ROOT),
    }
    shown = (
        "verifier.config.dpop, verifier.config.dpop_proof_max_age, verifier.config.resource, "
        "*verifier.config.audiences, verifier.resource_metadata_url"
    )
    code = f"{VERIFIER_OF[example]}; print({shown})"

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "required",
        "30.0",
        RESOURCE,
        RESOURCE,  # the one audience: the resource's
        f"{RESOURCE}/.well-known/oauth-protected-resource",
    ]
