"""Benchmark data: one organization with many members and contacts, created in bulk.

``bulk_create`` skips the post-save signals, so each user's ``ProfileData`` and profile
``Contact`` are created here explicitly, with the values the signals and services give them
(``accounts/signals.py``, ``directory/services/contacts.py``), search columns included.
"""

from __future__ import annotations

import random
import uuid

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.db import transaction

from accounts.models import NAME_MAX_LENGTH, Organization, ProfileData, User
from accounts.services.groups import permission_groups_setup
from directory.models import Contact
from directory.services.contacts import profile_contact_build

BENCH_PASSWORD = "bench-password-not-secret-7"
FIRST_NAMES = [
    "José", "Zoë", "Björn", "Łukasz", "François", "Ángela", "Chloé", "Søren", "Mário", "Inès",
    "Anna", "Maria", "Peter", "John", "Emma", "Lucas", "Noah", "Olivia", "Liam", "Sophie",
    "Marta", "Jan", "Eva", "Tomás", "Nadia", "Omar", "Yuki", "Priya", "Kofi", "Elena",
]  # fmt: skip
LAST_NAMES = [
    "García", "Müller", "Dvořák", "Nowak", "Lefèvre", "Østergaard", "Smith", "Jones", "Martin",
    "Bernard", "Rossi", "Novák", "Kowalski", "Johansson", "Silva", "Brown", "Dubois", "Jansen",
    "Peeters", "Fischer", "Weber", "Moreau", "Costa", "Horvat", "Šimek", "Ferrari", "Nieminen",
]  # fmt: skip


def _emails(rng: random.Random, first: str, last: str, n: int) -> list[dict]:
    local = f"{first}.{last}".lower().encode("ascii", "ignore").decode() or "someone"
    return [{"type": rng.choice(["Work", "Home", "Other"]), "value": f"{local}{n}@example.org"}][
        : rng.choice([0, 1, 1])
    ]


def _phones(rng: random.Random) -> list[dict]:
    if rng.random() < 0.5:
        return []
    number = f"+1 555-{rng.randrange(10000):04d}"
    return [{"type": rng.choice(["Mobile", "Work", "Home"]), "value": number}]


@transaction.atomic
def seed(
    *, organization_name: str, email_domain: str, members: int, personal_contacts: int,
    overrides: int, seed_value: int = 7, first_names: list[str] = FIRST_NAMES,
) -> User:  # fmt: skip
    """An organization with ``members`` users (the first is the administrator and the
    benchmark user), their profile contacts, ``personal_contacts`` contacts of the benchmark
    user and ``overrides`` of colleagues' profile contacts. Idempotent: answers the existing
    benchmark user when the organization is there."""
    admin_email = f"admin@{email_domain}"
    existing = User.objects.filter(email=admin_email).first()
    if existing is not None:
        return existing
    rng = random.Random(seed_value)  # noqa: S311 (reproducible data, not secrets)
    hasher = Argon2PasswordHasher()
    password_hash = hasher.encode(BENCH_PASSWORD, hasher.salt())
    permission_groups_setup()
    organization = Organization.objects.create(name=organization_name, plan="enterprise")

    users = []
    names: dict[str, tuple[str, str]] = {}
    for n in range(members):
        first, last = rng.choice(first_names), rng.choice(LAST_NAMES)
        email = admin_email if n == 0 else f"member{n}@{email_domain}"
        names[email] = (first, last)
        users.append(
            User(
                username=uuid.uuid4().hex,
                email=email,
                email_verified=True,
                password=password_hash,
                organization=organization,
            )
        )
    User.objects.bulk_create(users, batch_size=500)
    users = list(User.objects.filter(organization=organization).order_by("pk"))
    admin = next(user for user in users if user.email == admin_email)
    admin.groups.add(*_groups(settings.ADMINISTRATORS_GROUP, "Plan: Enterprise"))

    # ProfileData(user=...) also caches the profile on the user, for the contact's name.
    ProfileData.objects.bulk_create(
        [
            ProfileData(
                user=user,
                first_name=names[user.email][0][:NAME_MAX_LENGTH],
                last_name=names[user.email][1][:NAME_MAX_LENGTH],
            )
            for user in users
        ],
        batch_size=1000,
    )
    profile_contacts = []
    for user in users:
        contact = profile_contact_build(user=user)
        contact.search_fields_refresh()
        profile_contacts.append(contact)
    Contact.objects.bulk_create(profile_contacts, batch_size=1000)

    personal = []
    for n in range(personal_contacts):
        first, last = rng.choice(first_names), rng.choice(LAST_NAMES)
        data = {}
        if emails := _emails(rng, first, last, n):
            data["emails"] = emails
        if phones := _phones(rng):
            data["phones"] = phones
        contact = Contact(
            owner=admin,
            full_name=f"{first} {last}",
            short_name=first if rng.random() < 0.3 else "",
            notes="met at a conference" if rng.random() < 0.1 else "",
            data=data,
        )
        contact.search_fields_refresh()
        personal.append(contact)
    Contact.objects.bulk_create(personal, batch_size=1000)

    colleagues = [contact for contact in profile_contacts if contact.user_id != admin.pk]
    override_rows = []
    for base in rng.sample(colleagues, min(overrides, len(colleagues))):
        contact = Contact(
            owner=admin,
            override=base,
            short_name=base.full_name.split()[0][:50],
            notes="a note of my own",
            data={"phones": [{"type": "Mobile", "value": f"+1 555-{rng.randrange(10000):04d}"}]},
        )
        contact.search_fields_refresh()
        override_rows.append(contact)
    Contact.objects.bulk_create(override_rows, batch_size=1000)
    return admin


def _groups(*names: str):
    from django.contrib.auth.models import Group

    return list(Group.objects.filter(name__in=names))


LARGE = {
    "organization_name": "Roster Bench",
    "email_domain": "bench.example.com",
    "members": 1000,
    "personal_contacts": 9000,
    "overrides": 50,
}
SMALL = {
    "organization_name": "Roster Bench Small",
    "email_domain": "small.bench.example.com",
    "members": 2,
    "personal_contacts": 1,
    "overrides": 1,
    # Names the benchmark's search finds, so both sizes answer rows.
    "first_names": ["Maria", "Marta", "Mário"],
}
