"""The organization's second-factor policy, for the whole API: a signed-in member of an
organization that requires a second factor, who has none yet, may only set one up.

Checked once per operation, before it runs (``SecondFactorPolicy``): an operation that
selects anything outside ``ENROLLMENT`` answers one error, code MFA_REQUIRED, and
nothing of it runs. The check follows the whole selection, fragments included, so
``me`` cannot be a way into the organization's members or the directory."""

from __future__ import annotations

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

from accounts.services.mfa import mfa_enrollment_required
from backend.errors import MfaRequired

# What a member who must enroll may still select, from the root: a field mapped to
# ``ANYTHING`` with all it answers, a field mapped to a dict with only those fields below
# it (``__typename`` is open everywhere). They see who they are and whether their
# organization asks for a factor, set one up, re-authenticate (which setting up needs),
# sign out, and introspect the schema where the explorer is on.
ANYTHING = True
_SETUP = {
    name: ANYTHING
    for name in (
        "logout",
        "reauthenticate",
        "totpSetupBegin",
        "totpSetupConfirm",
        "passkeyRegistrationBegin",
        "passkeyRegistrationFinish",
        "__schema",
        "__type",
    )
}
ENROLLMENT: dict = {
    **_SETUP,
    "me": {
        **dict.fromkeys(
            (
                "id",
                "email",
                "emailVerified",
                "firstName",
                "lastName",
                "language",
                "timezone",
                "avatarUrl",
                "avatarThumbUrl",
                "mfa",
                "mfaEnrollmentRequired",
            ),
            ANYTHING,
        ),
        "organization": dict.fromkeys(("id", "name", "mfaRequired"), ANYTHING),
    },
}


def selection_allowed(
    selection_set: SelectionSetNode,
    shape: dict,
    fragments: dict[str, FragmentDefinitionNode],
    spreading: frozenset[str] = frozenset(),
) -> bool:
    """Whether every field ``selection_set`` selects (through fragments too) is in
    ``shape``."""
    for selection in selection_set.selections:
        inner, inner_shape, inner_spreading = None, shape, spreading
        if isinstance(selection, FieldNode):
            name = selection.name.value
            rule = ANYTHING if name == "__typename" else shape.get(name)
            if rule is None:
                return False
            if rule is not ANYTHING:
                inner, inner_shape = selection.selection_set, rule
        elif isinstance(selection, InlineFragmentNode):
            inner = selection.selection_set
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in fragments or name in spreading:  # (validation refuses both first)
                return False
            inner, inner_spreading = fragments[name].selection_set, spreading | {name}
        if inner is not None and not selection_allowed(
            inner, inner_shape, fragments, inner_spreading
        ):
            return False
    return True


def operation_allowed(document, operation_name: str | None, shape: dict) -> bool:
    """Whether the operation of ``document`` that runs selects only what ``shape`` allows."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
        and (operation_name is None or (d.name is not None and d.name.value == operation_name))
    ]
    return bool(operations) and selection_allowed(operations[0].selection_set, shape, fragments)


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
            and not operation_allowed(document, context.operation_name, ENROLLMENT)
            and mfa_enrollment_required(user)
        ):
            error = MfaRequired()
            context.result = ExecutionResult(
                data=None, errors=[GraphQLError(error.message, extensions=error.extensions)]
            )
        yield
