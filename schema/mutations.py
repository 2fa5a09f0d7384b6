"""The one way Roster declares mutations: ``input`` argument, payload union, error codes."""

from __future__ import annotations

import strawberry_django

from schema.errors import DomainErrorsAsOperationInfo


def input_mutation(**kwargs):
    """A mutation taking one ``input`` and answering ``<Name>Payload = Success | OperationInfo``."""
    extensions = [DomainErrorsAsOperationInfo(), *kwargs.pop("extensions", [])]
    return strawberry_django.input_mutation(
        handle_django_errors=True, extensions=extensions, **kwargs
    )


def mutation(**kwargs):
    """A mutation without arguments (``logout``, ``removeAvatar``)."""
    extensions = [DomainErrorsAsOperationInfo(), *kwargs.pop("extensions", [])]
    return strawberry_django.mutation(handle_django_errors=True, extensions=extensions, **kwargs)
