"""The organization's second-factor policy, for the whole API: a signed-in member of an
organization that requires a second factor, who has none yet, may only set one up.

Checked once per operation, before it runs (``SecondFactorPolicy``): an operation that
selects anything outside ``ENROLLMENT`` answers one error, code MFA_REQUIRED, and
nothing of it runs. The check follows the whole selection, fragments included, so
``me`` cannot be a way into the organization's members or the directory.

An operation that signs someone in, or moves them into an organization
(``SIGN_IN_FIELDS``), starts as someone else than it ends: such a field must be alone in
its operation (``SignInAlone``), and once it ran, the answer is withheld (MFA_REQUIRED)
when the person it signed in must enroll and it selects more than ``SIGNED_IN``."""

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
    ValidationRule,
)
from strawberry.extensions import SchemaExtension

from accounts.models import User
from accounts.services.mfa import mfa_enrollment_required
from backend.errors import MfaRequired

# What a member who must enroll may still select, from the root: a field mapped to
# ``ANYTHING`` with all it answers, a field mapped to a dict with only those fields below
# it (``__typename`` is open everywhere). They see who they are and whether their
# organization asks for a factor, set one up, re-authenticate (which setting up needs),
# sign out, and introspect the schema where the explorer is on.
ANYTHING = True


class _Everything(dict):
    """A shape that allows every field (and all below it) except ``except_``."""

    def __init__(self, *, except_: frozenset[str]) -> None:
        super().__init__()
        self.except_ = except_

    def get(self, name, default=None):
        return default if name in self.except_ else ANYTHING


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


# Fields after which the request is someone else, or in another organization.
SIGN_IN_FIELDS = frozenset(
    {
        "login",
        "verifyMfa",
        "passkeyAuthenticationFinish",
        "loginExternal",
        "register",
        "acceptInvitation",
    }
)
# A shape that allows everything but them (``operation_allowed`` is False exactly when
# an operation signs someone in).
NOT_SIGNING_IN = _Everything(except_=SIGN_IN_FIELDS)
# What the answer of a sign-in may select when the person it signed in must enroll: the
# enrollment's view of them (as through ``me``), or of their new organization, and the
# sign-in's own outcomes (errors, a second-factor challenge).
_OUTCOMES = dict.fromkeys(("messages", "methods", "expiresAt"), ANYTHING)
SIGNED_IN: dict = {
    name: {**_OUTCOMES, **ENROLLMENT["me"]} for name in SIGN_IN_FIELDS - {"acceptInvitation"}
} | {"acceptInvitation": {**_OUTCOMES, **ENROLLMENT["me"]["organization"]}}


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


def _refusal() -> ExecutionResult:
    error = MfaRequired()
    return ExecutionResult(
        data=None, errors=[GraphQLError(error.message, extensions=error.extensions)]
    )


class SecondFactorPolicy(SchemaExtension):
    def on_execute(self):
        context = self.execution_context
        request = getattr(context.context, "request", None)
        document = context.graphql_document
        if document is None or request is None:
            yield
            return
        user = getattr(request, "user", None)
        if not operation_allowed(
            document, context.operation_name, ENROLLMENT
        ) and mfa_enrollment_required(user):
            context.result = _refusal()
        signs_in = not operation_allowed(document, context.operation_name, NOT_SIGNING_IN)
        yield
        if signs_in and context.result is not None and context.result.data is not None:
            # Who the request is now (signed in, or moved into another organization).
            after = User.objects.select_related("organization").filter(
                pk=getattr(request.user, "pk", None)
            )
            user = after.first()
            if (
                user is not None
                and not operation_allowed(document, context.operation_name, SIGNED_IN)
                and mfa_enrollment_required(user)
            ):
                context.result = _refusal()


class SignInAlone(ValidationRule):
    """A field that signs someone in (``SIGN_IN_FIELDS``) is the only mutation field of
    its document (fragments included): nothing may run after it as the person it signed
    in, unchecked."""

    def __init__(self, context) -> None:
        super().__init__(context)
        self.fields: list[str] = []
        self.reported = False

    def enter_field(self, node: FieldNode, *args) -> None:
        mutation_type = self.context.schema.mutation_type
        if mutation_type is None or self.context.get_parent_type() is not mutation_type:
            return
        if node.name.value == "__typename":
            return
        self.fields.append(node.name.value)
        if len(self.fields) > 1 and set(self.fields) & SIGN_IN_FIELDS and not self.reported:
            self.reported = True
            self.report_error(
                GraphQLError(
                    "A sign-in (login, verifyMfa, passkeyAuthenticationFinish, loginExternal, "
                    "register, acceptInvitation) must be the only mutation of its document.",
                    node,
                )
            )
