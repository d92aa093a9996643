"""tools/networks.py: brownie's network file is rewritten under a lock, atomically, and only when needed.

Every test works on a network-config.yaml under a temporary HOME, never on the real ~/.brownie.
"""

from __future__ import annotations

import difflib
import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "networks.py"
BROWNIE = Path(sys.executable).with_name("brownie")
# What the Makefile declares (socialcoin-local at the default RUN_PORT).
OURS = {
    "socialcoin-test": 8555,
    "socialcoin-backend": 8556,
    "socialcoin-bench-service": 8592,
    "socialcoin-cli": 8557,
    "socialcoin-bench-csv": 8595,
    "socialcoin-local": 8545,
}


def brownie_default() -> Path:
    """The network-config.yaml brownie copies to ~/.brownie when there is none (found, not imported)."""
    import importlib.util

    spec = importlib.util.find_spec("brownie")
    return Path(spec.submodule_search_locations[0]) / "data" / "network-config.yaml"


def seeded_home(tmp_path: Path, name: str = "home") -> Path:
    """A HOME whose .brownie holds brownie's default network file, as on a machine brownie has run on."""
    home = tmp_path / name
    (home / ".brownie").mkdir(parents=True)
    shutil.copyfile(brownie_default(), home / ".brownie" / "network-config.yaml")
    return home


def config_of(home: Path) -> Path:
    return home / ".brownie" / "network-config.yaml"


def arguments(networks: dict[str, int]) -> list[str]:
    return [f"{name}={port}" for name, port in networks.items()]


def run_script(home: Path, networks: dict[str, int], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *arguments(networks)],
        env={**os.environ, "HOME": str(home)},
        cwd=home,
        capture_output=True,
        text=True,
        **kwargs,
    )


def development_ids(config: Path) -> list[str]:
    return [entry["id"] for entry in yaml.safe_load(config.read_text())["development"]]


def test_the_entries_are_those_brownie_networks_add_writes(tmp_path):
    by_brownie, by_script = seeded_home(tmp_path, "brownie"), seeded_home(tmp_path, "script")
    for name, port in OURS.items():
        subprocess.run(
            [
                str(BROWNIE),
                "networks",
                "add",
                "Development",
                name,
                "cmd=anvil",
                "host=http://127.0.0.1",
                f"port={port}",
                "accounts=20",
                "gas_limit=300000000",
                "base_fee=0",
                "chain_id=31337",
            ],
            env={**os.environ, "HOME": str(by_brownie)},
            cwd=by_brownie,
            check=True,
            capture_output=True,
        )
    assert run_script(by_script, OURS).returncode == 0
    assert config_of(by_script).read_bytes() == config_of(by_brownie).read_bytes()


def test_a_fresh_home_gets_brownies_default_then_ours(tmp_path):
    home = tmp_path / "fresh"
    home.mkdir()
    done = run_script(home, OURS)
    assert done.returncode == 0, done.stderr
    data = yaml.safe_load(config_of(home).read_text())
    default = yaml.safe_load(brownie_default().read_text())
    assert data["live"] == default["live"]
    assert data["development"][: len(default["development"])] == default["development"]
    assert [entry["id"] for entry in data["development"][len(default["development"]) :]] == list(OURS)


def test_many_runs_at_once_leave_valid_yaml_with_every_entry_once(tmp_path):
    """Twelve runs each add an entry of their own (so each must write) and the six shared ones.

    The test holds the lock while it starts them and lets go only once every run has said it waits
    for the lock: they all contend, however fast or slow the machine is.
    """
    home = seeded_home(tmp_path)
    config = config_of(home)
    runs = {f"extra-{i}": 9000 + i for i in range(12)}
    with open(config.with_name("network-config.yaml.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        processes = [
            subprocess.Popen(
                [sys.executable, str(SCRIPT), *arguments({**OURS, extra: port})],
                env={**os.environ, "HOME": str(home)},
                cwd=home,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for extra, port in runs.items()
        ]
        for process in processes:
            assert "waiting for the lock" in process.stderr.readline()
        fcntl.flock(lock, fcntl.LOCK_UN)
    for process in processes:
        _, errors = process.communicate()
        assert process.returncode == 0, errors
    ids = development_ids(config)
    for name in [*OURS, *runs]:
        assert ids.count(name) == 1, name
    entries = {entry["id"]: entry for entry in yaml.safe_load(config.read_text())["development"]}
    for name, port in {**OURS, **runs}.items():
        assert entries[name]["cmd_settings"]["port"] == port
    assert "development" in ids and "anvil" in ids  # brownie's own are still there
    # No temporary file is left behind.
    assert sorted(p.name for p in config.parent.iterdir()) == [config.name, config.name + ".lock"]


def test_an_unchanged_file_is_not_rewritten(tmp_path):
    home = seeded_home(tmp_path)
    config = config_of(home)
    first = run_script(home, OURS)
    assert first.returncode == 0 and "socialcoin-local" in first.stdout
    os.utime(config, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    before, stat = config.read_bytes(), config.stat()
    again = run_script(home, OURS)
    assert again.returncode == 0 and again.stdout == ""
    after = config.stat()
    assert config.read_bytes() == before
    assert (after.st_ino, after.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)


def test_a_changed_port_rewrites_only_that_entry_and_keeps_foreign_ones(tmp_path):
    home = seeded_home(tmp_path)
    config = config_of(home)
    data = yaml.safe_load(config.read_text())
    # An operator's own networks: a production node and a development chain of another project.
    data["live"].append(
        {
            "name": "Gemeente",
            "networks": [{"id": "gemeente", "host": "https://node.example", "chainid": "4242"}],
        }
    )
    data["development"].append(
        {
            "cmd": "anvil",
            "cmd_settings": {"port": 7545},
            "host": "http://127.0.0.1",
            "id": "other",
            "name": "x",
        }
    )
    config.write_text(yaml.safe_dump(data))
    assert run_script(home, OURS).returncode == 0
    before = config.read_text()

    done = run_script(home, {**OURS, "socialcoin-local": 8600})
    assert done.returncode == 0
    assert done.stdout.strip() == "brownie network socialcoin-local declared (port 8600)"
    changed = [
        line
        for line in difflib.unified_diff(
            before.splitlines(), config.read_text().splitlines(), n=0, lineterm=""
        )
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed == ["-    port: 8545", "+    port: 8600"]
    entries = yaml.safe_load(config.read_text())["development"]
    local = next(entry for entry in entries if entry["id"] == "socialcoin-local")
    assert local["cmd_settings"]["port"] == 8600
    assert yaml.safe_load(config.read_text())["live"][-1]["networks"][0]["id"] == "gemeente"
    assert "other" in development_ids(config)


def test_duplicates_of_an_entry_are_merged_into_one(tmp_path):
    home = seeded_home(tmp_path)
    config = config_of(home)
    assert run_script(home, OURS).returncode == 0
    data = yaml.safe_load(config.read_text())
    data["development"].append(dict(data["development"][-1]))
    config.write_text(yaml.safe_dump(data))
    assert run_script(home, OURS).returncode == 0
    assert development_ids(config).count("socialcoin-local") == 1


@pytest.mark.parametrize("text", ["development: [\n- cmd: anvil\n  id: x\n", "just: words\n"])
def test_a_file_that_is_not_brownies_is_left_alone_with_a_message(tmp_path, text):
    home = seeded_home(tmp_path)
    config = config_of(home)
    config.write_text(text)
    done = run_script(home, OURS)
    assert done.returncode == 1
    assert "move it away and run again" in done.stderr
    assert config.read_text() == text
