"""Read a Django admin form page the way a browser would, so tests post exactly what the page offers."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class _FormFields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, Any] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in ("submit", "button", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                return
            self.data[name] = attributes.get("value", "on" if kind == "checkbox" else "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attributes:
            self.data[self._select] = attributes.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea] += data


def admin_form_data(client: Any, url: str, **changes: Any) -> dict[str, Any]:
    """The fields of the form at `url` (GET), with `changes` applied: what a person saving the page posts."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    parser = _FormFields()
    parser.feed(response.content.decode())
    parser.data.pop("csrfmiddlewaretoken", None)
    return {**parser.data, **changes}
