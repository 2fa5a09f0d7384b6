"""Invitations into an organization (issue: Organizations)."""

from __future__ import annotations

from accounts.errors import TokenInvalid
from accounts.models import Organization, User


def invitation_join_new_user(*, user: User, token: str) -> Organization:
    """Called by ``register`` inside its transaction when an invitation token is given.

    Validates the token (TOKEN_INVALID, TOKEN_EXPIRED, INVITATION_EMAIL_MISMATCH,
    SEAT_LIMIT_REACHED), moves ``user`` into the inviting organization with the invited
    groups, marks the invitation accepted and the email verified (the token reached
    that address), and answers the organization.
    """
    raise TokenInvalid()
