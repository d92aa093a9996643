"""The one door to the chain: JSON-RPC to one node, with a bounded wait, and typed answers about our
contracts. Nothing outside `chain/` reads or writes the chain any other way.

- Every call waits at most `timeout` seconds. A node that is down, hung or unreachable raises
  ChainUnavailable; for BREAK_SECONDS after that, calls raise at once instead of waiting again, so a
  dead node costs a request milliseconds, not the timeout each time.
- A call inside a database write transaction raises ChainCallInWriteTransaction: the write lock is never
  held while waiting on the node.
- A contract's refusal (revert data) raises ChainRevert with the custom error's name and arguments; any
  other error the node answers raises ChainRpcError.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from eth_utils import keccak, to_checksum_address
from requests.adapters import HTTPAdapter

from ..areas import from_bytes8, to_bytes8
from ..db.base import in_write_transaction
from ..db.types import utcnow
from .constants import ZERO_ADDRESS, Kind, TransferRefusal
from .contracts import Abis, Call, Contract, Deployment, Function, abi_encode, to_bytes
from .errors import ChainCallInWriteTransaction, ChainRevert, ChainUnavailable
from .events import EventDecoder

# After a node did not answer, calls fail at once for this long (then one is tried again).
BREAK_SECONDS = 1.0
REGISTRY_CALLS_PER_BATCH = 500
DEFAULT_ADMIN_ROLE = bytes(32)
# ERC-1271's isValidSignature(bytes32,bytes) selector, which is also the answer of a wallet that accepts.
ERC1271_IS_VALID_SIGNATURE = bytes.fromhex("1626ba7e")


class ChainRpcError(Exception):
    """The node answered a JSON-RPC error that is not a contract's refusal (a rejected transaction: fee
    too low, nonce too low, already known...)."""

    def __init__(self, method: str, error: dict[str, Any]):
        super().__init__(f"{method}: {error.get('message', error)}")
        self.method = method
        self.code = error.get("code")
        self.message = str(error.get("message", ""))


def role_id(name: str) -> bytes:
    """An AccessControl role's id: keccak of its name (DEFAULT_ADMIN_ROLE is zero)."""
    return DEFAULT_ADMIN_ROLE if name == "DEFAULT_ADMIN_ROLE" else keccak(text=name)


@dataclass(frozen=True)
class Head:
    """The newest block: its number, time and base fee (None on a chain without EIP-1559)."""

    number: int
    timestamp: int
    base_fee: int | None


@dataclass(frozen=True)
class Receipt:
    block_number: int
    gas_used: int
    succeeded: bool
    logs: list[dict[str, Any]]


@dataclass(frozen=True)
class Participant:
    kind: Kind
    area: str
    purposes: int
    frozen: bool

    @property
    def registered(self) -> bool:
        return self.kind != Kind.NONE


@dataclass(frozen=True)
class PendingRecovery:
    """A recovery the registry has been asked for and not yet executed or cancelled."""

    replacement: str
    executable_at: int
    case_reference: str


@dataclass(frozen=True)
class SpendCheck:
    """What the coin says about a payment or burn at one block: the transfer rule's verdict, the
    holder's balance, and whether the proposed authorization nonce is used already."""

    block: int
    refusal: TransferRefusal
    balance: int
    nonce_used: bool


@dataclass(frozen=True)
class Fees:
    """What a transaction offers to pay, from the node: EIP-1559 (max fee, tip) or a legacy gas price."""

    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    gas_price: int | None = None

    def fields(self) -> dict[str, int]:
        if self.gas_price is not None:
            return {"gasPrice": self.gas_price}
        return {
            "maxFeePerGas": self.max_fee_per_gas or 0,
            "maxPriorityFeePerGas": self.max_priority_fee_per_gas or 0,
            "type": 2,
        }


class Chain:
    """Our deployed contracts on one chain, through one node."""

    def __init__(self, url: str, deployment: Deployment, abis: Abis, *, timeout: float):
        self.url = url
        self.deployment = deployment
        self.abis = abis
        self.timeout = timeout
        self._http = requests.Session()
        # The environment's proxy settings for the node, read once: requests reads them on every call
        # otherwise, a few percent of the outbox's CPU.
        self._http.proxies.update(requests.utils.get_environ_proxies(url))
        self._http.trust_env = False
        self._http.mount("http://", HTTPAdapter(pool_connections=4, pool_maxsize=64, max_retries=0))
        self._http.mount("https://", HTTPAdapter(pool_connections=4, pool_maxsize=64, max_retries=0))
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._events = EventDecoder({"factory": abis[Contract.FACTORY], "registry": abis[Contract.REGISTRY]})
        self._redemptions: dict[int, int] = {}

    @classmethod
    def connect(cls, url: str, deployment_file: Path, build_dir: Path, *, timeout: float) -> Chain:
        return cls(url, Deployment.load(deployment_file), Abis(build_dir), timeout=timeout)

    def with_timeout(self, timeout: float) -> Chain:
        """The same chain through a connection of its own with another bound on the wait."""
        return Chain(self.url, self.deployment, self.abis, timeout=timeout)

    # -- JSON-RPC ---------------------------------------------------------------------------------------

    def _post(self, body: Any, timeout: float | None) -> Any:
        if in_write_transaction():
            raise ChainCallInWriteTransaction("chain call inside a database write transaction")
        if time.monotonic() < self._down_until:
            raise ChainUnavailable(f"{self.url} did not answer a moment ago")
        try:
            answer = self._http.post(self.url, json=body, timeout=timeout or self.timeout)
            answer.raise_for_status()
            return answer.json()
        except (requests.RequestException, ValueError) as exc:
            with self._lock:
                self._down_until = time.monotonic() + BREAK_SECONDS
            raise ChainUnavailable(f"{self.url}: {exc}") from exc

    def _result(self, method: str, answer: dict[str, Any]) -> Any:
        error = answer.get("error")
        if error:
            data = error.get("data")
            if isinstance(data, dict):  # some nodes nest it
                data = data.get("data")
            if isinstance(data, str) and data.startswith("0x") and len(data) > 2:
                raise self.abis.decode_revert(to_bytes(data))
            raise ChainRpcError(method, error)
        return answer.get("result")

    def rpc(self, method: str, params: list[Any], *, timeout: float | None = None) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        return self._result(method, self._post(body, timeout))

    def rpc_batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Several calls in one request; answers in order (the first error raises)."""
        if not calls:
            return []
        body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        answers = self._post(body, None)
        if not isinstance(answers, list):
            raise ChainUnavailable(f"{self.url}: a batch answered {str(answers)[:200]}")
        by_id = {a.get("id"): a for a in answers}
        return [self._result(m, by_id.get(i, {})) for i, (m, _p) in enumerate(calls)]

    # -- reading contracts ----------------------------------------------------------------------------------

    def _fn(self, contract: Contract, name: str) -> Function:
        return self.abis.function(contract, name)

    def _eth_call(self, to: str, data: bytes, block: int | str) -> tuple[str, list[Any]]:
        return "eth_call", [
            {"to": to, "data": "0x" + data.hex()},
            hex(block) if isinstance(block, int) else block,
        ]

    def view(
        self, contract: Contract, address: str, name: str, *args: Any, block: int | str = "latest"
    ) -> Any:
        """One view function's answer (a single output unwrapped)."""
        function = self._fn(contract, name)
        result = self.rpc(*self._eth_call(address, function.encode(list(args)), block))
        values = function.decode(to_bytes(result))
        return values[0] if len(values) == 1 else values

    def _views(
        self, calls: list[tuple[Contract, str, str, list[Any]]], block: int | str = "latest"
    ) -> list[Any]:
        functions = [self._fn(contract, name) for contract, _address, name, _args in calls]
        requests_ = [
            self._eth_call(address, function.encode(args), block)
            for function, (_c, address, _n, args) in zip(functions, calls, strict=True)
        ]
        answers = self.rpc_batch(requests_)
        decoded = []
        for function, result in zip(functions, answers, strict=True):
            values = function.decode(to_bytes(result))
            decoded.append(values[0] if len(values) == 1 else values)
        return decoded

    # -- blocks and time -----------------------------------------------------------------------------------

    def head(self, *, timeout: float | None = None) -> Head:
        block = self.rpc("eth_getBlockByNumber", ["latest", False], timeout=timeout)
        base_fee = block.get("baseFeePerGas")
        return Head(
            int(block["number"], 16),
            int(block["timestamp"], 16),
            None if base_fee is None else int(base_fee, 16),
        )

    def block_number(self) -> int:
        return int(self.rpc("eth_blockNumber", []), 16)

    def block_time(self, number: int) -> int | None:
        block = self.rpc("eth_getBlockByNumber", [hex(number), False])
        return None if block is None else int(block["timestamp"], 16)

    def now(self, head: Head | None = None) -> int:
        """Now, by the later of our clock and the newest block's time: the chain judges a signed
        authorization's window by the time of the block it lands in, which is never earlier than either
        (an idle local chain's newest block can be hours old)."""
        return max(int(utcnow().timestamp()), (head or self.head()).timestamp)

    # -- coins ---------------------------------------------------------------------------------------------

    def spend_check(
        self,
        coin: str,
        sender: str,
        to: str | None,
        value: int,
        nonce: int,
        block: int,
        burn_reason: int | None = None,
        refunded_reference: str | None = None,
    ) -> SpendCheck:
        """The transfer rule's verdict (for a burn, `canBurn`'s for its reason; for a refund of the payment
        made under `refunded_reference`, `canRefund`'s), the sender's balance and the nonce's state, all at
        `block`."""
        if to is None and burn_reason is not None:
            verdict = (Contract.COIN, coin, "canBurn", [sender, int(burn_reason), value])
        elif to is not None and refunded_reference is not None:
            verdict = (Contract.COIN, coin, "canRefund", [sender, to, value, to_bytes(refunded_reference)])
        else:
            verdict = (Contract.COIN, coin, "canTransfer", [sender, to or ZERO_ADDRESS, value])
        (_allowed, refusal), balance, used = self._views(
            [
                verdict,
                (Contract.COIN, coin, "balanceOf", [sender]),
                (Contract.COIN, coin, "authorizationState", [sender, nonce.to_bytes(32, "big")]),
            ],
            block,
        )
        return SpendCheck(block, TransferRefusal(refusal), int(balance), bool(used))

    def balance_of(self, coin: str, account: str, block: int | str = "latest") -> int:
        return int(self.view(Contract.COIN, coin, "balanceOf", account, block=block))

    def authorization_used(self, coin: str, account: str, nonce: int) -> bool:
        return bool(self.view(Contract.COIN, coin, "authorizationState", account, nonce.to_bytes(32, "big")))

    def first_unused_nonce(self, coin: str, account: str) -> int:
        """The first authorization nonce the coin has not seen for `account`, counting from 0 (the service
        counts them up per wallet and coin), found in O(log n) calls."""

        def used(n: int) -> bool:
            return self.authorization_used(coin, account, n)

        if not used(0):
            return 0
        low, high = 0, 1
        while used(high):
            low, high = high, high * 2 + 1
        while high - low > 1:  # invariant: low used, high not
            middle = (low + high) // 2
            low, high = (middle, high) if used(middle) else (low, middle)
        return high

    def purpose_redemptions(self, purpose_id: int) -> int:
        """The bit set of burn reasons residents may use coins of this purpose for (kept: a purpose's
        redemptions never change once it exists)."""
        if purpose_id not in self._redemptions:
            _code, redemptions = self.view(Contract.REGISTRY, self.deployment.registry, "purpose", purpose_id)
            self._redemptions[purpose_id] = int(redemptions)
        return self._redemptions[purpose_id]

    def purpose_id(self, code: str) -> int | None:
        """A purpose's id by its code (LOCAL_SPENDING); None when the registry has no such purpose."""
        try:
            return int(
                self.view(
                    Contract.REGISTRY,
                    self.deployment.registry,
                    "purposeId",
                    code.encode().ljust(32, b"\0")[:32],
                )
            )
        except ChainRevert:
            return None

    def coin_for(self, purpose_id: int, area: str) -> str | None:
        """The factory's coin for a purpose and area (the newest, live or not), if any."""
        address = self.view(Contract.FACTORY, self.deployment.factory, "coinFor", purpose_id, to_bytes8(area))
        return None if int(address, 16) == 0 else to_checksum_address(address)

    def coin_expiry(self, coin: str) -> int:
        return int(self.view(Contract.COIN, coin, "expiry"))

    def _logged(self, tx_hash: str, kind: str, address: str, event: str) -> dict[str, Any] | None:
        """The arguments of the first `event` that `address` logged in a transaction, if any."""
        receipt = self.receipt(tx_hash)
        for entry in receipt.logs if receipt else []:
            if to_checksum_address(entry["address"]) != address:
                continue
            decoded = self._events.decode(kind, entry)
            if decoded is not None and decoded[0] == event:
                return decoded[1]
        return None

    def created_coin(self, tx_hash: str) -> str | None:
        """The coin a factory transaction created (from its CoinCreated log)."""
        args = self._logged(tx_hash, "factory", self.deployment.factory, "CoinCreated")
        return None if args is None else to_checksum_address(args["coin"])

    def recovery_requested_executable_at(self, tx_hash: str) -> int | None:
        """When the recovery a registry transaction requested may be executed (its RecoveryRequested log)."""
        args = self._logged(tx_hash, "registry", self.deployment.registry, "RecoveryRequested")
        return None if args is None else int(args["executableAt"])

    # -- registry and roles ----------------------------------------------------------------------------------

    def paused(self) -> bool:
        return bool(self.view(Contract.REGISTRY, self.deployment.registry, "paused"))

    def participants(self, addresses: list[str]) -> dict[str, Participant]:
        """The registry's record of each address (kind NONE: not registered), asked in batches."""
        found: dict[str, Participant] = {}
        for start in range(0, len(addresses), REGISTRY_CALLS_PER_BATCH):
            chunk = addresses[start : start + REGISTRY_CALLS_PER_BATCH]
            answers = self._views(
                [(Contract.REGISTRY, self.deployment.registry, "participant", [a]) for a in chunk]
            )
            for address, (kind, area, purposes, frozen, _record) in zip(chunk, answers, strict=True):
                area_code = from_bytes8(area) if int(kind) else ""
                found[address] = Participant(Kind(int(kind)), area_code, int(purposes), bool(frozen))
        return found

    def recovery_request(self, lost: str) -> PendingRecovery | None:
        """The registry's pending recovery of a lost wallet, if there is one."""
        replacement, executable_at, case = self.view(
            Contract.REGISTRY, self.deployment.registry, "recoveryRequest", lost
        )
        if int(replacement, 16) == 0:
            return None
        return PendingRecovery(to_checksum_address(replacement), int(executable_at), "0x" + bytes(case).hex())

    def is_lost(self, address: str) -> bool:
        """Whether the address was recovered away from: it can never be registered again."""
        return bool(self.view(Contract.REGISTRY, self.deployment.registry, "isLost", address))

    def registered_among(self, addresses: list[str]) -> set[str]:
        """Those of `addresses` the registry knows."""
        return {a for a, p in self.participants(addresses).items() if p.registered}

    def has_role(self, contract: Contract, role: str, account: str) -> bool:
        return bool(self.view(contract, self.deployment.address(contract), "hasRole", role_id(role), account))

    def minter_allowance(self, minter: str) -> int:
        return int(self.view(Contract.ISSUER, self.deployment.issuer, "minterAllowance", minter))

    def is_verifier(self, coin: str, verifier: str) -> bool:
        return bool(self.view(Contract.ISSUER, self.deployment.issuer, "isVerifier", coin, verifier))

    def is_valid_wallet_signature(self, wallet: str, digest: bytes, signature: bytes) -> bool:
        """ERC-1271: whether the contract wallet at `wallet` (a multisig) accepts `signature` for `digest`,
        as the issuer asks it (OpenZeppelin's SignatureChecker). A wallet that is no contract, or answers
        anything but the magic value, does not."""
        data = ERC1271_IS_VALID_SIGNATURE + abi_encode(["bytes32", "bytes"], [digest, signature])
        try:
            answer = to_bytes(self.rpc(*self._eth_call(wallet, data, "latest")))
        except (ChainRevert, ChainRpcError):
            return False
        return answer[:4] == ERC1271_IS_VALID_SIGNATURE and len(answer) == 32

    def claim_used(self, claim_id: str) -> bool:
        return bool(self.view(Contract.ISSUER, self.deployment.issuer, "claimUsed", to_bytes(claim_id)))

    # -- transactions (the outbox) ------------------------------------------------------------------------

    def encode(self, contract: Contract, address: str, name: str, args: list[Any]) -> Call:
        return Call(address, self._fn(contract, name).encode(args))

    def simulate(self, sender: str, call: Call, gas: int | None = None) -> None:
        """Runs the call on the pending state: the newest block with the transactions the node holds but has
        not mined yet, so that a call is checked after the ones sent just before it (the outbox sends
        several without waiting; on the newest block alone the second could pass and then revert). A
        refusal raises ChainRevert."""
        request: dict[str, Any] = {"from": sender, "to": call.to, "data": "0x" + call.data.hex()}
        if gas is not None:
            request["gas"] = hex(gas)
        self.rpc("eth_call", [request, "pending"])

    def estimate_gas(self, sender: str, call: Call) -> int:
        """The gas the call takes on the pending state (see `simulate`)."""
        request = {"from": sender, "to": call.to, "data": "0x" + call.data.hex()}
        return int(self.rpc("eth_estimateGas", [request, "pending"]), 16)

    def transaction_count(self, address: str, block: str = "pending") -> int:
        return int(self.rpc("eth_getTransactionCount", [address, block]), 16)

    def fees(self) -> Fees:
        """What to offer, by the node: on a free-gas chain (a base fee of 0 for the next block) nothing at
        all; otherwise twice the next block's base fee plus the node's suggested tip; on a chain without
        EIP-1559, its gas price."""
        history = self.rpc("eth_feeHistory", ["0x1", "latest", []])
        base_fees = (history or {}).get("baseFeePerGas") or []
        if not base_fees:
            return Fees(gas_price=int(self.rpc("eth_gasPrice", []), 16))
        next_base_fee = int(base_fees[-1], 16)  # the block after the newest
        if next_base_fee == 0:
            return Fees(0, 0)
        tip = int(self.rpc("eth_maxPriorityFeePerGas", []), 16)
        return Fees(2 * next_base_fee + tip, tip)

    def send_raw(self, raw: bytes) -> None:
        """Sends a signed transaction; the node's refusal raises ChainRpcError."""
        self.rpc("eth_sendRawTransaction", ["0x" + raw.hex()])

    def receipt(self, tx_hash: str) -> Receipt | None:
        """The receipt of a mined transaction; None while it is not mined."""
        receipt = self.rpc("eth_getTransactionReceipt", [tx_hash])
        if not receipt or receipt.get("blockNumber") is None:
            return None
        return Receipt(
            int(receipt["blockNumber"], 16),
            int(receipt["gasUsed"], 16),
            int(receipt["status"], 16) == 1,
            receipt.get("logs") or [],
        )

    def known(self, tx_hash: str) -> bool:
        """Whether the node has the transaction (in its pool or mined)."""
        return self.rpc("eth_getTransactionByHash", [tx_hash]) is not None
