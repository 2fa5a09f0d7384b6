"""Which language an email is written in, through the real endpoint: the recipient
account's; for an invitation to an address without one, the invitation's, else the
organization's. Never the language of the request that caused it."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent, User
from tests.accounts.auth_helpers import mails_to, register_input
from tests.conftest import GraphQLClient, operation_codes
from tests.factories import UserFactory, administrator

pytestmark = pytest.mark.django_db

INVITATION = "... on Invitation { id email }"
ORGANIZATION = "... on Organization { language }"


def language_of(message) -> str:
    return message.extra_headers["Content-Language"]


@pytest.fixture
def send_now(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_administrators_set_the_organization_language(organization, make_client):
    admin = administrator(organization=organization)
    payload = make_client(admin).mutate("updateOrganization", {"language": "nl"}, ORGANIZATION)
    assert payload == {"__typename": "Organization", "language": "nl"}
    organization.refresh_from_db()
    assert organization.language == "nl"
    event = AuditEvent.objects.get(action="organization.language.changed")
    assert event.metadata == {"old": "en", "new": "nl"}


def test_only_administrators_set_it_and_only_to_a_language_roster_speaks(
    organization, user, make_client
):
    refused = make_client(user).mutate("updateOrganization", {"language": "fr"}, ORGANIZATION)
    assert operation_codes(refused) == ["PERMISSION_DENIED"]
    admin = administrator(organization=organization)
    invalid = make_client(admin).mutate("updateOrganization", {"language": "xx"}, ORGANIZATION)
    assert [(m["code"], m["field"]) for m in invalid["messages"]] == [("INVALID", "language")]
    organization.refresh_from_db()
    assert organization.language == "en"


def test_an_invitation_to_a_new_address_is_in_the_organization_language(
    organization, make_client, send_now
):
    organization.language = "nl"
    organization.save()
    admin = administrator(organization=organization, language="de")
    with send_now():
        payload = make_client(admin).mutate("invite", {"email": "new@example.org"}, INVITATION)
    assert payload["__typename"] == "Invitation"
    [message] = mails_to("new@example.org")
    assert language_of(message) == "nl"


def test_the_inviter_may_choose_the_language_of_one_invitation(organization, make_client, send_now):
    admin = administrator(organization=organization)
    client = make_client(admin)
    with send_now():
        client.mutate("invite", {"email": "new@example.org", "language": "fr"}, INVITATION)
    [message] = mails_to("new@example.org")
    assert language_of(message) == "fr"
    # Resent, it keeps its language.
    invitation_id = client.execute("{ organization { invitations { edges { node { id } } } } }")
    node = invitation_id.data["organization"]["invitations"]["edges"][0]["node"]["id"]
    with send_now():
        client.mutate("resendInvitation", {"id": node}, INVITATION)
    assert [language_of(m) for m in mails_to("new@example.org")] == ["fr", "fr"]


def test_an_invitation_to_an_account_is_in_its_owners_language(
    organization, outsider, make_client, send_now
):
    outsider.language = "de"
    outsider.timezone = "Europe/Berlin"
    outsider.save()
    admin = administrator(organization=organization)
    with send_now():
        make_client(admin).mutate("invite", {"email": outsider.email, "language": "fr"}, INVITATION)
    [message] = mails_to(outsider.email)
    assert language_of(message) == "de"
    assert "(Europe/Berlin)" in message.body


def test_an_invitation_in_a_language_roster_does_not_speak_is_refused(
    organization, make_client, send_now
):
    admin = administrator(organization=organization)
    with send_now():
        payload = make_client(admin).mutate(
            "invite", {"email": "new@example.org", "language": "klingon"}, INVITATION
        )
    assert [(m["code"], m["field"]) for m in payload["messages"]] == [("INVALID", "language")]
    assert mails_to("new@example.org") == []


def test_an_account_reads_its_emails_in_its_language_whatever_the_request_said(
    organization, send_now
):
    user = UserFactory(organization=organization, language="de")
    with send_now():
        GraphQLClient(HTTP_ACCEPT_LANGUAGE="fr").mutate(
            "requestPasswordReset", {"email": user.email}, "__typename"
        )
    [message] = mails_to(user.email)
    assert language_of(message) == "de"


def test_an_email_change_is_confirmed_in_the_accounts_language(organization, send_now):
    user = UserFactory(organization=organization, language="nl")
    client = GraphQLClient().login_as(user).reauthenticated()
    with send_now():
        client.mutate("requestEmailChange", {"newEmail": "new@example.org"}, "__typename")
    [confirmation] = mails_to("new@example.org")
    [notice] = mails_to(user.email)
    assert (language_of(confirmation), language_of(notice)) == ("nl", "nl")


def test_a_new_account_starts_in_the_language_of_its_registration(db, send_now):
    client = GraphQLClient(HTTP_ACCEPT_LANGUAGE="fr-CH, fr;q=0.9, en;q=0.5")
    with send_now():
        client.mutate("register", register_input(email="neu@example.org"), "__typename")
    assert User.objects.get(email="neu@example.org").language == "fr"
    [verification] = mails_to("neu@example.org")
    assert language_of(verification) == "fr"


def test_a_member_who_may_not_invite_is_refused_before_the_language_is_read(
    organization, user, make_client, send_now
):
    with send_now():
        payload = make_client(user).mutate(
            "invite", {"email": "new@example.org", "language": "klingon"}, INVITATION
        )
    assert [m["code"] for m in payload["messages"]] == ["PERMISSION_DENIED"]
    assert mails_to("new@example.org") == []


def test_an_unproven_account_does_not_choose_the_language_of_an_invitation(
    organization, make_client, send_now
):
    """Whoever registered an address they do not own chose that account's language: the
    invitation to the address is written in the organization's."""
    UserFactory(email="new@example.org", email_verified=False, language="de", organization=None)
    organization.language = "nl"
    organization.save()
    admin = administrator(organization=organization)
    with send_now():
        make_client(admin).mutate("invite", {"email": "new@example.org"}, INVITATION)
    [message] = mails_to("new@example.org")
    assert language_of(message) == "nl"


def test_a_new_organization_invites_in_its_founders_language(db):
    from accounts.services.organizations import organization_create

    founder = UserFactory(organization=None, language="fr")
    assert organization_create(name="Acme", administrator=founder).language == "fr"


def test_emails_queued_before_expiry_dates_get_theirs(db, settings):
    """The data migration gives an email queued without an expiry date the one its link
    had: when it was made plus its lifetime."""
    import importlib

    from django.apps import apps

    from accounts.models import OutgoingEmail

    migration = importlib.import_module("accounts.migrations.0016_outgoing_email_expiry")
    old = OutgoingEmail.objects.create(
        to="ada@example.org", template="email_change_requested", context={"revert_days": 7}
    )
    current = OutgoingEmail.objects.create(
        to="ada@example.org",
        template="password_reset",
        context={"expires_at": "2030-01-01T00:00:00+00:00"},
    )
    migration.expiry_add(apps, None)
    old.refresh_from_db()
    current.refresh_from_db()
    expected = old.created_at + settings.EMAIL_CHANGE_REVERT_LIFETIME
    assert old.context["expires_at"] == expected.isoformat()
    assert current.context["expires_at"] == "2030-01-01T00:00:00+00:00"
