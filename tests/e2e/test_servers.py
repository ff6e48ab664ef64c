"""What the end-to-end tests do when a server program they need is missing: fail, never skip."""

from __future__ import annotations

import re

import pytest

from .servers import SERVERS_SETUP, UVICORN, ServerKind, require_server


def test_a_missing_server_program_fails_the_test_naming_the_set_up_command():
    missing = ServerKind("no_such_server_program", (), UVICORN.listening)

    with pytest.raises(pytest.fail.Exception, match=re.escape(f"`{SERVERS_SETUP}`")) as failed:
        require_server(missing)

    assert "no_such_server_program is not installed" in str(failed.value)
