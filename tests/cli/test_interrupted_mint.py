"""A month of 10,000 rewards: the command is killed (SIGKILL) halfway through applying, then run again.
Every reward is minted exactly once: checked on chain by the RewardGranted events, claimUsed for every
claim id, the residents' balances and the minter's allowance."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
from eth_utils import keccak

from conftest import ROOT, admit_residents, task_activities, write

ROWS = 10_000
RESIDENTS = 125
ACTIVITIES = 4  # task activities at 1 euro a task, 20 tasks a month: 125 x 4 x 20 = 10,000 rewards
CHUNK = 500  # rows per request (the command's default)
KILL_AT = 4_000  # the row whose reward, once recorded, means "halfway": kill then


def rpc_batch(node, calls: list[tuple[str, list]]) -> list:
    """One JSON-RPC batch request (thousands of calls in one round trip)."""
    body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
    answers = sorted(httpx.post(node.url, json=body, timeout=120).json(), key=lambda a: a["id"])
    return [answer["result"] for answer in answers]


def claim_ids(api, references: set[str]) -> dict[str, str]:
    """claim reference -> on-chain claim id, from GET /municipality/rewards (newest first, paged)."""
    found: dict[str, str] = {}
    before = None
    while len(found) < len(references):
        params = {"limit": 500} if before is None else {"limit": 500, "before_id": before}
        page = api.get("/municipality/rewards", params=params).json()
        assert page, f"only {len(found)} of {len(references)} rewards listed"
        ours = [r for r in page if r["claim_reference"] in references]
        found.update({r["claim_reference"]: r["claim_id"] for r in ours})
        before = page[-1]["id"]
    return found


def test_killed_halfway_and_run_again_every_reward_is_minted_exactly_once(
    cli_run, api, service, tmp_path, unique
):
    activities = task_activities(api, service.demo["coins"]["GKW"], f"Klus {unique}", ACTIVITIES)
    residents = admit_residents(cli_run, tmp_path, unique, RESIDENTS)
    references = [f"{unique}/{i}" for i in range(ROWS)]
    # Row i: resident i mod 125, activity (i div 125) mod 4: each pair 20 times, spread over the file.
    cases = [residents[i % RESIDENTS]["case_number"] for i in range(ROWS)]
    activity = [activities[(i // RESIDENTS) % ACTIVITIES] for i in range(ROWS)]
    lines = [f"{cases[i]};{activity[i]};1;{references[i]}\n" for i in range(ROWS)]
    path = write(tmp_path / "maand.csv", "dossiernummer;activiteit;eenheden;claimkenmerk\n" + "".join(lines))
    allowance_before = api.get("/municipality/budgets").json()["minter_allowance_cents"]
    first_block = int(service.node.rpc("eth_blockNumber"), 16) + 1

    with (tmp_path / "first-run.log").open("w") as log:
        first = subprocess.Popen(
            [sys.executable, "-m", "socialcoin.cli", "mint", str(path)],
            env=service.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    watched = {"claim_references": [references[KILL_AT]]}
    deadline = time.monotonic() + 120
    while api.post("/municipality/rewards/lookup", json=watched).json()[0]["reward_id"] is None:
        assert first.poll() is None, (tmp_path / "first-run.log").read_text()
        assert time.monotonic() < deadline, "the first run did not get halfway within 120 s"
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    assert first.wait(timeout=10) == -signal.SIGKILL
    states = api.post("/municipality/rewards/lookup", json={"claim_references": references}).json()
    recorded = sum(state["reward_id"] is not None for state in states)
    assert KILL_AT < recorded < ROWS, "the first run was not stopped halfway"

    second = cli_run("mint", path, "--json")
    assert second.exit_code == 0, second.output
    counts = json.loads(second.stdout)["counts"]
    # The chunk the killed run had sent may still have been recorded after the count above.
    assert recorded <= counts["exists"] <= recorded + CHUNK
    assert counts == {
        "new": ROWS - counts["exists"],
        "exists": counts["exists"],
        "rejected": 0,
        "minted": ROWS,
        "failed": 0,
        "pending": 0,
    }

    # On chain: one RewardGranted per claim id, every claim id used, the right total.
    ids = claim_ids(api, set(references))
    topic = "0x" + keccak(text="RewardGranted(address,address,bytes32,uint256,address)").hex()
    issuer = service.demo["contracts"]["ActivityIssuer"]
    query = {"address": issuer, "fromBlock": hex(first_block), "topics": [topic]}
    logs = service.node.rpc("eth_getLogs", [query])
    granted = [log["topics"][3] for log in logs]
    assert len(granted) == len(set(granted)) == ROWS  # no claim id twice
    assert set(granted) == set(ids.values())
    assert sum(int(log["data"][2:66], 16) for log in logs) == ROWS * 100
    used_selector = "0x" + keccak(text="claimUsed(bytes32)")[:4].hex()
    used = rpc_batch(
        service.node,
        [
            ("eth_call", [{"to": issuer, "data": used_selector + claim_id[2:]}, "latest"])
            for claim_id in ids.values()
        ],
    )
    assert all(int(answer, 16) == 1 for answer in used)
    coin = service.demo["coins"]["GKW"]
    balances = rpc_batch(
        service.node,
        [
            ("eth_call", [{"to": coin, "data": "0x70a08231" + r["wallet"][2:].rjust(64, "0")}, "latest"])
            for r in residents
        ],
    )
    assert [int(b, 16) for b in balances] == [ROWS // RESIDENTS * 100] * RESIDENTS
    assert api.get("/municipality/budgets").json()["minter_allowance_cents"] == allowance_before - ROWS * 100
