"""Paths of the repository that the documentation names exist (a moved file leaves no stale pointer)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A path in backticks under one of the repository's own folders. Generated files (deployments/*.json)
# and patterns with placeholders (<network>, {id}, …) are not files to look for.
PATH = re.compile(r"`((?:backend|bench|contracts|docs|scripts|tests|tools)/[^`\s<>{}…*]*)`")


def named_paths() -> list[tuple[str, str]]:
    return [
        (document.relative_to(ROOT).as_posix(), path)
        for document in DOCUMENTS
        for path in PATH.findall(document.read_text())
    ]


def test_the_documents_name_paths():
    assert len(named_paths()) > 5


def test_every_path_the_documents_name_exists():
    missing = [f"{document}: {path}" for document, path in named_paths() if not (ROOT / path).exists()]
    assert not missing, f"paths named in the documentation that do not exist: {missing}"
