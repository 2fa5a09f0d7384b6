from __future__ import annotations

import factory
from django.conf import settings
from django.contrib.auth.models import Group

from accounts.models import Organization, User

PASSWORD = "correct horse battery staple"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    plan = "team"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    username = factory.Sequence(lambda n: f"person{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email_verified = True
    organization = factory.SubFactory(OrganizationFactory)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # create_user stores first_name and last_name in the user's ProfileData.
        return model_class.objects.create_user(*args, **kwargs)

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            for name in extracted:
                self.groups.add(group(name))
        if create:
            self.save()


def group(name: str) -> Group:
    return Group.objects.get_or_create(name=name)[0]


def administrator(**kwargs) -> User:
    return UserFactory(groups=[settings.ADMINISTRATORS_GROUP], **kwargs)
