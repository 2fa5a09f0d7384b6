"""What a person is called: one rule, computed in Python and in SQL.

A person's names are stored once, in their ``ProfileData``. Their full name is the first
and the last name joined by one space, without spaces around it (an empty first or last
name leaves no stray space); the name others see (``user_display_name``) is the full
name, else the email. ``full_name``/``user_display_name`` compute it in Python and
``full_name_expression``/``user_display_name_expression`` in SQL, from the same parts
in the same order: SQL ``TRIM`` removes spaces only, as ``str.strip(" ")`` does, and a
missing profile reads as empty names on both sides. ``tests/accounts/test_names.py``
checks that they agree.
"""

from __future__ import annotations

from django.db.models import CharField, Value
from django.db.models.functions import Coalesce, Concat, NullIf, Trim

from backend.text import search_normalize


def full_name(first_name: str | None, last_name: str | None) -> str:
    return f"{first_name or ''} {last_name or ''}".strip(" ")


def full_name_expression(prefix: str = ""):
    """``full_name`` over the names of a profile reached through ``prefix`` (e.g.
    ``"profile__"``)."""
    return Trim(
        Concat(f"{prefix}first_name", Value(" "), f"{prefix}last_name", output_field=CharField())
    )


def user_display_name(user) -> str:
    """How a person is named to others: the profile's full name, else the email."""
    if user is None:
        return ""
    profile = getattr(user, "profile", None)
    names = full_name(profile.first_name, profile.last_name) if profile is not None else ""
    return names or user.email or ""


def user_display_name_expression(prefix: str = ""):
    """``user_display_name`` as SQL over a user reached through ``prefix`` (e.g.
    ``"inviter__"``), so a list computes it in its own query."""
    return Coalesce(
        NullIf(full_name_expression(f"{prefix}profile__"), Value("")),
        f"{prefix}email",
        Value(""),
        output_field=CharField(),
    )


def member_search_text(*, first_name: str, last_name: str, email: str) -> str:
    """What a member search matches (``User.search_text``): the full name and the email,
    normalized (``backend.text``) and on two lines, so no term spans both."""
    return f"{search_normalize(full_name(first_name, last_name))}\n{search_normalize(email)}"
