"""The API served for real (uvicorn, in this process, on a port of its own), and requests sent at the same
moment: what the concurrency and outage tests need that TestClient, which runs one request at a time, does
not give."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from sqlalchemy import event

from socialcoin.api.app import create_app


@contextmanager
def served(runtime, wrap: Callable[[Any], Any] | None = None) -> Iterator[str]:
    """The API over `runtime` (no workers: the test drives the outbox and the indexer), served until the
    block ends; yields its base URL. `wrap` puts an ASGI app of the test's around it (a test hook)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    app = create_app(runtime=runtime, run_workers=False)
    config = uvicorn.Config(
        wrap(app) if wrap else app,
        log_level="warning",
        timeout_keep_alive=75,
        proxy_headers=False,  # as the service runs (server.py): the app alone decides whom to trust
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(1000):
        if server.started:
            started.set()
            break
        started.wait(0.01)
    assert server.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


def at_once(count: int, request: Callable[[httpx.Client, int], httpx.Response]) -> list[httpx.Response]:
    """`count` requests sent at the same moment (each from its own thread and connection, released
    together by a barrier); their answers in order."""
    barrier = threading.Barrier(count)
    answers: list[Any] = [None] * count

    def send(index: int) -> None:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            try:
                answers[index] = request(client, index)
            except Exception as exc:  # noqa: BLE001 - kept, and reported by the test's assertions
                answers[index] = exc

    threads = [threading.Thread(target=send, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for answer in answers:
        if isinstance(answer, Exception):
            raise answer
    return answers


@contextmanager
def first_commit_held(engine, *, after: str, until: str, threads: int, times: int = 1) -> Iterator[None]:
    """Makes "halfway" deterministic: the first transaction that runs a statement containing `after` does
    not commit before statements containing `until` have run `times` times in each of `threads` threads
    (the server's request threads), so that its twins have looked, or are waiting, by the time it
    commits."""
    seen: Counter[int] = Counter()
    enough = threading.Event()
    first: list[Any] = []

    def on_statement(conn, cursor, statement, parameters, context, executemany):
        if until in statement:
            seen[threading.get_ident()] += 1
            if sum(count >= times for count in seen.values()) >= threads:
                enough.set()
        if after in statement and not first:
            first.append(conn)

    def on_commit(conn):
        if first and conn is first[0] and not enough.is_set():
            assert enough.wait(60), f"{until!r} ran only {dict(seen)} times per thread"

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)
