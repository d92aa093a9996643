"""Errors from the chain, as data the domain layer and the API can turn into plain Dutch and English."""

from __future__ import annotations

from typing import Any


class ChainRevert(Exception):
    """A contract refused: its custom error's name and arguments."""

    def __init__(self, name: str, args: dict[str, Any]):
        super().__init__(f"{name}({', '.join(f'{k}={v}' for k, v in args.items())})")
        self.name = name
        self.arguments = args


class ChainUnavailable(Exception):
    """The node did not answer in time (down, hung, or unreachable). Nothing was changed; retry later.
    The API answers 503 chain_unavailable."""


class ChainCallInWriteTransaction(RuntimeError):
    """The chain was called inside a database write transaction, which would hold the write lock while
    waiting on the node (a programming error: gather what the chain says first)."""
