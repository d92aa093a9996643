"""The API served for real (uvicorn, in this process, on a port of its own), and requests sent at the same
moment: what the concurrency and outage tests need that TestClient, which runs one request at a time, does
not give."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from socialcoin.api.app import create_app


@contextmanager
def served(runtime) -> Iterator[str]:
    """The API over `runtime` (no workers: the test drives the outbox and the indexer), served until the
    block ends; yields its base URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        create_app(runtime=runtime, run_workers=False), log_level="warning", timeout_keep_alive=75
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
