"""contacts(search:): names, emails and phones of the merged view, ignoring case and accents."""

from __future__ import annotations

import pytest
from django.db import connection

from directory.models import Contact
from directory.search import search_normalize
from directory.services.contacts import profile_contact_sync
from tests.directory.contacts_api import contact_id, names, override
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(organization):
    return UserFactory(organization=organization, first_name="Vera", last_name="Viewer")


@pytest.fixture
def ryan(organization):
    return UserFactory(
        organization=organization, first_name="Ryan", last_name="Smith", email="ryan@work.example"
    )


@pytest.fixture
def people(viewer):
    Contact.objects.create(owner=viewer, full_name="José Álvarez", short_name="Pepe")
    Contact.objects.create(owner=viewer, full_name="Zoë ØSTERGÅRD")
    Contact.objects.create(
        owner=viewer,
        full_name="Plumber",
        data={
            "emails": [{"type": "Work", "value": "fix.it@pipes.example"}],
            "phones": [{"type": "Mobile", "value": "+1 (555) 010-0199"}],
        },
    )
    Contact.objects.create(owner=viewer, full_name="100% Real_Name")


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("jose", ["José Álvarez"]),
        ("JOSÉ", ["José Álvarez"]),
        ("alvarez", ["José Álvarez"]),
        ("  josé   álv ", ["José Álvarez"]),
        ("pepe", ["José Álvarez"]),
        ("zoe", ["Zoë ØSTERGÅRD"]),
        ("ostergard", ["Zoë ØSTERGÅRD"]),
        ("PIPES.example", ["Plumber"]),
        ("555", ["Plumber"]),
        ("5550100199", ["Plumber"]),
        ("(555) 010-0199", ["Plumber"]),
        ("555 010 0199", ["Plumber"]),
        ("%", ["100% Real_Name"]),
        ("_", ["100% Real_Name"]),
        ("nobody", []),
    ],
)
def test_search_ignores_case_and_accents(make_client, viewer, people, search, expected):
    assert names(make_client(viewer), search=search) == expected


def test_blank_search_lists_everything(make_client, viewer, people):
    assert len(names(make_client(viewer), search="   ")) == 5
    assert names(make_client(viewer), search="") == names(make_client(viewer))


def test_search_finds_organization_profiles_by_email(make_client, viewer, ryan, other_organization):
    outsider = UserFactory(organization=other_organization, first_name="Otto", last_name="Out")
    assert names(make_client(viewer), search="ryan@WORK") == ["Ryan Smith"]
    assert names(make_client(outsider), search="ryan") == []
    assert names(make_client(outsider), search="smith") == []


def test_search_sees_the_merged_view_of_each_viewer(make_client, viewer, ryan, organization):
    julie = UserFactory(organization=organization, first_name="Julie", last_name="Roy")
    client = make_client(viewer)
    override(
        client,
        contact_id(ryan.profile_contact),
        fullName="Bobby Tables",
        data={"phones": [{"type": "Home", "value": "+44 20 7946 0958"}]},
    )
    # The viewer's override values are searchable by the viewer...
    assert names(client, search="bobby") == ["Bobby Tables"]
    assert names(client, search="7946") == ["Bobby Tables"]
    # ...and the name it replaces is no longer the viewer's name for Ryan...
    assert names(client, search="smith") == []
    # ...while base values the override does not replace still match.
    assert names(client, search="ryan@work") == ["Bobby Tables"]
    # Nobody else sees, or finds, anything of the override.
    other = make_client(julie)
    assert names(other, search="bobby") == []
    assert names(other, search="7946") == []
    assert names(other, search="smith") == ["Ryan Smith"]
    assert names(make_client(ryan), search="smith") == ["Ryan Smith"]


def test_search_follows_profile_name_changes(make_client, viewer, ryan):
    ryan.profile.first_name = "Rÿan"
    ryan.profile.last_name = "Łopez"
    ryan.profile.save()
    profile_contact_sync(user=ryan)
    assert names(make_client(viewer), search="lopez") == ["Rÿan Łopez"]
    assert names(make_client(viewer), search="smith") == []


def test_search_columns_are_kept_in_step_on_save(viewer):
    contact = Contact.objects.create(owner=viewer, full_name="Ana")
    contact.full_name = "Anaïs"
    contact.data = {"emails": [{"type": "Home", "value": "Anais@Example.com"}]}
    contact.save(update_fields=["full_name", "data"])
    contact.refresh_from_db()
    assert contact.search_full_name == "anais"
    assert contact.search_values == "anais@example.com"


@pytest.mark.postgres
def test_postgresql_unaccent_agrees_with_the_normalizer(viewer):
    samples = ["José Álvarez", "Zoë Østergård", "Łukasz Żółć", "Ærøskøbing", "François Noël"]
    with connection.cursor() as cursor:
        for sample in samples:
            cursor.execute("SELECT lower(unaccent(%s))", [sample])
            assert cursor.fetchone()[0] == search_normalize(sample), sample


@pytest.mark.postgres
def test_postgresql_serves_the_search_with_a_trigram_index(viewer):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'contact_search_trgm'",
        )
        (definition,) = cursor.fetchone()
        assert "gin" in definition
        assert "search_full_name gin_trgm_ops" in definition
        assert "search_values gin_trgm_ops" in definition
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM directory_contact WHERE search_full_name LIKE %s "
            "OR search_short_name LIKE %s OR search_values LIKE %s",
            ["%jose%"] * 3,
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "contact_search_trgm" in plan, plan
