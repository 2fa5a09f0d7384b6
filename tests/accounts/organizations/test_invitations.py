"""Invitations through the real endpoint: invite, resend, revoke, preview, accept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import Invitation, Organization, User
from accounts.services.invitations import invitation_accept
from accounts.tokens import Purpose, token_hash
from directory.models import Team, TeamMembership
from tests.accounts.organizations.conftest import (
    ADMINISTRATORS,
    INVITERS,
    global_id,
    group_id,
    invitation_id,
    token_from,
)
from tests.conftest import operation_codes
from tests.factories import UserFactory

INVITATION = "... on Invitation { id email expiresAt permissionGroups { name } }"
ORGANIZATION = "... on Organization { id name members { totalCount } }"
PREVIEW = """
query($token: String!) {
  invitationPreview(token: $token) { organizationName inviterName email expiresAt }
}
"""


@pytest.fixture
def plan_seats(settings):
    """Give the "free" plan a seat count and put an organization on it."""

    def _set(organization, seats):
        plans = {key: dict(value) for key, value in settings.SUBSCRIPTIONS_AVAILABLE.items()}
        plans["free"]["seats"] = seats
        settings.SUBSCRIPTIONS_AVAILABLE = plans
        organization.plan = "free"
        organization.save()

    return _set


def accept(client, token):
    return client.mutate("acceptInvitation", {"token": token}, ORGANIZATION)


def preview(client, token):
    result = client.execute(PREVIEW, {"token": token})
    assert not result.errors, result.errors
    return result.data["invitationPreview"]


# invite


def test_administrator_invites_and_the_email_goes_out_after_commit(
    make_client, admin, organization, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks() as callbacks:
        payload = make_client(admin).mutate(
            "invite",
            {"email": " New.Person@Example.COM ", "permissionGroupIds": [group_id(INVITERS)]},
            INVITATION,
        )
        assert mailoutbox == []  # nothing is sent before the transaction commits
    assert payload["__typename"] == "Invitation"
    assert payload["email"] == "new.person@example.com"
    assert payload["permissionGroups"] == [{"name": INVITERS}]
    for callback in callbacks:
        callback()

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["new.person@example.com"]
    assert organization.name in message.subject
    token = token_from(message)
    assert f"{settings.FRONTEND_URL}/invitation?token={token}" in message.body
    assert token in message.alternatives[0][0]
    invitation = Invitation.objects.get()
    # Only a purpose-bound hash is stored.
    assert invitation.token_hash == token_hash(token, purpose=Purpose.INVITATION)
    assert invitation.token_hash != token_hash(token, purpose=Purpose.RESET_PASSWORD)
    assert token not in invitation.token_hash
    assert invitation.inviter == admin
    lifetime = invitation.expires_at - invitation.created_at
    assert abs(lifetime - settings.INVITATION_LIFETIME) < timedelta(minutes=1)
    assert payload["id"] == invitation_id(invitation)


def test_invitation_email_escapes_html_but_not_text(invite, admin, organization, mailoutbox):
    organization.name = "<b>Acme</b> & Co"
    organization.save()
    invite(admin, "a@example.com")
    message = mailoutbox[-1]
    assert "<b>Acme</b> & Co" in message.subject
    assert "<b>Acme</b> & Co" in message.body
    html = message.alternatives[0][0]
    assert "&lt;b&gt;Acme&lt;/b&gt; &amp; Co" in html and "<b>Acme" not in html


def test_inviter_may_invite_and_pass_on_only_own_groups(invite, inviter):
    payload, token = invite(inviter, "a@example.com", groups=[INVITERS])
    assert payload["__typename"] == "Invitation" and token
    payload, token = invite(inviter, "b@example.com", groups=[ADMINISTRATORS])
    assert operation_codes(payload) == ["PERMISSION_DENIED"]
    assert payload["messages"][0]["field"] == "permissionGroupIds"
    assert token is None
    assert list(Invitation.objects.values_list("email", flat=True)) == ["a@example.com"]


def test_plain_member_and_anonymous_may_not_invite(invite, user, gql):
    payload, token = invite(user, "a@example.com")
    assert operation_codes(payload) == ["PERMISSION_DENIED"]
    assert token is None
    anonymous = gql.mutate("invite", {"email": "a@example.com"}, INVITATION)
    assert operation_codes(anonymous) == ["UNAUTHENTICATED"]
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("email", "code"),
    [
        ("not an email", "invalid"),
        ("", "blank"),
        ("a" * 64 + "@" + ("b" * 62 + ".") * 3 + "com", "max_length"),
    ],
)
def test_invite_refuses_a_bad_email(invite, admin, email, code):
    payload, _ = invite(admin, email)
    assert operation_codes(payload) == [code]
    assert payload["messages"][0]["field"] == "email"
    assert payload["messages"][0]["kind"] == "VALIDATION"
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    "bad_id",
    [
        group_id("Service staff"),
        group_id("Plan: Team"),
        group_id("No such group"),
        global_id("User", "00000000-0000-0000-0000-000000000000"),
    ],
)
def test_invite_gives_only_manageable_groups(make_client, admin, bad_id):
    payload = make_client(admin).mutate(
        "invite", {"email": "a@example.com", "permissionGroupIds": [bad_id]}, INVITATION
    )
    assert operation_codes(payload) == ["INVALID"]
    assert payload["messages"][0]["field"] == "permissionGroupIds"
    assert not Invitation.objects.exists()


def test_inviting_a_member_answers_already_member(invite, admin, user):
    payload, token = invite(admin, user.email.upper())
    assert operation_codes(payload) == ["ALREADY_MEMBER"]
    assert token is None


def test_seat_limit_counts_members_and_pending_invitations(
    invite, admin, user, organization, plan_seats
):
    plan_seats(organization, 3)  # two members
    first, _ = invite(admin, "a@example.com")
    assert first["__typename"] == "Invitation"
    second, token = invite(admin, "b@example.com")
    assert operation_codes(second) == ["SEAT_LIMIT_REACHED"]
    assert token is None
    # An expired invitation no longer holds a seat.
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    third, _ = invite(admin, "b@example.com")
    assert third["__typename"] == "Invitation"


def test_unlimited_plan_has_no_seat_limit(invite, admin, organization, plan_seats):
    plan_seats(organization, 1)
    assert operation_codes(invite(admin, "a@example.com")[0]) == ["SEAT_LIMIT_REACHED"]
    organization.plan = "enterprise"
    organization.save()
    for n in range(3):
        assert invite(admin, f"p{n}@example.com")[0]["__typename"] == "Invitation"


def test_inviting_a_pending_email_again_replaces_the_invitation(
    invite, admin, organization, plan_seats, gql
):
    plan_seats(organization, 2)  # the admin and one invitation: full
    first, old_token = invite(admin, "a@example.com", groups=[INVITERS])
    again, new_token = invite(admin, "A@example.com")
    assert again["__typename"] == "Invitation"  # replacing needs no extra seat
    assert again["id"] != first["id"]
    assert again["permissionGroups"] == []
    assert Invitation.objects.count() == 1
    assert preview(gql, old_token) is None
    assert preview(gql, new_token)["email"] == "a@example.com"


# resend and revoke


def test_resend_gives_a_new_token_and_kills_the_old_one(
    make_client, invite, admin, gql, django_capture_on_commit_callbacks, mailoutbox
):
    payload, old_token = invite(admin, "a@example.com")
    invitation = Invitation.objects.get()
    Invitation.objects.update(expires_at=timezone.now() + timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        resent = make_client(admin).mutate("resendInvitation", {"id": payload["id"]}, INVITATION)
    assert resent["id"] == payload["id"]
    assert len(mailoutbox) == 2
    new_token = token_from(mailoutbox[-1])
    assert new_token != old_token
    assert preview(gql, old_token) is None
    assert preview(gql, new_token)["email"] == "a@example.com"
    invitation.refresh_from_db()
    assert invitation.expires_at > timezone.now() + settings.INVITATION_LIFETIME - timedelta(
        minutes=1
    )


def test_resending_an_expired_invitation_needs_a_free_seat(
    make_client, invite, admin, organization, plan_seats
):
    plan_seats(organization, 2)
    payload, _ = invite(admin, "a@example.com")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    invite(admin, "b@example.com")  # takes the seat the expired invitation gave up
    resent = make_client(admin).mutate("resendInvitation", {"id": payload["id"]}, INVITATION)
    assert operation_codes(resent) == ["SEAT_LIMIT_REACHED"]


def test_inviter_cannot_reissue_an_invitation_granting_administrators(
    make_client, invite, admin, inviter
):
    payload, _ = invite(admin, "boss@example.com", groups=[ADMINISTRATORS])
    resent = make_client(inviter).mutate("resendInvitation", {"id": payload["id"]}, INVITATION)
    assert operation_codes(resent) == ["PERMISSION_DENIED"]
    again = make_client(admin).mutate("resendInvitation", {"id": payload["id"]}, INVITATION)
    assert again["__typename"] == "Invitation"


def test_invitation_emails_are_rate_limited_per_recipient(
    make_client, invite, admin, settings, django_capture_on_commit_callbacks, mailoutbox
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "invitation-email": (3, 3600)}
    payload, _ = invite(admin, "flooded@example.com")
    aliases = " ".join(
        f'r{i}: resendInvitation(input: {{id: "{payload["id"]}"}}) '
        "{ __typename ... on OperationInfo { messages { code } } }"
        for i in range(5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = make_client(admin).execute(f"mutation {{ {aliases} }}")
    answers = [result.data[f"r{i}"] for i in range(5)]
    assert [a["__typename"] for a in answers[:2]] == ["Invitation", "Invitation"]
    assert all(operation_codes(a) == ["RATE_LIMITED"] for a in answers[2:])
    assert sum(1 for m in mailoutbox if "flooded@example.com" in m.to) == 3


def test_revoke_deletes_the_invitation_and_its_token(make_client, invite, inviter, gql):
    payload, token = invite(inviter, "a@example.com")
    revoked = make_client(inviter).mutate(
        "revokeInvitation",
        {"id": payload["id"]},
        "... on RevokedInvitation { invitationId email organization { invitations { totalCount } } }",
    )
    assert revoked["invitationId"] == payload["id"]
    assert revoked["email"] == "a@example.com"
    assert revoked["organization"]["invitations"]["totalCount"] == 0
    assert not Invitation.objects.exists()
    assert preview(gql, token) is None
    again = make_client(inviter).mutate("revokeInvitation", {"id": payload["id"]}, "")
    assert operation_codes(again) == ["NOT_FOUND"]


def test_plain_member_may_not_resend_or_revoke(make_client, invite, admin, user):
    payload, _ = invite(admin, "a@example.com")
    client = make_client(user)
    for name in ("resendInvitation", "revokeInvitation"):
        assert operation_codes(client.mutate(name, {"id": payload["id"]}, "")) == [
            "PERMISSION_DENIED"
        ]
    assert Invitation.objects.count() == 1


def test_resend_and_revoke_answer_not_found_for_ids_of_other_types(make_client, admin, user):
    client = make_client(admin)
    for wrong in (
        global_id("User", user.guid),
        global_id("Invitation", "not-a-uuid"),
        global_id("Invitation", "00000000-0000-0000-0000-000000000000"),
    ):
        for name in ("resendInvitation", "revokeInvitation"):
            assert operation_codes(client.mutate(name, {"id": wrong}, "")) == ["NOT_FOUND"]


# preview


def test_preview_answers_anyone_holding_the_token(invite, admin, organization, gql):
    _, token = invite(admin, "a@example.com")
    answer = preview(gql, token)
    assert answer["organizationName"] == organization.name
    assert answer["inviterName"] == admin.profile.full_name
    assert answer["email"] == "a@example.com"
    assert answer["expiresAt"] == Invitation.objects.get().expires_at.isoformat()


def test_preview_is_null_for_unknown_used_expired_and_revoked_tokens(
    make_client, invite, admin, gql
):
    assert preview(gql, "unknown") is None
    assert preview(gql, "") is None
    _, expired = invite(admin, "expired@example.com")
    Invitation.objects.filter(email="expired@example.com").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert preview(gql, expired) is None
    newcomer = UserFactory(organization=None, email="used@example.com")
    _, used = invite(admin, newcomer.email)
    assert accept(make_client(newcomer), used)["__typename"] == "Organization"
    assert preview(gql, used) is None


# accept


def test_accept_moves_the_user_with_the_invited_groups(make_client, invite, admin, organization):
    old = Organization.objects.create(name="Old", plan="team")
    UserFactory(organization=old, groups=[ADMINISTRATORS])  # old keeps an administrator
    mover = UserFactory(
        organization=old,
        email="mover@example.com",
        groups=[INVITERS, "Service staff"],
        email_verified=False,
    )
    team = Team.objects.create(organization=old, name="Old team")
    TeamMembership.objects.create(team=team, user=mover, role="owner")
    _, token = invite(admin, mover.email, groups=[ADMINISTRATORS])

    client = make_client(mover)
    payload = accept(client, token)

    assert payload["__typename"] == "Organization"
    assert payload["name"] == organization.name
    assert payload["members"]["totalCount"] == 2
    mover.refresh_from_db()
    assert mover.organization == organization
    assert mover.email_verified  # the token reached this address
    assert set(mover.groups.values_list("name", flat=True)) == {ADMINISTRATORS, "Service staff"}
    assert not TeamMembership.objects.filter(user=mover).exists()
    assert Invitation.objects.get().accepted_at is not None
    assert Organization.objects.filter(pk=old.pk).exists()
    me = client.execute("{ me { organization { name } } }")
    assert me.data["me"]["organization"]["name"] == organization.name
    # The token is single-use.
    assert operation_codes(accept(client, token)) == ["TOKEN_INVALID"]


def test_accept_deletes_an_organization_left_empty(make_client, invite, admin):
    old = Organization.objects.create(name="Solo", plan="team")
    solo = UserFactory(organization=old, groups=[ADMINISTRATORS])
    Team.objects.create(organization=old, name="Solo team")
    _, token = invite(admin, solo.email)
    assert accept(make_client(solo), token)["__typename"] == "Organization"
    assert not Organization.objects.filter(pk=old.pk).exists()
    assert not Team.objects.filter(name="Solo team").exists()
    solo.refresh_from_db()
    assert solo.organization == admin.organization
    assert list(solo.groups.all()) == []


def test_last_administrator_with_other_members_cannot_leave(make_client, invite, admin):
    old = Organization.objects.create(name="Old", plan="team")
    boss = UserFactory(organization=old, groups=[ADMINISTRATORS])
    UserFactory(organization=old)
    _, token = invite(admin, boss.email)
    payload = accept(make_client(boss), token)
    assert operation_codes(payload) == ["LAST_ADMINISTRATOR"]
    boss.refresh_from_db()
    assert boss.organization == old
    assert boss.groups.filter(name=ADMINISTRATORS).exists()
    assert Invitation.objects.get().accepted_at is None


def test_accept_refuses_another_email(make_client, invite, admin, outsider):
    _, token = invite(admin, "someone.else@example.com")
    payload = accept(make_client(outsider), token)
    assert operation_codes(payload) == ["INVITATION_EMAIL_MISMATCH"]
    outsider.refresh_from_db()
    assert outsider.organization != admin.organization


def test_accept_refuses_unknown_and_expired_tokens_and_anonymous(make_client, invite, admin, gql):
    newcomer = UserFactory(organization=None)
    _, token = invite(admin, newcomer.email)
    client = make_client(newcomer)
    assert operation_codes(accept(client, "nonsense")) == ["TOKEN_INVALID"]
    assert operation_codes(accept(gql, token)) == ["UNAUTHENTICATED"]
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert operation_codes(accept(client, token)) == ["TOKEN_EXPIRED"]
    newcomer.refresh_from_db()
    assert newcomer.organization is None


def test_accept_checks_the_seat_limit_again(make_client, invite, admin, organization, plan_seats):
    newcomer = UserFactory(organization=None)
    _, token = invite(admin, newcomer.email)
    plan_seats(organization, 1)  # downgraded meanwhile: the admin fills it
    assert operation_codes(accept(make_client(newcomer), token)) == ["SEAT_LIMIT_REACHED"]
    plan_seats(organization, 2)
    assert accept(make_client(newcomer), token)["__typename"] == "Organization"


def test_accept_into_own_organization_answers_already_member(
    make_client, invite, admin, organization
):
    newcomer = UserFactory(organization=None)
    _, token = invite(admin, newcomer.email)
    newcomer.organization = organization
    newcomer.save()
    assert operation_codes(accept(make_client(newcomer), token)) == ["ALREADY_MEMBER"]


def test_accept_reads_the_users_organization_again_under_the_lock(invite, admin):
    """A request holding a stale user (moved meanwhile by another request) leaves the
    organization the user is really in."""
    stale_org = Organization.objects.create(name="Stale", plan="team")
    current_org = Organization.objects.create(name="Current", plan="team")
    keeper = UserFactory(organization=stale_org, groups=[ADMINISTRATORS])
    mover = UserFactory(organization=stale_org, groups=[INVITERS])
    _, token = invite(admin, mover.email)
    User.objects.filter(pk=mover.pk).update(organization=current_org)  # moved meanwhile

    invitation_accept(actor=mover, token=token)

    mover.refresh_from_db()
    assert mover.organization == admin.organization
    assert not Organization.objects.filter(pk=current_org.pk).exists()  # left empty
    assert list(stale_org.members.all()) == [keeper]


def test_token_redemption_is_rate_limited_per_address(make_client, invite, admin, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "token-address": (3, 900)}
    newcomer = UserFactory(organization=None)
    _, token = invite(admin, newcomer.email)
    client = make_client(newcomer)
    codes = [operation_codes(accept(client, f"guess{n}"))[0] for n in range(3)]
    assert codes == ["TOKEN_INVALID"] * 3
    # Even the right token is refused now, from this address...
    assert operation_codes(accept(client, token)) == ["RATE_LIMITED"]
    # ...but not from another one.
    other = make_client(newcomer)
    result = other.execute(
        "mutation($t: String!) { acceptInvitation(input: {token: $t}) { __typename } }",
        {"t": token},
        REMOTE_ADDR="10.0.0.2",
    )
    assert result.data["acceptInvitation"]["__typename"] == "Organization"
    # Preview counts against the same limit.
    limited = client.execute(PREVIEW, {"token": token})
    assert limited.error_codes() == ["RATE_LIMITED"]


def test_aliased_previews_count_once_each(gql, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "token-address": (3, 900)}
    aliased = (
        "{"
        + " ".join(f'p{n}: invitationPreview(token: "guess{n}") {{ email }}' for n in range(4))
        + "}"
    )
    result = gql.execute(aliased)
    assert result.error_codes() == ["RATE_LIMITED"]
    assert [result.data[f"p{n}"] for n in range(4)] == [None] * 4
