"""The GraphQL endpoint. Never csrf_exempt: Django's CSRF middleware guards every POST."""

from __future__ import annotations

from django.conf import settings
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from strawberry.django.views import GraphQLView

from schema.execution import on_reserved_stack
from schema.schema import schema


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
        return on_reserved_stack(super().dispatch, request, *args, **kwargs)


graphql_view = RosterGraphQLView.as_view()
