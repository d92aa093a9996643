"""A merchant's till (tablet): payment requests with a QR code, paid live (Server-Sent Events), today's
payments, refunds, payouts, the standing QR code for the counter."""

from __future__ import annotations

from .. import pages

router = pages.page_router()
