"""Back office for enrolments and templates: read; act only through services. Encodings are never shown."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from accounts.admin.customers import CustomerAdmin
from accounts.models import Customer
from atmsite.admin_confirm import confirmed_action
from atmsite.admin_mixins import ReadOnlyAdminMixin
from atmsite.errors import ApplicationError
from atmsite.permissions import staff_user

from . import selectors
from .models import Enrolment, EnrolmentPhoto, FaceTemplate, GalleryState
from .services import enrolment_review


class EnrolmentPhotoInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = EnrolmentPhoto
    fields = readonly_fields = ("index", "status", "rejected_reason", "quality", "created_at")
    extra = 0


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "customer",
        "status",
        "progress",
        "duplicate_of_customer",
        "created_by",
        "created_at",
        "reviewed_by",
    ]
    list_filter = ["status", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["customer__full_name", "customer__phone"]
    list_select_related = ["customer", "duplicate_of_customer", "created_by", "reviewed_by"]
    raw_id_fields = ["customer", "duplicate_of_customer"]
    inlines = [EnrolmentPhotoInline]
    actions = ["approve", "reject"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Enrolment | None = None) -> list[str]:
        return [field.name for field in Enrolment._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # enrolments start at the branch portal, with the camera

    def has_delete_permission(self, request: HttpRequest, obj: Enrolment | None = None) -> bool:
        return False

    @admin.display(description=_("Encoded"))
    def progress(self, obj: Enrolment) -> str:
        return f"{obj.encoded_count} / {obj.photos_required}"

    def has_review_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("biometrics.review_enrolment")

    def _review(self, request: HttpRequest, queryset: QuerySet[Enrolment], *, approve: bool) -> None:
        done = 0
        for enrolment in queryset:
            try:
                enrolment_review.enrolment_review(
                    enrolment=enrolment,
                    actor=staff_user(request),
                    approve=approve,
                    note="Reviewed in the back office",
                )
                done += 1
            except ApplicationError as error:
                self.message_user(
                    request,
                    _("Enrolment #%(pk)s: %(error)s") % {"pk": enrolment.pk, "error": _(error.message)},
                    messages.ERROR,
                )
        if done:
            text = _("%(count)s enrolment(s) approved.") if approve else _("%(count)s enrolment(s) rejected.")
            self.message_user(request, text % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Approve (not a duplicate): activate the face"), permissions=["review"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Enrolment]) -> None:
        self._review(request, queryset, approve=True)

    @admin.action(description=_("Reject (duplicate identity): never match this face"), permissions=["review"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Enrolment]) -> None:
        self._review(request, queryset, approve=False)


@admin.register(FaceTemplate)
class FaceTemplateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # `encoding` is deliberately absent everywhere: not even the ciphertext is shown.
    list_display = [
        "id",
        "customer",
        "enrolment",
        "source",
        "engine_version",
        "active",
        "created_at",
        "revoked_at",
    ]
    list_filter = ["source", "engine_version", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["customer__full_name", "customer__phone"]
    list_select_related = ["customer", "enrolment"]
    fields = readonly_fields = (
        "customer",
        "enrolment",
        "photo",
        "source",
        "engine_version",
        "quality",
        "created_at",
        "revoked_at",
        "gallery_added_version",
        "gallery_revoked_version",
    )

    @admin.display(boolean=True, description=_("Active"))
    def active(self, obj: FaceTemplate) -> bool:
        return obj.is_active


@admin.register(GalleryState)
class GalleryStateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "version", "epoch", "updated_at"]


class BiometricsReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("Required; the approver and the audit trail see it, e.g. 'Customer withdrew consent'."),
    )


def _propose_for_each(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, *, what: str
) -> HttpResponse | None:
    """The revoke and erase actions: a reason, then one proposal per customer, applied on approval."""
    from biometrics.approvals import biometrics_erase_propose, biometrics_revoke_propose

    propose = biometrics_erase_propose if what == "erase" else biometrics_revoke_propose
    if not request.user.has_perm("biometrics.change_facetemplate"):
        refusal = (
            _("You may not propose to erase biometrics.")
            if what == "erase"
            else _("You may not propose to revoke biometrics.")
        )
        modeladmin.message_user(request, refusal, messages.ERROR)
        return None

    def apply(customers: QuerySet, data: dict[str, Any]) -> None:
        for customer in customers:
            try:
                change = propose(customer=customer, actor=request.user, reason=data["reason"])
            except ApplicationError as error:
                modeladmin.message_user(request, f"{customer}: {_(error.message)}", messages.ERROR)
                continue
            modeladmin.message_user(
                request,
                (
                    _(
                        "%(customer)s: erasure proposed, awaiting approval by a second member of staff "
                        "(request #%(pk)s)."
                    )
                    if what == "erase"
                    else _(
                        "%(customer)s: revoking proposed, awaiting approval by a second member of staff "
                        "(request #%(pk)s)."
                    )
                )
                % {"customer": customer, "pk": change.pk},
                messages.WARNING,
            )

    erase = what == "erase"
    return confirmed_action(
        modeladmin,
        request,
        queryset,
        action_name=f"{what}_biometrics",
        title=_("Erase biometric data") if erase else _("Revoke face verification"),
        explanation=(
            _(
                "Erasure deletes the face templates, the enrolment photos and the failed-check snapshots and "
                "withdraws the consent. It needs the approval of a second member of staff."
            )
            if erase
            else _(
                "The customer's face is no longer matched at the kiosks (the one-time code is used instead). "
                "It needs the approval of a second member of staff."
            )
        ),
        submit_label=_("Yes, propose the erasure") if erase else _("Yes, propose revoking"),
        form_class=BiometricsReasonForm,
        apply=apply,
    )


@admin.action(description=_("Propose revoking face verification…"))
def revoke_biometrics(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> HttpResponse | None:
    """Customer admin action (in CustomerFaceAdmin.actions below): a proposal, applied on approval."""
    return _propose_for_each(modeladmin, request, queryset, what="revoke")


@admin.action(description=_("Propose erasing biometric data (right to erasure)…"))
def erase_biometrics(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> HttpResponse | None:
    return _propose_for_each(modeladmin, request, queryset, what="erase")


class CustomerFaceAdmin(CustomerAdmin):
    """The customer page with its face parts, registered in place of accounts' own (which cannot import
    biometrics): the face status line, and revoking or erasing the face as a list action and from the page."""

    readonly_fields = ["biometric_status", *CustomerAdmin.readonly_fields]
    actions = [*CustomerAdmin.actions, revoke_biometrics, erase_biometrics]

    @admin.display(description=_("Face verification"))
    def biometric_status(self, obj: Customer) -> str:
        if obj.pk is None:
            return "—"
        return selectors.customer_biometric_status(customer=obj).text

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/erase-biometrics/",
                view(self.erase_biometrics_view),
                name="accounts_customer_erase_biometrics",
            ),
            path(
                "<int:pk>/revoke-biometrics/",
                view(self.revoke_biometrics_view),
                name="accounts_customer_revoke_biometrics",
            ),
            *super().get_urls(),
        ]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        # Proposing to revoke or erase needs the biometric change right: nobody is offered a refusal.
        if not request.user.has_perm("biometrics.change_facetemplate"):
            actions.pop("revoke_biometrics", None)
            actions.pop("erase_biometrics", None)
        return actions

    def erase_biometrics_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.one_customer_action(request, pk, erase_biometrics)

    def revoke_biometrics_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.one_customer_action(request, pk, revoke_biometrics)


admin.site.unregister(Customer)
admin.site.register(Customer, CustomerFaceAdmin)
