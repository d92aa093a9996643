"""Running the service: `python -m socialcoin.server serve` (API + workers) or `worker` (workers only).

Settings come from SOCIALCOIN_* environment variables (see settings.py). Both commands migrate the
database first; several API instances may share one database, with one worker process per signing key.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading

import uvicorn

from .api.app import create_app
from .runtime import Runtime
from .settings import Settings


def serve(host: str, port: int, workers: bool) -> None:
    app = create_app(Settings.from_env(), run_workers=workers)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def work() -> None:
    runtime = Runtime.start(Settings.from_env())
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    runtime.start_workers()
    stopped.wait()
    runtime.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m socialcoin.server", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    api = commands.add_parser(
        "serve", help="serve the API (and, unless --no-workers, the outbox and indexer)"
    )
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    api.add_argument("--no-workers", action="store_true", help="leave the chain work to a `worker` process")
    commands.add_parser("worker", help="run only the outbox and the indexer")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        serve(args.host, args.port, workers=not args.no_workers)
    else:
        work()


if __name__ == "__main__":
    main()
