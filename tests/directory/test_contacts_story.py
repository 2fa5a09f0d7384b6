"""The People story, replayed over HTTP: an organization with David, Ryan and Julie; David's
private override of Ryan's contact; David's personal contact for Julie; searches with accents
and case; and a second organization that tries to see or override the first one's contacts.
Each person's view is compared with the merge rules, value by value."""

from __future__ import annotations

import json

import pytest

from directory.models import Contact
from tests.conftest import operation_codes
from tests.directory.contacts_api import (
    CONTACTS,
    by_name,
    contact,
    contact_id,
    create,
    delete,
    names,
    override,
    raw_id,
    update,
)
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

RYAN_WORK_EMAIL = {"type": "Work", "value": "ryan@people.example"}
RYAN_PHONE = {"type": "Work", "value": "+1 555 0100"}
RYAN_LINK = {"type": "LinkedIn", "value": "https://www.linkedin.com/in/ryan-smith"}
RYAN_HOME_EMAIL = {"type": "Home", "value": "ryan.home@mail.example"}
JULIE_MOBILE = {"type": "Mobile", "value": "+33 6 12 34 56 78"}


@pytest.fixture
def story(make_client):
    people = OrganizationFactory(name="People")
    david = UserFactory(
        organization=people, first_name="David", last_name="Dupont", email="david@people.example"
    )
    ryan = UserFactory(
        organization=people, first_name="Ryan", last_name="Smith", email="ryan@people.example"
    )
    julie = UserFactory(
        organization=people, first_name="Julie", last_name="Lefèvre", email="julie@people.example"
    )
    eve = UserFactory(
        organization=OrganizationFactory(name="Rivals"),
        first_name="Eve",
        last_name="Spy",
        email="eve@rivals.example",
    )
    clients = {
        person: make_client(user)
        for person, user in {"david": david, "ryan": ryan, "julie": julie, "eve": eve}.items()
    }

    # Ryan completes his own profile contact.
    ryan_profile = contact_id(ryan.profile_contact)
    done = update(
        clients["ryan"],
        ryan_profile,
        data={"emails": [RYAN_WORK_EMAIL], "phones": [RYAN_PHONE], "links": [RYAN_LINK]},
    )
    assert done["__typename"] == "Contact", done

    # David keeps a private home email and a nickname for Ryan...
    merged = override(
        clients["david"],
        ryan_profile,
        shortName="Ry",
        notes="Met at the offsite",
        data={"emails": [RYAN_HOME_EMAIL], "customFields": {"Coffee": "Black"}},
    )
    assert merged["__typename"] == "Contact", merged
    # ...a personal contact for Julie, and one for his plumber.
    julie_card = create(
        clients["david"],
        fullName="Julie Lefèvre (conference)",
        notes="Ask about the talk",
        data={"phones": [JULIE_MOBILE]},
    )
    plumber = create(clients["david"], fullName="José Álvarez", shortName="Plumber")
    return {
        "users": {"david": david, "ryan": ryan, "julie": julie, "eve": eve},
        "clients": clients,
        "ryan_profile": ryan_profile,
        "override_id": merged["override"]["id"],
        "julie_card": julie_card["id"],
        "plumber": plumber["id"],
    }


def test_david_sees_ryan_through_his_override(story):
    david = story["clients"]["david"]
    assert names(david) == [
        "David Dupont",
        "José Álvarez",
        "Julie Lefèvre",
        "Julie Lefèvre (conference)",
        "Ryan Smith",
    ]
    ryan = by_name(david)["Ryan Smith"]
    assert ryan["id"] == story["ryan_profile"]
    assert ryan["shortName"] == "Ry", "the override's name wins when set"
    assert ryan["fullName"] == "Ryan Smith", "the base's name shows when the override has none"
    assert ryan["notes"] == "Met at the offsite"
    assert ryan["data"] == {
        "emails": [RYAN_HOME_EMAIL, RYAN_WORK_EMAIL],
        "phones": [RYAN_PHONE],
        "links": [RYAN_LINK],
        "customFields": {"Coffee": "Black"},
    }
    assert ryan["isProfile"] is True
    assert ryan["abilities"] == {"canUpdate": False, "canDelete": False, "canOverride": True}
    # The raw contacts behind the merged one.
    assert ryan["base"]["id"] == raw_id(story["users"]["ryan"].profile_contact)
    assert ryan["base"]["shortName"] == ""
    assert ryan["base"]["data"]["emails"] == [RYAN_WORK_EMAIL]
    assert ryan["override"]["id"] == story["override_id"]
    assert ryan["override"]["data"] == {
        "emails": [RYAN_HOME_EMAIL],
        "customFields": {"Coffee": "Black"},
    }
    assert contact(david, story["ryan_profile"]) == ryan

    card = by_name(david)["Julie Lefèvre (conference)"]
    assert card["data"] == {"phones": [JULIE_MOBILE]}
    assert card["override"] is None
    assert card["abilities"] == {"canUpdate": True, "canDelete": True, "canOverride": False}
    julie = by_name(david)["Julie Lefèvre"]
    assert julie["data"] == {"emails": [{"type": "Work", "value": "julie@people.example"}]}
    assert julie["abilities"] == {"canUpdate": False, "canDelete": False, "canOverride": True}
    me = by_name(david)["David Dupont"]
    assert me["abilities"] == {"canUpdate": True, "canDelete": False, "canOverride": False}


@pytest.mark.parametrize("person", ["ryan", "julie"])
def test_nobody_else_sees_anything_of_davids_contacts(story, person):
    client = story["clients"][person]
    assert names(client) == ["David Dupont", "Julie Lefèvre", "Ryan Smith"]
    ryan = by_name(client)["Ryan Smith"]
    assert ryan["shortName"] == ""
    assert ryan["notes"] == ""
    assert ryan["data"] == {
        "emails": [RYAN_WORK_EMAIL],
        "phones": [RYAN_PHONE],
        "links": [RYAN_LINK],
    }
    assert ryan["override"] is None
    payload = json.dumps(client.execute(CONTACTS).payload)
    for private in ("ryan.home", "offsite", "Coffee", "conference", "Álvarez", "+33 6"):
        assert private not in payload
    assert contact(client, story["override_id"]) is None
    assert contact(client, story["julie_card"]) is None
    mine = person == "ryan"
    assert ryan["abilities"] == {"canUpdate": mine, "canDelete": False, "canOverride": not mine}


def test_searches_with_accents_and_case(story):
    david, ryan, julie = (story["clients"][p] for p in ("david", "ryan", "julie"))
    assert names(david, search="jose") == ["José Álvarez"]
    assert names(david, search="JOSÉ") == ["José Álvarez"]
    assert names(david, search="plumber") == ["José Álvarez"]
    assert names(julie, search="jose") == []
    assert names(david, search="lefevre") == ["Julie Lefèvre", "Julie Lefèvre (conference)"]
    assert names(ryan, search="LEFÈVRE") == ["Julie Lefèvre"]
    assert names(david, search="Ryan.Home") == ["Ryan Smith"]
    assert names(david, search="ry") == ["Ryan Smith"]
    assert names(ryan, search="ryan.home") == []
    assert names(julie, search="ryan.home") == []
    assert names(david, search="612345678") == ["Julie Lefèvre (conference)"]
    assert names(julie, search="612345678") == []
    assert names(julie, search="555 0100") == ["Ryan Smith"]


def test_another_organization_can_neither_see_nor_override(story):
    eve = story["clients"]["eve"]
    assert names(eve) == ["Eve Spy"]
    assert names(eve, search="ryan") == []
    assert names(eve, search="jose") == []
    hidden = [story["ryan_profile"], story["override_id"], story["julie_card"], story["plumber"]]
    node = "query($id: ID!) { node(id: $id) { id } }"
    for id_ in hidden:
        assert contact(eve, id_) is None
        assert eve.execute(node, {"id": id_}).data == {"node": None}
        assert operation_codes(override(eve, id_, fullName="Mine now")) == ["NOT_FOUND"]
        assert operation_codes(update(eve, id_, fullName="Mine now")) == ["NOT_FOUND"]
        assert operation_codes(delete(eve, id_)) == ["NOT_FOUND"]
    assert not Contact.objects.filter(full_name="Mine now").exists()
    assert not Contact.objects.filter(owner=story["users"]["eve"], override__isnull=False).exists()
    assert names(story["clients"]["david"])[-1] == "Ryan Smith"


def test_the_story_goes_on(story):
    david, ryan, julie = (story["clients"][p] for p in ("david", "ryan", "julie"))
    # Ryan renames himself: David's override sets no full name, so he sees the change.
    update(ryan, story["ryan_profile"], fullName="Ryan J. Smith")
    assert by_name(david)["Ryan J. Smith"]["shortName"] == "Ry"
    assert by_name(julie)["Ryan J. Smith"]["shortName"] == ""
    # Julie keeps her own override of Ryan; it changes nothing for David.
    override(julie, story["ryan_profile"], fullName="Ryan (Sales)")
    assert "Ryan (Sales)" in names(julie)
    assert by_name(david)["Ryan J. Smith"]["notes"] == "Met at the offsite"
    # A profile contact is never deleted; an override is, and the base shows again.
    assert operation_codes(delete(ryan, story["ryan_profile"])) == ["PERMISSION_DENIED"]
    assert operation_codes(delete(david, story["ryan_profile"])) == ["PERMISSION_DENIED"]
    reverted = delete(david, story["override_id"])
    assert reverted["contact"]["shortName"] == ""
    assert reverted["contact"]["data"]["emails"] == [RYAN_WORK_EMAIL]
    assert "ryan.home" not in json.dumps(david.execute(CONTACTS).payload)
    assert "Ryan (Sales)" in names(julie)
    # David's personal contact for Julie goes away for him only.
    delete(david, story["julie_card"])
    assert names(david) == ["David Dupont", "José Álvarez", "Julie Lefèvre", "Ryan J. Smith"]
    assert names(julie) == ["David Dupont", "Julie Lefèvre", "Ryan (Sales)"]
