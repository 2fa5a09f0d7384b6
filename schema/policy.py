"""The organization's second-factor policy, for the whole API: a signed-in member of an
organization that requires a second factor, who has none yet, may only set one up.

Checked once per operation, before it runs (``SecondFactorPolicy``): an operation whose
root fields are not all in ``ENROLLMENT_FIELDS`` answers one error, code MFA_REQUIRED,
and nothing of it runs."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
)
from strawberry.extensions import SchemaExtension

from accounts.services.mfa import mfa_enrollment_required

# What a member who must enroll may still do: see who they are, set a second factor up,
# re-authenticate, sign out (and introspect the schema, where the explorer is on).
ENROLLMENT_FIELDS = frozenset(
    {
        "__typename",
        "__schema",
        "__type",
        "me",
        "logout",
        "reauthenticate",
        "totpSetupBegin",
        "totpSetupConfirm",
        "passkeyRegistrationBegin",
        "passkeyRegistrationFinish",
    }
)
MFA_REQUIRED_MESSAGE = (
    "Your organization requires a second factor: set one up (totpSetupBegin) to continue."
)


def _root_fields(document, operation_name: str | None) -> Iterator[str]:
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if not isinstance(definition, OperationDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    selected = [
        d
        for d in operations
        if operation_name is None or (d.name is not None and d.name.value == operation_name)
    ]
    pending = [selected[0].selection_set] if selected else []
    seen: set[str] = set()
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                yield selection.name.value
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    pending.append(fragments[name].selection_set)


class SecondFactorPolicy(SchemaExtension):
    def on_execute(self):
        context = self.execution_context
        request = getattr(context.context, "request", None)
        user = getattr(request, "user", None)
        document = context.graphql_document
        if (
            document is not None
            and getattr(user, "is_authenticated", False)
            and user.organization_id is not None
            and not set(_root_fields(document, context.operation_name)) <= ENROLLMENT_FIELDS
            and mfa_enrollment_required(user)
        ):
            context.result = ExecutionResult(
                data=None,
                errors=[GraphQLError(MFA_REQUIRED_MESSAGE, extensions={"code": "MFA_REQUIRED"})],
            )
        yield
