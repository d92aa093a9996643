"""Our contracts as web3 objects, for tests to look at the chain themselves (the service reaches it only
through socialcoin.chain)."""

from __future__ import annotations

from functools import cache

from eth_utils import keccak
from web3 import Web3

from socialcoin.chain.constants import Kind
from socialcoin.chain.contracts import Contract

# An account anvil keeps unlocked that the demo leaves unused: a resident through whom merchants and the
# municipality get coins in tests (admin mints reach residents only). Its buurt lies within every demo coin.
FUNDER_INDEX = 19
FUNDER_AREA = b"02020101"


class Contracts:
    def __init__(self, rpc_url: str, runtime_chain):
        self.web3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 30}))
        self.deployment = runtime_chain.deployment
        self.abis = runtime_chain.abis
        self.registry = self.web3.eth.contract(
            address=self.deployment.registry, abi=self.abis[Contract.REGISTRY]
        )
        self.issuer = self.web3.eth.contract(address=self.deployment.issuer, abi=self.abis[Contract.ISSUER])
        self.factory = self.web3.eth.contract(
            address=self.deployment.factory, abi=self.abis[Contract.FACTORY]
        )

    def coin(self, address: str):
        return self.web3.eth.contract(address=Web3.to_checksum_address(address), abi=self.abis[Contract.COIN])

    def _send(self, function, sender: str) -> None:
        tx = function.transact({"from": sender, "gasPrice": 0})
        assert self.web3.eth.wait_for_transaction_receipt(tx)["status"] == 1

    def fund_acceptor(self, coin: str, to: str, amount: int, demo: dict) -> None:
        """Gives a merchant (or the municipality) coins as it really gets them: a resident pays it. The
        funding resident is registered when needed and receives an admin mint first, all straight on
        chain with the demo's admin and minter (anvil's unlocked accounts)."""
        funder = self.web3.eth.accounts[FUNDER_INDEX]
        registry, issuer = self.registry.functions, self.issuer.functions
        admin, minter = demo["demo"]["admin"], demo["demo"]["minter"]
        if registry.participant(funder).call()[0] == Kind.NONE:
            registration = (funder, int(Kind.RESIDENT), FUNDER_AREA, 0, keccak(text="test funder"))
            self._send(registry.register(registration), admin)
        self._send(issuer.adminMint(coin, funder, amount, keccak(text="test funding")), minter)
        self._send(self.coin(coin).functions.transfer(to, amount), funder)

    def set_minter_allowance(self, minter: str, allowance: int, master_minter: str) -> None:
        """Makes a minter's allowance exactly `allowance`, for a test's starting point (the issuer only
        raises or lowers it: read, then one relative change, with nothing else changing it meanwhile)."""
        current = self.issuer.functions.minterAllowance(minter).call()
        if current == allowance:
            return
        functions = self.issuer.functions
        change = (
            functions.increaseMinterAllowance(minter, allowance - current)
            if allowance > current
            else functions.decreaseMinterAllowance(minter, current - allowance)
        )
        tx = change.transact({"from": master_minter, "gasPrice": 0})
        assert self.web3.eth.wait_for_transaction_receipt(tx)["status"] == 1


@cache
def _contracts(rpc_url: str, chain) -> Contracts:
    return Contracts(rpc_url, chain)


def contracts(runtime) -> Contracts:
    """The runtime's chain as web3 contract objects (made once per runtime)."""
    return _contracts(runtime.settings.rpc_url, runtime.chain)
