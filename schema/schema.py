"""The one Strawberry schema: per-domain queries and mutations merged at the root."""

from __future__ import annotations

import functools
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
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry_django.optimizer import DjangoOptimizerExtension

from backend.observability import exception_observed
from schema.accounts.mutations import AuthMutation
from schema.accounts.queries import Query as AccountsQuery
from schema.directory.mutations import Mutation as ContactsMutation
from schema.directory.queries import Query as ContactsQuery
from schema.errors import ErrorPolicy, is_expected
from schema.ids import NodeIdsParsed
from schema.inputs import (
    NullCharacterMessagesTranslated,
    NullCharactersInLiterals,
    NullCharactersInVariables,
)
from schema.limits import DirectivesLimiter, OneSensitiveFieldPerDocument
from schema.observability import OperationObserved, OperationTracing
from schema.oidc.mutations import Mutation as OidcMutation
from schema.organizations.mutations import Mutation as OrganizationsMutation
from schema.organizations.queries import Query as OrganizationsQuery
from schema.policy import SecondFactorPolicy, SignInAlone
from schema.profile.mutations import Mutation as ProfileMutation
from schema.sso.mutations import Mutation as SsoMutation
from schema.sso.queries import Query as SsoQuery
from schema.teams.mutations import Mutation as TeamsMutation
from schema.teams.queries import Query as TeamsQuery

logger = logging.getLogger("roster.graphql")


@strawberry.type
class NodeQuery:
    node: relay.Node | None = strawberry_django.node(extensions=[NodeIdsParsed()])
    nodes: list[relay.Node | None] = strawberry_django.node(extensions=[NodeIdsParsed()])


Query = merge_types(
    "Query",
    (NodeQuery, AccountsQuery, ContactsQuery, TeamsQuery, OrganizationsQuery, SsoQuery),
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
        SsoMutation,
    ),
)


@functools.cache
def document_rules(*, max_depth: int, max_aliases: int, introspection: bool) -> tuple:
    """The validation rules beyond GraphQL's own, built once per configuration.

    The same rule classes for every request let ``ValidationCache`` answer a known document
    without validating it again (strawberry's limiters build new classes per instance).
    Introspection is part of the explorer: refused in production unless GRAPHIQL=1."""
    rules = [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
        OneSensitiveFieldPerDocument,
        SignInAlone,
        NullCharactersInLiterals,
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)


class DocumentRules(AddValidationRules):
    def __init__(self) -> None:
        super().__init__(
            document_rules(
                max_depth=settings.GRAPHQL_MAX_DEPTH,
                max_aliases=settings.GRAPHQL_MAX_ALIASES,
                introspection=settings.GRAPHIQL,
            )
        )


def document_caches_clear() -> None:
    """Forget the validated documents (for tests that patch a validation rule)."""
    ValidationCache().cached_validate_document.cache_clear()


class ParsedOnce(ParserCache):
    """Strawberry's ParserCache, except for a document that does not parse: left to
    strawberry's own parse, inside the executor's ``try``, which answers it. Raised from
    here it would leave the parse hooks already entered (the trace's parse span among
    them) open, and the thread's trace context with them."""

    def on_parse(self):
        try:
            yield from super().on_parse()
        except GraphQLError:
            yield


class RosterSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context=None) -> None:
        # Expected errors (validation, domain codes) are answers, not incidents. An
        # unexpected one is logged with its trace, by the field's path and the error's
        # message: not as str(error), which quotes the document around the field (and a
        # password written inline in it).
        for error in errors:
            if is_expected(error):
                continue
            exception_observed(error.original_error)
            logger.error(
                "GraphQL field %s failed: %s",
                ".".join(str(key) for key in error.path or ()) or "-",
                error.message,
                exc_info=error.original_error,
            )


def _extensions(*, tracing: bool):
    extensions = [
        DjangoOptimizerExtension,
        lambda: MaxTokensLimiter(max_token_count=settings.GRAPHQL_MAX_TOKENS),
        ErrorPolicy,
        # After ErrorPolicy: it sees the errors before they are masked.
        OperationObserved,
        DocumentRules,
        NullCharactersInVariables,
        # Parsing and validating a document cost more than many resolvers: a client sends
        # the same few documents again and again (bounded LRU caches, shared per process).
        ParsedOnce,
        ValidationCache,
        NullCharacterMessagesTranslated,
        DirectivesLimiter,
        SecondFactorPolicy,
    ]
    if tracing:
        # After ErrorPolicy, as OperationObserved: it sees the errors before they are masked.
        extensions.insert(extensions.index(OperationObserved), OperationTracing)
    return extensions


schema = RosterSchema(
    query=Query,
    mutation=Mutation,
    # Spans only when tracing is on: otherwise they cost nothing, not even a call.
    extensions=_extensions(tracing=settings.TRACING),
    config=StrawberryConfig(
        relay_max_results=settings.GRAPHQL_PAGE_SIZE_MAX,
        # Field suggestions map the schema for a prober: only with the explorer.
        disable_field_suggestions=not settings.GRAPHIQL,
    ),
)
