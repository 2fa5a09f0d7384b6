"""The one check every string a request hands to Roster passes: no NUL character.

PostgreSQL can neither store nor compare text containing ``\\x00``, so a NUL must never reach
a query, whichever argument carries it (mutation inputs, ``search`` terms, tokens, the JSON
``data`` of a contact, cursors). Both ways a string enters a request are checked here:

- string literals of the document, by a validation rule (cached with the document);
- variable values, before execution, by a schema extension.

A request carrying a NUL is answered before any resolver runs, by one GraphQL error with the
code and message of Django's ``ProhibitNullCharactersValidator`` (the validator the models'
text fields carry too, so a NUL is refused with the same code and message on every path).

Why not at the ``String`` scalar: graphql-core forbids redefining its ``String`` type, and
the JSON scalar carries strings of its own.
"""

from __future__ import annotations

from django.core.validators import ProhibitNullCharactersValidator
from graphql import GraphQLError, StringValueNode, ValidationRule
from graphql.execution import ExecutionResult
from strawberry.extensions import SchemaExtension

from backend.validation import NUL, has_null_character

_validator = ProhibitNullCharactersValidator()


def null_character_error(nodes=None) -> GraphQLError:
    return GraphQLError(str(_validator.message), nodes, extensions={"code": _validator.code})


class NullCharactersInLiterals(ValidationRule):
    """A string literal of the document (at any depth, JSON literals included) holds a NUL."""

    def enter_string_value(self, node: StringValueNode, *_args) -> None:
        if NUL in node.value:
            self.report_error(null_character_error(node))


class NullCharacterMessagesTranslated(SchemaExtension):
    """Validation results are cached per document, whoever sent it first: a NUL error
    taken from the cache is answered in this caller's language. Listed after the cache,
    whose answer is there when this hook starts (and read before the hooks end)."""

    def on_validate(self):
        context = self.execution_context
        if context.pre_execution_errors:
            context.pre_execution_errors = [
                null_character_error(error.nodes)
                if (error.extensions or {}).get("code") == _validator.code
                else error
                for error in context.pre_execution_errors
            ]
        yield


class NullCharactersInVariables(SchemaExtension):
    """A variable value holds a NUL: the operation is not executed."""

    def on_execute(self):
        context = self.execution_context
        if has_null_character(context.variables):
            context.result = ExecutionResult(data=None, errors=[null_character_error()])
        yield
