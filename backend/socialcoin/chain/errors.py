"""Errors from the chain, as data the domain layer can turn into plain Dutch and English."""

from __future__ import annotations

from typing import Any


class ChainRevert(Exception):
    """A contract refused: its custom error's name and arguments."""

    def __init__(self, name: str, args: dict[str, Any]):
        super().__init__(f"{name}({', '.join(f'{k}={v}' for k, v in args.items())})")
        self.name = name
        self.arguments = args
