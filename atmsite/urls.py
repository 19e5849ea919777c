from django.contrib import admin
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

admin.site.site_header = _("Biometric ATM — back office")
admin.site.site_title = _("ATM back office")
admin.site.index_title = _("Bank operations")
# The navigation sidebar repeats the home page and takes 300 px: at 1366 px the lists need that width.
admin.site.enable_nav_sidebar = False
# Bulk "delete selected" bypasses services and writes its admin log with bulk_create (no audit event).
admin.site.disable_action("delete_selected")


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    # Resolved per request: with the manifest storage the hashed name exists only after collectstatic.
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    # Browsers ask for /favicon.ico on pages without an icon link: no 404 per page.
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script from a URL of its own: the CSP (script-src 'self') blocks
    # the inline script of the one-page view.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    path("api/accounts/", include("accounts.urls")),
    path("api/kiosk/", include("kiosk.urls")),
    path("kiosk/", include("kiosk.page_urls")),
    path("branch/", include("branch.urls")),
    path("api/biometrics/", include("biometrics.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The customer portal: customers only, on its own session cookie (portal.middleware).
    path("my/", include("portal.urls")),
]
