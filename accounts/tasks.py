"""Background tasks (Django's Tasks API through the ``django-tasks`` backport; the
worker is ``manage.py db_worker``)."""

from __future__ import annotations

from django_tasks import task

from accounts.emails import emails_deliver_to


@task()
def emails_deliver(to: str) -> int:
    """Deliver the waiting emails of ``to``, oldest first (``accounts.emails``). Its only
    argument is the address: the emails, and the links in them, stay in their own rows,
    deleted once sent."""
    return emails_deliver_to(to)
