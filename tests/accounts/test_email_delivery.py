"""Account emails leave the request path when EMAIL_SEND_IN_BACKGROUND is on."""

from __future__ import annotations

import threading
import time

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class SlowEmailBackend:
    release = threading.Event()
    delivered: list = []

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        self.release.wait(timeout=10)
        self.delivered.extend(messages)
        return len(messages)


@pytest.fixture
def slow_backend(settings):
    settings.EMAIL_BACKEND = "tests.accounts.test_email_delivery.SlowEmailBackend"
    SlowEmailBackend.release.clear()
    SlowEmailBackend.delivered.clear()
    yield SlowEmailBackend
    SlowEmailBackend.release.set()


def test_a_slow_mail_server_does_not_delay_the_answer(
    gql, organization, settings, slow_backend, django_capture_on_commit_callbacks
):
    settings.EMAIL_SEND_IN_BACKGROUND = True
    known = UserFactory(organization=organization)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        payload = gql.mutate("requestPasswordReset", {"email": known.email}, "__typename")
    assert payload == {"__typename": "EmailRequestAccepted"}
    assert time.monotonic() - started < 5
    assert slow_backend.delivered == []

    slow_backend.release.set()
    deadline = time.monotonic() + 10
    while not slow_backend.delivered and time.monotonic() < deadline:
        time.sleep(0.01)
    [message] = slow_backend.delivered
    assert message.to == [known.email]
