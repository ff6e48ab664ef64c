"""Read an issuer's HTML pages the way a browser would (stdlib ``html.parser``).

``bearerguard token`` answers an issuer's consent page without a browser: it
keeps the form's hidden fields (a transaction id, a CSRF token), picks the user
among the radio buttons, and presses the "allow" button. An error page is
reported by the text a browser would show (:func:`visible_text`), not its markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["Form", "parse_form", "visible_text"]

# Elements whose content a browser does not show as text.
_HIDDEN_ELEMENTS = frozenset({"head", "script", "style", "template", "noscript"})


@dataclass
class Form:
    """The first ``method=post`` form of a page: where it goes and what it would send."""

    action: str = ""
    hidden: dict[str, str] = field(default_factory=dict)
    #: radio groups: name -> the values offered, in page order
    choices: dict[str, list[str]] = field(default_factory=dict)
    #: radio groups: name -> the value checked by default
    checked: dict[str, str] = field(default_factory=dict)
    #: submit buttons: value -> name (``allow`` -> ``decision``)
    buttons: dict[str, str] = field(default_factory=dict)

    def submission(self, *, choose: dict[str, str | None], press: str) -> dict[str, str]:
        """The fields sent when ``choose`` picks radio values and button ``press`` is pressed.

        A wanted value the page does not offer (an email where the radios hold
        subjects) falls back to the page's own default, which issuers set from
        ``login_hint``.
        """
        data = dict(self.hidden)
        for name, values in self.choices.items():
            wanted = choose.get(name)
            value = wanted if wanted in values else self.checked.get(name, values[0])
            data[name] = value
        data[self.buttons.get(press, "decision")] = press
        return data


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.form: Form | None = None
        self._inside = False
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._done:
            return
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form" and attributes.get("method", "get").lower() == "post":
            self.form = Form(action=attributes.get("action", ""))
            self._inside = True
        elif self._inside and self.form is not None and tag in ("input", "button"):
            self._field(self.form, tag, attributes, "checked" in dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._inside:
            self._inside = False
            self._done = True  # only the first form counts

    @staticmethod
    def _field(form: Form, tag: str, attributes: dict[str, str], checked: bool) -> None:
        name, value = attributes.get("name"), attributes.get("value", "")
        kind = attributes.get("type", "submit" if tag == "button" else "text").lower()
        if not name:
            return
        if kind == "hidden":
            form.hidden[name] = value
        elif kind == "radio":
            form.choices.setdefault(name, []).append(value)
            if checked:
                form.checked[name] = value
        elif kind == "submit":
            form.buttons[value] = name


def parse_form(page: str) -> Form | None:
    """The first POST form of ``page``, or ``None`` when it has none.

    Example::

        parse_form("<form method=post action=authorize><input type=hidden name=t value=1>"
                   "<button name=decision value=allow>Allow</button></form>").hidden
        # {'t': '1'}
    """
    parser = _FormParser()
    parser.feed(page)
    parser.close()
    return parser.form


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0  # depth inside elements that show no text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_ELEMENTS:
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_ELEMENTS and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(page: str) -> str:
    """The text of ``page`` as a browser shows it, whitespace collapsed (no markup, no CSS).

    Example::

        visible_text("<html><head><style>p {}</style></head><h1>Invalid request</h1>"
                     "<p>Parameter &#x27;resource&#x27; is repeated.</p></html>")
        # "Invalid request Parameter 'resource' is repeated."
    """
    parser = _TextParser()
    parser.feed(page)
    parser.close()
    return " ".join(" ".join(parser.parts).split())
