"""The GraphQL endpoint. Never csrf_exempt: Django's CSRF middleware guards every POST."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.views.decorators.csrf import ensure_csrf_cookie
from strawberry.django.views import GraphQLView

from backend.observability import error_observed
from schema.schema import schema

# Headers a web page cannot make a browser send to another site without a CORS preflight
# that this server never grants (what Apollo Server's CSRF prevention requires).
PREFLIGHT_HEADERS = (
    "GraphQL-Require-Preflight",
    "Apollo-Require-Preflight",
    "X-Apollo-Operation-Name",
    "X-CSRFToken",
    "Authorization",
)
SIMPLE_CONTENT_TYPES = (
    "",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
)
PREFLIGHT_REQUIRED = "PREFLIGHT_REQUIRED"


def is_preflighted(request) -> bool:
    """Whether a browser could only have sent ``request`` after a CORS preflight."""
    if any(request.headers.get(name, "").strip() for name in PREFLIGHT_HEADERS):
        return True
    return request.content_type.lower() not in SIMPLE_CONTENT_TYPES


@method_decorator(ensure_csrf_cookie, name="dispatch")
class RosterGraphQLView(GraphQLView):
    def __init__(self, **kwargs):
        super().__init__(
            schema=schema,
            graphql_ide="graphiql" if settings.GRAPHIQL else None,
            multipart_uploads_enabled=True,
            **kwargs,
        )

    def dispatch(self, request, *args, **kwargs):
        # A GET needs no CSRF token, so any page could make its visitors' browsers run
        # queries (and spend their rate limits, e.g. invitationPreview's token budget). A
        # GET that runs an operation must show it was preflighted; the explorer's page
        # (a GET without a query) is served as before.
        if request.method == "GET" and "query" in request.GET and not is_preflighted(request):
            message = gettext(
                "A GET request must carry a header that needs a CORS preflight, such as "
                "GraphQL-Require-Preflight: 1 (or use POST)."
            )
            error_observed(PREFLIGHT_REQUIRED)
            return JsonResponse(
                {"errors": [{"message": message, "extensions": {"code": PREFLIGHT_REQUIRED}}]},
                status=400,
            )
        return super().dispatch(request, *args, **kwargs)


graphql_view = RosterGraphQLView.as_view()
