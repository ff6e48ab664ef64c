"""The table's routes as Django REST framework views, through DRF's ``APIClient``.

``BearerTokenAuthentication`` and ``HasScopes`` are the project defaults (see
``django_project``); the views only say what they need. DRF reads Django's
settings when its view classes are defined, so they live in ``drf_views``,
imported once Django is configured.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from bearerguard import Verifier
from tests.adapters.harness import Answer

from .django_project import answer, configure, request_headers, serving


class DRFClient:
    base_url = "http://testserver"  # DRF's APIClient, a Django test Client

    def __init__(self, client: Any) -> None:
        self._client = client

    def get(self, path: str, *, headers: Sequence[tuple[str, str]] = (), query: str = "") -> Answer:
        response = self._client.get(path, headers=request_headers(headers), QUERY_STRING=query)
        return answer(response)


@contextmanager
def client(verifier: Verifier) -> Iterator[DRFClient]:
    configure()
    from rest_framework.test import APIClient

    with serving(verifier, "tests.adapters.apps.drf_views"):
        yield DRFClient(APIClient(raise_request_exception=True))
