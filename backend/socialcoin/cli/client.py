"""The backend's HTTP API as the command line uses it: a bearer token, problem+json errors kept whole
(Dutch `detail`, English `detail_en`, row `errors`), and one exception for "cannot reach it"."""

from __future__ import annotations

from typing import Any

import httpx

DEFAULT_API = "http://127.0.0.1:8000"
# A batch of 10,000 rows is checked in one request: give the server time.
TIMEOUT = httpx.Timeout(600.0, connect=10.0)
# 5xx answers that say "try again later" rather than "no": the chain or the service is down.
UNREACHABLE_STATUSES = {502, 503, 504}
REFUSAL_CODES = {"operator_key_missing"}  # a 503 that a retry will not cure: a refusal


class Unreachable(Exception):
    """The backend (or the chain behind it) does not answer: exit code 3."""

    def __init__(self, nl: str, en: str):
        super().__init__(en)
        self.nl = nl
        self.en = en


class ApiError(Exception):
    """The backend refused: its problem details (exit code 1); `errors` are a batch's row errors."""

    def __init__(self, status: int, problem: dict[str, Any], fallback_en: str = ""):
        self.status = status
        self.code = str(problem.get("code") or f"http_{status}")
        self.nl = problem.get("detail") or f"De backend antwoordt {status}."
        self.en = problem.get("detail_en") or f"The backend answers {status}. {fallback_en}".strip()
        self.field = problem.get("field")
        self.errors: list[dict[str, Any]] = list(problem.get("errors") or [])
        self.details: dict[str, Any] = dict(problem.get("details") or {})
        super().__init__(self.en)

    def __str__(self) -> str:
        return f"{self.nl} / {self.en}"


class Api:
    def __init__(self, base_url: str, token: str | None, *, timeout: httpx.Timeout = TIMEOUT):
        self.base_url = base_url.rstrip("/")
        headers = {"Accept": "application/json", "User-Agent": "socialcoin-cli"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, json=body if body is not None else {})

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, json=body)

    def get_bytes(self, path: str, **params: Any) -> bytes:
        return self._send("GET", path, params={k: v for k, v in params.items() if v is not None}).content

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self._send(method, path, **kwargs)
        return answer.json() if answer.content else None

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            answer = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise Unreachable(
                f"De backend op {self.base_url} antwoordt niet op tijd ({type(exc).__name__}).",
                f"The backend at {self.base_url} does not answer in time ({type(exc).__name__}).",
            ) from exc
        except httpx.TransportError as exc:
            raise Unreachable(
                f"De backend op {self.base_url} is niet bereikbaar ({exc}). Draait hij, en klopt --api "
                "(of SOCIALCOIN_API_URL)?",
                f"The backend at {self.base_url} cannot be reached ({exc}). Is it running, and is --api "
                "(or SOCIALCOIN_API_URL) right?",
            ) from exc
        if answer.is_success:
            return answer
        raise self._error(answer)

    def _error(self, answer: httpx.Response) -> Exception:
        try:
            problem = answer.json()
        except ValueError:
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        error = ApiError(answer.status_code, problem, answer.text[:300] if not problem else "")
        if (answer.status_code in UNREACHABLE_STATUSES and error.code not in REFUSAL_CODES) or (
            answer.status_code >= 500 and not problem
        ):
            return Unreachable(error.nl, error.en)
        return error
