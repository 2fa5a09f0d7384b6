"""The GraphQL endpoint. Never csrf_exempt: Django's CSRF middleware guards every POST."""

from __future__ import annotations

from django.conf import settings
from django.utils.decorators import method_decorator
from strawberry.django.views import GraphQLView

from backend.csrf import csrf_cookie
from schema.schema import schema


@method_decorator(csrf_cookie, name="dispatch")
class RosterGraphQLView(GraphQLView):
    def __init__(self, **kwargs):
        super().__init__(
            schema=schema,
            graphql_ide="graphiql" if settings.GRAPHIQL else None,
            multipart_uploads_enabled=True,
            **kwargs,
        )


graphql_view = RosterGraphQLView.as_view()
