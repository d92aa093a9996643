"""Every rule in docs/contracts.md has a test that names its tag (`spec: R3`)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULE_TAG = re.compile(r"^- \*\*([A-Z]+\d+)\*\*", re.MULTILINE)
SPEC_REFERENCE = re.compile(r"spec:\s*([A-Z0-9, ]+)")


def documented_tags() -> set[str]:
    return set(RULE_TAG.findall((ROOT / "docs" / "contracts.md").read_text()))


def tested_tags() -> set[str]:
    tags: set[str] = set()
    for path in (ROOT / "tests" / "contracts").glob("test_*.py"):
        for reference in SPEC_REFERENCE.findall(path.read_text()):
            tags.update(tag.strip() for tag in reference.split(",") if tag.strip())
    return tags


def test_the_spec_lists_rules():
    assert len(documented_tags()) > 50


def test_every_rule_in_the_spec_has_a_test():
    missing = sorted(documented_tags() - tested_tags())
    assert not missing, f"rules in docs/contracts.md without a test: {missing}"


def test_tests_name_only_rules_the_spec_has():
    unknown = sorted(tested_tags() - documented_tags())
    assert not unknown, f"tests cite tags docs/contracts.md does not define: {unknown}"
