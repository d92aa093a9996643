"""A stateful property test of the whole system (rules I1–I7).

hypothesis drives random registrations, attested and admin mints, payments (sent by the payer or
relayed with a signature), refunds of those payments (sent by the payee or relayed), burns of every kind,
freezes, two-step recoveries (requested, executed after the delay or too early, cancelled), pauses,
minter budgets, expiry and the merchants' redemption grace against the deployed contracts, with coins
that carry a holding cap. Alongside, a Python model keeps what the chain should hold. The model's
transfer rule is written from docs/contracts.md (T1–T14, B1–B8, M1–M18, X1–X7, F1–F7, H1–H4, L1–L9), not
from the contract or from `canTransfer`: every action is attempted whether or not the rules allow it, and
the model must predict acceptance or refusal exactly, and the refusal's reason among those that apply.

After every step the books are read from the chain in one call and compared with the model.

brownie's own `state_machine` fixture is broken in 1.22 (see /work/shared/TOOLCHAIN.md), so this uses
hypothesis's RuleBasedStateMachine directly, with a chain snapshot per example.

Examples and steps per example default to 30 and 30 (about 40 s here); for a longer search:

    SOCIALCOIN_STATEFUL_EXAMPLES=100 SOCIALCOIN_STATEFUL_STEPS=50 \
        brownie test tests/contracts/test_invariants.py --network <yours>
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

import pytest
from brownie import ZERO_ADDRESS, accounts, chain, compile_source, history, web3
from brownie.exceptions import TransactionError, VirtualMachineError
from eth_abi import encode
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from socialcoin.areas import to_bytes8
from socialcoin.chain.constants import BurnReason, Kind, Purpose, TransferRefusal, purpose_set
from support import (
    BUURT,
    FAR_FUTURE,
    GEMEENTE,
    ONE_EURO,
    OTHER_GEMEENTE,
    OTHER_WIJK,
    WIJK,
    coin_domain,
    issuer_domain,
    local_account,
    ref,
    sign_with,
)

STATEFUL_EXAMPLES = int(os.environ.get("SOCIALCOIN_STATEFUL_EXAMPLES", "30"))
STATEFUL_STEPS = int(os.environ.get("SOCIALCOIN_STATEFUL_STEPS", "30"))

SMALL_BUDGET = 30 * ONE_EURO
STARTING_BALANCE = 20 * ONE_EURO
COIN_LIFETIME = 10 * 24 * 3600
REDEMPTION_GRACE = 5 * 24 * 3600
SPORT_CAP = 40 * ONE_EURO
MOBILITY_CAP = 30 * ONE_EURO
ZERO_REFERENCE = b"\x00" * 32
AREAS = ["NL", GEMEENTE, OTHER_GEMEENTE, WIJK, OTHER_WIJK, BUURT]

# P3: the burns residents may make with coins of each purpose.
RESIDENT_BURNS = {
    Purpose.DEBT_SETTLEMENT: {BurnReason.DEBT_SETTLEMENT},
    Purpose.MUNICIPAL_SERVICES: {BurnReason.SERVICE_REDEMPTION},
    Purpose.LOCAL_SPENDING: set(),
    Purpose.SPORT_CULTURE: {BurnReason.SERVICE_REDEMPTION},
    Purpose.MOBILITY: {BurnReason.SERVICE_REDEMPTION},
    Purpose.ENERGY: set(),
    Purpose.EDUCATION: {BurnReason.SERVICE_REDEMPTION},
}

GOVERNANCE = [
    *["register"] * 3,
    "freeze",
    "unfreeze",
    "pause",
    *["unpause"] * 2,
    "raise minter",
    "lower minter",
    "remove minter",
    *["authorise verifier"] * 2,
    "withdraw verifier",
    "stranger",
]
STRANGER_ACTIONS = [
    "pause",
    "register",
    "freeze",
    "recover",
    "execute",
    "configure",
    "admin mint",
    "coin mint",
    "reclaim",
]

BURN_EVENTS = {
    BurnReason.DEBT_SETTLEMENT: ("DebtSettled", "resident", "debtReference"),
    BurnReason.SERVICE_REDEMPTION: ("ServiceRedeemed", "resident", "serviceReference"),
    BurnReason.MERCHANT_PAYOUT: ("PayoutRedeemed", "merchant", "payoutReference"),
}

# The steps of a recovery: waiting out the delay and executing come together, so that executions happen.
RECOVERY_STEPS = [
    *["freeze and request"] * 3,
    "request",
    *["wait and execute"] * 3,
    "execute now",
    "cancel",
]
CANCELLERS = ["the lost key", "the admin", "compliance", "a stranger"]

# A test-only reader: its constructor makes static calls and returns their answers' words, one after
# another. It runs inside one eth_call and is never deployed, so that the books are read after every step
# in one request.
STATIC_READS_SOURCE = """
// SPDX-License-Identifier: EUPL-1.2
pragma solidity 0.8.28;

contract StaticReads {
    constructor(address[] memory targets, bytes[] memory calls) {
        bytes memory data;
        for (uint256 i = 0; i < targets.length; ++i) {
            (bool ok, bytes memory answer) = targets[i].staticcall(calls[i]);
            require(ok && answer.length >= 32, "read failed");
            data = bytes.concat(data, answer);
        }
        assembly {
            return(add(data, 32), mload(data))
        }
    }
}
"""


def digits(area_code: str) -> str:
    return to_bytes8(area_code).rstrip(b"\0").decode()


def block_time() -> int:
    """The latest block's timestamp. After a snapshot revert anvil's clock restarts from the snapshot's
    block while brownie's chain.time() keeps counting, so times that must already have passed are
    taken from the chain itself (the next block is never earlier)."""
    return web3.eth.get_block("latest")["timestamp"]


@dataclass(frozen=True)
class CoinSpec:
    """A coin as the model knows it: what it was created with (C3)."""

    label: str
    contract: object
    purpose: Purpose
    area: str  # digits of the CBS code
    p2p: bool
    expiry: int  # 0: never
    cap: int = 0  # the most a resident may hold; 0: none


@dataclass(frozen=True)
class Member:
    """A registered participant as the model knows it."""

    kind: Kind
    area: str  # digits of the CBS code
    purposes: int
    frozen: bool = False

    def accepts(self, purpose: Purpose) -> bool:
        return bool(self.purposes >> int(purpose) & 1)


@dataclass
class World:
    """The deployed system and the accounts the machine acts with."""

    registry: object
    issuer: object
    coins: list[CoinSpec]
    actors: list  # every account that can ever hold coins
    signers: list  # actors with local keys (they can sign relayed payments and burns)
    newcomers: list  # unregistered at the start: registration and recovery targets
    initial_members: dict[str, Member]
    initial_balances: dict[str, dict[str, int]]  # coin address -> holder -> units
    minters: list  # [funded minter, small minter]
    initial_allowances: dict[str, int]
    verifier: object
    impostor: object
    registrar: object
    admin: object
    pauser: object
    compliance: object
    master_minter: object
    relayer: object
    stranger: object
    reader_code: str

    @property
    def as_master_minter(self) -> dict:
        return {"from": self.master_minter}

    def book_calls(self) -> list[tuple[str, str]]:
        """(contract, calldata) for every supply, balance, allowance, the pause and every registry word."""
        calls = []
        for coin in self.coins:
            calls.append((coin.contract.address, coin.contract.totalSupply.encode_input()))
            calls += [(coin.contract.address, coin.contract.balanceOf.encode_input(a)) for a in self.actors]
        calls += [(self.issuer.address, self.issuer.minterAllowance.encode_input(m)) for m in self.minters]
        calls.append((self.registry.address, self.registry.paused.encode_input()))
        calls += [(self.registry.address, self.registry.participantWord.encode_input(a)) for a in self.actors]
        return calls

    def read(self, calls: list[tuple[str, str]]) -> list[int]:
        targets = [target for target, _ in calls]
        data = [bytes.fromhex(call.removeprefix("0x")) for _, call in calls]
        arguments = encode(["address[]", "bytes[]"], [targets, data]).hex()
        raw = bytes(web3.eth.call({"data": self.reader_code + arguments}))
        return [int.from_bytes(raw[i : i + 32], "big") for i in range(0, len(raw), 32)]


# ------------------------------------------------------------------------------------------------
# The model
# ------------------------------------------------------------------------------------------------


def refused(reason: TransferRefusal) -> str:
    return f"CoinTransferRefused:{reason.name}"


def error_key(revert_msg: str | None) -> str:
    """'CoinTransferRefused: a, b, 5, 8' -> 'CoinTransferRefused:PURPOSE_NOT_ACCEPTED'; others by name."""
    message = revert_msg or ""
    name = message.split(":", 1)[0].strip()
    if name == "CoinTransferRefused":
        return refused(TransferRefusal(int(message.rsplit(",", 1)[1])))
    return name


def transact(send):
    """Sends a transaction: (receipt, None) when it succeeded, (None, revert message) when it reverted.

    Under load brownie 1.22 sometimes reports an anvil transaction as "dropped without known
    replacement": it saw the sender's nonce move before the receipt was there. The transaction was
    mined; its receipt is then read from the chain, and brownie's unconfirmed record is dropped."""
    try:
        return send(), None
    except VirtualMachineError as exc:
        return None, exc.revert_msg
    except TransactionError as exc:
        if "dropped" not in str(exc):
            raise
        txid = str(exc).rsplit(" ", 1)[-1]
        receipt = web3.eth.wait_for_transaction_receipt(txid, timeout=60)
        history.clear()
        tx = chain.get_transaction(txid)
        if receipt["status"] == 1:
            return tx, None
        return None, tx.revert_msg


@dataclass
class Model:
    members: dict[str, Member]
    balances: dict[str, dict[str, int]]  # coin address -> holder -> units
    allowances: dict[str, int]
    minters: set[str]
    verifier_for: dict[str, bool]  # coin address -> whether the verifier may attest for it
    recovery_delay: int = 0
    # Pending recoveries: lost -> (replacement, executable at); and the addresses recovered away from.
    requests: dict[str, tuple[object, int]] = field(default_factory=dict)
    lost: set[str] = field(default_factory=set)
    paused: bool = False
    expired: bool = False  # whether the clock has passed the expiring coin's expiry
    grace_over: bool = False  # whether it has passed the end of that coin's redemption grace too
    # (coin address, payer, payee, reference) -> [paid, refunded] (F1, F2)
    payments: dict[tuple[str, str, str, bytes], list[int]] = field(default_factory=dict)
    claims: set[bytes] = field(default_factory=set)
    # What the events reported, for I2, I4 and I5.
    minted: dict[str, int] = field(default_factory=dict)
    burned: dict[str, int] = field(default_factory=dict)
    minted_claims: list[bytes] = field(default_factory=list)
    given: dict[str, int] = field(default_factory=dict)
    spent: dict[str, int] = field(default_factory=dict)

    def is_expired(self, coin: CoinSpec) -> bool:
        return coin.expiry != 0 and self.expired

    def grace_passed(self, coin: CoinSpec) -> bool:
        return coin.expiry != 0 and self.grace_over

    def is_resident(self, account) -> bool:
        member = self.members.get(str(account))
        return member is not None and member.kind == Kind.RESIDENT

    def balance(self, coin: CoinSpec, holder) -> int:
        return self.balances[coin.contract.address].get(str(holder), 0)

    def add(self, coin: CoinSpec, holder, value: int) -> None:
        book = self.balances[coin.contract.address]
        book[str(holder)] = book.get(str(holder), 0) + value

    def rule_refusals(self, coin: CoinSpec, sender, receiver, refund: bool = False) -> set[str]:
        """Every reason the transfer rule (T1–T12) has to refuse a balance change of `coin`.
        `sender` is None for a mint, `receiver` None for a burn. Empty: allowed. A refund (F4) takes
        the receiver's side as a mint does (person-to-person does not matter).

        Where the spec is silent the model takes these readings: a participant that is neither a
        resident nor the municipality (merchant, organisation) receives like a merchant (T1, T3); a
        resident receives a person-to-person coin from any sender (T4); residents accept no purposes
        (the machine registers them so)."""
        reasons = set()
        if self.paused:
            reasons.add(TransferRefusal.SYSTEM_PAUSED)  # T8
        if sender is not None:
            member = self.members.get(str(sender))
            if member is None:
                reasons.add(TransferRefusal.SENDER_NOT_REGISTERED)  # T6
            elif member.frozen:
                reasons.add(TransferRefusal.SENDER_FROZEN)  # T7
        if self.is_expired(coin):
            reasons.add(TransferRefusal.COIN_EXPIRED)  # T9
        if receiver is not None:
            member = self.members.get(str(receiver))
            if member is None:
                reasons.add(TransferRefusal.RECEIVER_NOT_REGISTERED)  # T6
            else:
                if member.frozen:
                    reasons.add(TransferRefusal.RECEIVER_FROZEN)  # T7
                if member.kind != Kind.MUNICIPALITY:  # T5: the municipality receives any coin
                    if not member.area.startswith(coin.area):
                        reasons.add(TransferRefusal.RECEIVER_OUTSIDE_AREA)  # T2, T4, T12
                    if member.kind == Kind.RESIDENT:
                        if not coin.p2p and sender is not None and not refund:
                            reasons.add(TransferRefusal.PERSON_TO_PERSON_NOT_ALLOWED)  # T4, T12, F4
                    elif not member.accepts(coin.purpose):
                        reasons.add(TransferRefusal.PURPOSE_NOT_ACCEPTED)  # T1, T3
        return {refused(reason) for reason in reasons}

    def move_refusals(self, coin: CoinSpec, sender, receiver, value: int, refund: bool = False) -> set[str]:
        errors = self.rule_refusals(coin, sender, receiver, refund)
        if sender is not None and value > self.balance(coin, sender):
            errors.add("ERC20InsufficientBalance")
        if receiver is not None and self.exceeds_cap(coin, receiver, 0 if receiver == sender else value):
            errors.add(refused(TransferRefusal.HOLDING_CAP_EXCEEDED))  # H2
        return errors

    def exceeds_cap(self, coin: CoinSpec, receiver, value: int, already: int = 0) -> bool:
        """Whether a resident would hold more than the coin's cap after receiving `value` (and `already`,
        received earlier in the same batch)."""
        if coin.cap == 0 or not self.is_resident(receiver):
            return False
        return self.balance(coin, receiver) + already + value > coin.cap

    def burn_refusals(
        self, coin: CoinSpec, holder, reason: BurnReason, value: int, reference: bytes
    ) -> set[str]:
        errors = set()
        if value == 0:
            errors.add("CoinZeroAmount")  # B4
        if reference == ZERO_REFERENCE:
            errors.add("CoinMissingReference")  # B4
        member = self.members.get(str(holder))
        kind = member.kind if member else Kind.NONE
        if reason == BurnReason.MERCHANT_PAYOUT:
            allowed = kind == Kind.MERCHANT  # B3
        elif reason in (BurnReason.DEBT_SETTLEMENT, BurnReason.SERVICE_REDEMPTION):
            allowed = kind == Kind.RESIDENT and reason in RESIDENT_BURNS[coin.purpose]  # B1, B2, P3
        else:
            allowed = False  # expiry reclaim is the master minter's (B7)
        if not allowed:
            errors.add("CoinBurnNotAllowed")  # B5
        rule = self.move_refusals(coin, holder, None, value)
        if reason == BurnReason.MERCHANT_PAYOUT and not self.grace_passed(coin):
            rule.discard(refused(TransferRefusal.COIN_EXPIRED))  # X2: the merchants' redemption grace
        return errors | rule

    def refund_refusals(self, coin: CoinSpec, payee, payer, value: int, reference: bytes) -> set[str]:
        """F2, F4, F6: the payment's record, then the rule (the payer's side as for a mint), the payee's
        balance and the payer's holding cap."""
        errors = set()
        if value == 0:
            errors.add("CoinZeroAmount")
        if reference == ZERO_REFERENCE:
            errors.add("CoinMissingReference")
        paid, refunded = self.payments.get((coin.contract.address, str(payer), str(payee), reference), [0, 0])
        if value > paid - refunded:
            errors.add("CoinRefundExceedsPayment")
        return errors | self.move_refusals(coin, payee, payer, value, refund=True)


# ------------------------------------------------------------------------------------------------
# The machine
# ------------------------------------------------------------------------------------------------

choice = st.tuples(st.integers(0, 3), st.integers(0, 10_000))  # (0: anyone, else a likely one; index)
amount_kind = st.sampled_from(["part", "part", "part", "all", "over", "zero"])
part = st.integers(1, 1500)
# (0: this reason, else the one the holder's kind and the coin's purpose allow; the reason)
reason_choice = st.tuples(st.integers(0, 3), st.sampled_from(list(BurnReason)))
no_ref = st.sampled_from([False] * 7 + [True])
attestation_kind = st.sampled_from(["ok", "ok", "ok", "ok", "ok", "late", "impostor", "reused claim"])


@dataclass(frozen=True)
class Item:
    """One attestation of an attested mint."""

    target: object
    coin: CoinSpec
    amount: int
    claim: bytes
    late: bool
    impostor: bool


def build_machine(world: World):
    coin_choice = st.sampled_from(world.coins)
    funded_minter, small_minter = world.minters
    minter_choice = st.sampled_from([funded_minter] * 3 + [small_minter] * 2 + [world.stranger])

    class Machine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.model = Model(
                members=dict(world.initial_members),
                balances={coin: dict(book) for coin, book in world.initial_balances.items()},
                allowances=dict(world.initial_allowances),
                minters={str(m) for m in world.minters},
                verifier_for={coin.contract.address: True for coin in world.coins},
                given=dict(world.initial_allowances),
                minted={coin: sum(book.values()) for coin, book in world.initial_balances.items()},
                burned={coin.contract.address: 0 for coin in world.coins},
                recovery_delay=world.registry.recoveryDelay(),
            )
            self.counter = 0

        # -- plumbing ------------------------------------------------------------------------------

        @initialize()
        def take_snapshot(self):
            chain.snapshot()

        def teardown(self):
            # A record brownie left unconfirmed (see `transact`) would stop the revert from pruning its
            # history, and brownie would then wait forever for a nonce it believes pending.
            history.clear()
            chain.revert()

        def next_label(self, text: str) -> bytes:
            self.counter += 1
            return ref(f"{text} {self.counter}")

        def pick(self, how: tuple[int, int], likely: list, anyone: list | None = None):
            mode, index = how
            pool = likely if likely and mode else (anyone or world.actors)
            return pool[index % len(pool)]

        def receiver(self, how: tuple[int, int], coin: CoinSpec, sender):
            """Anyone (mode 0), a registered participant (mode 1), or one the model lets `sender` pay."""
            mode, index = how
            registered = self.registered()
            allowed = [a for a in registered if not self.model.rule_refusals(coin, sender, a)]
            pool = world.actors if mode == 0 else registered if mode == 1 or not allowed else allowed
            return pool[index % len(pool)]

        def registered(self) -> list:
            return [a for a in world.actors if str(a) in self.model.members]

        def residents(self) -> list:
            return [
                a for a in world.actors if (m := self.model.members.get(str(a))) and m.kind == Kind.RESIDENT
            ]

        def holders(self, coin: CoinSpec) -> list:
            return [a for a in world.actors if self.model.balance(coin, a) > 0]

        def burn_reason(
            self, coin: CoinSpec, holder, how: tuple[int, BurnReason], relayed: bool
        ) -> BurnReason:
            """Mostly a burn the holder may make; sometimes any (EXPIRY_RECLAIM only signed: holders
            have no function for it)."""
            mode, reason = how
            member = self.model.members.get(str(holder))
            if mode and member is not None:
                if member.kind == Kind.MERCHANT:
                    reason = BurnReason.MERCHANT_PAYOUT
                elif member.kind == Kind.RESIDENT and RESIDENT_BURNS[coin.purpose]:
                    (reason,) = RESIDENT_BURNS[coin.purpose]
            if reason == BurnReason.EXPIRY_RECLAIM and not relayed:
                reason = BurnReason.DEBT_SETTLEMENT
            return reason

        def value(self, kind: str, part_: int, balance: int) -> int:
            """An amount to move: none, part of the balance (more when there is none), all, or too much."""
            if kind == "zero":
                return 0
            if kind == "all":
                return balance
            if kind == "over":
                return balance + part_
            return min(part_, balance) or part_

        def attempt(self, label: str, expected: set[str], send):
            """Sends; checks the chain accepts exactly when the model expects no refusal, and refuses
            with one of the reasons the model finds. Returns the receipt when accepted."""
            tx, revert_msg = transact(send)
            if tx is None:
                got = error_key(revert_msg)
                assert expected, f"{label}: the model expected success; the chain refused: {revert_msg}"
                assert got in expected, (
                    f"{label}: the chain refused with {revert_msg}; "
                    f"the model expected one of {sorted(expected)}"
                )
                return None
            assert not expected, (
                f"{label}: the model expected a refusal ({sorted(expected)}); the chain accepted it"
            )
            self.record(tx)
            return tx

        def record(self, tx) -> None:
            """Books what the events report: mints and burns per coin, claim ids, minters' spending."""
            model = self.model
            coins = {coin.contract.address for coin in world.coins}
            if "Transfer" in tx.events:
                for event in tx.events["Transfer"]:
                    if event.address not in coins:
                        continue
                    if event["from"] == ZERO_ADDRESS:
                        model.minted[event.address] += event["value"]
                    if event["to"] == ZERO_ADDRESS:
                        model.burned[event.address] += event["value"]
            if "ActivityMinted" in tx.events:
                for event in tx.events["ActivityMinted"]:
                    model.minted_claims.append(bytes(event["claimId"]))
                    model.spent[event["minter"]] = model.spent.get(event["minter"], 0) + event["amount"]
            if "AdminMinted" in tx.events:
                for event in tx.events["AdminMinted"]:
                    model.spent[event["minter"]] = model.spent.get(event["minter"], 0) + event["amount"]
            if "ExpiredCoinsReclaimed" in tx.events:
                for event in tx.events["ExpiredCoinsReclaimed"]:
                    if event["creditedMinter"] != ZERO_ADDRESS:
                        minter = event["creditedMinter"]
                        model.given[minter] = model.given.get(minter, 0) + event["amount"]

        # -- participants --------------------------------------------------------------------------

        def register(self, how, kind, area, purposes):
            lost = [a for a in world.actors if str(a) in self.model.lost]
            account = self.pick(
                how, [a for a in world.newcomers if str(a) not in self.model.members], world.newcomers + lost
            )
            purposes = 0 if kind == Kind.RESIDENT else purposes
            expected = set()
            if str(account) in self.model.members:
                expected.add("RegistryAlreadyRegistered")
            if str(account) in self.model.lost:
                expected.add("RegistryAddressLost")  # L9
            row = (account.address, int(kind), to_bytes8(area), purposes, self.next_label("record"))
            if self.attempt(
                f"register {account} as {kind.name} in {area}",
                expected,
                lambda: world.registry.register(row, {"from": world.registrar}),
            ):
                self.model.members[str(account)] = Member(kind, digits(area), purposes)

        def set_frozen(self, how, freeze):
            self.freeze_account(self.pick(how, self.registered()), freeze)

        def freeze_account(self, account, freeze):
            member = self.model.members.get(str(account))
            if member is None:
                expected = {"RegistryNotRegistered"}
            elif member.frozen == freeze:
                expected = {"RegistryAlreadyFrozen" if freeze else "RegistryNotFrozen"}
            else:
                expected = set()
            method = world.registry.freeze if freeze else world.registry.unfreeze
            if self.attempt(
                f"{'freeze' if freeze else 'unfreeze'} {account}",
                expected,
                lambda: method([account], {"from": world.compliance}),
            ):
                self.model.members[str(account)] = replace(member, frozen=freeze)

        # -- recovery of a lost wallet (L1-L9) --------------------------------------------------------

        def new_address_refusals(self, account) -> set[str]:
            if str(account) in self.model.members:
                return {"RegistryAlreadyRegistered"}
            return {"RegistryAddressLost"} if str(account) in self.model.lost else set()

        def request_recovery(self, lost_how, replacement_how, case_missing, freeze_first):
            """L2, L7: the lost wallet registered and frozen, a new replacement, a case reference. As
            compliance works: mostly the wallet is frozen first, in a transaction of its own."""
            model = self.model
            if freeze_first:
                lost = self.pick(lost_how, [a for a in self.registered() if str(a) not in model.requests])
                member = model.members.get(str(lost))
                if member is not None and not member.frozen:
                    self.freeze_account(lost, True)
            else:
                frozen = [a for a in self.registered() if model.members[str(a)].frozen]
                lost = self.pick(lost_how, frozen, world.actors)
            fresh = [a for a in world.newcomers if not self.new_address_refusals(a)]
            replacement = self.pick(replacement_how, fresh, world.newcomers + world.actors)
            member = model.members.get(str(lost))
            expected = {"EnforcedPause"} if model.paused else set()
            if case_missing:
                expected.add("RegistryMissingCaseReference")
            if member is None:
                expected.add("RegistryNotRegistered")
            elif not member.frozen:
                expected.add("RegistryNotFrozen")
            if str(lost) in model.requests:
                expected.add("RegistryRecoveryPending")
            expected |= self.new_address_refusals(replacement)
            case = ZERO_REFERENCE if case_missing else self.next_label("case")
            tx = self.attempt(
                f"request recovery of {lost} to {replacement}",
                expected,
                lambda: world.registry.requestRecovery(lost, replacement, case, {"from": world.compliance}),
            )
            if tx:
                model.requests[str(lost)] = (replacement, tx.timestamp + model.recovery_delay)

        def wait_out_recoveries(self):
            """Lets the recovery delay pass."""
            self.move_clock_to(block_time() + self.model.recovery_delay + 60)

        def execute_recovery(self, lost_how):
            """L3-L5, L7: after the delay, the registration (unfrozen) and every balance move."""
            model = self.model
            pending = [a for a in world.actors if str(a) in model.requests]
            lost = self.pick(lost_how, pending)
            expected = {"EnforcedPause"} if model.paused else set()
            request = model.requests.get(str(lost))
            member = model.members.get(str(lost))
            if request is None:
                expected.add("RegistryNoRecoveryRequest")
            else:
                replacement, executable_at = request
                if block_time() < executable_at:
                    expected.add("RegistryRecoveryNotDue")
                if member is None or not member.frozen:
                    expected.add("RegistryNotFrozen")
                expected |= self.new_address_refusals(replacement)
            if self.attempt(
                f"execute the recovery of {lost}",
                expected,
                lambda: world.registry.executeRecovery(lost, {"from": world.compliance}),
            ):
                replacement, _ = model.requests.pop(str(lost))
                model.members[str(replacement)] = replace(model.members.pop(str(lost)), frozen=False)
                model.lost.add(str(lost))
                for coin in world.coins:
                    moved = model.balance(coin, lost)
                    model.balances[coin.contract.address][str(lost)] = 0
                    model.add(coin, replacement, moved)

        def cancel_recovery(self, lost_how, canceller):
            """L6: the lost key itself or the admin, also while paused; nobody else."""
            model = self.model
            pending = [a for a in world.actors if str(a) in model.requests]
            lost = self.pick(lost_how, pending)
            sender = {
                "the lost key": lost,
                "the admin": world.admin,
                "compliance": world.compliance,
                "a stranger": world.stranger,
            }[canceller]
            if sender != lost and sender != world.admin:
                expected = {"RegistryCancelNotAllowed"}
            else:
                expected = set() if str(lost) in model.requests else {"RegistryNoRecoveryRequest"}
            if self.attempt(
                f"{canceller} cancels the recovery of {lost}",
                expected,
                lambda: world.registry.cancelRecovery(lost, {"from": sender}),
            ):
                model.requests.pop(str(lost))

        @rule(
            step=st.sampled_from(RECOVERY_STEPS),
            lost_how=choice,
            replacement_how=choice,
            case_missing=st.sampled_from([False] * 7 + [True]),
            canceller=st.sampled_from(CANCELLERS),
        )
        def recovery(self, step, lost_how, replacement_how, case_missing, canceller):
            if step in ("request", "freeze and request"):
                self.request_recovery(lost_how, replacement_how, case_missing, step == "freeze and request")
            elif step == "cancel":
                self.cancel_recovery(lost_how, canceller)
            else:
                if step == "wait and execute":
                    self.wait_out_recoveries()
                self.execute_recovery(lost_how)

        def set_paused(self, pause):
            if pause:
                expected = {"EnforcedPause"} if self.model.paused else set()
            else:
                expected = set() if self.model.paused else {"ExpectedPause"}
            method = world.registry.pause if pause else world.registry.unpause
            if self.attempt(
                "pause" if pause else "unpause", expected, lambda: method({"from": world.pauser})
            ):
                self.model.paused = pause

        # -- minting -------------------------------------------------------------------------------

        def attestation_items(self, specs) -> list[Item]:
            items = []
            for how, coin, amount, kind in specs:
                if kind == "reused claim" and (self.model.claims or items):
                    used = sorted(self.model.claims) + [item.claim for item in items]
                    claim = used[how[1] % len(used)]
                else:
                    claim = self.next_label("claim")
                target = self.pick(how, self.residents())
                items.append(Item(target, coin, amount, claim, kind == "late", kind == "impostor"))
            return items

        def signed(self, item: Item) -> tuple[tuple, bytes]:
            message = {
                "resident": item.target.address,
                "coin": item.coin.contract.address,
                "amount": item.amount,
                "activityId": ref("activity"),
                "claimId": item.claim,
                "evidenceHash": ref("evidence"),
                "deadline": block_time() - 1 if item.late else FAR_FUTURE,
            }
            key = world.impostor if item.impostor else world.verifier
            signature = sign_with(key, issuer_domain(world.issuer), "Attestation", message)
            return tuple(message.values()), signature.packed

        def mint_refusals(self, minter, items: list[Item]) -> set[str]:
            """M1–M6 and the transfer rule on the receiver's side (T12)."""
            model = self.model
            errors = set() if str(minter) in model.minters else {"AccessControlUnauthorizedAccount"}
            seen = set(model.claims)
            received: dict[tuple[str, str], int] = {}  # (coin, resident) -> minted earlier in the batch
            for item in items:
                if item.late:
                    errors.add("IssuerAttestationExpired")
                if item.amount == 0:
                    errors.add("IssuerZeroAmount")
                if item.claim in seen:
                    errors.add("IssuerClaimAlreadyUsed")
                seen.add(item.claim)
                if item.impostor or not model.verifier_for[item.coin.contract.address]:
                    errors.add("IssuerVerifierNotAuthorized")
                member = model.members.get(str(item.target))
                if member is None or member.kind != Kind.RESIDENT:
                    errors.add("IssuerNotAResident")
                errors |= model.rule_refusals(item.coin, None, item.target)
                key = (item.coin.contract.address, str(item.target))
                if model.exceeds_cap(item.coin, item.target, item.amount, received.get(key, 0)):
                    errors.add(refused(TransferRefusal.HOLDING_CAP_EXCEEDED))  # H2
                received[key] = received.get(key, 0) + item.amount
            if sum(item.amount for item in items) > model.allowances.get(str(minter), 0):
                errors.add("IssuerAllowanceExceeded")
            return errors

        def book_mints(self, minter, items: list[Item]) -> None:
            for item in items:
                self.model.add(item.coin, item.target, item.amount)
                self.model.claims.add(item.claim)
                self.model.allowances[str(minter)] -= item.amount

        @rule(
            minter=minter_choice,
            how=choice,
            coin=coin_choice,
            amount=st.integers(0, 2000),
            kind=attestation_kind,
        )
        def mint_with_attestation(self, minter, how, coin, amount, kind):
            (item,) = self.attestation_items([(how, coin, amount, kind)])
            attestation, signature = self.signed(item)
            if self.attempt(
                f"{minter} mints {amount} {coin.label} for {item.target} ({kind})",
                self.mint_refusals(minter, [item]),
                lambda: world.issuer.mintWithAttestation(attestation, signature, {"from": minter}),
            ):
                self.book_mints(minter, [item])
                assert world.issuer.claimUsed(item.claim)

        @rule(
            minter=minter_choice,
            specs=st.lists(
                st.tuples(choice, coin_choice, st.integers(0, 1500), attestation_kind), min_size=1, max_size=3
            ),
            shape=st.sampled_from(["as is"] * 8 + ["empty", "signature missing"]),
        )
        def mint_batch(self, minter, specs, shape):
            """M8: all or none; M4 within one batch."""
            items = self.attestation_items([] if shape == "empty" else specs)
            mismatch = shape == "signature missing"
            signed = [self.signed(item) for item in items]
            attestations = [a for a, _ in signed]
            signatures = [s for _, s in signed]
            expected = self.mint_refusals(minter, items)
            if not items:
                expected.add("IssuerEmptyBatch")
            if mismatch:
                signatures = signatures[:-1] if signatures else [b"\x00" * 65]
                expected.add("IssuerLengthMismatch")
            if self.attempt(
                f"{minter} mints a batch of {len(items)}{' with a signature missing' if mismatch else ''}",
                expected,
                lambda: world.issuer.mintBatch(attestations, signatures, {"from": minter}),
            ):
                self.book_mints(minter, items)

        @rule(
            minter=minter_choice,
            how=choice,
            coin=coin_choice,
            amount=st.integers(0, 2000),
            reason=st.sampled_from(["programme"] * 5 + [None]),
        )
        def admin_mint(self, minter, how, coin, amount, reason):
            """M9, M14, T12."""
            to = self.pick(how, self.residents(), self.registered())
            model = self.model
            expected = set() if str(minter) in model.minters else {"AccessControlUnauthorizedAccount"}
            member = model.members.get(str(to))
            if member is None or member.kind != Kind.RESIDENT:
                expected.add("IssuerNotAResident")
            if amount == 0:
                expected.add("IssuerZeroAmount")
            if reason is None:
                expected.add("IssuerMissingReason")
            if amount > model.allowances.get(str(minter), 0):
                expected.add("IssuerAllowanceExceeded")
            expected |= model.move_refusals(coin, None, to, amount)
            reference = ZERO_REFERENCE if reason is None else self.next_label(reason)
            if self.attempt(
                f"{minter} admin-mints {amount} {coin.label} to {to}",
                expected,
                lambda: world.issuer.adminMint(coin.contract, to, amount, reference, {"from": minter}),
            ):
                model.add(coin, to, amount)
                model.allowances[str(minter)] -= amount

        # -- payments ------------------------------------------------------------------------------

        @rule(coin=coin_choice, sender_how=choice, receiver_how=choice, kind=amount_kind, part_=part)
        def pay(self, coin, sender_how, receiver_how, kind, part_):
            """`pay`, sent by the payer."""
            self.payment(coin, sender_how, receiver_how, kind, part_, relayed=False, forged=False)

        @rule(
            coin=coin_choice,
            sender_how=choice,
            receiver_how=choice,
            kind=amount_kind,
            part_=part,
            forged=st.sampled_from([False] * 7 + [True]),
        )
        def pay_relayed(self, coin, sender_how, receiver_how, kind, part_, forged):
            """`payWithAuthorization`, signed by the payer (or, forged, by someone else) and relayed."""
            self.payment(coin, sender_how, receiver_how, kind, part_, relayed=True, forged=forged)

        def payment(self, coin, sender_how, receiver_how, kind, part_, relayed, forged):
            """T1–T9, H2 on payments, sent by the payer (`pay`) or relayed (`payWithAuthorization`, A1,
            A5); a payment with a reference is recorded for refunds (F1), one without is not."""
            candidates = world.signers if relayed else world.actors
            sender = self.pick(sender_how, [a for a in self.holders(coin) if a in candidates], candidates)
            receiver = self.receiver(receiver_how, coin, sender)
            value = self.value(kind, part_, self.model.balance(coin, sender))
            # Mostly a fresh reference, sometimes one used before (paid again under it), rarely none.
            used = [
                key[3]
                for key in self.model.payments
                if key[:3] == (coin.contract.address, str(sender), str(receiver))
            ]
            if used and part_ % 5 == 0:
                reference = used[part_ % len(used)]
            elif part_ % 11 == 0:
                reference = ZERO_REFERENCE
            else:
                reference = self.next_label("payment")
            expected = self.model.move_refusals(coin, sender, receiver, value)
            if relayed:
                after, before = 0, chain.time() + 3600
                nonce = self.next_label("nonce")
                message = {
                    "from": sender.address,
                    "to": receiver.address,
                    "value": value,
                    "paymentReference": reference,
                    "validAfter": after,
                    "validBefore": before,
                    "nonce": nonce,
                }
                key = world.impostor if forged else sender
                signature = sign_with(key, coin_domain(coin.contract), "PayWithAuthorization", message)
                if forged:
                    expected.add("AuthorizationInvalidSigner")

                def send():
                    return coin.contract.payWithAuthorization(
                        sender, receiver, value, reference, after, before, nonce,
                        signature.v, signature.r, signature.s, {"from": world.relayer},
                    )  # fmt: skip
            else:

                def send():
                    return coin.contract.pay(receiver, value, reference, {"from": sender})

            how = "relayed " if relayed else ""
            tx = self.attempt(
                f"{sender} pays {value} {coin.label} to {receiver} ({how}{kind})", expected, send
            )
            if tx:
                self.model.add(coin, sender, -value)
                self.model.add(coin, receiver, value)
                if reference != ZERO_REFERENCE:
                    key = (coin.contract.address, str(sender), str(receiver), reference)
                    self.model.payments.setdefault(key, [0, 0])[0] += value
                event = tx.events["PaymentMade"][0]
                assert (event["from"], event["to"], event["value"]) == (
                    sender.address,
                    receiver.address,
                    value,
                )

        # -- refunds -------------------------------------------------------------------------------

        @rule(
            coin=coin_choice,
            how=choice,
            kind=amount_kind,
            part_=part,
            relayed=st.booleans(),
            no_reference=no_ref,
        )
        def refund(self, coin, how, kind, part_, relayed, no_reference):
            """F1–F7: mostly the payee of a recorded payment refunds part of it, all of it or too much;
            sometimes anyone refunds anyone under a reference nobody paid under."""
            model = self.model
            mode, index = how
            records = [key for key in model.payments if key[0] == coin.contract.address]
            if records and mode:
                _coin, payer_key, payee_key, reference = records[index % len(records)]
                payer, payee = self.actor(payer_key), self.actor(payee_key)
            else:
                payer = self.pick(how, self.residents())
                payee = self.pick((mode, index // 7), self.registered())
                reference = self.next_label("unpaid")
            relayed = relayed and payee in world.signers
            if no_reference:
                reference = ZERO_REFERENCE
            key = (coin.contract.address, str(payer), str(payee), reference)
            paid, refunded = model.payments.get(key, [0, 0])
            value = self.value(kind, part_, paid - refunded)
            expected = model.refund_refusals(coin, payee, payer, value, reference)
            if relayed:
                after, before = 0, chain.time() + 3600
                nonce = self.next_label("nonce")
                message = {
                    "from": payee.address,
                    "to": payer.address,
                    "value": value,
                    "paymentReference": reference,
                    "validAfter": after,
                    "validBefore": before,
                    "nonce": nonce,
                }
                signature = sign_with(payee, coin_domain(coin.contract), "RefundWithAuthorization", message)

                def send():
                    return coin.contract.refundWithAuthorization(
                        *message.values(), signature.v, signature.r, signature.s, {"from": world.relayer}
                    )
            else:

                def send():
                    return coin.contract.refund(payer, value, reference, {"from": payee})

            how_sent = "relayed " if relayed else ""
            label = (
                f"{payee} refunds {value} {coin.label} to {payer} ({how_sent}{kind}, {paid - refunded} left)"
            )
            tx = self.attempt(label, expected, send)
            if tx:
                model.add(coin, payee, -value)
                model.add(coin, payer, value)
                model.payments[key][1] += value
                event = tx.events["PaymentRefunded"][0]
                assert (event["payee"], event["payer"], event["value"], bytes(event["paymentReference"])) == (
                    payee.address,
                    payer.address,
                    value,
                    reference,
                )

        def actor(self, key: str):
            return next(a for a in world.actors if str(a) == key)

        # -- burns ---------------------------------------------------------------------------------

        @rule(
            coin=coin_choice,
            how=choice,
            reason=reason_choice,
            kind=amount_kind,
            part_=part,
            no_reference=no_ref,
        )
        def burn(self, coin, how, reason, kind, part_, no_reference):
            """B1–B5: settleDebt, redeemService or redeemPayout, sent by the holder."""
            self.burning(coin, how, reason, kind, part_, no_reference, relayed=False)

        @rule(
            coin=coin_choice,
            how=choice,
            reason=reason_choice,
            kind=amount_kind,
            part_=part,
            no_reference=no_ref,
        )
        def burn_relayed(self, coin, how, reason, kind, part_, no_reference):
            """B6: any burn, signed by the holder and relayed (expiry reclaim included, which must fail)."""
            self.burning(coin, how, reason, kind, part_, no_reference, relayed=True)

        def burning(self, coin, how, reason_how, kind, part_, no_reference, relayed):
            candidates = world.signers if relayed else world.actors
            holder = self.pick(how, [a for a in self.holders(coin) if a in candidates], candidates)
            reason = self.burn_reason(coin, holder, reason_how, relayed)
            value = self.value(kind, part_, self.model.balance(coin, holder))
            reference = ZERO_REFERENCE if no_reference else self.next_label("burn")
            expected = self.model.burn_refusals(coin, holder, reason, value, reference)
            if relayed:
                after, before = 0, chain.time() + 3600
                nonce = self.next_label("nonce")
                message = {
                    "from": holder.address,
                    "reason": int(reason),
                    "value": value,
                    "burnReference": reference,
                    "validAfter": after,
                    "validBefore": before,
                    "nonce": nonce,
                }
                signature = sign_with(holder, coin_domain(coin.contract), "BurnWithAuthorization", message)

                def send():
                    return coin.contract.burnWithAuthorization(
                        holder, int(reason), value, reference, after, before, nonce,
                        signature.v, signature.r, signature.s, {"from": world.relayer},
                    )  # fmt: skip
            else:
                method = {
                    BurnReason.DEBT_SETTLEMENT: coin.contract.settleDebt,
                    BurnReason.SERVICE_REDEMPTION: coin.contract.redeemService,
                    BurnReason.MERCHANT_PAYOUT: coin.contract.redeemPayout,
                }[reason]

                def send():
                    return method(value, reference, {"from": holder})

            label = f"{holder} burns {value} {coin.label} for {reason.name}{' (relayed)' if relayed else ''}"
            tx = self.attempt(label, expected, send)
            if tx:
                self.model.add(coin, holder, -value)
                name, holder_field, reference_field = BURN_EVENTS[reason]
                event = tx.events[name][0]
                assert (event[holder_field], event["value"], bytes(event[reference_field])) == (
                    holder.address,
                    value,
                    reference,
                )

        # -- expiry --------------------------------------------------------------------------------

        @precondition(lambda self: not self.model.grace_over)
        @rule(now=st.sampled_from([False] * 5 + [True]))
        def pass_expiry(self, now):
            """The clock passes the expiring coin's expiry (T9), into its redemption grace, or, once it has
            expired, past the grace too (X3), about once in six tries."""
            if not now:
                return
            expiry = max(coin.expiry for coin in world.coins)
            self.move_clock_to(expiry + (REDEMPTION_GRACE if self.model.expired else 0) + 1)

        def move_clock_to(self, target: int):
            """Moves the chain's clock to `target` or later: never within an hour of the expiring coin's
            expiry or of the end of its grace, so the model knows which side of each the clock is on, and
            the model records the ones it has passed (T9, X3). One long wait can pass both."""
            expiry = max(coin.expiry for coin in world.coins)
            for boundary in (expiry, expiry + REDEMPTION_GRACE):
                if target > boundary - 3600:
                    target = max(target, boundary + 3600)
            if target > block_time():
                chain.sleep(target - block_time())
            chain.mine()
            self.model.expired = self.model.expired or target > expiry
            self.model.grace_over = self.model.grace_over or target > expiry + REDEMPTION_GRACE

        @rule(
            coin=coin_choice,
            hows=st.lists(choice, max_size=4),
            credited=st.sampled_from([*world.minters, None, world.stranger]),
        )
        def reclaim_expired(self, coin, hows, credited):
            """B7, B8, X4–X7: by the master minter, while paused or from frozen holders too; merchants'
            balances stay during the grace and become payouts after it; empty and repeated holders do
            nothing."""
            holders = [self.pick(how, self.holders(coin)) for how in hows]
            model = self.model
            expected = set()
            if credited is not None and str(credited) not in model.minters:
                expected.add("IssuerNotAMinter")
            if holders and not model.is_expired(coin):
                expected.add("CoinNotExpired")
            tx = self.attempt(
                f"reclaim {coin.label} from {len(holders)} holders for {credited}",
                expected,
                lambda: world.issuer.reclaimExpired(
                    coin.contract, holders, credited or ZERO_ADDRESS, {"from": world.master_minter}
                ),
            )
            if tx:
                total, reclaimed, payouts = 0, [], []
                for holder in holders:
                    balance = model.balance(coin, holder)
                    member = model.members.get(str(holder))
                    if balance == 0:
                        continue  # X6
                    if member is not None and member.kind == Kind.MERCHANT:
                        if not model.grace_passed(coin) or member.frozen:
                            continue  # X4, X5: the merchant redeems it, or waits until unfrozen
                        payouts.append((holder.address, balance))  # X5: owed in euros, not reclaimed
                    else:
                        total += balance
                        reclaimed.append((holder.address, balance))
                    model.balances[coin.contract.address][str(holder)] = 0
                if credited is not None:
                    model.allowances[str(credited)] += total
                assert tx.return_value == total
                events = tx.events
                got = [(e["holder"], e["value"]) for e in events["ExpiredReclaimed"]] if reclaimed else []
                assert got == reclaimed, f"reclaimed {got}, model {reclaimed}"
                got = [(e["merchant"], e["value"]) for e in events["PayoutRedeemed"]] if payouts else []
                assert got == payouts, f"payouts {got}, model {payouts}"
                if not reclaimed:
                    assert "ExpiredReclaimed" not in events
                if not payouts:
                    assert "PayoutRedeemed" not in events

        # -- minters and verifiers -----------------------------------------------------------------

        def raise_small_minter(self, amount):
            """M1, M5, M15: the master minter adds to the small minter's budget (making it a minter)."""
            key = str(small_minter)
            if self.attempt(
                f"raise the small minter's budget by {amount}",
                {"IssuerZeroAmount"} if amount == 0 else set(),
                lambda: world.issuer.increaseMinterAllowance(
                    small_minter, amount, {"from": world.master_minter}
                ),
            ):
                self.model.minters.add(key)
                self.model.allowances[key] = self.model.allowances.get(key, 0) + amount
                self.model.given[key] = self.model.given.get(key, 0) + amount

        def lower_small_minter(self, amount):
            """M15: ... and takes from it, down to 0 at most."""
            key = str(small_minter)
            expected = set() if key in self.model.minters else {"IssuerNotAMinter"}
            if amount == 0:
                expected.add("IssuerZeroAmount")
            if self.attempt(
                f"lower the small minter's budget by {amount}",
                expected,
                lambda: world.issuer.decreaseMinterAllowance(
                    small_minter, amount, {"from": world.master_minter}
                ),
            ):
                self.model.allowances[key] = max(0, self.model.allowances.get(key, 0) - amount)

        def remove_small_minter(self):
            expected = set() if str(small_minter) in self.model.minters else {"IssuerNotAMinter"}
            if self.attempt(
                "remove the small minter",
                expected,
                lambda: world.issuer.removeMinter(small_minter, {"from": world.master_minter}),
            ):
                self.model.minters.discard(str(small_minter))
                self.model.allowances[str(small_minter)] = 0

        def set_verifier(self, coin, authorized):
            """M2."""
            if self.attempt(
                f"{'authorise' if authorized else 'withdraw'} the verifier for {coin.label}",
                set(),
                lambda: world.issuer.setVerifier(
                    coin.contract, world.verifier, authorized, {"from": world.registrar}
                ),
            ):
                self.model.verifier_for[coin.contract.address] = authorized

        # -- what nobody without a role may do -----------------------------------------------------

        def stranger_tries(self, action, coin):
            """R1, G2, L1, M1, M10: the stranger holds no role and is refused whatever the state."""
            stranger, target = world.stranger, world.newcomers[0]
            sends = {
                "pause": lambda: world.registry.pause({"from": stranger}),
                "register": lambda: world.registry.register(
                    (target.address, int(Kind.RESIDENT), to_bytes8(WIJK), 0, ref("r")), {"from": stranger}
                ),
                "freeze": lambda: world.registry.freeze([world.actors[0]], {"from": stranger}),
                "recover": lambda: world.registry.requestRecovery(
                    world.actors[0], target, ref("case"), {"from": stranger}
                ),
                "execute": lambda: world.registry.executeRecovery(world.actors[0], {"from": stranger}),
                "configure": lambda: world.issuer.increaseMinterAllowance(
                    stranger, 10**9, {"from": stranger}
                ),
                "admin mint": lambda: world.issuer.adminMint(
                    coin.contract, world.actors[0], 100, ref("r"), {"from": stranger}
                ),
                "coin mint": lambda: coin.contract.mint(world.actors[0], 100, {"from": stranger}),
                "reclaim": lambda: world.issuer.reclaimExpired(
                    coin.contract, [world.actors[0]], ZERO_ADDRESS, {"from": stranger}
                ),
            }
            expected = (
                {"CoinUnauthorizedCaller"} if action == "coin mint" else {"AccessControlUnauthorizedAccount"}
            )
            self.attempt(f"the stranger tries to {action}", expected, sends[action])

        # -- governance: one rule, so that value moves make up most steps ---------------------------

        @rule(
            action=st.sampled_from(GOVERNANCE),
            how=choice,
            kind=st.sampled_from(
                [Kind.RESIDENT, Kind.RESIDENT, Kind.MERCHANT, Kind.ORGANISATION, Kind.MUNICIPALITY]
            ),
            area=st.sampled_from(AREAS),
            purposes=st.integers(0, 127),
            allowance=st.integers(0, 2 * SMALL_BUDGET),
            coin=coin_choice,
            stranger_action=st.sampled_from(STRANGER_ACTIONS),
        )
        def govern(self, action, how, kind, area, purposes, allowance, coin, stranger_action):
            """The registrar, compliance, the pauser and the master minter at work, and a stranger trying."""
            if action == "register":
                self.register(how, kind, area, purposes)
            elif action in ("freeze", "unfreeze"):
                self.set_frozen(how, action == "freeze")
            elif action in ("pause", "unpause"):
                self.set_paused(action == "pause")
            elif action == "raise minter":
                self.raise_small_minter(allowance)
            elif action == "lower minter":
                self.lower_small_minter(allowance)
            elif action == "remove minter":
                self.remove_small_minter()
            elif action in ("authorise verifier", "withdraw verifier"):
                self.set_verifier(coin, action == "authorise verifier")
            else:
                self.stranger_tries(stranger_action, coin)

        # -- the books -----------------------------------------------------------------------------

        @invariant()
        def books_agree(self):
            model = self.model
            answers = iter(world.read(calls))
            for coin in world.coins:
                address = coin.contract.address
                supply = next(answers)
                balances = {str(a): next(answers) for a in world.actors}
                # I1: the holders' balances add up to the supply.
                assert sum(balances.values()) == supply, (
                    f"I1 {coin.label}: balances {balances}, supply {supply}"
                )
                # I2: minted minus burned, from the events, is the supply.
                assert model.minted[address] - model.burned[address] == supply, (
                    f"I2 {coin.label}: minted {model.minted[address]} - burned {model.burned[address]} "
                    f"!= supply {supply}"
                )
                # I3: every balance is the one the model's transfer rule allowed.
                expected = {str(a): model.balance(coin, a) for a in world.actors}
                assert balances == expected, f"I3 {coin.label}: chain {balances}, model {expected}"
            for minter in world.minters:
                allowance = next(answers)
                assert allowance == model.allowances.get(str(minter), 0), (
                    f"allowance of {minter}: {allowance}"
                )
                # I5: no minter minted more than its allowances (configured and credited back) gave it.
                assert model.spent.get(str(minter), 0) <= model.given.get(str(minter), 0), (
                    f"I5 {minter}: spent {model.spent.get(str(minter), 0)} "
                    f"of {model.given.get(str(minter), 0)} given"
                )
            assert bool(next(answers)) == model.paused
            for account in world.actors:
                word = next(answers)
                member = model.members.get(str(account))
                if member is None:
                    assert word == 0, f"{account} should be unregistered"
                else:
                    area = (word & (2**64 - 1)).to_bytes(8, "big").rstrip(b"\0").decode()
                    assert (
                        Kind((word >> 128) & 0xFF),
                        area,
                        (word >> 64) & (2**64 - 1),
                        bool(word >> 136 & 1),
                    ) == (
                        member.kind,
                        member.area,
                        member.purposes,
                        member.frozen,
                    ), f"{account}: registry word {word:#x}, model {member}"
            # I6: what the chain recorded per payment reference is the model's, and no refund exceeds it.
            if model.payments:
                keys = list(model.payments)
                coin_of = {coin.contract.address: coin.contract for coin in world.coins}
                words = iter(
                    world.read(
                        [(c, coin_of[c].payment.encode_input(payer, payee, r)) for c, payer, payee, r in keys]
                    )
                )
                for key in keys:
                    paid, refunded = next(words), next(words)
                    assert [paid, refunded] == model.payments[key], f"payment {key}: chain {paid, refunded}"
                    assert refunded <= paid, f"I6 {key}: refunded {refunded} of {paid}"
            # I7: no resident holds more of a coin than its holding cap.
            for coin in world.coins:
                if coin.cap:
                    for account in world.actors:
                        if model.is_resident(account):
                            held = model.balance(coin, account)
                            assert held <= coin.cap, f"I7 {coin.label}: {account} holds {held} > {coin.cap}"
            # I4: no claim id minted twice.
            assert len(model.minted_claims) == len(set(model.minted_claims)), "I4: a claim id minted twice"
            assert set(model.minted_claims) == model.claims

    calls = world.book_calls()
    return Machine


# ------------------------------------------------------------------------------------------------
# Fixtures and the test
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reader_code():
    """The StaticReads constructor's code (compiled here; solcjs takes a few seconds)."""
    project = compile_source(STATIC_READS_SOURCE, solc_version="0.8.28")
    return "0x" + project.StaticReads.bytecode.removeprefix("0x")


@pytest.fixture(scope="module")
def world(
    registry,
    issuer,
    make_coin,
    wijk_coin,
    debt_coin,
    funded_minter,
    give,
    master_minter,
    registrar,
    admin,
    pauser,
    compliance,
    relayer,
    stranger,
    verifier,
    resident,
    neighbour,
    outsider,
    merchant,
    distant_merchant,
    organisation,
    municipality,
    reader_code,
):
    sport_coin = make_coin(
        Purpose.SPORT_CULTURE,
        GEMEENTE,
        p2p=True,
        name="Socialcoin Arnhem - Sport",
        symbol="ASP",
        cap=SPORT_CAP,
    )
    expiring_coin = make_coin(
        Purpose.MOBILITY,
        WIJK,
        expiry=chain.time() + COIN_LIFETIME,
        p2p=True,
        name="Socialcoin OV",
        symbol="GKO",
        grace=REDEMPTION_GRACE,
        cap=MOBILITY_CAP,
    )
    coins = [
        CoinSpec("wijk", wijk_coin, Purpose.LOCAL_SPENDING, digits(WIJK), False, 0),
        CoinSpec("debt", debt_coin, Purpose.DEBT_SETTLEMENT, digits(GEMEENTE), False, 0),
        CoinSpec("sport", sport_coin, Purpose.SPORT_CULTURE, digits(GEMEENTE), True, 0, SPORT_CAP),
        CoinSpec(
            "mobility",
            expiring_coin,
            Purpose.MOBILITY,
            digits(WIJK),
            True,
            expiring_coin.expiry(),
            MOBILITY_CAP,
        ),
    ]
    for coin in coins:  # the model's view of each coin is what it was created with (C3)
        contract = coin.contract
        assert (contract.purposeId(), contract.area(), contract.personToPerson(), contract.holdingCap()) == (
            coin.purpose,
            "0x" + coin.area.encode().ljust(8, b"\0").hex(),
            coin.p2p,
            coin.cap,
        )
        issuer.setVerifier(contract, verifier, True, {"from": registrar})
    assert expiring_coin.expiry() > chain.time() + COIN_LIFETIME - 600

    small_minter = accounts[7]
    issuer.increaseMinterAllowance(small_minter, SMALL_BUDGET, {"from": master_minter})
    newcomers = [local_account(f"stateful newcomer {i}") for i in range(6)]
    signers = [resident, neighbour, outsider, merchant, distant_merchant, organisation, *newcomers]
    members = {
        str(resident): Member(Kind.RESIDENT, digits(BUURT), 0),
        str(neighbour): Member(Kind.RESIDENT, digits(WIJK), 0),
        str(outsider): Member(Kind.RESIDENT, digits(OTHER_WIJK), 0),
        str(merchant): Member(
            Kind.MERCHANT, digits(WIJK), purpose_set(Purpose.LOCAL_SPENDING, Purpose.SPORT_CULTURE)
        ),
        str(distant_merchant): Member(Kind.MERCHANT, digits(OTHER_WIJK), purpose_set(Purpose.LOCAL_SPENDING)),
        str(organisation): Member(Kind.ORGANISATION, digits(GEMEENTE), 0),
        str(municipality): Member(Kind.MUNICIPALITY, digits(GEMEENTE), 0),
    }
    # Those who may hold a coin start with some, so that the first steps have something to move.
    seeds = [
        (wijk_coin, [resident, neighbour, merchant]),
        (debt_coin, [resident, neighbour, outsider, municipality]),
        (sport_coin, [resident, outsider, merchant]),
        (expiring_coin, [resident, neighbour]),
    ]
    initial_balances = {coin.contract.address: {} for coin in coins}
    for contract, holders in seeds:
        for holder in holders:
            give(contract, holder, STARTING_BALANCE)
            initial_balances[contract.address][str(holder)] = STARTING_BALANCE

    minters = [funded_minter, small_minter]
    return World(
        registry=registry,
        issuer=issuer,
        coins=coins,
        actors=[*signers, municipality, stranger],
        signers=signers,
        newcomers=[*newcomers, stranger],
        initial_members=members,
        initial_balances=initial_balances,
        minters=minters,
        initial_allowances={str(m): issuer.minterAllowance(m) for m in minters},
        verifier=verifier,
        impostor=local_account("stateful impostor"),
        registrar=registrar,
        admin=admin,
        pauser=pauser,
        compliance=compliance,
        master_minter=master_minter,
        relayer=relayer,
        stranger=stranger,
        reader_code=reader_code,
    )


def test_random_operations_keep_the_books_and_the_transfer_rule(world):
    """spec: I1, I2, I3, I4, I5, I6, I7

    Random sequences of every operation, allowed or not; after each step the supply, every balance,
    the minters' allowances, the registry and the used claim ids agree with the model."""
    run_state_machine_as_test(
        build_machine(world),
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            database=None,
            suppress_health_check=HealthCheck.all(),
        ),
    )


def test_the_model_refuses_what_the_spec_refuses(world):
    """spec: I3

    The model itself, on cases the spec spells out (no chain involved)."""
    wijk, debt, sport, mobility = world.coins
    members = {
        "resident": Member(Kind.RESIDENT, digits(BUURT), 0),
        "neighbour": Member(Kind.RESIDENT, digits(WIJK), 0),
        "outsider": Member(Kind.RESIDENT, digits(OTHER_WIJK), 0),
        "merchant": Member(Kind.MERCHANT, digits(WIJK), purpose_set(Purpose.LOCAL_SPENDING)),
        "far merchant": Member(Kind.MERCHANT, digits(OTHER_WIJK), purpose_set(Purpose.LOCAL_SPENDING)),
        "municipality": Member(Kind.MUNICIPALITY, digits(OTHER_GEMEENTE), 0),
        "frozen": Member(Kind.RESIDENT, digits(WIJK), 0, frozen=True),
    }
    model = Model(
        members=members,
        balances={coin.contract.address: {} for coin in world.coins},
        allowances={},
        minters=set(),
        verifier_for={},
    )
    assert model.rule_refusals(wijk, "resident", "merchant") == set()  # T1
    assert model.rule_refusals(wijk, "resident", "far merchant") == {
        refused(TransferRefusal.RECEIVER_OUTSIDE_AREA)
    }
    assert model.rule_refusals(sport, "resident", "merchant") == {
        refused(TransferRefusal.PURPOSE_NOT_ACCEPTED)
    }
    assert model.rule_refusals(wijk, "resident", "neighbour") == {
        refused(TransferRefusal.PERSON_TO_PERSON_NOT_ALLOWED)
    }
    assert model.rule_refusals(mobility, "resident", "neighbour") == set()  # T4
    assert model.rule_refusals(debt, "resident", "municipality") == set()  # T5
    assert model.rule_refusals(wijk, "nobody", "merchant") == {refused(TransferRefusal.SENDER_NOT_REGISTERED)}
    assert model.rule_refusals(wijk, "frozen", "merchant") == {refused(TransferRefusal.SENDER_FROZEN)}
    assert model.rule_refusals(wijk, None, "neighbour") == set()  # T12
    assert model.rule_refusals(wijk, None, "outsider") == {refused(TransferRefusal.RECEIVER_OUTSIDE_AREA)}
    model.paused, model.expired = True, True
    assert model.rule_refusals(mobility, "resident", "neighbour") == {
        refused(TransferRefusal.SYSTEM_PAUSED),
        refused(TransferRefusal.COIN_EXPIRED),
    }
    assert model.burn_refusals(debt, "resident", BurnReason.SERVICE_REDEMPTION, 5, ref("x")) >= {
        "CoinBurnNotAllowed"
    }
