"""After a coin expired, burns what its holders have left and returns the total to a minter's budget
(or, without `credit_minter`, only reports it). Works while the system is paused and for frozen
holders. Needs MASTER_MINTER_ROLE on the ActivityIssuer.

Merchants lose nothing: during the coin's redemption grace they are left out (they redeem their coins
themselves); after it the contract turns each merchant's balance into a payout the municipality owes in
euros (PayoutRedeemed; the service records it), which does not return to a budget.

    brownie run scripts/reclaim.py main coin=GKW credit_minter=0x... --network <net>
    brownie run scripts/reclaim.py main coin=GKW holders=0x...,0x... --network <net>

Without `holders`, every address the coin was ever sent to (its Transfer events since the
deployment's start block) is checked. Holders with nothing left are skipped, so a run can be
repeated after an interruption.
"""

from __future__ import annotations

from brownie import web3
from eth_utils import keccak, to_checksum_address

from scripts._admin import (
    ZERO_ADDRESS,
    Admin,
    Arg,
    Refusal,
    address,
    address_list,
    euros,
    parse_args,
    say,
    when,
)
from socialcoin.chain.constants import Kind

USAGE = [
    "brownie run scripts/reclaim.py main coin=GKW [credit_minter=0x...] [holders=0x...,0x...] "
    "--network <net>",
]
TRANSFER = keccak(text="Transfer(address,address,uint256)")
# Holders per transaction, and blocks per log query (nodes limit the range of one eth_getLogs).
BATCH_SIZE = 200
LOG_SPAN = 10_000


def main(*args):
    admin = Admin.connect()
    values = parse_args(
        args,
        [
            Arg("coin", "GKW", admin.coin),
            Arg("credit_minter", "0x...", address, required=False),
            Arg("holders", "0x...,0x...", address_list, required=False),
        ],
        USAGE,
    )
    coin, minter = values["coin"], values["credit_minter"]
    now = admin.chain_time()
    if coin.expiry == 0:
        raise Refusal(f"munt {coin.label()} vervalt nooit", f"coin {coin.label()} never expires")
    if now < coin.expiry:
        raise Refusal(
            f"munt {coin.label()} vervalt pas op {when(coin.expiry)} (de chain staat op {when(now)})",
            f"coin {coin.label()} expires only at {when(coin.expiry)} (the chain is at {when(now)})",
        )
    if minter and not admin.issuer.hasRole(admin.issuer.MINTER_ROLE(), minter):
        raise Refusal(
            f"credit_minter={minter} is geen minter (geef het eerst een budget met scripts/minter_budget.py)",
            f"credit_minter={minter} is not a minter (give it a budget first with scripts/minter_budget.py)",
        )
    holders = [
        holder for holder in values["holders"] or receivers(admin, coin) if coin.contract.balanceOf(holder)
    ]
    merchants = {holder for holder in holders if admin.registry.participant(holder)[0] == Kind.MERCHANT}
    grace_ends = coin.expiry + coin.contract.redemptionGrace()
    if merchants and now < grace_ends:
        holders = [holder for holder in holders if holder not in merchants]
        say(
            f"{len(merchants)} ondernemer(s) mogen hun {coin.symbol} nog tot {when(grace_ends)} zelf "
            "inwisselen; zij blijven buiten deze ronde.",
            f"{len(merchants)} merchant(s) may redeem their {coin.symbol} themselves until "
            f"{when(grace_ends)}; they are left out of this run.",
        )
    if not holders:
        say(
            f"Niets terug te halen: niemand heeft nog {coin.symbol}.",
            f"Nothing to reclaim: nobody holds {coin.symbol}.",
        )
        return []
    admin.require_role("issuer", "MASTER_MINTER_ROLE")

    where_nl = f"naar het budget van {minter}" if minter else "alleen gemeld, aan geen budget toegevoegd"
    where_en = f"to the budget of {minter}" if minter else "only reported, added to no budget"
    txs = []
    for start in range(0, len(holders), BATCH_SIZE):
        chunk = holders[start : start + BATCH_SIZE]
        total = sum(coin.contract.balanceOf(holder) for holder in chunk if holder not in merchants)
        payouts = sum(coin.contract.balanceOf(holder) for holder in chunk if holder in merchants)
        payouts_nl = f"; {euros(payouts)} van ondernemers wordt uitbetaling in euro's" if payouts else ""
        payouts_en = f"; {euros(payouts)} of merchants becomes payouts in euros" if payouts else ""
        txs.append(
            admin.send(
                f"{euros(total)} in {coin.symbol} van {len(chunk)} houder(s) teruggehaald, {where_nl}"
                f"{payouts_nl}",
                f"{euros(total)} in {coin.symbol} reclaimed from {len(chunk)} holder(s), {where_en}"
                f"{payouts_en}",
                admin.issuer.reclaimExpired,
                coin.address,
                chunk,
                minter or ZERO_ADDRESS,
            )
        )
    return txs


def receivers(admin: Admin, coin) -> list[str]:
    """Every address the coin was ever sent to, in order of first receipt."""
    found: dict[str, None] = {}
    start, end = int(admin.deployment.get("start_block", 0)), web3.eth.block_number
    for first in range(start, end + 1, LOG_SPAN):
        query = {
            "address": coin.address,
            "topics": [TRANSFER],
            "fromBlock": first,
            "toBlock": min(end, first + LOG_SPAN - 1),
        }
        for log in web3.eth.get_logs(query):
            receiver = to_checksum_address(bytes(log["topics"][2])[-20:])
            if receiver != ZERO_ADDRESS:
                found[receiver] = None
    return list(found)
