"""A resident's wallet (phone first): balances, history and statements, tasks, where to pay; installable,
and readable offline."""

from __future__ import annotations

from .. import pages

router = pages.page_router()
