"""Transactional email that is never lost: queued with the change that causes it,
delivered by the task worker, retried while the mail server is away.

``email_send`` writes an ``OutgoingEmail`` row and enqueues the ``emails_deliver`` task
(``accounts.tasks``) in the caller's transaction, so an email exists exactly when its
change commits. The worker sends a recipient's emails one at a time in the order they
were made, deleting each once the mail server took it; a refusal or an unreachable
server schedules another attempt with exponential backoff and jitter, and the later
emails of that recipient wait behind it. After ``EMAIL_RETRY_MAX`` attempts the email
is given up (kept, ``failed_at`` set, logged with the recipient's domain only) and the
next one goes. Delivery is at least once: a worker killed between the mail server's
acceptance and the row's deletion sends that email again.
"""

from __future__ import annotations

import contextlib
import logging
import random
import smtplib
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime

from accounts.models import OutgoingEmail, User
from backend.i18n import language_is_valid, timezone_is_valid

logger = logging.getLogger(__name__)

# What a mail server that refuses or cannot be reached raises: worth another attempt.
DELIVERY_ERRORS = (smtplib.SMTPException, OSError)


class EmailGivenUp(Exception):
    """Raised by the delivery task after giving up an email, so the task shows as failed."""


def frontend_url(path: str, **params: str) -> str:
    query = f"?{urlencode(params)}" if params else ""
    return f"{settings.FRONTEND_URL}/{path.lstrip('/')}{query}"


def email_send(
    *, to: str, template: str, context: dict, recipient: User | None, language: str | None = None
) -> None:
    """Queue ``accounts/email/<template>`` ({_subject,}.txt and .html) for ``to``, in the
    current transaction: it is sent once that commits, and never if it rolls back.
    ``context`` is stored as JSON until then (datetimes come back as datetimes).

    The email is written in the language and time zone of ``recipient``, the account
    that reads it; for an address without an account (``recipient`` None), in
    ``language`` (else ``LANGUAGE_CODE``) and ``TIME_ZONE``."""
    from accounts.tasks import emails_deliver

    if recipient is not None:
        language, time_zone = recipient.language, recipient.timezone
    else:
        time_zone = settings.TIME_ZONE
    with transaction.atomic():
        OutgoingEmail.objects.create(
            to=to,
            template=template,
            context=context,
            language=language if language_is_valid(language or "") else settings.LANGUAGE_CODE,
            time_zone=time_zone if timezone_is_valid(time_zone) else settings.TIME_ZONE,
        )
        emails_deliver.enqueue(to)


def emails_deliver_to(to: str) -> int:
    """Send the waiting emails of ``to`` in the order they were made, each in its own
    transaction with that row locked (so two workers never send one email twice);
    answers how many were sent. Stops at an email that waits for its next attempt."""
    sent = 0
    given_up = []
    while True:
        with transaction.atomic():
            email = (
                OutgoingEmail.objects.select_for_update()
                .filter(to=to, failed_at__isnull=True)
                .order_by("created_at", "id")
                .first()
            )
            if email is None or (
                email.next_attempt_at is not None and email.next_attempt_at > timezone.now()
            ):
                break
            try:
                _message(email).send()
            except DELIVERY_ERRORS as error:
                if _attempt_failed(email, error):
                    break  # retried later; the emails after it wait, to keep their order
                given_up.append(email.template)
                continue
            email.delete()
            sent += 1
    if given_up:
        raise EmailGivenUp(f"Gave up {', '.join(given_up)} to a recipient at {_domain(to)}.")
    return sent


def emails_counts() -> tuple[int, int]:
    """How many emails wait to be sent, and how many were given up on (for the metrics)."""
    counts = OutgoingEmail.objects.aggregate(
        waiting=Count("pk", filter=Q(failed_at__isnull=True)),
        failed=Count("pk", filter=Q(failed_at__isnull=False)),
    )
    return counts["waiting"], counts["failed"]


def email_retry(email: OutgoingEmail) -> None:
    """Give a given-up email a new series of attempts (staff, from the admin)."""
    from accounts.tasks import emails_deliver

    with transaction.atomic():
        email.failed_at = None
        email.attempts = 0
        email.next_attempt_at = None
        email.save(update_fields=["failed_at", "attempts", "next_attempt_at"])
        emails_deliver.enqueue(email.to)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: the n-th retry waits between half and all of
    ``EMAIL_RETRY_BASE_DELAY * 2**(n-1)``, capped at ``EMAIL_RETRY_MAX_DELAY``, so many
    emails held by one outage do not all hit the server again at the same moment."""
    ceiling = min(
        settings.EMAIL_RETRY_MAX_DELAY, settings.EMAIL_RETRY_BASE_DELAY * 2 ** (attempts - 1)
    )
    return timedelta(seconds=ceiling * random.uniform(0.5, 1.0))  # noqa: S311 (not a secret)


def _attempt_failed(email: OutgoingEmail, error: Exception) -> bool:
    """Count a failed attempt: schedule the next one (True) or give the email up."""
    from accounts.tasks import emails_deliver

    email.attempts += 1
    domain = _domain(email.to)
    if email.attempts >= settings.EMAIL_RETRY_MAX:
        email.failed_at = timezone.now()
        email.save(update_fields=["attempts", "failed_at"])
        logger.error(
            "Email %r to a recipient at %s given up after %d attempts: %s",
            email.template,
            domain,
            email.attempts,
            type(error).__name__,
        )
        return False
    email.next_attempt_at = timezone.now() + retry_delay(email.attempts)
    email.save(update_fields=["attempts", "next_attempt_at"])
    emails_deliver.using(run_after=email.next_attempt_at).enqueue(email.to)
    logger.warning(
        "Email %r to a recipient at %s not delivered (attempt %d): %s; next attempt at %s",
        email.template,
        domain,
        email.attempts,
        type(error).__name__,
        email.next_attempt_at.isoformat(),
    )
    return True


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "?"


def _message(email: OutgoingEmail) -> EmailMultiAlternatives:
    """The email as its recipient reads it: in their language, dates in their time zone."""
    context = {
        "frontend_url": settings.FRONTEND_URL,
        "time_zone": email.time_zone,
        **_context_read(email.context),
    }
    template = email.template
    with translation.override(email.language), timezone.override(email.time_zone):
        subject = " ".join(
            render_to_string(f"accounts/email/{template}_subject.txt", context).split()
        )
        context["subject"] = subject
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string(f"accounts/email/{template}.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[email.to],
            headers={"Content-Language": email.language},
        )
        message.attach_alternative(
            render_to_string(f"accounts/email/{template}.html", context), "text/html"
        )
    return message


def _context_read(context: dict) -> dict:
    """The stored context, with the datetimes that JSON turned into ISO 8601 read back."""
    read = {}
    for key, value in context.items():
        read[key] = value
        if isinstance(value, str) and "T" in value:
            with contextlib.suppress(ValueError):  # shaped like a datetime, but not one
                read[key] = parse_datetime(value) or value
    return read
