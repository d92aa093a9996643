"""Fires GET requests at a fixed rate and reports their latencies (bench/service.py runs it in a process
of its own).

    .venv/bin/python bench/api_load.py --url http://127.0.0.1:8593 --rps 300 --seconds 10 \\
        --path /public/status --path /public/coins --header "Authorization: Bearer ..."

Open loop: request i is due at start + i / rps whether or not earlier ones have answered, and its
latency runs from that due time to the last byte of the answer (so a stalled server cannot hide its
queue by slowing the sender down); a request that fails or times out (--timeout) counts as failed,
with a latency of at least the timeout. Requests go round-robin over the paths on keep-alive HTTP/1.1
connections (raw asyncio: the client's own overhead stays far below the server's); a new connection
opens only when all open ones are busy, up to --max-connections (256, like a reverse proxy's pool to
the service; a request waiting for one is still timed from its due time). The first --warmup seconds
are not counted. Prints one JSON object: per path and overall p50/p90/p99/max in ms, how many
answered, failed and were sent late.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from urllib.parse import urlsplit


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    async def get(self, request: bytes) -> tuple[int, bool]:
        """Sends one request, reads the whole answer; its status code, and whether the server closes."""
        self.writer.write(request)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                close = True
        if chunked:
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            await self.reader.readexactly(length)
        return status, close

    def close(self) -> None:
        self.writer.close()


async def run(
    url: str,
    paths: list[str],
    headers: list[str],
    rps: float,
    seconds: float,
    warmup: float,
    timeout: float,
    max_connections: int,
) -> dict:
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port or 80
    extra = "".join(f"{h}\r\n" for h in headers)
    requests = [f"GET {p} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode() for p in paths]
    idle: list[Connection] = []
    opened = 0
    results: list[tuple[int, float, float, int | None]] = []  # path index, due, latency, status
    slots = asyncio.Semaphore(max_connections)

    async def one(index: int, due: float) -> None:
        async with slots:  # waiting for a free connection counts in the latency (it runs from `due`)
            await attempt(index, due)

    async def attempt(index: int, due: float) -> None:
        nonlocal opened
        which = index % len(paths)
        connection = idle.pop() if idle else None
        try:
            if time.perf_counter() - due > timeout:
                raise TimeoutError("waited too long for a connection")
            if connection is None:
                reader, writer = await asyncio.open_connection(host, port)
                connection = Connection(reader, writer)
                opened += 1
            status, close = await asyncio.wait_for(connection.get(requests[which]), timeout)
            results.append((which, due, time.perf_counter() - due, status))
            if close:
                connection.close()
            else:
                idle.append(connection)
        except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError):
            # A failure counts as slow as a timeout (at least `timeout`): failing fast is no success.
            results.append((which, due, max(time.perf_counter() - due, timeout), None))
            if connection is not None:
                connection.close()

    total = int(rps * (seconds + warmup))
    start = time.perf_counter() + 0.05
    tasks = []
    late = 0
    for i in range(total):
        due = start + i / rps
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.005:
            late += 1
        tasks.append(asyncio.create_task(one(i, due)))
    sending = time.perf_counter() - start
    await asyncio.gather(*tasks)
    for connection in idle:
        connection.close()

    counted = [r for r in results if r[1] >= start + warmup]
    report = {
        "rps": rps,
        "seconds": seconds,
        "sent": total,
        "counted": len(counted),
        "sent_rps": round(total / sending, 1),
        "connections": opened,
        "sent_late": late,
        "failed": sum(1 for r in counted if r[3] is None or r[3] >= 400),
        "statuses": sorted({r[3] for r in counted if r[3] is not None}),
        "paths": {},
    }
    for which, path in enumerate(paths):
        report["paths"][path] = summary([r[2] for r in counted if r[0] == which])
    report["all"] = summary([r[2] for r in counted])
    return report


def summary(latencies: list[float]) -> dict:
    if not latencies:
        return {"n": 0}
    ms = sorted(x * 1000 for x in latencies)

    def pick(q: float) -> float:
        return round(ms[min(len(ms) - 1, int(q * len(ms)))], 2)

    return {
        "n": len(ms),
        "p50": pick(0.50),
        "p90": pick(0.90),
        "p99": pick(0.99),
        "max": round(ms[-1], 2),
        "mean": round(statistics.fmean(ms), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True)
    parser.add_argument("--path", action="append", required=True)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--rps", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--timeout", type=float, default=10, help="per request, in seconds")
    parser.add_argument("--max-connections", type=int, default=256, help="as a reverse proxy's pool")
    args = parser.parse_args()
    report = asyncio.run(
        run(
            args.url,
            args.path,
            args.header,
            args.rps,
            args.seconds,
            args.warmup,
            args.timeout,
            args.max_connections,
        )
    )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
