"""{% today_panel %}: the admin index's "Today" panel (kiosk.today reads it all)."""

from __future__ import annotations

from typing import Any

from django import template

from ..today import today_panel as today_panel_read

register = template.Library()


@register.inclusion_tag("admin/today_panel.html", takes_context=True)
def today_panel(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    return {"request": request, "perms": context.get("perms"), **today_panel_read(user=request.user)}
