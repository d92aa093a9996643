"""The one door to the chain: a web3 connection, our contracts from the build artifacts and the
deployment file, and revert data decoded into domain errors."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from requests.exceptions import RequestException
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import Web3RPCError
from web3.types import RPCEndpoint

from .errors import ChainRevert

CONTRACT_NAMES = ("ParticipantRegistry", "ActivityIssuer", "CoinFactory", "SocialCoin")


@dataclass(frozen=True)
class Deployment:
    """What scripts/deploy.py (and scripts/demo.py) wrote for a network."""

    chain_id: int
    start_block: int
    registry: str
    issuer: str
    factory: str
    coins: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        data = json.loads(Path(path).read_text())
        contracts = data["contracts"]
        coins = data.get("coins") or {}
        return cls(
            chain_id=int(data["chain_id"]),
            start_block=int(data.get("start_block", 0)),
            registry=to_checksum_address(contracts["ParticipantRegistry"]),
            issuer=to_checksum_address(contracts["ActivityIssuer"]),
            factory=to_checksum_address(contracts["CoinFactory"]),
            coins={str(k): to_checksum_address(v) for k, v in coins.items()}
            if isinstance(coins, dict)
            else {},
        )


class Abis:
    """ABIs from brownie's build artifacts, and every custom error by selector."""

    def __init__(self, build_dir: Path):
        self._abis = {
            name: json.loads((Path(build_dir) / f"{name}.json").read_text())["abi"] for name in CONTRACT_NAMES
        }

    def __getitem__(self, name: str) -> list[dict[str, Any]]:
        return self._abis[name]

    @cached_property
    def errors(self) -> dict[bytes, tuple[str, list[str], list[str]]]:
        """selector -> (name, argument names, argument types)"""
        found: dict[bytes, tuple[str, list[str], list[str]]] = {}
        for abi in self._abis.values():
            for item in abi:
                if item["type"] != "error":
                    continue
                types = [arg["type"] for arg in item["inputs"]]
                selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
                found[selector] = (item["name"], [arg["name"] for arg in item["inputs"]], types)
        return found

    def decode_revert(self, data: bytes) -> ChainRevert:
        """Revert data -> ChainRevert(name, args); unknown data keeps its hex."""
        selector, body = bytes(data[:4]), bytes(data[4:])
        if selector in self.errors:
            name, names, types = self.errors[selector]
            values = abi_decode(types, body)
            return ChainRevert(name, {n: _plain(v) for n, v in zip(names, values, strict=True)})
        return ChainRevert("UnknownRevert", {"data": "0x" + bytes(data).hex()})


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# The registry's participant(address) view.
_PARTICIPANT = keccak(text="participant(address)")[:4].hex()
REGISTRY_CALLS_PER_BATCH = 500


class Gateway:
    """Our deployed contracts on one chain."""

    def __init__(self, web3: Web3, deployment: Deployment, abis: Abis):
        self.web3 = web3
        self.deployment = deployment
        self.abis = abis
        self.registry = web3.eth.contract(address=deployment.registry, abi=abis["ParticipantRegistry"])
        self.issuer = web3.eth.contract(address=deployment.issuer, abi=abis["ActivityIssuer"])
        self.factory = web3.eth.contract(address=deployment.factory, abi=abis["CoinFactory"])

    @classmethod
    def connect(cls, rpc_url: str, deployment_file: Path, build_dir: Path) -> Gateway:
        web3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 30}))
        return cls(web3, Deployment.load(deployment_file), Abis(build_dir))

    def rpc(self, method: str, params: list[Any]) -> Any:
        """A raw JSON-RPC answer: web3's formatting of a 200-mint receipt (400 logs) took ~0.15 s."""
        answer = self.web3.provider.make_request(RPCEndpoint(method), params)
        if answer.get("error"):
            raise Web3RPCError(str(answer["error"]))
        return answer.get("result")

    def registered_among(self, addresses: list[str]) -> set[str]:
        """Those of `addresses` the registry knows, asked in JSON-RPC batches of 500 calls. The calls are
        encoded by hand: web3's contract encoding costs about 2 ms a call."""
        registry, found = self.registry.address, set()
        for start in range(0, len(addresses), REGISTRY_CALLS_PER_BATCH):
            chunk = addresses[start : start + REGISTRY_CALLS_PER_BATCH]
            calls = [
                ("eth_call", [{"to": registry, "data": f"0x{_PARTICIPANT}{a[2:].lower():0>64}"}, "latest"])
                for a in chunk
            ]
            answers = self.web3.provider.make_batch_request(calls)
            if not isinstance(answers, list):
                raise RequestException(str(answers))
            # The answer's first word is the participant's kind; 0: not registered.
            found.update(
                a for a, answer in zip(chunk, answers, strict=True) if int(answer["result"][2:66], 16)
            )
        return found

    def coin(self, address: str) -> Contract:
        return self.web3.eth.contract(address=to_checksum_address(address), abi=self.abis["SocialCoin"])

    def coins(self) -> list[str]:
        return [to_checksum_address(a) for a in self.registry.functions.coins().call()]
