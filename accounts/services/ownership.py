"""What happens when the owner of an email address proves it for the first time."""

from __future__ import annotations

import logging

from accounts.models import PendingRegistration, User, UserExternalAuthentication
from accounts.services.mfa import second_factors_remove
from accounts.services.organizations import organization_create

logger = logging.getLogger(__name__)


def email_ownership_prove(*, user: User, keeps_password: bool) -> None:
    """The address of ``user`` was never proven, and now its owner proves it (a reset link
    reached the inbox, or the provider verified it). Whoever linked an identity or set a
    password without proving the address loses that way in, so a pre-registered account
    cannot be taken over later. ``keeps_password``: the proof itself just set the password
    (a reset). A new password hash also ends the account's other sessions."""
    if user.email_verified:
        return
    logger.warning("User %s: email proven by its owner; unproven access revoked", user.pk)
    UserExternalAuthentication.objects.filter(user=user).delete()
    second_factors_remove(user)  # set up by whoever held the account before its owner
    fields = ["email_verified"]
    if not keeps_password:
        user.set_unusable_password()
        fields.append("password")
    user.email_verified = True
    user.save(update_fields=fields)


def registration_complete(*, user: User) -> None:
    """The address of a pending registration is proven by the one who started it (from the
    same browser or signed-in session, through their provider, or by an invitation): the
    account gets the organization the registration asked for, unless it joined one."""
    pending = PendingRegistration.objects.filter(user=user).first()
    if pending is None:
        return
    if user.organization_id is None:
        organization_create(name=pending.organization_name, administrator=user)
    pending.delete()
