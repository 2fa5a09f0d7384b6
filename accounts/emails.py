"""Transactional email: plain text + HTML from templates, sent after commit."""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def frontend_url(path: str, **params: str) -> str:
    query = f"?{urlencode(params)}" if params else ""
    return f"{settings.FRONTEND_URL}/{path.lstrip('/')}{query}"


def email_send(*, to: str, template: str, context: dict) -> None:
    """Send ``accounts/email/<template>`` ({_subject,}.txt and .html) once the current
    transaction commits. A failing mail server is logged, never raised: the data stays
    and the user can ask again."""
    context = {"frontend_url": settings.FRONTEND_URL, **context}

    def send() -> None:
        try:
            subject = render_to_string(f"accounts/email/{template}_subject.txt", context)
            text = render_to_string(f"accounts/email/{template}.txt", context)
            html = render_to_string(f"accounts/email/{template}.html", context)
            message = EmailMultiAlternatives(
                subject=" ".join(subject.split()),
                body=text,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[to],
            )
            message.attach_alternative(html, "text/html")
            message.send()
        except Exception:
            logger.exception("Could not send the %r email", template)

    def deliver() -> None:
        if settings.EMAIL_SEND_IN_BACKGROUND:
            # Off the request path: the mail server's delay must not tell a caller
            # whether an address has an account (reset, resend, register).
            threading.Thread(target=send, name=f"email-{template}", daemon=True).start()
        else:
            send()

    transaction.on_commit(deliver)
