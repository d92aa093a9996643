"""The municipality's portal: the dashboard, residents, organisations, merchants, who did what."""

from __future__ import annotations

from .. import pages

router = pages.page_router()
