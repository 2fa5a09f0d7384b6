"""Validation through the models' own field validators, shared by accounts and directory.

A service never re-states a limit or a message: it sets the values on a model instance and
asks the model's fields (``max_length``, ``blank``, choices, ``ProhibitNullCharactersValidator``)
through ``Model.clean_fields``. One rule thus answers one code and message everywhere:
``max_length``, ``blank``, ``null_characters_not_allowed`` (Django's codes and messages).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models

from backend.errors import Invalid

NUL = "\x00"


def fields_validate(
    instance: models.Model, fields: Iterable[str], *, names: Mapping[str, str] | None = None
) -> None:
    """Run the validators of ``fields`` of ``instance``; ``Invalid`` (camelCase field names,
    or the API's own names in ``names``) listing every failing field."""
    wanted = set(fields)
    exclude = [field.name for field in instance._meta.get_fields() if field.name not in wanted]
    try:
        instance.clean_fields(exclude=exclude)
    except ValidationError as error:
        if names:
            error = ValidationError(
                {names.get(name, name): errors for name, errors in error.error_dict.items()}
            )
        raise Invalid.from_validation_error(error) from error


def required(value: str, *, field: str) -> None:
    """``blank`` as a model field answers it, for a value the model lets be empty (a contact
    override may have no name of its own) but the operation needs."""
    if not value:
        message = models.Field.default_error_messages["blank"]
        raise Invalid.from_validation_error(
            ValidationError({field: [ValidationError(message, code="blank")]})
        )


def text_strings(value: Any) -> Iterator[str]:
    """Every string of a JSON value (strings, numbers, lists, objects), object keys included."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def has_null_character(value: Any) -> bool:
    return any(NUL in text for text in text_strings(value))


def null_characters_refuse(value: Any) -> None:
    """``ProhibitNullCharactersValidator`` over every string of a JSON value."""
    if has_null_character(value):
        ProhibitNullCharactersValidator()(NUL)
