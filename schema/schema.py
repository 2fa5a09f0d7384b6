"""The one Strawberry schema: per-domain queries and mutations merged at the root."""

from __future__ import annotations

import logging

import strawberry
import strawberry_django
from django.conf import settings
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry import relay
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry_django.optimizer import DjangoOptimizerExtension

from schema.accounts.mutations import AuthMutation
from schema.accounts.queries import Query as AccountsQuery
from schema.directory.mutations import Mutation as ContactsMutation
from schema.directory.queries import Query as ContactsQuery
from schema.errors import ErrorPolicy, is_expected
from schema.limits import OneSensitiveFieldPerDocument
from schema.oidc.mutations import Mutation as OidcMutation
from schema.organizations.mutations import Mutation as OrganizationsMutation
from schema.organizations.queries import Query as OrganizationsQuery
from schema.profile.mutations import Mutation as ProfileMutation
from schema.teams.mutations import Mutation as TeamsMutation
from schema.teams.queries import Query as TeamsQuery

logger = logging.getLogger("roster.graphql")


@strawberry.type
class NodeQuery:
    node: relay.Node | None = strawberry_django.node()
    nodes: list[relay.Node | None] = strawberry_django.node()


Query = merge_types(
    "Query", (NodeQuery, AccountsQuery, ContactsQuery, TeamsQuery, OrganizationsQuery)
)
Mutation = merge_types(
    "Mutation",
    (
        AuthMutation,
        ProfileMutation,
        OidcMutation,
        ContactsMutation,
        TeamsMutation,
        OrganizationsMutation,
    ),
)


class IntrospectionOnlyWithExplorer(NoSchemaIntrospectionCustomRule):
    """Introspection is part of the explorer: off in production unless GRAPHIQL=1."""

    def enter_field(self, node, *args):
        if settings.GRAPHIQL:
            return None
        return super().enter_field(node, *args)


class RosterSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context=None) -> None:
        # Expected errors (validation, domain codes) are answers, not incidents.
        unexpected = [error for error in errors if not is_expected(error)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def _extensions():
    extensions = [
        DjangoOptimizerExtension,
        lambda: QueryDepthLimiter(max_depth=settings.GRAPHQL_MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=settings.GRAPHQL_MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=settings.GRAPHQL_MAX_TOKENS),
        ErrorPolicy,
        lambda: AddValidationRules([IntrospectionOnlyWithExplorer, OneSensitiveFieldPerDocument]),
    ]
    return extensions


schema = RosterSchema(
    query=Query,
    mutation=Mutation,
    extensions=_extensions(),
    config=StrawberryConfig(relay_max_results=settings.GRAPHQL_PAGE_SIZE_MAX),
)
