"""Search normalization of contacts: case- and accent-insensitive, the same on every database.

Contacts keep normalized copies of their searchable values (``search_*`` columns, derived on
save). The search term goes through the same function, so SQLite and PostgreSQL answer alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from backend.text import search_normalize

_PHONE_LIKE = re.compile(r"^[\d\s()+./-]+$")
_NON_DIGITS = re.compile(r"\D")
# A searchable value never spans two stored values: they are joined by a newline, and a
# normalized term never contains one.
VALUE_SEPARATOR = "\n"


def phone_digits(value: str) -> str:
    return _NON_DIGITS.sub("", value or "")


def search_values(*, emails: Iterable[str], phones: Iterable[str]) -> str:
    """The normalized email and phone values of a contact, each phone also as bare digits."""
    values = [search_normalize(email) for email in emails]
    for phone in phones:
        values.append(search_normalize(phone))
        digits = phone_digits(phone)
        if digits:
            values.append(digits)
    return VALUE_SEPARATOR.join(value for value in values if value)


def contact_search_values(data) -> str:
    """``search_values`` of a contact's ``data`` document (tolerant of malformed documents)."""
    data = data if isinstance(data, dict) else {}

    def values(key: str) -> list[str]:
        entries = data.get(key)
        if not isinstance(entries, list):
            return []
        return [
            entry["value"]
            for entry in entries
            if isinstance(entry, dict) and isinstance(entry.get("value"), str)
        ]

    return search_values(emails=values("emails"), phones=values("phones"))


def search_terms(search: str | None) -> list[str]:
    """The normalized forms a search may match: the text, and bare digits for a phone number."""
    term = search_normalize(search)
    if not term:
        return []
    terms = [term]
    if _PHONE_LIKE.match(term):
        digits = phone_digits(term)
        if digits and digits != term:
            terms.append(digits)
    return terms
