"""A Django API protected by bearerguard: function views and a Django REST framework view.

Run it from the repository root, under WSGI or ASGI::

    export BEARERGUARD_ISSUER=tenant.auth0.com BEARERGUARD_RESOURCE=https://api.example.com
    gunicorn examples.django_app.wsgi:application
    uvicorn examples.django_app.asgi:application

    curl localhost:8000/api/public
    curl -H "Authorization: Bearer $TOKEN" localhost:8000/api/private

``BEARERGUARD_RESOURCE`` is the API's URL (RFC 9728) and the tokens' audience defaults
to it: the middleware serves its metadata at ``/.well-known/oauth-protected-resource``,
and every 401 and 403 names that document. Check the configuration with
``DJANGO_SETTINGS_MODULE=examples.django_app.settings django-admin check``.
"""

from __future__ import annotations
