"""End-to-end tests: each example under a real server, against a fake provider on 127.0.0.1."""

from __future__ import annotations
