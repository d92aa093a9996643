"""Our contracts as web3 objects, for tests to look at the chain themselves (the service reaches it only
through socialcoin.chain)."""

from __future__ import annotations

from functools import cache

from web3 import Web3

from socialcoin.chain.contracts import Contract


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


@cache
def _contracts(rpc_url: str, chain) -> Contracts:
    return Contracts(rpc_url, chain)


def contracts(runtime) -> Contracts:
    """The runtime's chain as web3 contract objects (made once per runtime)."""
    return _contracts(runtime.settings.rpc_url, runtime.chain)
