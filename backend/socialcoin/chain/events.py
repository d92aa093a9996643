"""Decoding our contracts' logs straight from JSON-RPC answers.

web3's `get_logs` formatting and `get_event_data` took over a millisecond per log, most of an indexing
round; this reads the hex with the ABI's types once per event. Arguments come out as the indexer stores
them: addresses checksummed, bytes as 0x-hex, numbers as ints.
"""

from __future__ import annotations

from collections.abc import Callable
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


# A value type that fills one ABI word, read from hex that ends with that word: 64 hex digits of a log's data
# or a topic ("0x" and 64 digits). Slicing the hex takes a fraction of abi_decode's time.
Word = Callable[[str], Any]


def _signed(word: str) -> int:
    value = int(word[-64:], 16)
    return value - (1 << 256) if value >> 255 else value


def _word_reader(kind: str) -> Word | None:
    """How to read a value type from its word (what abi_decode gives, made plain, for the well-formed words
    a contract logs); None for any other type."""
    if kind == "address":
        return lambda word: checksummed("0x" + word[-40:])
    if kind == "bool":
        return lambda word: int(word[-64:], 16) != 0
    if kind.startswith("uint"):
        return lambda word: int(word[-64:], 16)
    if kind.startswith("int"):
        return _signed
    if kind.startswith("bytes") and kind[5:].isdigit():
        digits = 2 * int(kind[5:])  # bytesN sits left-aligned in its word
        return lambda word: "0x" + word[-64:][:digits].lower()
    return None


def _topic_reader(kind: str) -> Callable[[str], Any]:
    """How to read an indexed value from its topic."""
    if _is_dynamic(kind):
        return lambda topic: topic  # the value's hash: the value itself is not in the log
    read = _word_reader(kind)
    if read is not None:
        return read
    return lambda topic: _plain(abi_decode((kind,), bytes.fromhex(topic[2:]))[0], kind)


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class EventAbi:
    name: str
    data_types: tuple[str, ...]
    # Each argument in the ABI's order: (name, from a topic?, its position in the topics or the data values,
    # how to read it). When the data needs abi_decode (a dynamic type), its values come decoded and are
    # taken as they are.
    plan: tuple[tuple[str, bool, int, Callable[[str], Any]], ...]
    data_words: bool  # every data value is one word, read by its plan entry
    topics: int  # the event's signature and its indexed values

    @classmethod
    def of(cls, abi: dict[str, Any]) -> EventAbi:
        data_types = tuple(i["type"] for i in abi["inputs"] if not i["indexed"])
        data_words = all(_word_reader(kind) is not None for kind in data_types)
        plan = []
        topics = values = 0
        for item in abi["inputs"]:
            if item["indexed"]:
                topics += 1
                plan.append((item["name"], True, topics, _topic_reader(item["type"])))
            else:
                read = _word_reader(item["type"]) if data_words else _same
                plan.append((item["name"], False, values, cast("Callable[[str], Any]", read)))
                values += 1
        return cls(abi["name"], data_types, tuple(plan), data_words, 1 + topics)

    def _data(self, data: str) -> list[Any]:
        """The data's words (as hex) when each value is one, else its values decoded."""
        if not self.data_words:
            values = abi_decode(self.data_types, bytes.fromhex(data[2:]))
            return [_plain(value, kind) for value, kind in zip(values, self.data_types, strict=True)]
        count = len(self.data_types)
        if len(data) < 2 + 64 * count:
            raise ValueError(f"{self.name}: {len(data) // 2 - 1} bytes of data, too few for its arguments")
        return [data[2 + 64 * i : 66 + 64 * i] for i in range(count)]

    def args(self, topics: list[str], data: str) -> dict[str, Any]:
        if len(topics) != self.topics:
            raise ValueError(f"{self.name}: {len(topics)} topics, not as its ABI says")
        values = self._data(data)
        return {name: read(topics[at] if indexed else values[at]) for name, indexed, at, read in self.plan}


class EventDecoder:
    """(contract kind, raw log) -> (event name, args), for the events of our contracts' ABIs."""

    def __init__(self, abis: dict[str, list[dict[str, Any]]]):
        self._events = {
            (kind, "0x" + event_abi_to_log_topic(cast("ABIEvent", item)).hex()): EventAbi.of(item)
            for kind, abi in abis.items()
            for item in abi
            if item["type"] == "event"
        }

    def topic(self, kind: str, name: str) -> str:
        """The topic (signature hash) of the event `name` of contract kind `kind`."""
        return next(topic for (k, topic), event in self._events.items() if k == kind and event.name == name)

    def decode(self, kind: str, log: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        topics = log["topics"]
        event = self._events.get((kind, topics[0].lower())) if topics else None
        if event is None:
            return None
        return event.name, event.args(topics, log["data"])
