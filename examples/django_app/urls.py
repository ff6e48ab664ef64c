"""The example's routes."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("api/public", views.public),
    path("api/private", views.private),
    path("api/private-scoped", views.private_scoped),
    path("api/contacts", views.Contacts.as_view()),
]
