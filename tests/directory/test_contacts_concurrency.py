"""overrideContact under concurrent calls: still one override per viewer and base."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from directory.models import Contact
from directory.services.contacts import contact_override
from tests.factories import OrganizationFactory, UserFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_overrides_of_one_contact_make_one_override():
    organization = OrganizationFactory()
    viewer = UserFactory(organization=organization)
    base = UserFactory(organization=organization).profile_contact
    start = threading.Barrier(4)
    errors = []

    def call(index: int) -> None:
        try:
            start.wait()
            contact_override(actor=viewer, base_id=base.pk, notes=f"call {index}")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    overrides = Contact.objects.filter(owner=viewer, override=base)
    assert overrides.count() == 1
    assert overrides.get().notes.startswith("call ")
