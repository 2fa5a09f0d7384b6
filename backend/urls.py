from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from backend.views import health
from schema.views import graphql_view

urlpatterns = [
    path("api/user/graphql/", graphql_view, name="graphql"),
    path("api/user/health/", health, name="health"),
    path("api/user/oidc/", include("accounts.oidc_urls")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
