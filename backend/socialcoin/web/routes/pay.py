"""A resident pays: a till's request (its QR code's link, the in-page scanner or the typed code), a debt, a
municipal service, another resident."""

from __future__ import annotations

from .. import pages

router = pages.page_router()
