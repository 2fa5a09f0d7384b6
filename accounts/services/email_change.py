"""Changing the email of an account: requested by its (re-authenticated) owner,
confirmed from the new address, revertible from the old one.

Nothing changes until the link mailed to the new address is opened. The old address is
told at once, with a link that cancels the request or, once confirmed, restores the old
address; either way it treats the account as being recovered (every session ends, the
password and identities linked since go), because whoever asked was signed in as the
owner. An address that belongs to another account answers alike, and that account's
owner is told instead of a confirmation being sent.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext

from accounts.audit import audit_user_event
from accounts.emails import email_send, frontend_url
from accounts.models import EmailChange, User, UserExternalAuthentication, email_normalize
from accounts.ratelimit import client_address, rate_limit_hit
from accounts.services.auth import email_request_limit, first_name_of, lifetime_hours
from accounts.services.mfa import second_factors_remove
from accounts.services.sso import sso_for_email, sso_required_for
from accounts.sessions import sessions_end
from accounts.tokens import Purpose, token_hash, token_new
from backend.errors import Invalid, TokenExpired, TokenInvalid, Unauthenticated
from backend.validation import fields_validate

logger = logging.getLogger(__name__)


@transaction.atomic
def email_change_request(*, actor, request: HttpRequest, new_email: str) -> None:
    """Mail a confirmation link to ``new_email`` and a notice with a revert link to the
    current address; a new request replaces a pending one. INVALID for a malformed or
    unchanged address."""
    if not getattr(actor, "is_authenticated", False):
        raise Unauthenticated()
    new_email = email_normalize(new_email)
    fields_validate(User(email=new_email), ["email"], names={"email": "newEmail"})
    email_request_limit(request, new_email)
    user = User.objects.select_for_update().get(pk=actor.pk)
    if new_email == user.email:
        raise Invalid(
            gettext("This is already your email address."), field="newEmail", code="INVALID"
        )
    if sso_required_for(user) and sso_for_email(new_email) != sso_for_email(user.email):
        # Out of the organization's domains the address would escape its provider.
        raise Invalid(
            gettext("Your organization signs you in: choose an address of its domains."),
            field="newEmail",
            code="SSO_REQUIRED",
        )
    EmailChange.objects.filter(user=user, confirmed_at=None, reverted_at=None).delete()
    confirm, revert = token_new(), token_new()
    now = timezone.now()
    change = EmailChange.objects.create(
        user=user,
        old_email=user.email,
        new_email=new_email,
        confirm_token_hash=token_hash(confirm, purpose=Purpose.EMAIL_CHANGE),
        revert_token_hash=token_hash(revert, purpose=Purpose.EMAIL_REVERT),
        confirm_expires_at=now + settings.EMAIL_CHANGE_TOKEN_LIFETIME,
        revert_expires_at=now + settings.EMAIL_CHANGE_REVERT_LIFETIME,
    )
    taken = User.objects.filter(email=new_email).exclude(pk=user.pk).first()
    if taken is not None:
        # The same answer, and the same notice to the old address; the confirmation
        # token is never sent, so this request can never be confirmed.
        email_send(
            to=taken.email,
            template="email_change_taken",
            context={"first_name": first_name_of(taken)},
            recipient=taken,
        )
    else:
        email_send(
            to=new_email,
            template="email_change_confirm",
            context={
                "first_name": first_name_of(user),
                "link": frontend_url("confirm-email-change", token=confirm),
                "lifetime_hours": lifetime_hours(settings.EMAIL_CHANGE_TOKEN_LIFETIME),
                "expires_at": change.confirm_expires_at,
            },
            recipient=user,
        )
    audit_user_event("user.email.change_requested", user, metadata={"new_email": new_email})
    email_send(
        to=user.email,
        template="email_change_requested",
        context={
            "first_name": first_name_of(user),
            "link": frontend_url("revert-email-change", token=revert),
            "expires_at": change.revert_expires_at,
        },
        recipient=user,
    )


def _change_redeem(*, request: HttpRequest, token: str, purpose: str) -> EmailChange:
    rate_limit_hit(scope="token-address", identity=client_address(request))
    field = "confirm_token_hash" if purpose == Purpose.EMAIL_CHANGE else "revert_token_hash"
    change = (
        EmailChange.objects.select_for_update()
        .filter(**{field: token_hash((token or "").strip(), purpose=purpose)})
        .first()
    )
    if change is None or change.reverted_at is not None:
        raise TokenInvalid()
    return change


@transaction.atomic
def email_change_confirm(*, request: HttpRequest, token: str) -> User:
    """The new address is proven: it becomes the account's (verified) email. OIDC
    identities keep matching by their subject."""
    change = _change_redeem(request=request, token=token, purpose=Purpose.EMAIL_CHANGE)
    if change.confirmed_at is not None:
        raise TokenInvalid()
    if change.confirm_expires_at <= timezone.now():
        raise TokenExpired()
    user = User.objects.select_for_update().get(pk=change.user_id)
    taken = User.objects.filter(email=change.new_email).exclude(pk=user.pk).exists()
    if user.email != change.old_email or taken:
        raise TokenInvalid()  # superseded, or the address was taken meanwhile
    user.email = change.new_email
    user.email_verified = True
    user.save(update_fields=["email", "email_verified"])
    change.confirmed_at = timezone.now()
    change.save(update_fields=["confirmed_at"])
    audit_user_event(
        "user.email.changed", user, metadata={"old": change.old_email, "new": change.new_email}
    )
    return user


@transaction.atomic
def email_change_revert(*, request: HttpRequest, token: str) -> User:
    """The old address says "not me": the request is cancelled or the old address
    restored, and the account is recovered: every session ends, the password and the
    identities linked since the request go (a reset link to this address sets a new one)."""
    change = _change_redeem(request=request, token=token, purpose=Purpose.EMAIL_REVERT)
    if change.revert_expires_at <= timezone.now():
        raise TokenExpired()
    user = User.objects.select_for_update().get(pk=change.user_id)
    if change.confirmed_at is not None and user.email == change.new_email:
        if User.objects.filter(email=change.old_email).exclude(pk=user.pk).exists():
            raise TokenInvalid()  # the old address has another account now
        user.email = change.old_email
        user.email_verified = True
    logger.warning("User %s: email change reverted; account being recovered", user.pk)
    user.set_unusable_password()
    user.save(update_fields=["email", "email_verified", "password"])
    # Whoever changed the address may have added a way back in shortly before: the
    # identities and second factors added since a while before the request go too.
    since = change.created_at - settings.EMAIL_CHANGE_REVERT_LOOKBACK
    identities, _ = UserExternalAuthentication.objects.filter(
        user=user, created_at__gte=since
    ).delete()
    factors = second_factors_remove(user, added_since=since)
    EmailChange.objects.filter(user=user, reverted_at=None).update(reverted_at=timezone.now())
    sessions_end(user_ids=[user.pk])
    audit_user_event(
        "user.email.change_reverted",
        user,
        anonymous=True,
        metadata={
            "old": change.old_email,
            "new": change.new_email,
            "identities_removed": identities,
            **{f"{kind}_removed": count for kind, count in factors.items()},
        },
    )
    return user
