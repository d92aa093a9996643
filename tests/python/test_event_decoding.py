"""Decoding logs from their JSON-RPC hex, against values encoded here (known by construction)."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_utils import event_abi_to_log_topic, keccak, to_checksum_address

from socialcoin.chain.events import EventDecoder

ALICE = to_checksum_address("0x" + "ab" * 20)
BOB = to_checksum_address("0x00000000000000000000000000000000000000f1")
REFERENCE = keccak(text="reference")


def event(name: str, *inputs: tuple[str, str, bool]) -> dict[str, Any]:
    return {
        "type": "event",
        "name": name,
        "anonymous": False,
        "inputs": [{"name": n, "type": t, "indexed": i} for n, t, i in inputs],
    }


MOVED = event(
    "Moved",
    ("who", "address", True),
    ("kind", "uint8", True),
    ("area", "bytes8", True),
    ("value", "uint256", False),
    ("delta", "int64", False),
    ("flag", "bool", False),
    ("reference", "bytes32", False),
    ("other", "address", False),
)
NAMED = event(
    "Named",
    ("coin", "address", True),
    ("name", "string", False),
    ("expiry", "uint64", False),
    ("blob", "bytes", False),
)
HASHED = event("Hashed", ("label", "string", True), ("amount", "uint256", False))
DECODER = EventDecoder({"coin": [MOVED, NAMED, HASHED]})


def topic(value: bytes) -> str:
    return "0x" + value.hex()


def log(abi: dict[str, Any], topics: list[bytes], types: list[str], values: list[Any]) -> dict[str, Any]:
    signature = topic(event_abi_to_log_topic(abi))  # type: ignore[arg-type]
    return {"topics": [signature] + [topic(t) for t in topics], "data": topic(encode(types, values))}


def test_one_word_values_come_out_as_the_index_stores_them():
    entry = log(
        MOVED,
        [encode(["address"], [ALICE]), encode(["uint8"], [7]), encode(["bytes8"], [b"020201\0\0"])],
        ["uint256", "int64", "bool", "bytes32", "address"],
        [2**256 - 1, -5, True, REFERENCE, BOB],
    )
    assert DECODER.decode("coin", entry) == (
        "Moved",
        {
            "who": ALICE,
            "kind": 7,
            "area": "0x" + b"020201\0\0".hex(),
            "value": 2**256 - 1,
            "delta": -5,
            "flag": True,
            "reference": "0x" + REFERENCE.hex(),
            "other": BOB,
        },
    )


def test_dynamic_values_are_decoded_and_an_indexed_one_is_its_hash():
    named = log(
        NAMED, [encode(["address"], [BOB])], ["string", "uint64", "bytes"], ["Wijkmunt é", 9, b"\x01\x02"]
    )
    assert DECODER.decode("coin", named) == (
        "Named",
        {"coin": BOB, "name": "Wijkmunt é", "expiry": 9, "blob": "0x0102"},
    )
    hashed = log(HASHED, [keccak(text="label")], ["uint256"], [0])
    assert DECODER.decode("coin", hashed) == ("Hashed", {"label": topic(keccak(text="label")), "amount": 0})


def test_an_event_of_another_contract_kind_or_signature_is_not_decoded():
    entry = log(HASHED, [keccak(text="label")], ["uint256"], [1])
    assert DECODER.decode("registry", entry) is None
    assert DECODER.decode("coin", dict(entry, topics=[topic(keccak(text="Other()"))])) is None


def test_a_log_that_does_not_fit_its_abi_raises():
    entry = log(HASHED, [keccak(text="label")], ["uint256"], [1])
    with pytest.raises(ValueError, match="too few"):
        DECODER.decode("coin", dict(entry, data="0x" + "00" * 31))
    with pytest.raises(ValueError, match="topics"):
        DECODER.decode("coin", dict(entry, topics=entry["topics"][:1]))
