"""API messages in the caller's language: the signed-in user's, else Accept-Language,
else LANGUAGE_CODE. Codes, fields and kinds never change with the language."""

from __future__ import annotations

import pytest

from tests.accounts.auth_helpers import register_input
from tests.conftest import GraphQLClient
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

MESSAGES = "... on OperationInfo { messages { kind field message code } }"
CONTACTS = "{ contacts(first: 1) { edges { node { id } } } }"
AUDIT = "{ organization { auditEvents(first: 1) { edges { node { id } } } } }"

# A few messages as each language says them (the catalogs hold them all; the catalog
# tests check that every one is translated).
SIGNED_IN = {
    "en": "You must be signed in.",
    "fr": "Vous devez vous connecter.",
    "de": "Sie müssen angemeldet sein.",
    "nl": "U moet ingelogd zijn.",
}
NO_PERMISSION = {
    "en": "You do not have permission to perform this action.",
    "fr": "Vous n'avez pas l'autorisation d'effectuer cette action.",
    "de": "Sie sind nicht berechtigt, diese Aktion auszuführen.",
    "nl": "U hebt geen toestemming om deze actie uit te voeren.",
}
WRONG_PASSWORD = {
    "en": "Invalid email or password.",
    "fr": "Adresse e-mail ou mot de passe incorrect.",
    "de": "E-Mail-Adresse oder Passwort ist ungültig.",
    "nl": "Ongeldig e-mailadres of wachtwoord.",
}
TIME_ZONE = {
    "en": "Use an IANA time zone name such as Europe/Paris.",
    "fr": "Utilisez un nom de fuseau horaire IANA, par exemple Europe/Paris.",
    "de": "Verwenden Sie einen IANA-Zeitzonennamen wie Europe/Paris.",
    "nl": "Gebruik een IANA-tijdzonenaam, zoals Europe/Paris.",
}
# Django's own catalogs translate its password validators.
TOO_SHORT = {
    "en": "This password is too short. It must contain at least 12 characters.",
    "fr": "Ce mot de passe est trop court. Il doit contenir au minimum 12 caractères.",
    "de": "Dieses Passwort ist zu kurz. Es muss mindestens 12 Zeichen enthalten.",
    "nl": "Dit wachtwoord is te kort. De minimale lengte is 12 tekens.",
}


def client(accept_language: str | None = None, user=None) -> GraphQLClient:
    extra = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}
    made = GraphQLClient(**extra)
    return made.login_as(user) if user is not None else made


def without_messages(messages: list[dict]) -> list[dict]:
    return [{key: value for key, value in m.items() if key != "message"} for m in messages]


@pytest.mark.parametrize("language", ["en", "fr", "de", "nl"])
def test_an_anonymous_caller_is_answered_in_its_accept_language(language, user):
    refused = client(language).execute(CONTACTS)
    assert refused.error_codes() == ["UNAUTHENTICATED"]
    assert refused.errors[0]["message"] == SIGNED_IN[language]
    assert refused.http["Content-Language"] == language
    assert "Accept-Language" in refused.http["Vary"]

    wrong = client(language).mutate("login", {"email": user.email, "password": "nope"}, MESSAGES)
    assert wrong["messages"] == [
        {
            "kind": "ERROR",
            "field": None,
            "code": "INVALID_CREDENTIALS",
            "message": WRONG_PASSWORD[language],
        }
    ]

    weak = client(language).mutate(
        "register", register_input(email="new@example.org", password="short1A!"), MESSAGES
    )
    assert [(m["code"], m["field"], m["message"]) for m in weak["messages"]] == [
        ("password_too_short", "password", TOO_SHORT[language])
    ]


def test_the_best_language_of_accept_language_that_roster_speaks_wins(user):
    assert (
        client("ja, de-AT;q=0.8, fr;q=0.5").execute(CONTACTS).errors[0]["message"]
        == (SIGNED_IN["de"])
    )
    unknown = client("ja, zh;q=0.8").execute(CONTACTS)
    assert unknown.errors[0]["message"] == SIGNED_IN["en"]
    assert unknown.http["Content-Language"] == "en"


def test_a_signed_in_user_is_answered_in_their_language_not_the_browsers(organization):
    user = UserFactory(organization=organization, language="de")
    caller = client("fr", user)

    refused = caller.execute(AUDIT)
    assert refused.error_codes() == ["PERMISSION_DENIED"]
    assert refused.errors[0]["message"] == NO_PERMISSION["de"]
    assert refused.http["Content-Language"] == "de"

    invalid = caller.mutate("updateProfile", {"timezone": "Mars/Olympus"}, MESSAGES)
    assert invalid["messages"] == [
        {"kind": "VALIDATION", "field": "timezone", "code": "INVALID", "message": TIME_ZONE["de"]}
    ]

    denied = caller.mutate("updateOrganization", {"name": "Renamed"}, MESSAGES)
    assert denied["messages"] == [
        {
            "kind": "PERMISSION",
            "field": None,
            "code": "PERMISSION_DENIED",
            "message": NO_PERMISSION["de"],
        }
    ]


def test_codes_fields_and_kinds_are_the_same_in_every_language(organization):
    answers = {}
    for language in ("en", "fr", "de", "nl"):
        user = UserFactory(organization=organization, language=language)
        caller = client(user=user)
        answers[language] = [
            caller.mutate("updateProfile", {"timezone": "Nowhere", "language": "xx"}, MESSAGES),
            caller.mutate(
                "changePassword", {"currentPassword": "wrong", "newPassword": PASSWORD}, MESSAGES
            ),
        ]
    english = [without_messages(answer["messages"]) for answer in answers["en"]]
    for language, answer in answers.items():
        assert [without_messages(a["messages"]) for a in answer] == english
        if language != "en":
            texts = [m["message"] for a in answer for m in a["messages"]]
            english_texts = [m["message"] for a in answers["en"] for m in a["messages"]]
            assert all(t != e for t, e in zip(texts, english_texts, strict=True)), texts


def test_updating_the_language_changes_the_language_of_the_next_answers(organization):
    user = UserFactory(organization=organization, language="en")
    caller = client("de", user)
    caller.mutate("updateProfile", {"language": "nl"}, "... on User { language }")
    assert caller.execute(AUDIT).errors[0]["message"] == NO_PERMISSION["nl"]


def test_a_cached_validation_answers_each_caller_in_their_language(db):
    """Validation is cached per document: the second caller must not read the first's."""
    document = 'query { contacts(search: "a\\u0000b") { totalCount } }'
    answers = {
        language: client(language).execute(document).errors[0]
        for language in ("fr", "en", "de", "fr")
    }
    assert {language: error["message"] for language, error in answers.items()} == {
        "fr": "Le caractère nul n’est pas autorisé.",
        "en": "Null characters are not allowed.",
        "de": "Nullzeichen sind nicht erlaubt.",
    }
    assert {error["extensions"]["code"] for error in answers.values()} == {
        "null_characters_not_allowed"
    }


def test_page_and_contact_data_messages_are_translated(organization):
    user = UserFactory(organization=organization, language="fr")
    capped = client(user=user).execute("{ teams(first: 101) { totalCount } }")
    assert capped.error_codes() == ["INVALID"]
    assert capped.errors[0]["message"] == "L'argument « first » ne peut pas dépasser 100."
    refused = client(user=user).mutate(
        "createContact",
        {"fullName": "Ada", "data": {"emails": [{"type": "Work"}], "nickname": "x"}},
        MESSAGES,
    )
    assert [(m["code"], m["field"], m["message"]) for m in refused["messages"]] == [
        ("INVALID", "data", "data : Champs supplémentaires non autorisés ('nickname' inattendu)"),
        ("INVALID", "data", "data.emails[0] : 'value' est obligatoire"),
    ]
