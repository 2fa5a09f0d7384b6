"""The one way Roster declares mutations: ``input`` argument, payload union, error codes."""

from __future__ import annotations

import strawberry_django
from strawberry.extensions import FieldExtension

from accounts.services.reauthentication import reauthentication_require
from schema.errors import DomainErrorsAsOperationInfo
from schema.permissions import require_viewer


class RecentAuthentication(FieldExtension):
    """A sensitive mutation: the viewer must be signed in and have re-authenticated
    recently (``reauthenticate``), else UNAUTHENTICATED or REAUTHENTICATION_REQUIRED."""

    def resolve(self, next_, source, info, **kwargs):
        require_viewer(info)
        reauthentication_require(request=info.context.request)
        return next_(source, info, **kwargs)


SENSITIVE_NOTE = (
    "Sensitive: without a reauthenticate in the last REAUTHENTICATION_TTL seconds it "
    "answers REAUTHENTICATION_REQUIRED."
)


def _extensions(kwargs: dict, *, sensitive: bool) -> list[FieldExtension]:
    # A field's first extension runs innermost: the guard inside the error mapping.
    guards = [RecentAuthentication()] if sensitive else []
    if sensitive:
        kwargs["description"] = " ".join(filter(None, [kwargs.get("description"), SENSITIVE_NOTE]))
    return [*guards, DomainErrorsAsOperationInfo(), *kwargs.pop("extensions", [])]


def input_mutation(*, sensitive: bool = False, **kwargs):
    """A mutation taking one ``input`` and answering ``<Name>Payload = Success | OperationInfo``;
    ``sensitive``: it needs a recent re-authentication."""
    return strawberry_django.input_mutation(
        handle_django_errors=True, extensions=_extensions(kwargs, sensitive=sensitive), **kwargs
    )


def mutation(*, sensitive: bool = False, **kwargs):
    """A mutation without arguments (``logout``, ``removeAvatar``)."""
    return strawberry_django.mutation(
        handle_django_errors=True, extensions=_extensions(kwargs, sensitive=sensitive), **kwargs
    )
