"""An organisation's portal: its activities, its residents' tasks, verifying a finished task with an
attestation signed in the browser with the organisation's own key."""

from __future__ import annotations

from .. import pages

router = pages.page_router()
