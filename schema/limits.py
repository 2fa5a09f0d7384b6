"""Request limits beyond depth/aliases/tokens (see schema.schema._extensions)."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from graphql import DirectiveNode, GraphQLError, ValidationRule, Visitor, visit
from strawberry.extensions import SchemaExtension

# Root mutations that guess or redeem secrets, or send email: one per document.
SENSITIVE_FIELDS = frozenset(
    {
        "login",
        "register",
        "requestPasswordReset",
        "resendVerificationEmail",
        "resetPassword",
        "verifyEmail",
        "acceptInvitation",
        "loginExternal",
        "reauthenticate",
        "requestEmailChange",
        "confirmEmailChange",
        "revertEmailChange",
        "verifyMfa",
        "totpSetupConfirm",
        "passkeyAuthenticationFinish",
    }
)


class OneSensitiveFieldPerDocument(ValidationRule):
    """A document may call at most one sensitive mutation field, once.

    Rate limits already count every call; this refuses the whole batch up front so an
    aliased flood costs nothing (no hashing, no email)."""

    def __init__(self, context) -> None:
        super().__init__(context)
        self.seen = 0

    def enter_field(self, node, *args) -> None:
        parent = self.context.get_parent_type()
        mutation_type = self.context.schema.mutation_type
        if parent is None or mutation_type is None or parent is not mutation_type:
            return
        if node.name.value in SENSITIVE_FIELDS:
            self.seen += 1
            if self.seen == 2:
                self.report_error(
                    GraphQLError(
                        "Only one sign-in, registration, token or email request is allowed "
                        "per document.",
                        node,
                    )
                )


class _DirectiveCounter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_directive(self, node: DirectiveNode, *args) -> None:
        self.count += 1


class DirectivesLimiter(SchemaExtension):
    """A document with more directives than any real client sends (``@skip``/``@include``
    a few times) answers one error, not one per unknown or repeated directive.

    Listed after ``ValidationCache``: its answer replaces the validation errors."""

    def on_validate(self) -> Iterator[None]:
        document = self.execution_context.graphql_document
        if document is not None:
            counter = _DirectiveCounter()
            visit(document, counter)
            limit = settings.GRAPHQL_MAX_DIRECTIVES
            if counter.count > limit:
                self.execution_context.pre_execution_errors = [
                    GraphQLError(
                        f"A document may use at most {limit} directives.",
                        extensions={"code": "INVALID"},
                    )
                ]
        yield
