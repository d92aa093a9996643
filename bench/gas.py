"""Gas per operation of the Socialcoin contracts, against a plain OpenZeppelin ERC-20 in the same run.

    .venv/bin/python bench/gas.py --network socialcoin-test

Loads the brownie project from the repository root, starts (or attaches to) the network's chain,
deploys the system with scripts.deploy.deploy_system, a LOCAL_SPENDING wijk coin, a DEBT_SETTLEMENT
gemeente coin (both with a holding cap, so that every check a coin can make is made) and BaselineERC20,
and reads gasUsed from the receipts. Each single-transaction figure is
the median of three transactions made under the same storage conditions, checked before each one:

  fresh  the recipient's balance is 0 before (its balance slot goes from zero to non-zero);
  warm   sender and recipient both hold a balance before and after (non-zero to non-zero).

Relayed payments are measured twice: with the nonce in a fresh 256-bit nonce word (the first of every
256 payments of a wallet that counts its nonces up) and in a word already used (the other 255; the
usual case, used for the ratio lines). The service's own payment, payWithAuthorization with a reference,
is shown beside them: it also records the payment (one new storage word) so that the merchant can
refund it. A refund (`refund gas`) gives back half of such a payment. Activity mints, admin mints and
grants go to residents that already hold the coin; batch figures are the batch transaction's gas
divided by its size, each attestation (or grant) for a different resident. Grant batches (grantBatch:
rewards without an attestation) are compared with a single adminMint, the other mint without a
signature. Recovery of a lost wallet is measured in its two steps (request, execute; the development
chain's recovery delay is 0) for residents holding both coins: execution with SPENT_COINS expired,
emptied coins still listed, and after they were delisted, which is what keeps recovery bounded. Targets
are reported, not asserted: the script exits 0 whether they are met or not.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = 3
BATCH_SIZES = (1, 10, 100)
AMOUNT = 1_000  # EUR 10.00: every measured payment, mint and burn moves this many units
FUNDING = 1_000_000  # what a warm holder starts with: enough that it never runs dry
HOLDING_CAP = 10**12  # every benched coin has a holding cap (above any bench balance)

# Targets: payment and relayed payment as a multiple of the ERC-20 transfer in the same condition,
# batch minting per attestation as a multiple of a single mint.
PAYMENT_TARGETS = {"fresh": 1.20, "warm": 1.28}
RELAYED_TARGETS = {"fresh": 1.8, "warm": 2.0}
BATCH_TARGET = 0.7
SPENT_COINS = 30  # expired, emptied coins listed before a recovery, then delisted


def _prepare_environment() -> None:
    """brownie needs anvil on PATH and the solc stand-in in py-solc-x's folder (as `make` sets up)."""
    tools = str(ROOT / "tools" / "bin")
    if tools not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = tools + os.pathsep + os.environ.get("PATH", "")
    os.environ.setdefault("SOLCX_BINARY_PATH", str(ROOT / ".solcx"))
    for path in (ROOT / "backend", ROOT):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


@dataclass
class Row:
    operation: str
    gas: int
    baseline: str = ""
    baseline_gas: int | None = None

    @property
    def ratio(self) -> float | None:
        return self.gas / self.baseline_gas if self.baseline_gas else None


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    gas: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, operation: str, gas: int, baseline: str = "") -> None:
        self.gas[key] = gas
        self.rows.append(Row(operation, gas, baseline, self.gas.get(baseline) if baseline else None))


def median_gas(samples: list[int]) -> int:
    return int(statistics.median(samples))


class Bench:
    """The deployed system, its participants and the measurements."""

    def __init__(self) -> None:
        from brownie import BaselineERC20, SocialCoin, accounts, chain, web3

        from scripts.deploy import deploy_system
        from socialcoin.areas import to_bytes8
        from socialcoin.chain.constants import Kind, Purpose, purpose_set
        from socialcoin.chain.typed_data import ISSUER_DOMAIN_NAME, Domain

        self.accounts, self.chain, self.web3 = accounts, chain, web3
        self.kind, self.to_bytes8 = Kind, to_bytes8
        self.admin, self.registrar, self.master_minter = accounts[0], accounts[1], accounts[4]
        self.compliance = accounts[3]
        self.minter, self.relayer = accounts[5], accounts[9]
        self._labels = 0

        self.system = deploy_system(self.admin, 3600)
        registry, issuer = self.system.registry, self.system.issuer
        registry.grantRole(registry.REGISTRAR_ROLE(), self.registrar, self.tx(self.admin))
        registry.grantRole(registry.COMPLIANCE_ROLE(), self.compliance, self.tx(self.admin))
        issuer.grantRole(issuer.MASTER_MINTER_ROLE(), self.master_minter, self.tx(self.admin))
        issuer.grantRole(issuer.REGISTRAR_ROLE(), self.registrar, self.tx(self.admin))
        issuer.increaseMinterAllowance(self.minter, 10**15, self.tx(self.master_minter))

        self.wijk_coin = self._create_coin(
            SocialCoin, "Socialcoin Geitenkamp - Wijkmunt", "GKW", Purpose.LOCAL_SPENDING, "WK020201"
        )
        self.debt_coin = self._create_coin(
            SocialCoin, "Socialcoin Arnhem - Schulden", "ARS", Purpose.DEBT_SETTLEMENT, "GM0202"
        )
        self.merchant_purposes = purpose_set(Purpose.LOCAL_SPENDING)
        self.verifier = self.new_key("verifier")
        issuer.setVerifier(self.wijk_coin, self.verifier, True, self.tx(self.registrar))
        self.issuer_domain = Domain(ISSUER_DOMAIN_NAME, web3.eth.chain_id, issuer.address)
        self.coin_domain = Domain(self.wijk_coin.name(), web3.eth.chain_id, self.wijk_coin.address)

        # The baseline: deployed by the admin, who hands a balance to a sender that holds no ether.
        self.erc20 = BaselineERC20.deploy(10**24, self.tx(self.admin))
        self.erc20_sender = self.new_key("erc20 sender")
        self.erc20.transfer(self.erc20_sender, 10**21, self.tx(self.admin))

        # The payer: a resident of a buurt in the wijk holding both coins.
        self.payer = self.new_key("payer")
        self.register([self.payer], Kind.RESIDENT, "BU02020101")
        self.fund(self.wijk_coin, self.payer, 100 * FUNDING)
        self.fund(self.debt_coin, self.payer, FUNDING)
        self.payer_nonces: set[int] = set()  # authorization nonces the payer has used

        self.warm_merchant = self.new_key("warm merchant")
        self.register([self.warm_merchant], Kind.MERCHANT, "WK020201", self.merchant_purposes)
        self.wijk_coin.transfer(self.warm_merchant, FUNDING, self.tx(self.payer))
        # The same recipient addresses serve the baseline and transfer(), so that their calldata
        # (and its zero-byte discount) is identical: the ratio compares the contracts alone.
        self.erc20.transfer(self.warm_merchant, 10**18, self.tx(self.admin))
        self.paired_fresh = [self.fresh_merchant() for _ in range(SAMPLES)]

    # ----------------------------------------------------------------------------------------------
    # Helpers
    # ----------------------------------------------------------------------------------------------

    @staticmethod
    def tx(sender) -> dict:
        """Transaction parameters: residents hold no ether, so every transaction is free (base fee 0)."""
        return {"from": sender, "gas_price": 0}

    def new_key(self, label: str):
        """A fresh local key (a wallet): signs, holds no ether."""
        from eth_utils import keccak

        self._labels += 1
        return self.accounts.add(keccak(text=f"socialcoin bench {label} {self._labels}").hex())

    def new_keys(self, label: str, count: int) -> list:
        return [self.new_key(label) for _ in range(count)]

    def _create_coin(self, container, name: str, symbol: str, purpose: int, area: str):
        # Every coin carries a holding cap, so that payments to residents pay for checking it; it is set
        # above what the bench's residents hold (its value does not change the gas).
        spec = (name, symbol, int(purpose), self.to_bytes8(area), 0, False, 0, HOLDING_CAP)
        tx = self.system.factory.createCoin(spec, self.tx(self.admin))
        return container.at(tx.return_value)

    def register(self, wallets: list, kind: int, area: str, purposes: int = 0) -> None:
        from eth_utils import keccak

        registrations = [
            (w.address, int(kind), self.to_bytes8(area), purposes, keccak(text=f"record {w.address}"))
            for w in wallets
        ]
        for start in range(0, len(registrations), 50):
            self.system.registry.registerBatch(registrations[start : start + 50], self.tx(self.registrar))

    def fund(self, coin, holder, amount: int) -> None:
        from eth_utils import keccak

        self.system.issuer.adminMint(coin, holder, amount, keccak(text="bench funding"), self.tx(self.minter))

    def residents(self, count: int, warm: bool) -> list:
        wallets = self.new_keys("resident", count)
        self.register(wallets, self.kind.RESIDENT, "BU02020101")
        if warm:
            for wallet in wallets:
                self.fund(self.wijk_coin, wallet, FUNDING)
        return wallets

    def fresh_merchant(self):
        merchant = self.new_key("merchant")
        self.register([merchant], self.kind.MERCHANT, "WK020201", self.merchant_purposes)
        return merchant

    def measure(self, send: Callable[[int], object], check: Callable[[int], None]) -> int:
        """Median gasUsed of SAMPLES transactions; `check(i)` verifies the storage condition first."""
        samples = []
        for i in range(SAMPLES):
            check(i)
            tx = send(i)
            if tx.status != 1:
                raise RuntimeError(f"transaction {tx.txid} failed")
            samples.append(tx.gas_used)
        return median_gas(samples)

    def expect(self, condition: bool, what: str) -> None:
        if not condition:
            raise RuntimeError(f"benchmark precondition not met: {what}")

    def payment_checks(self, token, sender, recipients: list, fresh: bool) -> Callable[[int], None]:
        def check(i: int) -> None:
            self.expect(token.balanceOf(sender) > AMOUNT, "sender keeps a balance (warm sender)")
            balance = token.balanceOf(recipients[i])
            self.expect(balance == 0 if fresh else balance > 0, f"recipient {'fresh' if fresh else 'warm'}")

        return check

    def recipients(self, fresh: bool, make: Callable[[], object], warm) -> list:
        return [make() for _ in range(SAMPLES)] if fresh else [warm] * SAMPLES

    # ----------------------------------------------------------------------------------------------
    # Measurements
    # ----------------------------------------------------------------------------------------------

    def baseline(self, results: Results) -> None:
        for case in ("fresh", "warm"):
            fresh = case == "fresh"
            recipients = self.paired_fresh if fresh else [self.warm_merchant] * SAMPLES
            gas = self.measure(
                lambda i, r=recipients: self.erc20.transfer(r[i], AMOUNT, self.tx(self.erc20_sender)),
                self.payment_checks(self.erc20, self.erc20_sender, recipients, fresh),
            )
            label = f"ERC-20 transfer, {case} recipient (baseline)"
            results.add(f"erc20 {case}", label, gas, f"erc20 {case}")

    def payments(self, results: Results) -> None:
        coin = self.wijk_coin
        for case in ("fresh", "warm"):
            fresh = case == "fresh"
            recipients = self.paired_fresh if fresh else [self.warm_merchant] * SAMPLES
            gas = self.measure(
                lambda i, r=recipients: coin.transfer(r[i], AMOUNT, self.tx(self.payer)),
                self.payment_checks(coin, self.payer, recipients, fresh),
            )
            results.add(f"payment {case}", f"payment transfer(), {case} recipient", gas, f"erc20 {case}")
        for case in ("fresh", "warm"):
            fresh = case == "fresh"
            recipients = self.recipients(fresh, self.fresh_merchant, self.warm_merchant)
            gas = self.measure(
                lambda i, r=recipients: coin.pay(r[i], AMOUNT, _ref(f"sale {r[i]} {i}"), self.tx(self.payer)),
                self.payment_checks(coin, self.payer, recipients, fresh),
            )
            label = f"payment pay() with reference, {case} recipient"
            results.add(f"pay {case}", label, gas, f"erc20 {case}")

    def _nonces(self, fresh_word: bool) -> list[int]:
        """Nonces as a wallet counting up uses them: word k holds nonces 256k .. 256k+255."""
        words = {n >> 8 for n in self.payer_nonces}
        if fresh_word:
            first = max(words, default=-1) + 1
            return [word << 8 for word in range(first, first + SAMPLES)]
        # The usual case: the next nonces within the last word the payer has started.
        self.expect(bool(words), "a used nonce word exists")
        last = max(self.payer_nonces)
        self.expect((last & 0xFF) + SAMPLES <= 0xFF, "the word has room left")
        return [last + 1 + j for j in range(SAMPLES)]

    def relayed(self, results: Results) -> None:
        from socialcoin.chain.typed_data import sign

        coin = self.wijk_coin

        def relay(to, nonce: int):
            valid_after, valid_before = 0, self.chain.time() + 3600
            nonce_bytes = nonce.to_bytes(32, "big")
            message = {
                "from": self.payer.address,
                "to": to.address,
                "value": AMOUNT,
                "validAfter": valid_after,
                "validBefore": valid_before,
                "nonce": nonce_bytes,
            }
            sig = sign(self.payer.private_key, self.coin_domain, "TransferWithAuthorization", message)
            tx = coin.transferWithAuthorization(
                self.payer,
                to,
                AMOUNT,
                valid_after,
                valid_before,
                nonce_bytes,
                sig.v,
                sig.r,
                sig.s,
                self.tx(self.relayer),
            )
            self.payer_nonces.add(nonce)
            return tx

        # Fresh-word cases first: they leave used words behind for the usual case.
        for word_case in ("fresh word", "used word"):
            for case in ("fresh", "warm"):
                fresh = case == "fresh"
                nonces = self._nonces(word_case == "fresh word")
                recipients = self.recipients(fresh, self.fresh_merchant, self.warm_merchant)
                pay_check = self.payment_checks(coin, self.payer, recipients, fresh)

                def check(i: int, n=nonces, word_case=word_case, pay_check=pay_check) -> None:
                    pay_check(i)
                    spent = coin.authorizationState(self.payer, n[i].to_bytes(32, "big"))
                    self.expect(not spent, "nonce unused")
                    in_used_word = any(old >> 8 == n[i] >> 8 for old in self.payer_nonces)
                    self.expect(in_used_word == (word_case == "used word"), f"nonce in a {word_case}")

                gas = self.measure(lambda i, r=recipients, n=nonces: relay(r[i], n[i]), check)
                label = f"relayed transferWithAuthorization, {case} recipient, nonce in {word_case}"
                results.add(f"relayed {case} {word_case}", label, gas, f"erc20 {case}")

        # The service's own payment: payWithAuthorization with a reference, recorded so that it can be
        # refunded (a fresh storage word per payment). Shown beside the targets, not one of them.
        for case in ("fresh", "warm"):
            fresh = case == "fresh"
            nonces = self._nonces(False)
            recipients = self.recipients(fresh, self.fresh_merchant, self.warm_merchant)
            gas = self.measure(
                lambda i, r=recipients, n=nonces: self.relay_pay(r[i], n[i], _ref(f"relayed sale {n[i]}")),
                self.payment_checks(coin, self.payer, recipients, fresh),
            )
            label = f"relayed payWithAuthorization (refundable), {case} recipient, nonce in used word"
            results.add(f"relayed pay {case}", label, gas, f"erc20 {case}")

    def relay_pay(self, to, nonce: int, reference: bytes):
        """The payer's signed payWithAuthorization with `reference`, sent by the relayer."""
        from socialcoin.chain.typed_data import sign

        valid_after, valid_before = 0, self.chain.time() + 3600
        nonce_bytes = nonce.to_bytes(32, "big")
        message = {
            "from": self.payer.address,
            "to": to.address,
            "value": AMOUNT,
            "paymentReference": reference,
            "validAfter": valid_after,
            "validBefore": valid_before,
            "nonce": nonce_bytes,
        }
        sig = sign(self.payer.private_key, self.coin_domain, "PayWithAuthorization", message)
        tx = self.wijk_coin.payWithAuthorization(
            *message.values(), sig.v, sig.r, sig.s, self.tx(self.relayer)
        )
        self.payer_nonces.add(nonce)
        return tx

    def refunds(self, results: Results) -> None:
        """A merchant refunds half of a payment (both hold the coin before and after): directly, and
        signed by the merchant and relayed (as the service does with the keys it keeps; the median is a
        nonce in a word already used)."""
        from socialcoin.chain.typed_data import sign

        coin, merchant = self.wijk_coin, self.warm_merchant
        references = {
            how: [_ref(f"refunded sale {how} {i}") for i in range(SAMPLES)] for how in ("direct", "relayed")
        }
        for reference in (*references["direct"], *references["relayed"]):
            coin.pay(merchant, AMOUNT, reference, self.tx(self.payer))

        def check(how: str) -> Callable[[int], None]:
            def paid_not_refunded(i: int) -> None:
                record = coin.payment(self.payer, merchant, references[how][i])
                self.expect(tuple(record) == (AMOUNT, 0), "a payment not yet refunded")
                self.expect(coin.balanceOf(self.payer) > 0, "the payer holds the coin")

            return paid_not_refunded

        gas = self.measure(
            lambda i: coin.refund(self.payer, AMOUNT // 2, references["direct"][i], self.tx(merchant)),
            check("direct"),
        )
        results.add("refund", "refund() of half a payment, payer holding the coin", gas, "erc20 warm")

        def relayed(i: int):
            valid_before = self.chain.time() + 3600
            nonce = i.to_bytes(32, "big")  # counted up, as the service does: one nonce word for all three
            message = {
                "from": merchant.address,
                "to": self.payer.address,
                "value": AMOUNT // 2,
                "paymentReference": references["relayed"][i],
                "validAfter": 0,
                "validBefore": valid_before,
                "nonce": nonce,
            }
            sig = sign(merchant.private_key, self.coin_domain, "RefundWithAuthorization", message)
            return coin.refundWithAuthorization(*message.values(), sig.v, sig.r, sig.s, self.tx(self.relayer))

        gas = self.measure(relayed, check("relayed"))
        results.add(
            "refund relayed", "relayed refundWithAuthorization() of half a payment", gas, "erc20 warm"
        )

    def _attestation(self, resident, claim: str):
        from socialcoin.chain.typed_data import sign

        attestation = {
            "resident": resident.address,
            "coin": self.wijk_coin.address,
            "amount": AMOUNT,
            "activityId": _ref("activity: buurthuis vrijwilligerswerk"),
            "claimId": _ref(f"claim {claim}"),
            "evidenceHash": _ref(f"evidence {claim}"),
            "deadline": self.chain.time() + 3600,
        }
        signature = sign(self.verifier.private_key, self.issuer_domain, "Attestation", attestation)
        return tuple(attestation.values()), signature.packed

    def mints(self, results: Results) -> None:
        issuer, coin = self.system.issuer, self.wijk_coin
        claims = iter(range(10**9))

        def mint_check(residents: list, warm: bool) -> Callable[[int], None]:
            def check(i: int) -> None:
                balance = coin.balanceOf(residents[i])
                self.expect(balance > 0 if warm else balance == 0, "resident balance condition")

            return check

        for case, warm in (("warm", True), ("fresh", False)):
            residents = self.residents(SAMPLES, warm)
            gas = self.measure(
                lambda i, r=residents: issuer.mintWithAttestation(
                    *self._attestation(r[i], str(next(claims))), self.tx(self.minter)
                ),
                mint_check(residents, warm),
            )
            holder = "resident holding the coin" if warm else "resident without balance"
            results.add(f"mint single {case}", f"activity mint with attestation (single), {holder}", gas)

        for size in BATCH_SIZES:
            residents = self.residents(size, warm=True)
            self.expect(all(coin.balanceOf(r) > 0 for r in residents), "batch residents hold the coin")
            signed = [self._attestation(r, str(next(claims))) for r in residents]
            tx = issuer.mintBatch([a for a, _ in signed], [s for _, s in signed], self.tx(self.minter))
            self.expect(tx.status == 1, "batch mint succeeded")
            results.add(
                f"batch {size}",
                f"batch mint, {size} attestation(s), gas per attestation",
                tx.gas_used // size,
                "mint single warm",
            )

    def grants(self, results: Results) -> None:
        """A single adminMint (the baseline), and grantBatch per grant at each batch size."""
        issuer, coin = self.system.issuer, self.wijk_coin
        residents = self.residents(SAMPLES, warm=True)
        gas = self.measure(
            lambda i: issuer.adminMint(coin, residents[i], AMOUNT, _ref(f"bonus {i}"), self.tx(self.minter)),
            lambda i: self.expect(coin.balanceOf(residents[i]) > 0, "admin mint resident holds the coin"),
        )
        results.add("admin mint warm", "admin mint adminMint() (single), resident holding the coin", gas)

        for size in BATCH_SIZES:
            residents = self.residents(size, warm=True)
            self.expect(all(coin.balanceOf(r) > 0 for r in residents), "grant residents hold the coin")
            grants = [(coin.address, r.address, AMOUNT, _ref(f"grant {size} {r.address}")) for r in residents]
            tx = issuer.grantBatch(grants, self.tx(self.minter))
            self.expect(tx.status == 1, "grant batch succeeded")
            results.add(
                f"grant batch {size}",
                f"grant batch grantBatch(), {size} grant(s), gas per grant",
                tx.gas_used // size,
                "admin mint warm",
            )

    def burns(self, results: Results) -> None:
        debt, coin = self.debt_coin, self.wijk_coin

        def holds(token, holder) -> Callable[[int], None]:
            return lambda _i: self.expect(token.balanceOf(holder) > AMOUNT, "holder keeps a balance")

        gas = self.measure(
            lambda i: debt.settleDebt(AMOUNT, _ref(f"debt case {i}"), self.tx(self.payer)),
            holds(debt, self.payer),
        )
        results.add("settle", "debt settlement burn settleDebt()", gas, "erc20 warm")
        gas = self.measure(
            lambda i: coin.redeemPayout(AMOUNT, _ref(f"payout {i}"), self.tx(self.warm_merchant)),
            holds(coin, self.warm_merchant),
        )
        results.add("payout", "payout burn redeemPayout()", gas, "erc20 warm")

    def _spent_coins(self, count: int) -> list:
        """`count` coins that expired with nothing minted: what years of monthly coins leave behind."""
        from brownie import SocialCoin

        from socialcoin.chain.constants import Purpose

        coins = []
        factory, area = self.system.factory, self.to_bytes8("GM0202")
        for i in range(count):
            expiry = self.web3.eth.get_block("latest").timestamp + 30
            spec = (
                f"Socialcoin spent {i}",
                f"SP{i}",
                int(Purpose.ENERGY),
                area,
                expiry,
                False,
                0,
                HOLDING_CAP,
            )
            coins.append(SocialCoin.at(factory.createCoin(spec, self.tx(self.admin)).return_value))
            self.chain.sleep(60)
            self.chain.mine()
        return coins

    def _recoveries(self, label: str) -> tuple[int, int]:
        """Median gas of requestRecovery and of executeRecovery for SAMPLES residents who hold both coins."""
        registry = self.system.registry
        residents = self.residents(SAMPLES, warm=True)
        for resident in residents:
            self.fund(self.debt_coin, resident, FUNDING)
        registry.freeze(residents, self.tx(self.compliance))
        replacements = self.new_keys(f"replacement {label}", SAMPLES)
        request = self.measure(
            lambda i: registry.requestRecovery(
                residents[i], replacements[i], _ref(f"case {label} {i}"), self.tx(self.compliance)
            ),
            lambda i: self.expect(registry.participant(residents[i])[3], "the lost wallet is frozen"),
        )
        execute = self.measure(
            lambda i: registry.executeRecovery(residents[i], self.tx(self.compliance)),
            lambda i: self.expect(
                self.wijk_coin.balanceOf(residents[i]) > 0 and self.debt_coin.balanceOf(residents[i]) > 0,
                "the lost wallet holds both coins",
            ),
        )
        return request, execute

    def recovery(self, results: Results) -> None:
        """Both steps of a recovery, with SPENT_COINS spent coins listed and after delisting them."""
        registry = self.system.registry
        self.expect(registry.recoveryDelay() == 0, "no recovery delay on the development chain")
        spent = self._spent_coins(SPENT_COINS)
        _, crowded = self._recoveries("crowded")
        for coin in spent:
            self.expect(coin.totalSupply() == 0, "a spent coin is empty")
            registry.delistCoin(coin, self.tx(self.relayer))
        self.expect(len(registry.coins()) == 2, "only the two live coins stay listed")
        request, execute = self._recoveries("bounded")
        results.add("recovery request", "recovery requestRecovery()", request)
        results.add("recovery execute", "recovery executeRecovery(), 2 listed coins with a balance", execute)
        label = f"recovery executeRecovery(), {SPENT_COINS} spent coins still listed besides"
        results.add("recovery execute crowded", label, crowded)


def _ref(text: str) -> bytes:
    from eth_utils import keccak

    return keccak(text=text)


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------

BASELINE_NAMES = {
    "erc20 fresh": "ERC-20 fresh",
    "erc20 warm": "ERC-20 warm",
    "mint single warm": "single mint",
    "admin mint warm": "admin mint",
}


def print_table(results: Results) -> None:
    width = max(len(row.operation) for row in results.rows)
    print(f"{'operation':<{width}}  {'gas':>9}  {'baseline':<13}  {'ratio':>5}")
    print(f"{'-' * width}  {'-' * 9}  {'-' * 13}  {'-' * 5}")
    for row in results.rows:
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else "-"
        baseline = BASELINE_NAMES.get(row.baseline, "-")
        print(f"{row.operation:<{width}}  {row.gas:>9,}  {baseline:<13}  {ratio:>5}")


def print_ratios_and_targets(results: Results) -> None:
    gas = results.gas
    checks: list[tuple[str, int, int, float]] = []
    print()
    for case in ("fresh", "warm"):
        measured, base = gas[f"payment {case}"], gas[f"erc20 {case}"]
        print(f"payment/erc20 gas ratio ({case}): {measured / base:.2f}")
        checks.append((f"payment ({case})", measured, base, PAYMENT_TARGETS[case]))
    for case in ("fresh", "warm"):
        # The wallet's usual case: the nonce lies in a word it already used.
        measured = gas[f"relayed {case} used word"]
        print(f"relayed/erc20 gas ratio ({case}): {measured / gas[f'erc20 {case}']:.2f}")
        checks.append((f"relayed ({case})", measured, gas[f"erc20 {case}"], RELAYED_TARGETS[case]))
    for case in ("fresh", "warm"):
        measured, base = gas[f"relayed {case} fresh word"], gas[f"erc20 {case}"]
        print(f"relayed/erc20 gas ratio ({case}, nonce in a fresh word): {measured / base:.2f}")
    for case in ("fresh", "warm"):
        measured, base = gas[f"relayed pay {case}"], gas[f"erc20 {case}"]
        print(f"relayed refundable payWithAuthorization/erc20 gas ratio ({case}): {measured / base:.2f}")
    batch, single = gas["batch 100"], gas["mint single warm"]
    print(f"batch mint 100 / single mint gas ratio: {batch / single:.2f}")
    checks.append(("batch mint 100 per attestation / single mint", batch, single, BATCH_TARGET))
    grant, admin_mint = gas["grant batch 100"], gas["admin mint warm"]
    print(f"grant batch 100 / admin mint gas ratio: {grant / admin_mint:.2f}")
    print(f"recovery request gas: {gas['recovery request']}")
    print(f"recovery execute gas: {gas['recovery execute']}")
    per_coin = (gas["recovery execute crowded"] - gas["recovery execute"]) / SPENT_COINS
    print(
        f"recovery execute gas with {SPENT_COINS} spent coins still listed: {gas['recovery execute crowded']}"
        f" ({per_coin:,.0f} per listed coin; delisting them brings it back to {gas['recovery execute']})"
    )
    print(f"refund gas: {gas['refund']}")
    print(f"relayed refund gas: {gas['refund relayed']}")

    print()
    print("Targets:")
    for name, measured, base, limit in checks:
        allowed = limit * base
        ratio = measured / base
        if measured <= allowed:
            verdict = f"target met ({allowed - measured:,.0f} gas to spare)"
        else:
            verdict = f"target MISSED by {measured - allowed:,.0f} gas"
        print(f"  {name}: {ratio:.2f} (target <= {limit:.2f}): {verdict}")


def compiler_settings() -> str:
    import yaml

    compiler = yaml.safe_load((ROOT / "brownie-config.yaml").read_text())["compiler"]
    solc = compiler["solc"]
    return (
        f"solc {solc['version']}, optimizer {solc['optimizer']['runs']} runs, EVM {compiler['evm_version']}"
    )


def _settle_background_threads(timeout: float = 30.0) -> None:
    """brownie files every transaction for `chain.undo` in a thread of its own (it snapshots the chain);
    let those finish before the chain is stopped, or they die with "connection reset" tracebacks."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and thread is not threading.main_thread():
            thread.join(max(0.0, deadline - time.monotonic()))


def run(network_name: str) -> Results:
    """Deploys and measures; brownie's own output (a few lines per transaction) is held back and
    shown only when something fails."""
    from brownie import network, project

    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log):
            os.chdir(ROOT)
            bench_project = project.load(ROOT, name="SocialcoinBench")
            # As `brownie run` does: scripts.deploy imports the contract containers from `brownie`.
            bench_project._add_to_main_namespace()
            network.connect(network_name)
            try:
                network.gas_price(0)
                bench = Bench()
                results = Results()
                bench.baseline(results)
                bench.payments(results)
                bench.relayed(results)
                bench.mints(results)
                bench.grants(results)
                bench.burns(results)
                bench.recovery(results)
                bench.refunds(results)
            finally:
                _settle_background_threads()
                network.disconnect()
    except BaseException:
        sys.stderr.write("".join(log.getvalue().splitlines(keepends=True)[-60:]))
        raise
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", default="socialcoin-test", help="brownie network to run on")
    args = parser.parse_args(argv)

    _prepare_environment()
    warnings.filterwarnings("ignore", message=r"rpc\.\w+ should not be called directly")
    results = run(args.network)

    print(f"Socialcoin gas figures ({compiler_settings()}; network {args.network}; median of {SAMPLES} txs)")
    print()
    print_table(results)
    print_ratios_and_targets(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
