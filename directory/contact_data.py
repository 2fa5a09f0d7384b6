"""The ``data`` document of a contact: its JSON schema, validation, and the override merge.

The schema is a file of the project (``contact_data.schema.json``, JSON Schema Draft 2020-12),
checked with ``jsonschema``. Format checking of ``email`` and ``uri`` uses Django's validators:
jsonschema's own ``email`` check only looks for an ``@`` and its ``uri`` check needs an extra
package (without it, every string passes silently).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import gettext, ngettext
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError

from backend.errors import ErrorMessage, Invalid
from backend.validation import null_characters_refuse
from directory.search import phone_digits

SCHEMA_PATH = Path(__file__).with_name("contact_data.schema.json")
DATA_MAX_BYTES = 64 * 1024
ERRORS_REPORTED_MAX = 10
MESSAGE_MAX_CHARS = 300
LIST_KEYS = ("emails", "phones", "addresses", "links", "organizations")

_email_validator = EmailValidator()
# Links are shown as clickable links: only web addresses, never ``javascript:`` or ``data:``.
_url_validator = URLValidator(schemes=["http", "https"])


def _passes(validator, value) -> bool:
    if not isinstance(value, str):
        return True  # the "type" keyword reports it
    try:
        validator(value)
    except ValidationError:
        return False
    return True


def contact_data_format_checker() -> FormatChecker:
    checker = FormatChecker()
    checker.checks("email")(lambda value: _passes(_email_validator, value))
    checker.checks("uri")(lambda value: _passes(_url_validator, value))
    return checker


@cache
def contact_data_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


@cache
def contact_data_validator() -> Draft202012Validator:
    schema = contact_data_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=contact_data_format_checker())


def _path(error: SchemaError) -> str:
    text = "data"
    for part in error.absolute_path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _names(names) -> str:
    return ", ".join(repr(name) for name in names)


def _describe(error: SchemaError) -> str:
    """The problem in the caller's language, for each rule the schema uses."""
    rule, value, instance = error.validator, error.validator_value, error.instance
    if rule == "format":
        if value == "email":
            return gettext("not a valid email address.")
        return gettext("not a valid http(s) URL.")
    if rule == "pattern":
        return gettext("not a valid phone number.")
    if rule == "additionalProperties" and isinstance(instance, dict):
        unexpected = [name for name in instance if name not in error.schema.get("properties", {})]
        return ngettext(
            "Additional properties are not allowed (%(names)s was unexpected)",
            "Additional properties are not allowed (%(names)s were unexpected)",
            len(unexpected),
        ) % {"names": _names(unexpected)}
    if rule == "required" and isinstance(instance, dict):
        missing = [name for name in value if name not in instance]
        return gettext("%(name)s is a required property") % {"name": _names(missing)}
    if rule == "type":
        return gettext("%(value)s is not of type %(type)s") % {
            "value": repr(instance),
            "type": repr(value),
        }
    if rule == "enum":
        return gettext("must be one of: %(choices)s.") % {"choices": _names(value)}
    if rule == "maxLength":
        return ngettext("at most %(limit)d character.", "at most %(limit)d characters.", value) % {
            "limit": value
        }
    if rule == "minLength":
        return gettext("must not be empty.")
    if rule == "maxItems":
        return ngettext("at most %(limit)d item.", "at most %(limit)d items.", value) % {
            "limit": value
        }
    if rule == "minProperties":
        return gettext("needs a value besides its type.")
    return gettext("not valid here.")


def _message(error: SchemaError) -> str:
    message = gettext("%(path)s: %(problem)s") % {
        "path": _path(error),
        "problem": _describe(error),
    }
    if len(message) > MESSAGE_MAX_CHARS:
        message = message[: MESSAGE_MAX_CHARS - 1] + "…"
    return message


def contact_data_validate(data: Any) -> dict[str, Any]:
    """Answer ``data`` when it follows the schema; raise ``INVALID`` (field ``data``) otherwise.

    Each message starts with the failing path, e.g. ``data.emails[0].value: not a valid email
    address.``
    """
    if data is None:
        data = {}
    try:
        null_characters_refuse(data)  # PostgreSQL's jsonb cannot hold one, in a key or a value
    except ValidationError as error:
        raise Invalid.from_validation_error(error, field="data") from error
    if len(json.dumps(data, ensure_ascii=False).encode()) > DATA_MAX_BYTES:
        raise Invalid(
            gettext("data: larger than %(kilobytes)d KB.") % {"kilobytes": DATA_MAX_BYTES // 1024},
            field="data",
        )
    errors = sorted(
        contact_data_validator().iter_errors(data),
        key=lambda error: [str(part) for part in error.absolute_path],
    )
    if errors:
        messages = [
            ErrorMessage(_message(error), "INVALID", "data")
            for error in errors[:ERRORS_REPORTED_MAX]
        ]
        raise Invalid(messages[0].message, field="data", code="INVALID", errors=messages)
    return data


# The merge ---------------------------------------------------------------------------------


def _normalized(value: Any) -> Any:
    return " ".join(value.split()).casefold() if isinstance(value, str) else value


def _entry_key(list_key: str, entry: dict[str, Any]) -> Any:
    """Entries with the same key are the same entry: one address, number or link is listed once,
    whatever its type; addresses and organizations are the same when all their parts are."""
    value = entry.get("value", "")
    if list_key == "emails":
        return _normalized(value)
    if list_key == "phones":
        return phone_digits(value) or _normalized(value)
    if list_key == "links":
        return value.strip()
    return tuple(sorted((name, _normalized(part)) for name, part in entry.items()))


def contact_data_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """The data of a contact seen through an override.

    Each list shows the override's entries first, then the base entries not already there;
    ``customFields`` take the override's value for a key both have.
    """
    base = base or {}
    override = override or {}
    merged: dict[str, Any] = {}
    for key in LIST_KEYS:
        if key not in base and key not in override:
            continue
        entries = list(override.get(key) or [])
        seen = {_entry_key(key, entry) for entry in entries}
        for entry in base.get(key) or []:
            entry_key = _entry_key(key, entry)
            if entry_key not in seen:
                seen.add(entry_key)
                entries.append(entry)
        merged[key] = entries
    if "customFields" in base or "customFields" in override:
        merged["customFields"] = {
            **(base.get("customFields") or {}),
            **(override.get("customFields") or {}),
        }
    return merged


def contact_text_merge(base: str, override: str) -> str:
    """Override names (and notes) win when set."""
    return override if override and override.strip() else base
