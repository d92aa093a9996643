"""The pages people use, served by the same application as the API: a resident's wallet (`/portemonnee`),
a merchant's till (`/kassa`), the organisation's portal (`/organisatie`) and the municipality's
(`/gemeente`). Server-rendered templates in Dutch first (English beside it), a little JavaScript from our
own files; every page calls the same domain functions as the API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from ..chain.errors import ChainUnavailable
from ..domain.errors import DomainError
from . import pages
from .routes import ROUTERS

STATIC = Path(__file__).parent / "static"
ROOT = Path(__file__).resolve().parents[3]
NODE_MODULES = ROOT / "node_modules"
# Libraries from npm (package.json pins them), served from this service: never from a CDN. jsQR is minified
# by `make setup` (terser, from npm): the wallet's scanner page must stay within its JavaScript budget.
VENDOR = {
    "jsqr.js": ROOT / "build" / "vendor" / "jsQR.min.js",
    "ethers.js": NODE_MODULES / "ethers" / "dist" / "ethers.umd.min.js",
}


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/vendor/{name}", include_in_schema=False)
    async def vendor(name: str) -> FileResponse:
        path = VENDOR.get(name)
        if path is None or not path.is_file():
            raise HTTPException(404)
        return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    for router in ROUTERS:
        app.include_router(router)
    _errors_as_pages(app)


def _errors_as_pages(app: FastAPI) -> None:
    """A page request's errors are answered as pages (in the visitor's language); the API's stay
    problem+json. The API's handlers are kept and called for everything else."""
    api_handlers = dict(app.exception_handlers)

    def dispatch(kind: type[BaseException], as_page: Any, browsers_too: bool = False) -> None:
        api = api_handlers.get(kind)

        async def handler(request: Request, exc: Any) -> Any:
            if pages.is_page(request) or (browsers_too and pages.wants_html(request)):
                return as_page(request, exc)
            assert api is not None
            return await api(request, exc)

        app.exception_handlers[kind] = handler

    def domain_page(request: Request, exc: DomainError) -> Any:
        return pages.render(
            request,
            "error.html",
            status_code=exc.status,
            detail=pages.message(exc, pages.language_of(request)),
            kind="refused",
        )

    def chain_page(request: Request, _exc: ChainUnavailable) -> Any:
        response = pages.render(request, "error.html", status_code=503, detail=None, kind="chain")
        response.headers["Retry-After"] = "5"
        return response

    def framework_page(request: Request, exc: HTTPException) -> Any:
        kind = "not_found" if exc.status_code == 404 else "unexpected"
        return pages.render(request, "error.html", status_code=exc.status_code, detail=None, kind=kind)

    def invalid_page(request: Request, _exc: RequestValidationError) -> Any:
        return pages.render(request, "error.html", status_code=422, detail=None, kind="invalid")

    def unexpected_page(request: Request, _exc: Exception) -> Any:
        return pages.render(request, "error.html", status_code=500, detail=None, kind="unexpected")

    dispatch(DomainError, domain_page)
    dispatch(ChainUnavailable, chain_page)
    dispatch(HTTPException, framework_page, browsers_too=True)  # an unknown path too
    dispatch(RequestValidationError, invalid_page)
    dispatch(Exception, unexpected_page)
    app.exception_handlers[pages.SignInNeeded] = pages.sign_in_redirect
    app.exception_handlers[pages.CsrfRefused] = lambda request, _exc: pages.render(
        request, "error.html", status_code=403, detail=None, kind="csrf"
    )
