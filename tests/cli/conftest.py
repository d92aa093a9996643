"""The `socialcoin` command against a real backend (`python -m socialcoin.server serve`, SQLite) on a real
anvil with the contracts and the demo municipality deployed (scripts/deploy.py, scripts/demo.py and
socialcoin.demo). One chain and one backend serve the whole session: each test uses case numbers and
references of its own, and checks through the API that what it refused changed nothing.

Ports and brownie network: SOCIALCOIN_CLI_TEST_NETWORK (default socialcoin-cli, declared by `make
networks`), SOCIALCOIN_CLI_TEST_CHAIN_PORT (8557) and SOCIALCOIN_CLI_TEST_API_PORT (8558).
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from socialcoin.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
NETWORK = os.environ.get("SOCIALCOIN_CLI_TEST_NETWORK", "socialcoin-cli")
CHAIN_PORT = int(os.environ.get("SOCIALCOIN_CLI_TEST_CHAIN_PORT", "8557"))
API_PORT = int(os.environ.get("SOCIALCOIN_CLI_TEST_API_PORT", "8558"))


def load_chainnode():
    """tests/backend/chainnode.py by path (the backend tests' anvil and deployment), on our network."""
    spec = importlib.util.spec_from_file_location(
        "socialcoin_cli_chainnode", ROOT / "tests/backend/chainnode.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.NETWORK = NETWORK
    return module


@dataclass
class Service:
    url: str
    token: str
    env: dict[str, str]  # the backend's SOCIALCOIN_* settings (and the CLI's)
    node: Any
    demo: dict
    work: Path

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=120)


def backend_env(work: Path, rpc_url: str, deployment: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCOIN_")}
    env.update(
        PYTHONWARNINGS="ignore::FutureWarning",
        PYTHONPATH=str(ROOT / "backend"),
        SOCIALCOIN_ENVIRONMENT="test",
        SOCIALCOIN_DATABASE_URL=f"sqlite:///{work / 'cli.db'}",
        SOCIALCOIN_RPC_URL=rpc_url,
        SOCIALCOIN_DEPLOYMENT_FILE=str(deployment),
        SOCIALCOIN_EVIDENCE_DIR=str(work / "evidence"),
    )
    return env


def create_tables(url: str) -> None:
    """The tables from the models, stamped as migrated, as the backend tests make them
    (tests/backend/test_migrations.py checks that the migrations build the same)."""
    from sqlalchemy import create_engine

    from socialcoin.db import models  # noqa: F401 - registers the tables
    from socialcoin.db.base import Base
    from socialcoin.db.migrate import stamp_head

    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    stamp_head(url)


def prepared_backend(work: Path, rpc_url: str, deployment: Path) -> tuple[dict[str, str], str]:
    """The backend's settings for a fresh SQLite database in `work` with its tables and the demo data
    (socialcoin.demo), and an admin token. (bench/csv_batches.py uses it too.)"""
    env = backend_env(work, rpc_url, deployment)
    create_tables(env["SOCIALCOIN_DATABASE_URL"])
    subprocess.run(
        [sys.executable, "-m", "socialcoin.demo"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    token = subprocess.run(
        [
            sys.executable,
            "-m",
            "socialcoin.server",
            "token",
            "--role",
            "municipality_admin",
            "--label",
            "cli",
        ],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return env, token


def start_backend(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise RuntimeError(f"port {port} is taken: free it before testing")
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "socialcoin.server", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the backend ended: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/public/status", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the backend did not answer within 60 s")


@pytest.fixture(scope="session")
def service(tmp_path_factory) -> Service:
    chainnode = load_chainnode()
    work = tmp_path_factory.mktemp("cli-backend")
    node = chainnode.ChainNode(CHAIN_PORT)
    node.start()
    server = None
    try:
        deployment = chainnode.deploy_demo(node)
        env, token = prepared_backend(work, node.url, deployment)
        server = start_backend(env, API_PORT, work / "backend.log")
        url = f"http://127.0.0.1:{API_PORT}"
        env = {**env, "SOCIALCOIN_API_URL": url, "SOCIALCOIN_TOKEN": token}
        yield Service(url, token, env, node, json.loads(deployment.read_text()), work)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        node.stop()


@pytest.fixture(scope="session")
def api(service):
    """An admin's HTTP client, for setting up and for checking what the command did."""
    with service.http() as client:
        yield client


@pytest.fixture
def cli_run(service):
    """cli_run("admit", path, ...) -> click Result: the command in this process, with the backend's URL
    and an admin token in its environment (as staff would set them)."""

    def run(*args: Any, token: str | None = None) -> Result:
        env = {"SOCIALCOIN_API_URL": service.url, "SOCIALCOIN_TOKEN": token or service.token}
        result = CliRunner().invoke(cli, [str(a) for a in args], env=env, prog_name="socialcoin")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return run


@pytest.fixture
def unique() -> str:
    """A prefix for this test's case numbers and references."""
    return uuid.uuid4().hex[:8].upper()


def write(path: Path, text: str, encoding: str = "utf-8-sig") -> Path:
    """A CSV as Excel saves it: UTF-8 with BOM and CRLF line ends unless told otherwise."""
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    return path


@contextmanager
def command(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """`socialcoin ARGS` in a process of its own (output to `log`), killed at the end if it still runs, so
    that a failing test leaves no command waiting behind it. SIGINT is set to its default in the child, as
    from a terminal: a shell script that starts the tests in the background (`make test &`) leaves SIGINT
    ignored, and every process below it would then ignore Ctrl-C too."""
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "socialcoin.cli", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def halfway(process: subprocess.Popen, marker: Path, log: Path, timeout: float = 300) -> None:
    """Waits until a command started with SOCIALCOIN_CLI_TEST_HALFWAY=marker has applied its first chunk
    and stopped there (it creates the marker, then waits to be interrupted): however busy the machine, a
    signal sent now finds it provably halfway."""
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert process.poll() is None, f"the command ended before it got halfway:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"the command did not get halfway in {timeout:.0f} s"
        time.sleep(0.05)  # polling the marker: the condition, not the time, decides


def committed(read: Callable[[], Any], expected: Any, timeout: float = 60) -> Any:
    """`read()` once it answers `expected`, or its last answer after `timeout` s (for the test to show).
    The backend commits a request's work only after it has sent the answer (its session dependency ends
    after the response), so what a command was told is done may be invisible for a moment; until that is
    fixed, a test that reads right after a command waits for the commit with this."""
    deadline = time.monotonic() + timeout
    while (answer := read()) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return answer


def counted(stdout: str, label: str) -> int:
    """The count on the summary table's line for `label` (e.g. "nieuw / new")."""
    found = [line.rsplit(maxsplit=1)[-1] for line in stdout.splitlines() if line.startswith(label + "  ")]
    assert len(found) == 1, f"no line {label!r} in:\n{stdout}"
    return int(found[0])


def admit_residents(cli_run, folder: Path, prefix: str, count: int, area: str = "BU02020101") -> list[dict]:
    """`count` residents with own wallets, admitted with the command and registered on chain."""
    from eth_account import Account

    residents = [
        {"case_number": f"{prefix}-{i}", "wallet": Account.create().address} for i in range(1, count + 1)
    ]
    lines = "".join(f"{r['case_number']};Bewoner {i};{area};{r['wallet']}\n" for i, r in enumerate(residents))
    path = write(folder / f"bewoners-{prefix}.csv", "dossiernummer;naam;buurt;wallet\n" + lines)
    result = cli_run("admit", path)
    assert result.exit_code == 0, result.output
    return residents


def balance(node, coin: str, holder: str) -> int:
    """The coin's balanceOf(holder), read from the chain."""
    data = "0x70a08231" + holder.lower().removeprefix("0x").rjust(64, "0")
    return int(node.rpc("eth_call", [{"to": coin, "data": data}, "latest"]), 16)


def task_activities(
    api, coin: str, title: str, count: int = 1, budget_cents: int = 20_000_00, **terms: Any
) -> list[int]:
    """A programme for `coin` with `count` task activities of the demo organisation: 1 euro a task, at
    most 20 a month, open from yesterday for 60 days, in wijk Geitenkamp, unless `terms` say otherwise.
    Their ids. (bench/csv_batches.py uses it too.)"""
    from datetime import UTC, datetime, timedelta

    organisation = api.get("/municipality/organisations").json()[0]["id"]
    programme = api.post(
        "/municipality/programmes", json={"name": title, "coin": coin, "budget_cents": budget_cents}
    )
    assert programme.status_code == 201, programme.text
    now = datetime.now(UTC)
    body = {
        "description": "Een klus voor een buur.",
        "unit": "task",
        "area": "WK020201",
        "programme_id": programme.json()["id"],
        "organisation_id": organisation,
        "value_cents_per_unit": 100,
        "starts_on": (now - timedelta(days=1)).isoformat(),
        "ends_on": (now + timedelta(days=60)).isoformat(),
        "task_days": 14,
        "cap_units_per_month": 20,
        **terms,
    }
    ids = []
    for number in range(count):
        created = api.post("/municipality/activities", json={**body, "title": f"{title} {number}"})
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    return ids
