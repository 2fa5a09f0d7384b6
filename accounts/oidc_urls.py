from django.conf import settings
from django.http import JsonResponse
from django.urls import include, path


def oidc_disabled(request, *args, **kwargs):
    return JsonResponse({"detail": "OIDC is off: no provider is configured."}, status=404)


if settings.OIDC_ENABLED:
    urlpatterns = [path("", include("mozilla_django_oidc.urls"))]
else:
    urlpatterns = [path("<path:rest>", oidc_disabled), path("", oidc_disabled)]
