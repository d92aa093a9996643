"""The municipality's portal, the programme's side: activities and suggestions, claims, debts, services,
payouts, budgets."""

from __future__ import annotations

from .. import pages

router = pages.page_router()
