from __future__ import annotations

from typing import Any

from django import template

from accounts.today import today_for

register = template.Library()


@register.inclusion_tag("admin/accounts/today.html", takes_context=True)
def today_panel(context: Any) -> dict[str, Any]:
    request = context["request"]
    return {"today": today_for(request.user), "request": request}
