"""A month of 10,000 rewards: the command is killed (SIGKILL) halfway through applying, then run again.
Every reward is minted exactly once: checked on chain by the RewardGranted events, claimUsed for every
claim id, the residents' balances and the minter's allowance.

"Halfway" is made certain, not waited for: the command applies the file in two chunks and, told so by
SOCIALCOIN_CLI_TEST_HALFWAY, stops after the first one until it is killed (a busy machine could otherwise
finish the whole file before the kill)."""

from __future__ import annotations

import json
import os
import signal

import httpx
from eth_utils import keccak

from conftest import admit_residents, command, committed, halfway, task_activities, write
from socialcoin.cli.batch import HALFWAY_FILE

ROWS = 10_000
RESIDENTS = 125
ACTIVITIES = 4  # task activities at 1 euro a task, 20 tasks a month: 125 x 4 x 20 = 10,000 rewards
CHUNK = ROWS // 2  # rows per request: the kill comes after the first of two


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

    marker, log = tmp_path / "halfway", tmp_path / "first-run.log"
    args = ["mint", str(path), "--chunk-size", str(CHUNK)]
    with command(args, {**service.env, HALFWAY_FILE: str(marker)}, log) as first:
        halfway(first, marker, log)  # the first chunk is applied, the second not sent
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL

    def recorded() -> list[int]:
        states = api.post("/municipality/rewards/lookup", json={"claim_references": references}).json()
        return [i for i, state in enumerate(states) if state["reward_id"] is not None]

    assert committed(recorded, list(range(CHUNK))) == list(range(CHUNK)), "not stopped after the first chunk"

    second = cli_run("mint", path, "--json")
    assert second.exit_code == 0, second.output
    counts = json.loads(second.stdout)["counts"]
    assert counts == {
        "new": ROWS - CHUNK,
        "exists": CHUNK,
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
