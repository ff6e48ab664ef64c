"""A Django API protected by bearerguard: function views and a Django REST framework view.

Run it from the repository root, under WSGI or ASGI::

    export BEARERGUARD_ISSUER=tenant.auth0.com BEARERGUARD_AUDIENCE=https://api.example.com
    gunicorn examples.django_app.wsgi:application
    uvicorn examples.django_app.asgi:application

    curl localhost:8000/api/public
    curl -H "Authorization: Bearer $TOKEN" localhost:8000/api/private

Check the configuration with
``DJANGO_SETTINGS_MODULE=examples.django_app.settings django-admin check``.
"""

from __future__ import annotations
