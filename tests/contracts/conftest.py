"""Fixtures for the contract tests: one deployed system per module, a chain snapshot per test.

Roles are named after who holds them. Residents, merchants and verifiers are local keys (so that
they can sign EIP-712 messages with eth-account); they hold no ether, like on the real chain, and
send with a zero gas price on a zero-base-fee anvil.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from brownie import SocialCoin, accounts

from scripts.deploy import deploy_system
from socialcoin.areas import to_bytes8
from socialcoin.chain.constants import Kind, Purpose, purpose_set
from support import (
    ADMIN_DELAY,
    BUURT,
    GEMEENTE,
    ONE_EURO,
    OTHER_WIJK,
    RECOVERY_DELAY,
    WIJK,
    local_account,
    ref,
)


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    """Every test starts from the module's deployed state."""


@pytest.fixture(scope="module")
def admin():
    return accounts[0]


@pytest.fixture(scope="module")
def registrar():
    return accounts[1]


@pytest.fixture(scope="module")
def pauser():
    return accounts[2]


@pytest.fixture(scope="module")
def compliance():
    return accounts[3]


@pytest.fixture(scope="module")
def master_minter():
    return accounts[4]


@pytest.fixture(scope="module")
def minter():
    return accounts[5]


@pytest.fixture(scope="module")
def relayer():
    return accounts[9]


@pytest.fixture(scope="module")
def stranger():
    return accounts[10]


@pytest.fixture(scope="module")
def system(admin, registrar, pauser, compliance, master_minter):
    system = deploy_system(admin, ADMIN_DELAY, RECOVERY_DELAY)
    tx = {"from": admin}
    system.registry.grantRole(system.registry.REGISTRAR_ROLE(), registrar, tx)
    system.registry.grantRole(system.registry.PAUSER_ROLE(), pauser, tx)
    system.registry.grantRole(system.registry.COMPLIANCE_ROLE(), compliance, tx)
    system.issuer.grantRole(system.issuer.MASTER_MINTER_ROLE(), master_minter, tx)
    system.issuer.grantRole(system.issuer.REGISTRAR_ROLE(), registrar, tx)
    return system


@pytest.fixture(scope="module")
def registry(system):
    return system.registry


@pytest.fixture(scope="module")
def issuer(system):
    return system.issuer


@pytest.fixture(scope="module")
def factory(system):
    return system.factory


@dataclass
class Registrar:
    """Registers participants through the registrar role."""

    registry: object
    registrar: object

    def register(self, account, kind: Kind, area: str, purposes: int = 0, record: str | None = None):
        record_hash = ref(record or f"record of {account.address}")
        return self.registry.register(
            (account.address, int(kind), to_bytes8(area), purposes, record_hash), {"from": self.registrar}
        )


@pytest.fixture(scope="module")
def enrol(registry, registrar):
    return Registrar(registry, registrar)


@pytest.fixture(scope="module")
def make_coin(factory, admin):
    """Creates a coin: make_coin(Purpose.LOCAL_SPENDING, WIJK, expiry=0, p2p=False, grace=0, cap=0)."""

    def make(
        purpose=Purpose.LOCAL_SPENDING,
        area=WIJK,
        expiry=0,
        p2p=False,
        name=None,
        symbol="SCN",
        grace=0,
        cap=0,
    ):
        name = name or f"Socialcoin {area} {Purpose(purpose).name}"
        spec = (name, symbol, int(purpose), to_bytes8(area), expiry, p2p, grace, cap)
        return SocialCoin.at(factory.createCoin(spec, {"from": admin}).return_value)

    return make


@pytest.fixture(scope="module")
def municipality(enrol):
    account = accounts[6]
    enrol.register(account, Kind.MUNICIPALITY, GEMEENTE)
    return account


@pytest.fixture(scope="module")
def resident(enrol):
    account = local_account("resident")
    enrol.register(account, Kind.RESIDENT, BUURT)
    return account


@pytest.fixture(scope="module")
def neighbour(enrol):
    account = local_account("neighbour")
    enrol.register(account, Kind.RESIDENT, WIJK)
    return account


@pytest.fixture(scope="module")
def outsider(enrol):
    """A resident of another wijk of the same gemeente."""
    account = local_account("outsider")
    enrol.register(account, Kind.RESIDENT, OTHER_WIJK)
    return account


@pytest.fixture(scope="module")
def merchant(enrol):
    account = local_account("merchant")
    enrol.register(account, Kind.MERCHANT, WIJK, purpose_set(Purpose.LOCAL_SPENDING, Purpose.SPORT_CULTURE))
    return account


@pytest.fixture(scope="module")
def distant_merchant(enrol):
    """A merchant in another wijk that accepts local spending coins."""
    account = local_account("distant merchant")
    enrol.register(account, Kind.MERCHANT, OTHER_WIJK, purpose_set(Purpose.LOCAL_SPENDING))
    return account


@pytest.fixture(scope="module")
def organisation(enrol):
    account = local_account("organisation")
    enrol.register(account, Kind.ORGANISATION, GEMEENTE)
    return account


@pytest.fixture(scope="module")
def verifier():
    """An organisation's verifier key; not a participant, it only signs attestations."""
    return local_account("verifier")


@pytest.fixture(scope="module")
def wijk_coin(make_coin):
    return make_coin(Purpose.LOCAL_SPENDING, WIJK, name="Socialcoin Geitenkamp - Wijkmunt", symbol="GKW")


@pytest.fixture(scope="module")
def debt_coin(make_coin):
    return make_coin(Purpose.DEBT_SETTLEMENT, GEMEENTE, name="Socialcoin Arnhem - Schulden", symbol="ARS")


@pytest.fixture(scope="module")
def funded_minter(issuer, master_minter, minter):
    """The backend's minter key with a budget of EUR 1,000,000."""
    issuer.increaseMinterAllowance(minter, 1_000_000 * ONE_EURO, {"from": master_minter})
    return minter


@pytest.fixture(scope="module")
def funder(enrol):
    """A resident through whom merchants and the municipality get coins: admin mints reach residents only."""
    account = local_account("funder")
    enrol.register(account, Kind.RESIDENT, BUURT)
    return account


@pytest.fixture(scope="module")
def give(issuer, funded_minter, registry, funder):
    """Gives a holder coins: give(coin, holder, amount). A resident (or an unregistered address) through
    an admin mint to it; anyone else by a payment from the funder, who receives an admin mint first."""

    def mint(coin, holder, amount):
        kind = registry.participant(holder)[0]
        to = funder if kind not in (Kind.RESIDENT, Kind.NONE) else holder
        tx = issuer.adminMint(coin, to, amount, ref("test funding"), {"from": funded_minter})
        return tx if to == holder else coin.transfer(holder, amount, {"from": funder})

    return mint
