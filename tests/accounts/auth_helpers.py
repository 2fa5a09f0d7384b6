"""Shared bits of the email-account tests."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from django.conf import settings
from django.core import mail

STRONG_PASSWORD = "plum-orbit-cascade-71"
OTHER_PASSWORD = "velvet-harbor-quartz-39"

USER_FIELDS = (
    "... on User { id email emailVerified firstName lastName"
    " organization { name plan { name seats } } }"
)


def register_input(**overrides) -> dict:
    data = {
        "email": "new.person@example.com",
        "password": STRONG_PASSWORD,
        "firstName": "Ada",
        "lastName": "Lovelace",
        "organizationName": "Analytical Engines",
    }
    data.update(overrides)
    return data


def link_from(message, path: str) -> str:
    links = re.findall(r"https?://\S+", message.body)
    matching = [link for link in links if urlparse(link).path == path]
    assert matching, f"no {path} link in {message.body!r}"
    return matching[0]


def token_from(message, path: str) -> str:
    return parse_qs(urlparse(link_from(message, path)).query)["token"][0]


def mails_to(address: str) -> list:
    return [message for message in mail.outbox if address in message.to]


def session_cookie(client) -> str | None:
    cookie = client.http.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie and cookie.value else None


def admin_login(client, email: str, password: str):
    """Sign in at the Django admin's login form as a browser does (its CSRF token
    included)."""
    client.http.get("/admin/login/")
    token = client.http.cookies["csrftoken"].value
    return client.http.post(
        "/admin/login/",
        {"username": email, "password": password, "csrfmiddlewaretoken": token},
    )
