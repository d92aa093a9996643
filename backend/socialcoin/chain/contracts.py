"""Our contracts as data: where they are (the deployment file), their ABIs (brownie's build artifacts), and
calls encoded and decoded with eth_abi directly (web3's contract layer took milliseconds per call)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from eth_utils import (
    function_abi_to_4byte_selector,
    function_signature_to_4byte_selector,
    to_checksum_address,
)

try:  # the compiled eth_abi (it comes with eth-brownie): several times faster on large batches
    from faster_eth_abi import decode as abi_decode
    from faster_eth_abi import encode as abi_encode
except ImportError:  # pragma: no cover
    from eth_abi import decode as abi_decode
    from eth_abi import encode as abi_encode

from .errors import ChainRevert

if TYPE_CHECKING:
    from eth_typing import ABIFunction


class Contract(StrEnum):
    """Our contracts by their artifact names; a coin is addressed by its own address."""

    REGISTRY = "ParticipantRegistry"
    ISSUER = "ActivityIssuer"
    FACTORY = "CoinFactory"
    COIN = "SocialCoin"


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

    def address(self, contract: str) -> str:
        """A fixed contract's address by name (a Contract); anything else is taken as a coin's address."""
        fixed: dict[str, str] = {
            Contract.REGISTRY: self.registry,
            Contract.ISSUER: self.issuer,
            Contract.FACTORY: self.factory,
        }
        return fixed.get(contract) or to_checksum_address(contract)


def to_bytes(value: str | bytes) -> bytes:
    """0x-hex (the form payloads and events store) or bytes -> bytes."""
    if isinstance(value, bytes):
        return value
    return bytes.fromhex(value[2:] if value[:2] in ("0x", "0X") else value)


def _abi_value(value: Any, spec: dict[str, Any]) -> Any:
    """A JSON-stored argument (hex strings for bytes, numbers maybe as strings) in its ABI type."""
    kind = spec["type"]
    if kind.endswith("[]"):
        inner = dict(spec, type=kind[:-2])
        return [_abi_value(v, inner) for v in value]
    if kind == "tuple":
        return tuple(_abi_value(v, c) for v, c in zip(value, spec["components"], strict=True))
    if kind.startswith("bytes"):
        return to_bytes(value)
    if kind.startswith(("uint", "int")):
        return int(value)
    return value


def _type(spec: dict[str, Any]) -> str:
    """The canonical type of an ABI parameter (a tuple written out)."""
    kind = spec["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_type(c) for c in spec["components"]) + ")" + kind[5:]
    return kind


@dataclass(frozen=True)
class Function:
    """One function of an ABI: encodes calls and decodes answers."""

    name: str
    selector: bytes
    inputs: tuple[dict[str, Any], ...]
    outputs: tuple[str, ...]

    def encode(self, args: list[Any] | tuple[Any, ...]) -> bytes:
        values = [_abi_value(arg, spec) for arg, spec in zip(args, self.inputs, strict=True)]
        return self.selector + abi_encode([_type(spec) for spec in self.inputs], values)

    def decode(self, data: bytes) -> tuple[Any, ...]:
        return tuple(abi_decode(self.outputs, data))


class Abis:
    """ABIs from brownie's build artifacts, their functions, and every custom error by selector."""

    def __init__(self, build_dir: Path):
        self._abis: dict[str, list[dict[str, Any]]] = {
            name.value: json.loads((Path(build_dir) / f"{name.value}.json").read_text())["abi"]
            for name in Contract
        }

    def __getitem__(self, name: str) -> list[dict[str, Any]]:
        return self._abis[name]

    @cache  # noqa: B019 - one Abis per process, kept for its lifetime
    def function(self, contract: Contract, name: str) -> Function:
        found = [e for e in self._abis[contract] if e.get("type") == "function" and e.get("name") == name]
        if len(found) != 1:
            raise ValueError(f"{contract}.{name}: {len(found)} functions of that name")
        abi = found[0]
        return Function(
            name,
            function_abi_to_4byte_selector(cast("ABIFunction", abi)),
            tuple(abi["inputs"]),
            tuple(_type(o) for o in abi["outputs"]),
        )

    @cached_property
    def errors(self) -> dict[bytes, tuple[str, list[str], list[str]]]:
        """selector -> (name, argument names, argument types)"""
        found: dict[bytes, tuple[str, list[str], list[str]]] = {}
        for abi in self._abis.values():
            for item in abi:
                if item["type"] != "error":
                    continue
                types = [_type(arg) for arg in item["inputs"]]
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


@dataclass(frozen=True)
class Call:
    """A contract call ready to sign or simulate: the contract's address and the ABI-encoded calldata."""

    to: str
    data: bytes
