"""Input formats that both the service and the `socialcoin` command check. Kept free of heavy imports:
the command checks a whole file before it sends anything, and loading the domain (web3) takes seconds."""

from __future__ import annotations

import re

# The municipality's own reference of a reward (a spreadsheet's claim reference). It may hold names, so
# only a keyed hash of it goes on chain.
CLAIM_REFERENCE = re.compile(r"[A-Za-z0-9._:/-]{1,64}")


def euro(cents: int) -> str:
    """1250 -> "€ 12,50": an amount as Dutch readers write it (thousands with a dot)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}€ {whole:,}".replace(",", ".") + f",{part:02d}"


def euro_en(cents: int) -> str:
    """1250 -> "EUR 12.50"."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}EUR {whole:,}.{part:02d}"
