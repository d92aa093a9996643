"""Decoding our contracts' logs straight from JSON-RPC answers.

web3's `get_logs` formatting and `get_event_data` took over a millisecond per log, most of an indexing
round; this reads the hex with the ABI's types once per event. Arguments come out as the indexer stores
them: addresses checksummed, bytes as 0x-hex, numbers as ints.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from eth_utils import event_abi_to_log_topic, to_checksum_address

if TYPE_CHECKING:
    from eth_typing import ABIEvent

try:  # the compiled eth_abi (it comes with eth-brownie)
    from faster_eth_abi import decode as abi_decode
except ImportError:  # pragma: no cover
    from eth_abi import decode as abi_decode


@lru_cache(maxsize=65_536)
def checksummed(address: str) -> str:
    """Checksumming hashes the address: the same few thousand addresses recur in every round."""
    return to_checksum_address(address)


def _plain(value: Any, kind: str) -> Any:
    if kind == "address":
        return checksummed(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v, kind.removesuffix("[]")) for v in value]
    return value


def _is_dynamic(kind: str) -> bool:
    return kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("tuple")


@dataclass(frozen=True)
class EventAbi:
    name: str
    inputs: tuple[tuple[str, str, bool], ...]  # (name, type, indexed), in the ABI's order
    data_types: tuple[str, ...]

    @classmethod
    def of(cls, abi: dict[str, Any]) -> EventAbi:
        inputs = tuple((i["name"], i["type"], bool(i["indexed"])) for i in abi["inputs"])
        return cls(abi["name"], inputs, tuple(t for _, t, indexed in inputs if not indexed))

    def args(self, topics: list[str], data: str) -> dict[str, Any]:
        values = iter(abi_decode(self.data_types, bytes.fromhex(data[2:])))
        indexed = iter(topics[1:])
        args = {}
        for name, kind, is_indexed in self.inputs:
            if not is_indexed:
                args[name] = _plain(next(values), kind)
            elif _is_dynamic(kind):  # the topic is the value's hash
                args[name] = next(indexed)
            else:
                (value,) = abi_decode((kind,), bytes.fromhex(next(indexed)[2:]))
                args[name] = _plain(value, kind)
        return args


class EventDecoder:
    """(contract kind, raw log) -> (event name, args), for the events of our contracts' ABIs."""

    def __init__(self, abis: dict[str, list[dict[str, Any]]]):
        self._events = {
            (kind, "0x" + event_abi_to_log_topic(cast("ABIEvent", item)).hex()): EventAbi.of(item)
            for kind, abi in abis.items()
            for item in abi
            if item["type"] == "event"
        }

    def decode(self, kind: str, log: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        topics = log["topics"]
        event = self._events.get((kind, topics[0].lower())) if topics else None
        if event is None:
            return None
        return event.name, event.args(topics, log["data"])
