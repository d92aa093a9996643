"""A real anvil node for backend tests, with our contracts and the demo municipality deployed."""

from __future__ import annotations

import gzip
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
# A brownie network on this port is declared by `make setup`; parallel runs can pick another pair.
NETWORK = os.environ.get("SOCIALCOIN_TEST_NETWORK", "socialcoin-backend")
PORT = int(os.environ.get("SOCIALCOIN_TEST_CHAIN_PORT", "8556"))


def _wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"anvil did not open port {port}")


@dataclass
class ChainNode:
    """An anvil process; `snapshot`/`revert` isolate tests, `dump`/`restart` test restarts."""

    port: int
    process: subprocess.Popen | None = None
    state_file: Path | None = None
    block_time: float | None = None  # None: a block as soon as a transaction arrives

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, load_state: Path | None = None) -> None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise RuntimeError(f"port {self.port} is taken (a leftover anvil?): free it before testing")
        command = [
            str(ROOT / "tools" / "bin" / "anvil"),
            "--port",
            str(self.port),
            "--chain-id",
            "31337",
            "--base-fee",
            "0",
            "--gas-limit",
            "300000000",
            "--accounts",
            "20",
            "--silent",
        ]
        if load_state is not None:
            command += ["--load-state", str(load_state)]
        if self.block_time is not None:
            command += ["--block-time", str(self.block_time)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def hang(self) -> None:
        """The node stops answering (SIGSTOP) but keeps its port: connections are accepted, never served."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)
        self.hung = True

    def resume(self) -> None:
        if self.process is not None and getattr(self, "hung", False):
            self.process.send_signal(signal.SIGCONT)
            self.hung = False

    def rpc(self, method: str, params: list | None = None):
        answer = requests.post(
            self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}, timeout=30
        ).json()
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer["result"]

    def snapshot(self) -> str:
        return self.rpc("evm_snapshot")

    def revert(self, snapshot_id: str) -> None:
        assert self.rpc("evm_revert", [snapshot_id]) is True

    def mine(self, blocks: int = 1) -> None:
        self.rpc("anvil_mine", [hex(blocks)])

    def dump_state(self, path: Path) -> Path:
        """Saves the state where --load-state reads it (anvil_dumpState answers gzipped JSON in hex)."""
        answer = self.rpc("anvil_dumpState")
        path.write_bytes(gzip.decompress(bytes.fromhex(answer.removeprefix("0x"))))
        return path

    def dump_and_restart(self, path: Path) -> None:
        """Saves the node's state, stops it and starts a new anvil from that state (its pool is lost)."""
        self.dump_state(path)
        self.stop()
        self.start(load_state=path)


def deploy_demo(node: ChainNode) -> Path:
    """Deploys the contracts and the demo municipality with the project's brownie scripts."""
    env = dict(
        os.environ,
        PYTHONWARNINGS="ignore::FutureWarning",
        SOCIALCOIN_ADMIN_DELAY="3600",
        # An hour between a recovery's request and its execution, so that tests see it wait (make run: 0).
        SOCIALCOIN_RECOVERY_DELAY="3600",
        SOLCX_BINARY_PATH=str(ROOT / ".solcx"),
        PATH=f"{ROOT / 'tools' / 'bin'}:{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
    )
    for script in ("scripts/deploy.py", "scripts/demo.py"):
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "brownie"), "run", script, "--network", NETWORK, "--silent"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return ROOT / "deployments" / f"{NETWORK}.json"
