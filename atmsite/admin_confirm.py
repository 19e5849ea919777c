"""Admin actions that ask first: a confirmation page listing what will change (with a form, e.g. a reason),
applied only when the clerk confirms. Nothing is written by the first request."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.functional import Promise

StrOrPromise = str | Promise


def confirmed_action(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    action_name: str,
    title: StrOrPromise,
    explanation: StrOrPromise,
    submit_label: StrOrPromise,
    apply: Callable[[QuerySet, dict[str, Any]], None],
    form_class: type[forms.Form] | None = None,
    describe: Callable[[Any], str] = str,
) -> HttpResponse | None:
    """Return the confirmation page, or apply and return None (the admin then goes back to the list)."""
    form = None
    if form_class is not None:
        form = form_class(request.POST if request.POST.get("confirm") == "yes" else None)
    if request.POST.get("confirm") == "yes" and (form is None or form.is_valid()):
        apply(queryset, form.cleaned_data if form is not None else {})
        return None
    objects: Iterable[Any] = list(queryset)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": modeladmin.model._meta,
        "objects": objects,
        "items": [describe(obj) for obj in objects],
        "explanation": explanation,
        "submit_label": submit_label,
        "action_name": action_name,
        "form": form,
    }
    return TemplateResponse(request, "admin/bank/confirm_action.html", context)
