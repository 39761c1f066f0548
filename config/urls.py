from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config.api.exception_handler import api_not_found
from config.health import healthz, readyz
from config.metrics import metrics

api_v1 = [
    path("", include("orders.api.urls")),
    path("", include("returns.api.urls")),
    path("", include("issues.api.urls")),
    path("", include("webhooks.api.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api-order/", include("returns.fabric.urls")),
    path("ccagent/v1/", include("appeasements.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("", include("config.site_urls")),
    # Last: any other URL under an API prefix is a JSON 404 in the dialect's body, DEBUG or not.
    re_path(r"^(api|api-order|ccagent)/", api_not_found),
]

handler400 = "config.api.exception_handler.handler400"
handler403 = "config.api.exception_handler.handler403"
handler404 = "config.api.exception_handler.handler404"
handler500 = "config.api.exception_handler.handler500"
