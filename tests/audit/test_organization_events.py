"""The organization's administrative events (issue #20): teams, invitations, members'
groups and removal, the organization's details and its wipe-out. Each mutation, driven
through the real endpoint, writes exactly its event in its transaction, a refused one
writes none; ``organization.auditEvents`` shows them to administrators only."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.audit import NO_ORGANIZATION, Target, audit_record, audit_verify
from accounts.models import AuditChain, AuditEvent, Invitation, Organization, User
from accounts.services.groups import permission_groups_setup
from directory.models import Team
from tests.accounts.auth_helpers import register_input
from tests.accounts.organizations.conftest import global_id, group_id, user_id
from tests.conftest import operation_codes
from tests.factories import UserFactory, administrator

pytestmark = pytest.mark.django_db

ADMINISTRATORS = settings.ADMINISTRATORS_GROUP
INVITERS = settings.INVITERS_GROUP

TEAM = "... on Team { id name }"
MEMBER = "... on TeamMember { id role }"
INVITATION = "... on Invitation { id email }"
USER = "... on User { id }"
ORGANIZATION = "... on Organization { id name mfaRequired }"
WIPED = "... on OrganizationWipeOut { name members invitations teams contacts }"

EVENTS = """
    query ($actions: [String!], $actorId: ID, $since: DateTime, $until: DateTime) {
      organization {
        auditEvents(first: 20, actions: $actions, actorId: $actorId, since: $since,
                    until: $until) {
          edges { node { action actorEmail target { type id label } metadata } }
        }
      }
    }
"""


@pytest.fixture(autouse=True)
def _groups(db):
    permission_groups_setup()


@pytest.fixture
def admin(organization):
    return administrator(organization=organization, email="ada@example.com")


@pytest.fixture
def member(organization):
    return UserFactory(organization=organization, email="bob@example.com")


@pytest.fixture
def outsider_admin(other_organization):
    return administrator(organization=other_organization, email="eve@example.com")


# Helpers -----------------------------------------------------------------------------------


class Trail:
    """The events written since it was made."""

    def __init__(self):
        self.last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def events(self) -> list[AuditEvent]:
        return list(AuditEvent.objects.filter(id__gt=self.last).order_by("id"))

    def actions(self) -> list[str]:
        return [event.action for event in self.events()]

    def only(self) -> AuditEvent:
        events = self.events()
        assert len(events) == 1, [event.action for event in events]
        return events[0]


def assert_event(event, action, *, actor, organization, target, metadata):
    assert event.action == action
    assert event.actor_id == actor.pk
    assert event.actor_email == actor.email
    assert event.organization_id == organization.pk
    assert event.chain == str(organization.pk)
    assert (event.target_type, event.target_id, event.target_label) == (
        target.type,
        target.id,
        target.label,
    )
    assert event.metadata == metadata


def refused(payload, *codes):
    assert payload["__typename"] == "OperationInfo", payload
    assert operation_codes(payload) == list(codes)


def team_target(team: Team) -> Target:
    return Target("Team", str(team.pk), team.name)


def invitation_target(invitation: Invitation) -> Target:
    return Target("Invitation", str(invitation.pk), invitation.email)


def team_id(team) -> str:
    return global_id("Team", team.pk)


def invitation_id(invitation) -> str:
    return global_id("Invitation", invitation.pk)


def create_team(client, name="Platform") -> Team:
    payload = client.mutate("createTeam", {"name": name}, TEAM)
    assert payload["__typename"] == "Team", payload
    return Team.objects.get(name=name)


def add(client, team, user, role="MEMBER"):
    return client.mutate(
        "addTeamMember", {"teamId": team_id(team), "userId": user_id(user), "role": role}, MEMBER
    )


def invite(client, email, groups=()):
    return client.mutate(
        "invite", {"email": email, "permissionGroupIds": [group_id(g) for g in groups]}, INVITATION
    )


def token_in(message) -> str:
    match = re.search(r"/invitation\?token=([A-Za-z0-9_\-]+)", message.body)
    assert match, message.body
    return match.group(1)


@pytest.fixture
def invited(make_client, admin, django_capture_on_commit_callbacks, mailoutbox):
    """An invitation by ``admin`` (emailed): answers (invitation, token)."""

    def _invited(email="carol@example.net", groups=()):
        with django_capture_on_commit_callbacks(execute=True):
            payload = invite(make_client(admin), email, groups)
        assert payload["__typename"] == "Invitation", payload
        return Invitation.objects.get(email=email), token_in(mailoutbox[-1])

    return _invited


# Teams -------------------------------------------------------------------------------------


def test_creating_a_team_records_team_created(make_client, member, organization):
    client = make_client(member)
    trail = Trail()
    team = create_team(client)
    assert_event(
        trail.only(),
        "team.created",
        actor=member,
        organization=organization,
        target=team_target(team),
        metadata={},
    )

    trail = Trail()
    refused(client.mutate("createTeam", {"name": "  "}, TEAM), "blank")
    assert trail.events() == []


def test_renaming_a_team_records_the_old_and_new_names(make_client, member, admin, organization):
    owner = make_client(member)
    team = create_team(owner)
    add(owner, team, admin)  # a plain member of the team
    trail = Trail()
    payload = owner.mutate("updateTeam", {"id": team_id(team), "name": "Core"}, TEAM)
    assert payload["name"] == "Core"
    team.refresh_from_db()
    assert_event(
        trail.only(),
        "team.renamed",
        actor=member,
        organization=organization,
        target=team_target(team),
        metadata={"old": "Platform", "new": "Core"},
    )

    trail = Trail()
    owner.mutate("updateTeam", {"id": team_id(team), "name": " Core "}, TEAM)  # unchanged
    refused(
        make_client(admin).mutate("updateTeam", {"id": team_id(team), "name": "X"}, TEAM),
        "PERMISSION_DENIED",
    )
    refused(owner.mutate("updateTeam", {"id": team_id(team), "name": ""}, TEAM), "blank")
    assert trail.events() == []


def test_updating_another_organizations_team_records_nothing(make_client, member, outsider):
    team = create_team(make_client(member))
    trail = Trail()
    payload = make_client(outsider).mutate("updateTeam", {"id": team_id(team), "name": "X"}, TEAM)
    refused(payload, "NOT_FOUND")
    assert trail.events() == []


def test_deleting_a_team_records_its_name_and_member_count(
    make_client, member, admin, organization
):
    owner = make_client(member)
    team = create_team(owner)
    add(owner, team, admin)
    target = team_target(team)

    trail = Trail()
    refused(
        make_client(admin).mutate("deleteTeam", {"id": team_id(team)}, TEAM), "PERMISSION_DENIED"
    )
    assert trail.events() == []

    payload = owner.mutate("deleteTeam", {"id": team_id(team)}, TEAM)
    assert payload["__typename"] == "Team"
    assert not Team.objects.filter(pk=target.id).exists()
    assert_event(
        trail.only(),
        "team.deleted",
        actor=member,
        organization=organization,
        target=target,
        metadata={"members": 2},
    )


def test_adding_a_team_member_records_the_member_and_role(
    make_client, member, admin, outsider, organization
):
    owner = make_client(member)
    team = create_team(owner)
    trail = Trail()
    assert add(owner, team, admin, "ADMINISTRATOR")["role"] == "ADMINISTRATOR"
    assert_event(
        trail.only(),
        "team.member.added",
        actor=member,
        organization=organization,
        target=Target.user(admin),
        metadata={"team": str(team.pk), "team_name": "Platform", "role": "administrator"},
    )

    trail = Trail()
    refused(add(owner, team, admin), "ALREADY_MEMBER")
    refused(add(owner, team, outsider), "NOT_FOUND")
    assert trail.events() == []


def test_changing_a_team_role_records_the_old_and_new_roles(
    make_client, member, admin, organization
):
    owner = make_client(member)
    team = create_team(owner)
    add(owner, team, admin)
    arguments = {"teamId": team_id(team), "userId": user_id(admin)}

    trail = Trail()
    payload = owner.mutate("setTeamRole", {**arguments, "role": "ADMINISTRATOR"}, MEMBER)
    assert payload["role"] == "ADMINISTRATOR"
    assert_event(
        trail.only(),
        "team.role.changed",
        actor=member,
        organization=organization,
        target=Target.user(admin),
        metadata={
            "team": str(team.pk),
            "team_name": "Platform",
            "old": "member",
            "new": "administrator",
        },
    )

    trail = Trail()
    owner.mutate("setTeamRole", {**arguments, "role": "ADMINISTRATOR"}, MEMBER)  # unchanged
    refused(
        make_client(admin).mutate(
            "setTeamRole",
            {"teamId": team_id(team), "userId": user_id(member), "role": "MEMBER"},
            MEMBER,
        ),
        "PERMISSION_DENIED",
    )
    refused(
        owner.mutate(
            "setTeamRole",
            {"teamId": team_id(team), "userId": user_id(member), "role": "MEMBER"},
            MEMBER,
        ),
        "LAST_OWNER",
    )
    assert trail.events() == []


def test_removing_a_team_member_records_the_member_and_role(
    make_client, member, admin, outsider, organization
):
    owner = make_client(member)
    team = create_team(owner)
    add(owner, team, admin, "ADMINISTRATOR")

    trail = Trail()
    refused(
        owner.mutate(
            "removeTeamMember", {"teamId": team_id(team), "userId": user_id(outsider)}, TEAM
        ),
        "NOT_FOUND",
    )
    refused(
        owner.mutate(
            "removeTeamMember", {"teamId": team_id(team), "userId": user_id(member)}, TEAM
        ),
        "LAST_OWNER",
    )
    assert trail.events() == []

    payload = owner.mutate(
        "removeTeamMember", {"teamId": team_id(team), "userId": user_id(admin)}, TEAM
    )
    assert payload["__typename"] == "Team"
    assert_event(
        trail.only(),
        "team.member.removed",
        actor=member,
        organization=organization,
        target=Target.user(admin),
        metadata={"team": str(team.pk), "team_name": "Platform", "role": "administrator"},
    )


# Invitations -------------------------------------------------------------------------------


def test_inviting_records_the_invited_email_and_groups(
    make_client, admin, member, organization, invited
):
    trail = Trail()
    invitation, _ = invited("carol@example.net", groups=[INVITERS])
    assert_event(
        trail.only(),
        "invitation.created",
        actor=admin,
        organization=organization,
        target=invitation_target(invitation),
        metadata={"permission_groups": [INVITERS]},
    )

    # Inviting the same address again replaces the pending invitation.
    trail = Trail()
    again, _ = invited("carol@example.net")
    assert_event(
        trail.only(),
        "invitation.created",
        actor=admin,
        organization=organization,
        target=invitation_target(again),
        metadata={"permission_groups": [], "replaced": str(invitation.pk)},
    )


def test_refused_invitations_record_nothing(make_client, admin, member):
    trail = Trail()
    refused(invite(make_client(member), "dan@example.net"), "PERMISSION_DENIED")
    refused(invite(make_client(admin), "not an address"), "invalid")
    refused(invite(make_client(admin), member.email), "ALREADY_MEMBER")
    assert trail.events() == []
    assert not Invitation.objects.exists()


def test_resending_an_invitation_records_invitation_resent(
    make_client, admin, outsider_admin, organization, invited
):
    invitation, _ = invited()
    trail = Trail()
    refused(
        make_client(outsider_admin).mutate(
            "resendInvitation", {"id": invitation_id(invitation)}, INVITATION
        ),
        "NOT_FOUND",
    )
    assert trail.events() == []

    payload = make_client(admin).mutate(
        "resendInvitation", {"id": invitation_id(invitation)}, INVITATION
    )
    assert payload["__typename"] == "Invitation"
    assert_event(
        trail.only(),
        "invitation.resent",
        actor=admin,
        organization=organization,
        target=invitation_target(invitation),
        metadata={},
    )


def test_revoking_an_invitation_records_invitation_revoked(
    make_client, admin, member, organization, invited
):
    invitation, _ = invited()
    target = invitation_target(invitation)
    revoke = {"id": invitation_id(invitation)}
    revoked = "... on RevokedInvitation { email }"
    trail = Trail()
    refused(make_client(member).mutate("revokeInvitation", revoke, revoked), "PERMISSION_DENIED")
    assert trail.events() == []

    payload = make_client(admin).mutate("revokeInvitation", revoke, revoked)
    assert payload["email"] == "carol@example.net"
    assert not Invitation.objects.exists()
    assert_event(
        trail.only(),
        "invitation.revoked",
        actor=admin,
        organization=organization,
        target=target,
        metadata={},
    )


def test_accepting_an_invitation_records_it_in_the_inviting_organization(
    make_client, admin, organization, invited
):
    invitation, token = invited()
    carol = UserFactory(email="carol@example.net")  # of an organization of her own
    someone = UserFactory(email="someone@example.net")

    trail = Trail()
    refused(
        make_client(someone).mutate("acceptInvitation", {"token": token}, ORGANIZATION),
        "INVITATION_EMAIL_MISMATCH",
    )
    refused(
        make_client(carol).mutate("acceptInvitation", {"token": "nope"}, ORGANIZATION),
        "TOKEN_INVALID",
    )
    assert trail.events() == []

    previous = carol.organization
    payload = make_client(carol).mutate("acceptInvitation", {"token": token}, ORGANIZATION)
    assert payload["name"] == organization.name
    # Her organization, left empty, is deleted with its events; one event says so.
    accepted, deleted = trail.events()
    assert (deleted.action, deleted.chain) == ("organization.deleted", "")
    assert deleted.target_id == str(previous.pk)
    assert not AuditEvent.objects.filter(chain=str(previous.pk)).exists()
    assert_event(
        accepted,
        "invitation.accepted",
        actor=carol,
        organization=organization,
        target=invitation_target(invitation),
        metadata={"inviter_email": admin.email},
    )


def test_registering_with_an_invitation_records_its_acceptance(gql, admin, organization, invited):
    invitation, token = invited("new.person@example.com")
    trail = Trail()
    payload = gql.mutate(
        "register", register_input(organizationName="", invitationToken=token), USER
    )
    assert payload["__typename"] == "User", payload
    carol = User.objects.get(email="new.person@example.com")
    accepted = [event for event in trail.events() if event.action == "invitation.accepted"]
    assert len(accepted) == 1
    assert_event(
        accepted[0],
        "invitation.accepted",
        actor=carol,
        organization=organization,
        target=invitation_target(invitation),
        metadata={"inviter_email": admin.email},
    )


# Members -----------------------------------------------------------------------------------


def set_groups(client, target, groups):
    return client.mutate(
        "setPermissionGroups",
        {"userId": user_id(target), "permissionGroupIds": [group_id(g) for g in groups]},
        USER,
    )


def test_setting_permission_groups_records_what_was_added_and_removed(
    make_client, admin, member, organization
):
    client = make_client(admin)
    trail = Trail()
    assert set_groups(client, member, [INVITERS])["__typename"] == "User"
    assert_event(
        trail.only(),
        "organization.member.groups.changed",
        actor=admin,
        organization=organization,
        target=Target.user(member),
        metadata={"added": [INVITERS], "removed": []},
    )

    trail = Trail()
    set_groups(client, member, [ADMINISTRATORS])
    assert trail.only().metadata == {"added": [ADMINISTRATORS], "removed": [INVITERS]}

    trail = Trail()
    set_groups(client, member, [ADMINISTRATORS])  # nothing changes
    assert trail.events() == []


def test_refused_permission_group_changes_record_nothing(
    make_client, admin, member, outsider, organization
):
    trail = Trail()
    refused(set_groups(make_client(member), member, [ADMINISTRATORS]), "PERMISSION_DENIED")
    refused(set_groups(make_client(admin), outsider, [INVITERS]), "NOT_FOUND")
    refused(set_groups(make_client(admin), admin, []), "LAST_ADMINISTRATOR")
    assert trail.events() == []


def test_removing_a_member_records_organization_member_removed(
    make_client, admin, member, outsider, organization
):
    target = Target.user(member)
    trail = Trail()
    remove = "... on RemovedMember { userId }"
    refused(
        make_client(member).mutate("removeMember", {"userId": user_id(admin)}, remove),
        "PERMISSION_DENIED",
    )
    refused(
        make_client(admin).mutate("removeMember", {"userId": user_id(outsider)}, remove),
        "NOT_FOUND",
    )
    assert trail.events() == []

    payload = make_client(admin).mutate("removeMember", {"userId": user_id(member)}, remove)
    assert payload["userId"] == user_id(member)
    assert_event(
        trail.only(),
        "organization.member.removed",
        actor=admin,
        organization=organization,
        target=target,
        metadata={},
    )


# The organization --------------------------------------------------------------------------


def test_updating_the_organization_records_one_event_per_change(
    make_client, admin, member, organization
):
    old = organization.name
    client = make_client(admin)
    trail = Trail()
    payload = client.mutate("updateOrganization", {"name": "Renamed"}, ORGANIZATION)
    assert payload["name"] == "Renamed"
    organization.refresh_from_db()
    assert_event(
        trail.only(),
        "organization.renamed",
        actor=admin,
        organization=organization,
        target=Target.organization(organization),
        metadata={"old": old, "new": "Renamed"},
    )

    trail = Trail()
    client.mutate("updateOrganization", {"name": " Renamed ", "mfaRequired": False}, ORGANIZATION)
    refused(
        make_client(member).mutate("updateOrganization", {"name": "Mine"}, ORGANIZATION),
        "PERMISSION_DENIED",
    )
    refused(client.mutate("updateOrganization", {"name": " "}, ORGANIZATION), "blank")
    assert trail.events() == []

    payload = client.mutate(
        "updateOrganization", {"name": "Final", "mfaRequired": True}, ORGANIZATION
    )
    assert payload["name"] == "Final" and payload["mfaRequired"] is True
    organization.refresh_from_db()
    renamed, policy = trail.events()
    target = Target.organization(organization)
    assert_event(
        renamed,
        "organization.renamed",
        actor=admin,
        organization=organization,
        target=target,
        metadata={"old": "Renamed", "new": "Final"},
    )
    assert_event(
        policy,
        "organization.mfa_policy.changed",
        actor=admin,
        organization=organization,
        target=target,
        metadata={"old": False, "new": True},
    )


def test_wiping_out_keeps_one_event_of_no_organization(
    make_client, admin, member, organization, outsider_admin, other_organization, invited
):
    client = make_client(admin).reauthenticated()
    team = create_team(client)
    add(client, team, member)
    invited()
    client.mutate("updateOrganization", {"name": "Doomed"}, ORGANIZATION)
    organization.refresh_from_db()
    create_team(make_client(outsider_admin), "Survivors")  # another organization's event
    chain = str(organization.pk)
    before = AuditEvent.objects.filter(chain=chain).count()
    assert before >= 5
    others = list(AuditEvent.objects.exclude(chain=chain).values_list("id", flat=True))

    trail = Trail()
    refused(client.mutate("wipeOutOrganization", {"confirmName": "doomed"}, WIPED), "INVALID")
    refused(
        make_client(member)
        .reauthenticated()
        .mutate("wipeOutOrganization", {"confirmName": "Doomed"}, WIPED),
        "PERMISSION_DENIED",
    )
    # Refusals leave the trail as it was (the member's re-authentication is its own event).
    assert [e.action for e in trail.events()] == ["user.reauthenticated"]
    before = AuditEvent.objects.filter(chain=chain).count()

    trail = Trail()
    payload = client.mutate("wipeOutOrganization", {"confirmName": "Doomed"}, WIPED)
    assert payload["__typename"] == "OrganizationWipeOut", payload
    assert not Organization.objects.filter(pk=organization.pk).exists()
    assert not AuditEvent.objects.filter(chain=chain).exists()
    assert not AuditEvent.objects.filter(organization_id=organization.pk).exists()
    assert not AuditChain.objects.filter(key=chain).exists()
    wiped = AuditEvent.objects.get(action="organization.wiped_out")
    assert trail.events() == [wiped]
    assert wiped.organization_id is None
    assert wiped.chain == NO_ORGANIZATION
    assert wiped.actor_email == admin.email
    assert (wiped.target_type, wiped.target_id, wiped.target_label) == (
        "Organization",
        chain,
        "Doomed",
    )
    assert wiped.metadata == {
        "events_removed": before,
        "members": 2,
        "invitations": 1,
        "teams": 1,
        "contacts": payload["contacts"],  # what the answer said went
    }
    # The other organization's events are untouched; every chain still verifies.
    assert set(others) <= set(AuditEvent.objects.values_list("id", flat=True))
    assert audit_verify() == []


# Reading the trail -------------------------------------------------------------------------


def nodes(client, **variables) -> list[dict]:
    answer = client.execute(EVENTS, variables)
    assert not answer.errors, answer.errors
    return [edge["node"] for edge in answer.data["organization"]["auditEvents"]["edges"]]


def test_administrators_read_the_trail_newest_first(make_client, admin, member, organization):
    owner = make_client(member)
    team = create_team(owner)
    add(owner, team, admin)
    make_client(admin).mutate("updateOrganization", {"name": "Renamed"}, ORGANIZATION)
    shown = nodes(make_client(admin))
    assert [node["action"] for node in shown] == [
        "organization.renamed",
        "team.member.added",
        "team.created",
    ]
    assert shown[1] == {
        "action": "team.member.added",
        "actorEmail": member.email,
        "target": {"type": "User", "id": global_id("User", admin.guid), "label": admin.email},
        "metadata": {"team": str(team.pk), "team_name": "Platform", "role": "member"},
    }
    assert shown[2]["target"] == {
        "type": "Team",
        "id": global_id("Team", team.pk),
        "label": "Platform",
    }


def test_a_plain_member_may_not_read_the_trail(make_client, member):
    create_team(make_client(member))
    answer = make_client(member).execute(EVENTS)
    assert answer.error_codes() == ["PERMISSION_DENIED"]
    assert not (answer.data or {}).get("organization")


def test_another_organizations_events_are_never_shown(make_client, admin, member, outsider_admin):
    create_team(make_client(member), "Ours")
    create_team(make_client(outsider_admin), "Theirs")
    ours = [node["target"]["label"] for node in nodes(make_client(admin))]
    theirs = [node["target"]["label"] for node in nodes(make_client(outsider_admin))]
    assert ours == ["Ours"]
    assert theirs == ["Theirs"]
    # Nor by node id.
    event = AuditEvent.objects.get(action="team.created", target_label="Ours")
    answer = make_client(outsider_admin).execute(
        "query ($id: ID!) { node(id: $id) { id } }", {"id": global_id("AuditEvent", event.guid)}
    )
    assert answer.data == {"node": None}


def test_the_trail_filters_by_action_actor_and_time(make_client, admin, member, outsider):
    owner = make_client(member)
    team = create_team(owner)
    add(owner, team, admin)
    make_client(admin).mutate("updateOrganization", {"name": "Renamed"}, ORGANIZATION)
    reader = make_client(admin)

    assert [n["action"] for n in nodes(reader, actions=["team.created"])] == ["team.created"]
    assert [
        n["action"] for n in nodes(reader, actions=["team.created", "organization.renamed"])
    ] == [
        "organization.renamed",
        "team.created",
    ]
    assert [n["action"] for n in nodes(reader, actorId=user_id(admin))] == ["organization.renamed"]
    assert [n["action"] for n in nodes(reader, actorId=user_id(member))] == [
        "team.member.added",
        "team.created",
    ]
    assert nodes(reader, actorId=user_id(outsider)) == []

    added = AuditEvent.objects.get(action="team.member.added").occurred_at.isoformat()
    assert [n["action"] for n in nodes(reader, since=added)] == [
        "organization.renamed",
        "team.member.added",
    ]
    assert [n["action"] for n in nodes(reader, until=added)] == ["team.created"]
    assert [n["action"] for n in nodes(reader, since=added, until=added)] == []


def _events(organization, actor, count):
    for index in range(count):
        audit_record(
            "team.created",
            actor=actor,
            organization=organization,
            target=Target("Team", str(index), f"Team {index}"),
            metadata={"n": index},
        )


def _same_cost_for_2_and_20_events(client, organization, actor, query, assert_num_queries):
    _events(organization, actor, 2)
    client.execute(query)
    with CaptureQueriesContext(connection) as two_events:
        answer = client.execute(query)
    assert len(answer.data["organization"]["auditEvents"]["edges"]) == 2
    _events(organization, actor, 18)
    with assert_num_queries(len(two_events.captured_queries)):
        answer = client.execute(query)
    assert not answer.errors
    assert len(answer.data["organization"]["auditEvents"]["edges"]) == 20


def test_reading_the_trail_costs_no_query_per_event(
    make_client, admin, member, organization, django_assert_num_queries
):
    query = (
        "{ organization { auditEvents(first: 20) { edges { node { occurredAt action"
        " actorEmail ipAddress userAgent requestId target { type id label } metadata"
        " } } } } }"
    )
    _same_cost_for_2_and_20_events(
        make_client(admin), organization, member, query, django_assert_num_queries
    )


@pytest.mark.parametrize(
    "selection", ["id", "actor { id email }", "organization { id name }"], ids=str
)
def test_the_events_id_actor_and_organization_cost_no_query_per_event(
    make_client, admin, member, organization, django_assert_num_queries, selection
):
    query = (
        f"{{ organization {{ auditEvents(first: 20) {{ edges {{ node {{ {selection} }} }} }} }} }}"
    )
    _same_cost_for_2_and_20_events(
        make_client(admin), organization, member, query, django_assert_num_queries
    )
