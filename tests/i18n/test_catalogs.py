"""The translation catalogs: complete, current, compiled, and true to their messages."""

from __future__ import annotations

import io
import os
import shutil

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from backend import translations


def _catalog(po):
    with po.open("rb") as source:
        return read_po(source, locale=po.parent.parent.name)


def test_every_language_but_the_source_has_a_catalog_in_every_app():
    assert translations.languages() == ["fr", "de", "nl"]
    assert all(po.exists() for po in translations.catalogs()), [
        str(po) for po in translations.catalogs() if not po.exists()
    ]


def test_every_message_has_a_reviewed_translation_in_every_language():
    missing = {
        str(po.relative_to(translations.ROOT)): ids
        for po, ids in translations.untranslated().items()
    }
    assert missing == {}


def test_a_translation_keeps_the_placeholders_of_its_message():
    lost = {
        str(po.relative_to(translations.ROOT)): ids
        for po, ids in translations.placeholders_lost().items()
    }
    assert lost == {}


def test_the_checks_find_what_they_look_for(tmp_path, settings):
    """A catalog with an untranslated, a fuzzy and a placeholder-losing message is caught."""
    po = tmp_path / "accounts" / "locale" / "fr" / "LC_MESSAGES" / "django.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Done."\nmsgstr "Fait."\n\n'
        'msgid "Missing."\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Guessed."\nmsgstr "Deviné."\n\n'
        'msgid "Hello %(name)s."\nmsgstr "Bonjour."\n',
        encoding="utf-8",
    )
    settings.LANGUAGES = [("en", "English"), ("fr", "French")]
    assert translations.untranslated(tmp_path)[po] == ["Missing.", "Guessed."]
    assert translations.placeholders_lost(tmp_path)[po] == ["Hello %(name)s."]


@pytest.mark.skipif(
    not translations.gettext_available() and not os.environ.get("CI"),
    reason="extraction needs GNU gettext (xgettext, msgmerge); CI has it",
)
def test_the_catalogs_hold_exactly_the_messages_of_the_code():
    """Extraction on a copy of the code changes no catalog: no message of the code is
    missing from them and none is left over (``manage.py translations update``)."""
    stale = [str(po.relative_to(translations.ROOT)) for po in translations.stale()]
    assert stale == [], "run: python manage.py translations update"


@pytest.mark.skipif(
    not translations.gettext_available() and not os.environ.get("CI"),
    reason="extraction needs GNU gettext (xgettext, msgmerge); CI has it",
)
def test_a_new_message_in_the_code_makes_its_catalogs_stale(tmp_path):
    for name in (*translations.CATALOG_ROOTS, "manage.py"):
        source = translations.ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("*.mo"))
        else:
            shutil.copy2(source, tmp_path / name)
    assert translations.stale(tmp_path) == []
    with (tmp_path / "directory" / "services" / "teams.py").open("a") as code:
        code.write('\n\nNEW = gettext("A message nobody translated yet.")\n')
    assert translations.stale(tmp_path) == [
        tmp_path / "directory" / "locale" / language / "LC_MESSAGES" / "django.po"
        for language in ("fr", "de", "nl")
    ]


def test_the_compiled_catalogs_are_those_of_the_translations():
    """What the server reads (``.mo``, compiled by the set-up step) is what the ``.po``
    files say; ``python -m backend.translations`` compiles them again."""
    for po in translations.catalogs():
        mo = po.with_suffix(".mo")
        assert mo.exists(), f"{mo} missing: run python -m backend.translations"
        compiled = io.BytesIO()
        write_mo(compiled, _catalog(po), use_fuzzy=False)
        assert mo.read_bytes() == compiled.getvalue(), f"{mo} is stale"


def test_the_server_reads_the_compiled_catalogs():
    from django.utils import translation

    for language, expected in (
        ("fr", "Vous devez vous connecter"),
        ("de", "Sie müssen angemeldet sein"),
        ("nl", "U moet ingelogd zijn"),
    ):
        with translation.override(language):
            assert translation.gettext("You must be signed in.").startswith(expected), language
