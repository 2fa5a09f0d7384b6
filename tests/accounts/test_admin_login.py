"""The Django admin's login counts failures under the same limits as GraphQL login."""

import pytest
from django.test import Client

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def admin_login(client, email, password):
    return client.post("/admin/login/", {"username": email, "password": password})


def test_admin_login_is_rate_limited_per_email(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login-email": (3, 900)}
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    for _ in range(3):
        assert admin_login(client, staff.email, "wrong password!").status_code == 200
    assert admin_login(client, staff.email, "wrong password!").status_code == 429
    # The right password is refused too while the limit holds.
    assert admin_login(client, staff.email, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_admin_login_still_works_and_success_does_not_count(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login-email": (2, 900)}
    staff = UserFactory(is_staff=True, is_superuser=True)
    for _ in range(3):
        client = Client()
        response = admin_login(client, staff.email, PASSWORD)
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(staff.pk)
