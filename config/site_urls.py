from pathlib import Path

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.cache import cache_control
from django.views.generic import RedirectView

FAVICON = (Path(__file__).resolve().parent / "static" / "config" / "favicon.ico").read_bytes()


@cache_control(max_age=86400, public=True)
def favicon(request):
    """The product's icon where browsers look for it first (the admin's pages also link it: settings.UNFOLD)."""
    return HttpResponse(FAVICON, content_type="image/x-icon")


urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("favicon.ico", favicon, name="favicon"),
]
