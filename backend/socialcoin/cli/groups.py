"""A command group with a default command, so that a command can grow sub-commands and still do what it
did: `socialcoin report` (and `socialcoin report --json`) runs `socialcoin report budgets`."""

from __future__ import annotations

from typing import Any

import click


class DefaultGroup(click.Group):
    def __init__(self, *args: Any, default: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.default = default

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = [self.default, *args]
        return super().parse_args(ctx, args)
