from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from accounts.views import avatar_file
from backend.views import health, ready
from schema.views import graphql_view

urlpatterns = [
    path("api/user/graphql/", graphql_view, name="graphql"),
    path("api/user/health/", health, name="health"),
    path("api/user/ready/", ready, name="ready"),
    path("api/user/oidc/", include("accounts.oidc_urls")),
    path("admin/", admin.site.urls),
]

# Avatar files with a fixed content type and nosniff; answers only when SERVE_MEDIA=1
# (production normally serves MEDIA from an object store or the web server, see README).
if not settings.MEDIA_URL.startswith(("http://", "https://", "//")):
    urlpatterns.append(
        path(
            f"{settings.MEDIA_URL.strip('/')}/avatar_images/<str:name>",
            avatar_file,
            name="avatar-file",
        )
    )

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
