"""Running the service: `python -m socialcoin.server serve` (API + workers) or `worker` (workers only).

Settings come from SOCIALCOIN_* environment variables (see settings.py). Both commands migrate the
database first; several API instances may share one database, with one worker process per signing key.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import Any

import uvicorn

from .api.app import create_app
from .bootstrap import bootstrap
from .db.base import make_engine, make_sessions, transaction
from .db.migrate import upgrade
from .domain.access import Role, issue_token
from .settings import settings_or_exit


# Idle keep-alive connections stay open longer than a reverse proxy keeps its own (nginx: 60 s): a
# connection the server closes just as the proxy reuses it fails that request.
# uvicorn's own proxy headers stay off: it would trust X-Forwarded-For from 127.0.0.1 by default. The app
# trusts the proxies of SOCIALCOIN_TRUSTED_PROXIES only (api/app.py).
def _uvicorn(app: Any, **options: Any) -> None:
    uvicorn.run(
        app, log_level="warning", access_log=False, timeout_keep_alive=75, proxy_headers=False, **options
    )


def serve(host: str, port: int, workers: bool, processes: int = 1) -> None:
    """Serves the API. With several processes (one per core: Python runs one thread at a time), each
    answers requests only, and the outbox and indexer run once, in the process that supervises them."""
    if processes == 1:
        app = create_app(settings_or_exit(), run_workers=workers)
        _uvicorn(app, host=host, port=port)
        return
    runtime = bootstrap(settings_or_exit()) if workers else None
    if runtime is not None:
        runtime.start_workers()
    try:
        _uvicorn("socialcoin.server:api_only", factory=True, workers=processes, host=host, port=port)
    finally:
        if runtime is not None:
            runtime.close()


def api_only():
    """The app of one of several API processes (`serve --processes N`): no chain workers."""
    return create_app(settings_or_exit(), run_workers=False)


def work() -> None:
    runtime = bootstrap(settings_or_exit())
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    runtime.start_workers()
    stopped.wait()
    runtime.close()


def token(role: Role, subject_id: int | None, label: str) -> None:
    """Prints a new bearer token (for the first admin, or a script)."""
    settings = settings_or_exit()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with transaction(make_sessions(engine)) as session:
        _row, new_token = issue_token(session, role, subject_id, settings.token_ttl_seconds, label=label)
        print(new_token)
    engine.dispose()


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return number


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m socialcoin.server", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    api = commands.add_parser(
        "serve", help="serve the API (and, unless --no-workers, the outbox and indexer)"
    )
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    api.add_argument("--no-workers", action="store_true", help="leave the chain work to a `worker` process")
    api.add_argument(
        "--processes",
        type=_positive,
        default=1,
        help="API processes (one per core); the chain work runs once",
    )
    commands.add_parser("worker", help="run only the outbox and the indexer")
    new_token = commands.add_parser("token", help="print a new bearer token, e.g. for the first admin")
    new_token.add_argument("--role", type=Role, choices=list(Role), default=Role.ADMIN)
    new_token.add_argument("--subject-id", type=int, default=None)
    new_token.add_argument("--label", default="command line")
    args = parser.parse_args(argv)
    settings_or_exit()  # checked before anything starts (with several processes, before they start)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        serve(args.host, args.port, workers=not args.no_workers, processes=args.processes)
    elif args.command == "token":
        token(args.role, args.subject_id, args.label)
    else:
        work()


if __name__ == "__main__":
    main()
