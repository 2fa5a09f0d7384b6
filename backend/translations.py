"""Translation catalogs: ``<app>/locale/<language>/LC_MESSAGES/django.po``.

- ``update``: extract every message of the code and templates into the catalogs with
  Django's ``makemessages`` (GNU gettext), for every language but ``LANGUAGE_CODE``.
- ``compile``: write each catalog's ``django.mo`` with Babel, so running Roster needs no
  GNU gettext. The ``.mo`` files are build output (not in git): the set-up step and a
  deployment's build compile them.
- ``untranslated`` and ``stale``: what the tests (and ``manage.py translations check``)
  refuse: a message without a reviewed translation, and a catalog that extraction
  would change.
"""

from __future__ import annotations

import filecmp
import io
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
# Every directory whose code or templates hold messages has its catalogs in its locale/.
CATALOG_ROOTS = ("accounts", "directory", "schema", "backend")
# What update writes, and so what stale compares: a location is the file, never the
# line, so moving code does not make a catalog stale.
MAKEMESSAGES_OPTIONS = {
    "extensions": ["html", "txt", "py"],
    "no_obsolete": True,
    "add_location": "file",
    "ignore_patterns": ["tests/*", "bench/*", "docs/*", "build/*", "media/*"],
}
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
# Lines of a catalog's header that every extraction rewrites.
_VOLATILE_HEADER = ("POT-Creation-Date:",)


def languages() -> list[str]:
    """The languages that have catalogs: every configured one but the source language."""
    return [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def catalogs(root: Path = ROOT) -> list[Path]:
    """Every ``django.po`` there should be, whether it exists or not."""
    return [
        root / app / "locale" / language / "LC_MESSAGES" / "django.po"
        for app in CATALOG_ROOTS
        for language in languages()
    ]


def update(root: Path = ROOT) -> None:
    """Extract the messages of ``root``'s code into its catalogs (needs GNU gettext)."""
    from django.core.management import call_command

    for app in CATALOG_ROOTS:
        (root / app / "locale").mkdir(exist_ok=True)
    cwd = Path.cwd()
    os.chdir(root)
    try:
        call_command("makemessages", locale=languages(), verbosity=0, **MAKEMESSAGES_OPTIONS)
    finally:
        os.chdir(cwd)


def compile_all(root: Path = ROOT) -> list[Path]:
    """Write the ``.mo`` of every catalog whose compiled form differs; answer those.
    Needs no settings: ``python -m backend.translations`` runs it in a build step."""
    written = []
    found = (root.glob(f"{app}/locale/*/LC_MESSAGES/django.po") for app in CATALOG_ROOTS)
    for po in sorted(itertools.chain.from_iterable(found)):
        mo = po.with_suffix(".mo")
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name, abort_invalid=True)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        compiled = buffer.getvalue()
        if mo.exists() and mo.read_bytes() == compiled:
            continue
        # Written beside and moved into place: a server or test reading it never sees half.
        partial = mo.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(compiled)
        partial.replace(mo)
        written.append(mo)
    return written


def _messages(po: Path):
    """Each message of a catalog as (its ids, its translations), plural forms included."""
    with po.open("rb") as source:
        catalog = read_po(source, locale=po.parent.parent.name)
    for message in catalog:
        if not message.id:
            continue  # the header
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        yield message, ids, strings


def untranslated(root: Path = ROOT) -> dict[Path, list[str]]:
    """Per catalog, the messages with no translation, or only a fuzzy (unreviewed) one."""
    missing: dict[Path, list[str]] = {}
    for po in catalogs(root):
        if not po.exists():
            missing[po] = ["(the catalog is missing)"]
            continue
        for message, ids, strings in _messages(po):
            if message.fuzzy or not all(strings):
                missing.setdefault(po, []).append(ids[0])
    return missing


def placeholders_lost(root: Path = ROOT) -> dict[Path, list[str]]:
    """Per catalog, the translations whose ``%(name)s`` placeholders are not those of
    their message (a lost one would show as nothing, an extra one would fail)."""
    wrong: dict[Path, list[str]] = {}
    for po in catalogs(root):
        if not po.exists():
            continue
        for _message, ids, strings in _messages(po):
            wanted = set(_PLACEHOLDER.findall(ids[-1]))
            if any(string and set(_PLACEHOLDER.findall(string)) != wanted for string in strings):
                wrong.setdefault(po, []).append(ids[0])
    return wrong


def compiled_check(app_configs=None, **kwargs) -> list:
    """A system check: a catalog without its compiled ``.mo`` would answer in English."""
    from django.core.checks import Warning

    missing = [po for po in catalogs() if po.exists() and not po.with_suffix(".mo").exists()]
    if not missing:
        return []
    return [
        Warning(
            f"{len(missing)} translation catalog(s) not compiled, e.g. {missing[0]}: "
            "their languages would answer in English.",
            hint="Run: python -m backend.translations",
            id="roster.W001",
        )
    ]


def gettext_available() -> bool:
    return all(shutil.which(tool) for tool in ("xgettext", "msgmerge", "msguniq", "msgattrib"))


def stale(root: Path = ROOT) -> list[Path]:
    """The catalogs that ``update`` would change: extraction runs on a copy of the code,
    and its catalogs are compared with these, extraction dates aside."""
    with tempfile.TemporaryDirectory() as temporary:
        copy = Path(temporary)
        for name in CATALOG_ROOTS:
            shutil.copytree(
                root / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo")
            )
        shutil.copy2(root / "manage.py", copy / "manage.py")
        environment = {**os.environ, "ROSTER_TESTING": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        subprocess.run(
            [sys.executable, "manage.py", "translations", "update"],
            cwd=copy,
            env=environment,
            check=True,
            capture_output=True,
        )
        changed = []
        for ours, theirs in zip(catalogs(root), catalogs(copy), strict=True):
            if (
                not ours.exists()
                or not theirs.exists()
                or (not filecmp.cmp(ours, theirs, shallow=False) and _body(ours) != _body(theirs))
            ):
                changed.append(ours)
        return changed


def _body(po: Path) -> list[str]:
    return [
        line
        for line in po.read_text(encoding="utf-8").splitlines()
        if not line.strip('"').startswith(_VOLATILE_HEADER)
    ]


if __name__ == "__main__":
    print(f"Compiled {len(compile_all())} translation catalog(s); the others were current.")
