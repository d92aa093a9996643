"""The pages' translation catalogues (backend/socialcoin/web/locale/<language>/LC_MESSAGES/<part>.po).

    python tools/catalogue.py check    every text of the pages has a translation in every language, the same
                                       in every part; exit 1 naming each one that has none or two
    python tools/catalogue.py update   adds the texts the catalogues lack (with an empty translation, to
                                       fill in) and drops those no page uses any more

Texts are found with Babel's extractors: `_()`/`gettext()`/`ngettext()` in the templates (Jinja) and in the
page routes (Python). A text belongs to the part of the site its file is in: templates/<part>/ or
routes/<part>.py; the rest is `common`. The charts' texts (research/charts.py, drawn for the pages and the
exports alike) belong to `openbaar`.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po, write_po

WEB = Path(__file__).resolve().parents[1] / "backend" / "socialcoin" / "web"
LOCALE = WEB / "locale"
# Modules outside web/ whose texts the pages show, with the part they belong to.
OUTSIDE = ((WEB.parent / "research" / "charts.py", "openbaar"),)
PARTS = ("common", "wallet", "pay", "till", "organisation", "municipality", "programme", "openbaar")
# Languages with a catalogue to fill in; English is the source language of the texts.
TRANSLATED = ("nl",)
METHODS = [("templates/**.html", "jinja2"), ("templates/**.js", "ignore"), ("**.py", "python")]
KEYWORDS: dict[str, tuple[int, ...] | None] = {"_": None, "gettext": None, "ngettext": (1, 2)}
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}


def part_of(filename: str) -> str:
    parts = Path(filename).parts
    if parts[0] == "templates" and len(parts) > 2 and parts[1] in PARTS:
        return parts[1]
    if parts[0] == "routes" and Path(parts[-1]).stem in PARTS:
        return Path(parts[-1]).stem
    return "common"


def used_texts() -> dict[str, dict[str, list[str]]]:
    """part -> text -> where it is used."""
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for filename, lineno, message, _comments, _context in extract_from_dir(
        WEB, METHODS, options_map=OPTIONS, keywords=KEYWORDS
    ):
        texts = message if isinstance(message, tuple) else (message,)
        found[part_of(filename)][texts[0]].append(f"{filename}:{lineno}")
    for path, part in OUTSIDE:
        for lineno, message, _comments, _context in extract_from_file("python", path, keywords=KEYWORDS):
            texts = message if isinstance(message, tuple) else (message,)
            found[part][texts[0]].append(f"{path.relative_to(WEB.parent)}:{lineno}")
    return found


def _path(language: str, part: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / f"{part}.po"


def load(language: str, part: str) -> Catalog:
    path = _path(language, part)
    if not path.exists():
        return Catalog(locale=language, domain=part)
    with path.open("rb") as source:
        return read_po(source, locale=language)


def translated(language: str) -> dict[str, str]:
    texts: dict[str, str] = {}
    for part in PARTS:
        for message in load(language, part):
            if message.id and message.string and not message.fuzzy:
                texts[str(message.id)] = str(message.string)
    return texts


def conflicts(language: str) -> list[str]:
    """Texts two parts translate differently: the parts' catalogues are merged into one, so one of the two
    would silently win."""
    seen: dict[str, tuple[str, str]] = {}
    problems = []
    for part in PARTS:
        for message in load(language, part):
            if not message.id or not message.string:
                continue
            text, translation = str(message.id), str(message.string)
            if text in seen and seen[text][1] != translation:
                where, first = seen[text]
                problems.append(f"{language}: {text!r} is {first!r} in {where}, {translation!r} in {part}")
            seen.setdefault(text, (part, translation))
    return problems


def missing() -> list[str]:
    problems = [problem for language in TRANSLATED for problem in conflicts(language)]
    used = used_texts()
    for language in TRANSLATED:
        done = translated(language)
        for part, texts in used.items():
            for text, places in texts.items():
                if text not in done:
                    problems.append(f"{language} {part}: {text!r} ({places[0]})")
    return problems


def update() -> None:
    used = used_texts()
    everywhere = {text for texts in used.values() for text in texts}
    for language in TRANSLATED:
        catalogues = {part: load(language, part) for part in PARTS}
        for catalogue in catalogues.values():
            for message in list(catalogue):
                if message.id and message.id not in everywhere:
                    del catalogue[message.id]
        present = {str(m.id) for c in catalogues.values() for m in c if m.id}
        for part, texts in used.items():
            for text in texts:
                if text not in present:
                    catalogues[part].add(text, "")
                    present.add(text)
        for part, catalogue in catalogues.items():
            if len(catalogue) == 0 and not _path(language, part).exists():
                continue
            _path(language, part).parent.mkdir(parents=True, exist_ok=True)
            with _path(language, part).open("wb") as target:
                write_po(target, catalogue, width=110, omit_header=False, sort_output=True)


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "update":
        update()
        return 0
    problems = missing()
    for problem in problems:
        print(f"catalogue: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
