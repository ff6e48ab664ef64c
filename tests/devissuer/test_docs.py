"""docs/dev-issuer.md keeps up with the loader: its example loads, its tables name every key."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from bearerguard.devissuer import default_config, load_config
from bearerguard.devissuer._loading import _API, _CLIENT, _ORGANIZATION, _TOP, _USER

DOC = Path(__file__).resolve().parents[2] / "docs" / "dev-issuer.md"
# The heading of each table of keys, and the keys the loader accepts there.
SECTIONS = {
    "### Top level": _TOP,
    "### apis[i]": _API,
    "### clients[i]": _CLIENT,
    "### users[i]": _USER,
    "### organization": _ORGANIZATION,
}


def section(heading: str) -> str:
    """The text under ``heading``, up to the next heading."""
    text = DOC.read_text("utf-8")
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    following = re.search(r"^#{1,3} ", text[start:], re.MULTILINE)
    return text[start : start + following.start()] if following else text[start:]


def example() -> str:
    """The complete example: the JSON block under "A complete example"."""
    found = re.search(r"```json\n(.*?)```", section("## A complete example"), re.DOTALL)
    assert found, "docs/dev-issuer.md has no ```json block under '## A complete example'"
    return found.group(1)


def keys_used(value: Any, into: dict[str, set[str]], where: str = "top") -> dict[str, set[str]]:
    """The keys the example writes, by kind of object (top, apis, clients, users, organization)."""
    if isinstance(value, dict):
        into.setdefault(where, set()).update(value)
        for key, item in value.items():
            if key in ("apis", "clients", "users"):
                for element in item:
                    keys_used(element, into, key)
            elif key == "organization" and item is not None:
                keys_used(item, into, "organization")
    return into


@pytest.mark.parametrize("heading", SECTIONS)
def test_each_table_documents_exactly_the_keys_the_loader_accepts(heading):
    rows = re.findall(r"^\| `([a-z_]+)` \|", section(heading), re.MULTILINE)
    assert sorted(rows) == sorted(SECTIONS[heading])
    assert len(rows) == len(set(rows))


def test_the_complete_example_loads(tmp_path):
    path = tmp_path / "dev-issuer.json"
    path.write_text(example(), "utf-8")
    config = load_config(path)
    # It is the built-in tenant, with default_audience set: what runs without --config.
    built_in = dataclasses.replace(default_config(), default_audience="https://api.example.com")
    assert config == built_in


def test_the_complete_example_writes_every_key():
    used = keys_used(json.loads(example()), {})
    assert used == {
        "top": set(_TOP),
        "apis": set(_API),
        "clients": set(_CLIENT),
        "users": set(_USER),
        "organization": set(_ORGANIZATION),
    }


def test_the_doc_says_how_to_start_it_and_what_it_is_not():
    text = DOC.read_text("utf-8")
    assert (
        "bearerguard dev-issuer [--port 9000] [--config FILE] [--keys FILE] [--auto-approve]"
        in (text)
    )
    assert "never for production" in text
