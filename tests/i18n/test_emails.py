"""Every email in every language: rendered by the worker in the recipient's language
and time zone, whichever language the request that caused it was answered in."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core import mail

from accounts.emails import email_send, emails_deliver_to

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "accounts" / "templates" / "accounts" / "email"
LANGUAGES = [code for code, _ in settings.LANGUAGES]
EXPIRES_AT = datetime(2026, 12, 5, 13, 30, tzinfo=UTC)

# What each email is made with (as its service makes it), one per email and event.
CONTEXTS = {
    "account_exists": {
        "first_name": "Ada",
        "login_link": "https://app/l",
        "reset_link": "https://app/r",
        "invited": True,
    },
    "email_change_confirm": {
        "first_name": "Ada",
        "link": "https://app/c",
        "lifetime_hours": 24,
        "expires_at": EXPIRES_AT,
    },
    "email_change_requested": {
        "first_name": "Ada",
        "link": "https://app/v",
        "expires_at": EXPIRES_AT,
    },
    "email_change_taken": {"first_name": "Ada"},
    "invitation": {
        "organization_name": "Acme",
        "inviter_name": "Grace Hopper",
        "email": "x@example.com",
        "expires_at": EXPIRES_AT,
        "link": "https://app/i",
    },
    "password_changed": {"first_name": "Ada", "reset_link": "https://app/r"},
    "password_reset": {
        "first_name": "Ada",
        "link": "https://app/p",
        "lifetime_hours": 1,
        "expires_at": EXPIRES_AT,
    },
    "verify_email": {
        "first_name": "Ada",
        "link": "https://app/e",
        "lifetime_hours": 48,
        "expires_at": EXPIRES_AT,
    },
    "second_factor_notice:enabled": {"event": "enabled"},
    "second_factor_notice:disabled": {"event": "disabled"},
    "second_factor_notice:codes_regenerated": {"event": "codes_regenerated"},
    "second_factor_notice:passkey_added": {"event": "passkey_added", "name": "YubiKey"},
    "second_factor_notice:passkey_removed": {"event": "passkey_removed", "name": "YubiKey"},
    "second_factor_notice:recovery_code_used": {"event": "recovery_code_used", "codes_left": 3},
    "second_factor_notice:failures": {"event": "failures", "failures": 5},
}

# (subject, a sentence of the body) of each email in each language.
EXPECTED = {
    "account_exists": {
        "en": (
            "You already have a Roster account",
            "Someone (probably you) tried to create a Roster account with this email address, but it already has one, so nothing was changed.",
        ),
        "fr": (
            "Vous avez déjà un compte Roster",
            "Quelqu'un (probablement vous) a tenté de créer un compte Roster avec cette adresse e-mail, mais un compte existe déjà pour cette adresse ;",
        ),
        "de": (
            "Sie haben bereits ein Roster-Konto",
            "Jemand (wahrscheinlich Sie) hat versucht, mit dieser E-Mail-Adresse ein Roster-Konto zu erstellen.",
        ),
        "nl": (
            "U hebt al een Roster-account",
            "Iemand (waarschijnlijk u) heeft geprobeerd een Roster-account aan te maken met dit e-mailadres, maar er bestaat al een account met dit adres.",
        ),
    },
    "email_change_confirm": {
        "en": (
            "Confirm your new Roster email address",
            "To make this address the email of your Roster account, open this link:",
        ),
        "fr": (
            "Confirmez votre nouvelle adresse e-mail Roster",
            "Pour faire de cette adresse l'adresse e-mail de votre compte Roster, ouvrez ce lien :",
        ),
        "de": (
            "Bestätigen Sie Ihre neue E-Mail-Adresse für Roster",
            "Um diese Adresse als E-Mail-Adresse Ihres Roster-Kontos festzulegen, öffnen Sie diesen Link:",
        ),
        "nl": (
            "Bevestig uw nieuwe e-mailadres voor Roster",
            "Open deze link om dit adres in te stellen als e-mailadres van uw Roster-account:",
        ),
    },
    "email_change_requested": {
        "en": (
            "A change of your Roster email address was requested",
            "Someone signed in to your Roster account asked to change its email address from this one to another.",
        ),
        "fr": (
            "Un changement de votre adresse e-mail Roster a été demandé",
            "Une personne connectée à votre compte Roster a demandé à remplacer son adresse e-mail (celle-ci) par une autre.",
        ),
        "de": (
            "Eine Änderung Ihrer E-Mail-Adresse bei Roster wurde angefordert",
            "Jemand, der bei Ihrem Roster-Konto angemeldet ist, hat angefordert, die E-Mail-Adresse des Kontos von dieser Adresse auf eine andere zu ändern.",
        ),
        "nl": (
            "Er is gevraagd het e-mailadres van uw Roster-account te wijzigen",
            "Iemand die is ingelogd op uw Roster-account heeft gevraagd het e-mailadres te wijzigen van dit adres in een ander adres.",
        ),
    },
    "email_change_taken": {
        "en": (
            "Someone tried to move a Roster account to your address",
            "Someone asked to make this address the email of another Roster account.",
        ),
        "fr": (
            "Quelqu'un a tenté d'associer un compte Roster à votre adresse",
            "Quelqu'un a demandé à utiliser cette adresse comme adresse e-mail d'un autre compte Roster.",
        ),
        "de": (
            "Jemand hat versucht, ein Roster-Konto auf Ihre Adresse umzustellen",
            "Jemand hat angefordert, diese Adresse als E-Mail-Adresse eines anderen Roster-Kontos festzulegen.",
        ),
        "nl": (
            "Iemand heeft geprobeerd een Roster-account naar uw adres over te zetten",
            "Iemand heeft gevraagd dit adres in te stellen als e-mailadres van een ander Roster-account.",
        ),
    },
    "invitation": {
        "en": (
            "Grace Hopper invited you to join Acme on Roster",
            "Grace Hopper invited you to join Acme on Roster.",
        ),
        "fr": (
            "Grace Hopper vous invite à rejoindre Acme sur Roster",
            "Grace Hopper vous invite à rejoindre Acme sur Roster.",
        ),
        "de": (
            "Grace Hopper hat Sie eingeladen, der Organisation „Acme“ bei Roster beizutreten",
            "Grace Hopper hat Sie eingeladen, der Organisation „Acme“ bei Roster beizutreten.",
        ),
        "nl": (
            "Grace Hopper heeft u uitgenodigd om lid te worden van Acme op Roster",
            "Grace Hopper heeft u uitgenodigd om lid te worden van Acme op Roster.",
        ),
    },
    "password_changed": {
        "en": (
            "Your Roster password was changed",
            "The password of your Roster account was just changed, and every other session of the account was signed out.",
        ),
        "fr": (
            "Votre mot de passe Roster a été modifié",
            "Le mot de passe de votre compte Roster vient d'être modifié, et toutes les autres sessions du compte ont été déconnectées.",
        ),
        "de": (
            "Ihr Roster-Passwort wurde geändert",
            "Das Passwort Ihres Roster-Kontos wurde soeben geändert, und alle anderen Sitzungen des Kontos wurden abgemeldet.",
        ),
        "nl": (
            "Uw Roster-wachtwoord is gewijzigd",
            "Het wachtwoord van uw Roster-account is zojuist gewijzigd en alle andere sessies van het account zijn uitgelogd.",
        ),
    },
    "password_reset": {
        "en": (
            "Reset your Roster password",
            "Someone asked to reset the password of your Roster account.",
        ),
        "fr": (
            "Réinitialisez votre mot de passe Roster",
            "Quelqu'un a demandé la réinitialisation du mot de passe de votre compte Roster.",
        ),
        "de": (
            "Ihr Roster-Passwort zurücksetzen",
            "Jemand hat angefordert, das Passwort Ihres Roster-Kontos zurückzusetzen.",
        ),
        "nl": (
            "Uw Roster-wachtwoord opnieuw instellen",
            "Iemand heeft gevraagd het wachtwoord van uw Roster-account opnieuw in te stellen.",
        ),
    },
    "second_factor_notice:codes_regenerated": {
        "en": (
            "New recovery codes for your Roster account",
            "New recovery codes were made for your Roster account;",
        ),
        "fr": (
            "Nouveaux codes de récupération pour votre compte Roster",
            "De nouveaux codes de récupération ont été générés pour votre compte Roster ;",
        ),
        "de": (
            "Neue Wiederherstellungscodes für Ihr Roster-Konto",
            "Für Ihr Roster-Konto wurden neue Wiederherstellungscodes erstellt;",
        ),
        "nl": (
            "Nieuwe herstelcodes voor uw Roster-account",
            "Er zijn nieuwe herstelcodes aangemaakt voor uw Roster-account;",
        ),
    },
    "second_factor_notice:disabled": {
        "en": (
            "The authenticator app was removed from your Roster account",
            "The authenticator app and the recovery codes were removed from your Roster account:",
        ),
        "fr": (
            "L'application d'authentification a été supprimée de votre compte Roster",
            "L'application d'authentification et les codes de récupération ont été supprimés de votre compte Roster :",
        ),
        "de": (
            "Die Authenticator-App wurde aus Ihrem Roster-Konto entfernt",
            "Die Authenticator-App und die Wiederherstellungscodes wurden aus Ihrem Roster-Konto entfernt:",
        ),
        "nl": (
            "De authenticator-app is verwijderd uit uw Roster-account",
            "De authenticator-app en de herstelcodes zijn verwijderd uit uw Roster-account:",
        ),
    },
    "second_factor_notice:enabled": {
        "en": (
            "An authenticator app now protects your Roster account",
            "An authenticator app was set up as the second factor of your Roster account:",
        ),
        "fr": (
            "Une application d'authentification protège désormais votre compte Roster",
            "Une application d'authentification a été configurée comme second facteur de votre compte Roster :",
        ),
        "de": (
            "Eine Authenticator-App schützt jetzt Ihr Roster-Konto",
            "Für Ihr Roster-Konto wurde eine Authenticator-App als zweiter Faktor eingerichtet:",
        ),
        "nl": (
            "Uw Roster-account wordt nu beveiligd met een authenticator-app",
            "Er is een authenticator-app ingesteld als tweede factor van uw Roster-account:",
        ),
    },
    "second_factor_notice:failures": {
        "en": (
            "Wrong sign-in codes were entered for your Roster account",
            "5 wrong codes in a row were entered for your Roster account after its password.",
        ),
        "fr": (
            "Des codes de connexion erronés ont été saisis pour votre compte Roster",
            "5 codes erronés ont été entrés d'affilée pour votre compte Roster après la saisie du mot de passe.",
        ),
        "de": (
            "Für Ihr Roster-Konto wurden falsche Anmeldecodes eingegeben",
            "Für Ihr Roster-Konto wurden nach dem Passwort 5 falsche Codes in Folge eingegeben.",
        ),
        "nl": (
            "Er zijn onjuiste inlogcodes ingevoerd voor uw Roster-account",
            "Na het wachtwoord van uw Roster-account zijn 5 onjuiste codes op rij ingevoerd.",
        ),
    },
    "second_factor_notice:passkey_added": {
        "en": (
            "A passkey was added to your Roster account",
            'The passkey "YubiKey" was added to your Roster account:',
        ),
        "fr": (
            "Une clé d'accès a été ajoutée à votre compte Roster",
            "La clé d'accès « YubiKey » a été ajoutée à votre compte Roster :",
        ),
        "de": (
            "Ihrem Roster-Konto wurde ein Passkey hinzugefügt",
            "Der Passkey „YubiKey“ wurde Ihrem Roster-Konto hinzugefügt:",
        ),
        "nl": (
            "Er is een passkey toegevoegd aan uw Roster-account",
            'De passkey "YubiKey" is toegevoegd aan uw Roster-account:',
        ),
    },
    "second_factor_notice:passkey_removed": {
        "en": (
            "A passkey was removed from your Roster account",
            'The passkey "YubiKey" was removed from your Roster account.',
        ),
        "fr": (
            "Une clé d'accès a été supprimée de votre compte Roster",
            "La clé d'accès « YubiKey » a été supprimée de votre compte Roster.",
        ),
        "de": (
            "Aus Ihrem Roster-Konto wurde ein Passkey entfernt",
            "Der Passkey „YubiKey“ wurde aus Ihrem Roster-Konto entfernt.",
        ),
        "nl": (
            "Er is een passkey verwijderd uit uw Roster-account",
            'De passkey "YubiKey" is verwijderd uit uw Roster-account.',
        ),
    },
    "second_factor_notice:recovery_code_used": {
        "en": (
            "A recovery code was used to sign in to your Roster account",
            "A recovery code was just used for your Roster account.",
        ),
        "fr": (
            "Un code de récupération a été utilisé pour se connecter à votre compte Roster",
            "Un code de récupération vient d'être utilisé pour votre compte Roster.",
        ),
        "de": (
            "Für die Anmeldung bei Ihrem Roster-Konto wurde ein Wiederherstellungscode verwendet",
            "Für Ihr Roster-Konto wurde soeben ein Wiederherstellungscode verwendet.",
        ),
        "nl": (
            "Er is een herstelcode gebruikt om in te loggen op uw Roster-account",
            "Er is zojuist een herstelcode gebruikt voor uw Roster-account.",
        ),
    },
    "verify_email": {
        "en": (
            "Confirm your email address for Roster",
            "Please confirm your email address by opening this link:",
        ),
        "fr": (
            "Confirmez votre adresse e-mail pour Roster",
            "Veuillez confirmer votre adresse e-mail en ouvrant ce lien :",
        ),
        "de": (
            "Bestätigen Sie Ihre E-Mail-Adresse für Roster",
            "Bitte bestätigen Sie Ihre E-Mail-Adresse, indem Sie diesen Link öffnen:",
        ),
        "nl": (
            "Bevestig uw e-mailadres voor Roster",
            "Bevestig uw e-mailadres door deze link te openen:",
        ),
    },
}


def render(
    email: str, language: str, time_zone: str = "UTC", *, address="ada@example.com", **names
):
    """The email as the worker sends it to an account of ``language`` and ``time_zone``
    (``names``: context values in place of the usual ones)."""
    template, _, _event = email.partition(":")
    context = {"first_name": "Ada", "reset_link": "https://app/r", **CONTEXTS[email], **names}
    reader = SimpleNamespace(language=language, timezone=time_zone)
    email_send(to=address, template=template, context=context, recipient=reader)
    mail.outbox.clear()
    assert emails_deliver_to(address) == 1
    [message] = mail.outbox
    [(html_body, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return message, html_body


def text_of(html_body: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", html_body)).split())


def test_every_email_template_is_checked_in_every_language():
    templates = {path.name.removesuffix("_subject.txt") for path in TEMPLATES.glob("*_subject.txt")}
    assert {email.partition(":")[0] for email in CONTEXTS} == templates
    assert set(EXPECTED) == set(CONTEXTS)
    assert all(set(by_language) == set(LANGUAGES) for by_language in EXPECTED.values())


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("email", sorted(CONTEXTS))
def test_every_email_is_written_in_the_recipients_language(email, language):
    subject, sentence = EXPECTED[email][language]
    message, html_body = render(email, language)
    assert message.subject == subject
    assert sentence in " ".join(message.body.split())
    assert sentence in text_of(html_body)
    assert f'<html lang="{language}">' in html_body
    assert message.extra_headers["Content-Language"] == language
    assert subject in text_of(html_body.split("</title>")[0])


def _sentences(text: str) -> set[str]:
    """The English sentences of a text, without its links and names."""
    parts = re.split(r"(?<=[.:;!?])\s+", " ".join(text.split()))
    return {part for part in parts if len(part) > 12 and "https://" not in part}


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
@pytest.mark.parametrize("email", sorted(CONTEXTS))
def test_no_english_sentence_is_left_in_a_translated_email(email, language):
    english, english_html = render(email, "en", address="en@example.com")
    translated, translated_html = render(email, language)
    assert translated.subject != english.subject
    assert _sentences(english.body) & _sentences(translated.body) == set()
    assert _sentences(text_of(english_html)) & _sentences(text_of(translated_html)) == set()


@pytest.mark.parametrize(
    ("language", "time_zone", "expected"),
    [
        ("en", "UTC", "December 5, 2026, 13:30 (UTC)"),
        ("en", "America/New_York", "December 5, 2026, 08:30 (America/New_York)"),
        ("fr", "Europe/Paris", "5 décembre 2026 14:30 (Europe/Paris)"),
        ("de", "Europe/Berlin", "5. Dezember 2026 14:30 (Europe/Berlin)"),
        ("nl", "Asia/Tokyo", "5 december 2026 22:30 (Asia/Tokyo)"),
    ],
)
def test_dates_are_in_the_recipients_language_and_time_zone(language, time_zone, expected):
    for email in ("invitation", "password_reset", "email_change_requested"):
        message, html_body = render(email, language, time_zone)
        assert expected in message.body, (email, message.body)
        assert expected in text_of(html_body)


MARKUP = '<img src=x onerror="alert(1)">'


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("email", "name"),
    [
        ("invitation", "inviter_name"),
        ("invitation", "organization_name"),
        ("password_changed", "first_name"),
        ("second_factor_notice:passkey_added", "name"),
    ],
)
def test_names_in_an_html_email_are_escaped(email, name, language):
    """Names are the users' own text: markup in them is shown, never run, in every
    language (the translations wrap them, the templates escape them)."""
    message, html_body = render(email, language, **{name: MARKUP})
    assert "<img" not in html_body
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html_body
    assert MARKUP in message.body  # the plain-text part shows it as typed


def test_a_subject_is_one_line_whatever_the_names_hold():
    message, _ = render("invitation", "de", inviter_name="Eve\r\nBcc: x@evil.test")
    assert "\n" not in message.subject and "\r" not in message.subject
    assert "Bcc" not in str(message.message()["Bcc"] or "")
    assert message.bcc == []


def test_a_recipient_with_an_unknown_language_or_time_zone_reads_the_defaults():
    message, _ = render("password_reset", "xx", "Mars/Olympus")
    assert message.extra_headers["Content-Language"] == "en"
    assert "(UTC)" in message.body
    assert message.subject == EXPECTED["password_reset"]["en"][0]
