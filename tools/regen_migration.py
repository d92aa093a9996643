"""Rewrites the single migration 0001_initial_schema.py from the models (allowed until the first release:
no database in use needs an upgrade path yet). Run after changing db/models.py:

    .venv/bin/python tools/regen_migration.py
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "backend"))

from socialcoin.db.migrate import MIGRATIONS, revision  # noqa: E402

VERSIONS = MIGRATIONS / "versions"
TARGET = VERSIONS / "0001_initial_schema.py"


def main() -> None:
    old = TARGET.read_text()
    TARGET.unlink()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            revision(f"sqlite:///{scratch}/empty.db", "initial schema")
        (new,) = [p for p in VERSIONS.glob("*.py") if p.name != "__init__.py"]
        text = new.read_text()
        text = re.sub(r"^Revision ID: \w+$", "Revision ID: 0001", text, flags=re.M)
        text = re.sub(r"^revision = ['\"]\w+['\"]$", 'revision = "0001"', text, flags=re.M)
        new.unlink()
        TARGET.write_text(text)
    except BaseException:
        TARGET.write_text(old)
        raise
    lint = ROOT / ".tools" / "lint" / "bin" / "ruff"
    if lint.exists():  # as `make lint` wants it
        subprocess.run([str(lint), "format", "--quiet", str(TARGET)], check=False)
        subprocess.run([str(lint), "check", "--fix", "--quiet", str(TARGET)], check=False)
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
