"""The FastAPI application: routers per actor, problem+json errors, the runtime in app.state."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from .. import web
from ..bootstrap import bootstrap
from ..runtime import Runtime
from ..settings import Settings
from . import problems
from .bodies import BodyLimits
from .deps import database_slots
from .routers import ROUTERS
from .staff_log import StaffLog

DESCRIPTION = """
Socialcoin: een sociale munt van de gemeente / a municipal social currency.

Groups follow who uses them: the municipality, organisations, residents, merchants and the public.
Every error is `application/problem+json` with a machine `code`, a Dutch `detail` and an English
`detail_en`, and names the `field` at fault when there is one. Amounts are in euro cents. A 2xx answer
means the change is stored: the next request sees it. When the chain does not answer, requests that need
it get 503 `chain_unavailable` within seconds (with Retry-After); everything else keeps working.
Request bodies are at most 1 MB unless a route says otherwise (413 `body_too_large`); sign-ins and spends
are rate-limited per client address and per account (429 with Retry-After).
"""


def create_app(
    settings: Settings | None = None, *, runtime: Runtime | None = None, run_workers: bool = True
) -> FastAPI:
    settings = settings or (runtime.settings if runtime is not None else Settings.from_env())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = runtime or bootstrap(settings)
        app.state.database_slots = database_slots()
        if run_workers:
            app.state.runtime.start_workers()
        # What start-up made (modules, ABIs, routes) lives as long as the process: out of the collector's
        # sight, a full collection under load looks at requests' objects only (a shorter pause).
        gc.collect()
        gc.freeze()
        yield
        if runtime is None:
            app.state.runtime.close()
        else:
            app.state.runtime.stop_workers()

    app = FastAPI(
        title="Socialcoin",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimits, respond=problems.send_domain_error)
    app.add_middleware(StaffLog)  # who did what: every staff request that changes something
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    if proxies:  # only then: X-Forwarded-For from anyone else would let a client choose its own address
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)
    web.install(app)  # the pages, after the API's error handlers (page errors wrap them)
    return app
