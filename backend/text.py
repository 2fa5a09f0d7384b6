"""Text normalized for search: case- and accent-insensitive, the same on every database.

Rows keep normalized copies of their searchable text (contacts' ``search_*`` columns, a
user's ``search_text``); a search term goes through the same function, so SQLite and
PostgreSQL answer alike.
"""

from __future__ import annotations

import re
import unicodedata

# Letters that carry their "accent" in the letter itself (no Unicode decomposition), mapped the
# way PostgreSQL's ``unaccent`` maps them.
_UNDECOMPOSABLE = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "ħ": "h",
        "ı": "i",
        "ŀ": "l",
        "ŧ": "t",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
        "ĸ": "q",
    }
)
_SPACES = re.compile(r"\s+")


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def search_normalize(text: str | None) -> str:
    """``"  José   ÅSTRÖM "`` -> ``"jose astrom"``: no accents, case-folded, single spaces."""
    if not text:
        return ""
    folded = _strip_marks(_strip_marks(text).casefold())
    return _SPACES.sub(" ", folded.translate(_UNDECOMPOSABLE)).strip()
