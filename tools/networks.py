"""Declares the project's brownie networks in brownie's network-config.yaml, safely beside other runs.

    .venv/bin/python tools/networks.py [--config PATH] NAME=PORT [NAME=PORT ...]

Each NAME becomes the development network that

    brownie networks add Development NAME cmd=anvil host=http://127.0.0.1 port=PORT accounts=20 \\
        gas_limit=300000000 base_fee=0 chain_id=31337

would declare (the very same entry). brownie keeps its networks in one file per user
(~/.brownie/network-config.yaml, after HOME), and `brownie networks add`/`delete` rewrite that file in
place: two `make` runs doing so at the same moment corrupted it. Here, under an exclusive lock on
network-config.yaml.lock beside it, the file is read and written back only when one of the entries is
missing or differs: to a temporary file in the same folder, flushed to disk, then renamed over the old
one, so that a brownie process reading it meanwhile sees either the old file or the new one. Other
entries (brownie's own, an operator's production network) are kept as they are. An unchanged file is
left alone (same bytes, same modification time).

If the file does not exist yet (a fresh machine), brownie writes its default first (`brownie --version`
does), under the same lock. bench/service.py calls ensure_networks() of this module for its network.
Runs that edit the file without this lock (someone's `brownie networks add` by hand) are not covered.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import yaml

HOST = "http://127.0.0.1"
MOVE_AWAY = "move it away and run again (brownie then writes its default)"


class NetworkConfigError(Exception):
    """network-config.yaml cannot be read as brownie's network file: it is left as it is."""


def default_config() -> Path:
    """Where brownie keeps its networks: ~/.brownie/network-config.yaml (brownie reads HOME too)."""
    return Path.home() / ".brownie" / "network-config.yaml"


def development_entry(name: str, port: int) -> dict:
    """The entry `brownie networks add Development NAME cmd=anvil ...` writes for our local anvil chains."""
    return {
        "cmd": "anvil",
        "cmd_settings": {
            "accounts": 20,
            "base_fee": 0,
            "chain_id": 31337,
            "gas_limit": 300_000_000,
            "port": port,
        },
        "host": HOST,
        "id": name,
        "name": name,
    }


def ensure_networks(networks: Mapping[str, int], config: Path | None = None) -> list[str]:
    """Declares each network NAME -> PORT; returns the names whose entry was added or changed."""
    config = Path(config) if config is not None else default_config()
    config.parent.mkdir(parents=True, exist_ok=True)
    lock_path = config.with_name(config.name + ".lock")
    with open(lock_path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # Another run holds the lock: say so (a test waits for this line), then wait for it.
            print(f"waiting for the lock on {lock_path}", file=sys.stderr, flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        if not config.exists():
            create_default(config)
        return update(config, networks)


def create_default(config: Path) -> None:
    """Lets brownie write its default network-config.yaml (it does on start when the file is missing)."""
    if config.name != "network-config.yaml" or config.parent.name != ".brownie":
        raise NetworkConfigError(
            f"{config} does not exist, and brownie only creates ~/.brownie/network-config.yaml"
        )
    brownie = Path(sys.executable).with_name("brownie")
    command = str(brownie) if brownie.exists() else shutil.which("brownie")
    if command is None:
        raise NetworkConfigError(f"{config} does not exist and no brownie command was found to create it")
    subprocess.run(
        [command, "--version"],
        env={**os.environ, "HOME": str(config.parent.parent)},
        cwd=config.parent,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    if not config.exists():
        raise NetworkConfigError(f"brownie did not create {config}")


def update(config: Path, networks: Mapping[str, int]) -> list[str]:
    """Rewrites config (the caller holds the lock) only when an entry of `networks` is missing or differs."""
    text = config.read_text()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise NetworkConfigError(f"{config} is not valid YAML ({error}); {MOVE_AWAY}") from None
    development = data.get("development") if isinstance(data, dict) else None
    if not isinstance(development, list) or not all(isinstance(e, dict) and "id" in e for e in development):
        raise NetworkConfigError(f"{config} has no list of development networks; {MOVE_AWAY}")
    live_ids = {
        network.get("id")
        for group in data.get("live") or []
        if isinstance(group, dict)
        for network in group.get("networks") or []
        if isinstance(network, dict)
    }
    changed = []
    for name, port in networks.items():
        if name in live_ids:
            raise NetworkConfigError(f"{config} declares {name} as a live network: rename or delete that one")
        wanted = development_entry(name, int(port))
        places = [i for i, entry in enumerate(development) if entry["id"] == name]
        if len(places) == 1 and development[places[0]] == wanted:
            continue
        changed.append(name)
        if places:
            # Replaced where it stood; further copies (brownie refuses duplicate ids) are dropped.
            development[places[0]] = wanted
            for i in reversed(places[1:]):
                del development[i]
        else:
            development.append(wanted)
    if changed:
        write_atomically(config, yaml.safe_dump(data))
    return changed


def write_atomically(path: Path, text: str) -> None:
    """Replaces path by a complete new file: a temporary file beside it, synced, then renamed over it."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def parse_network(argument: str) -> tuple[str, int]:
    name, separator, port = argument.partition("=")
    if not separator or not name or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected NAME=PORT, got {argument!r}")
    return name, int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("networks", nargs="+", type=parse_network, metavar="NAME=PORT")
    parser.add_argument("--config", type=Path, default=None, help="default: ~/.brownie/network-config.yaml")
    args = parser.parse_args(argv)
    try:
        changed = ensure_networks(dict(args.networks), args.config)
    except NetworkConfigError as error:
        print(f"tools/networks.py: {error}", file=sys.stderr)
        return 1
    for name in changed:
        print(f"brownie network {name} declared (port {dict(args.networks)[name]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
