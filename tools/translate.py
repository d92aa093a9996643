"""Fills translations into a part's catalogue from a Python file that defines T = {source text: translation}.

    python tools/translate.py nl common /path/to/texts.py

Texts the catalogue does not have yet are added (run `tools/catalogue.py check` afterwards)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import write_po

sys.path.insert(0, str(Path(__file__).parent))
from catalogue import _path, load  # noqa: E402


def main() -> None:
    language, part, source = sys.argv[1:4]
    texts: dict[str, str] = runpy.run_path(source)["T"]
    catalogue = load(language, part)
    for text, translation in texts.items():
        message = catalogue.get(text)
        if message is None:
            catalogue.add(text, translation)
        else:
            message.string = translation
            message.flags.discard("fuzzy")
    _path(language, part).parent.mkdir(parents=True, exist_ok=True)
    with _path(language, part).open("wb") as target:
        write_po(target, catalogue, width=110, sort_output=True)


if __name__ == "__main__":
    main()
