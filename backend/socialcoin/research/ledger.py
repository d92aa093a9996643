"""The public ledger as the frames of schema.py, from the backend's index or from a chain's logs alone.

Both loaders gather the same events (our contracts' logs, decoded by the backend's own EventDecoder, each
Transfer with its companion event linked by the indexer's own rule) and hand them to the same builders
below, so that what they return can differ only if what they read differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import requests
from eth_utils import is_hex_address, to_checksum_address
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ..areas import from_bytes8
from ..chain.constants import ZERO_ADDRESS, Kind
from ..chain.contracts import Abis, Contract
from ..chain.events import EventDecoder, checksummed
from ..chain.indexer import link_companions
from ..db.models import ChainEvent, IndexedBlock
from .schema import COINS, PARTICIPANTS, SARAFU, TRANSFERS, Column, SarafuSubtype, Subtype

BUILD_DIR = Path(__file__).resolve().parents[3] / "build" / "contracts"
BLOCKS_PER_REQUEST = 2_000
BLOCKS_PER_BATCH = 200  # block headers asked in one JSON-RPC batch

KINDS = tuple(kind.name.lower() for kind in Kind if kind is not Kind.NONE)


# --------------------------------------------------------------------------------------------------
# What a Transfer was: the one classification both loaders use
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Companion:
    """What a companion event makes of its Transfer, and which of its arguments is the reference."""

    subtype: Subtype
    reference: str | None


COMPANIONS: dict[str, Companion] = {
    "ActivityMinted": Companion(Subtype.ACTIVITY_REWARD, "claimId"),
    "RewardGranted": Companion(Subtype.REWARD_GRANT, "claimId"),
    "AdminMinted": Companion(Subtype.ADMIN_MINT, "reason"),
    "PaymentMade": Companion(Subtype.PAYMENT, "paymentReference"),
    "PaymentRefunded": Companion(Subtype.REFUND, "paymentReference"),
    "DebtSettled": Companion(Subtype.DEBT_SETTLEMENT, "debtReference"),
    "ServiceRedeemed": Companion(Subtype.SERVICE_REDEMPTION, "serviceReference"),
    "PayoutRedeemed": Companion(Subtype.MERCHANT_PAYOUT, "payoutReference"),
    "ExpiredReclaimed": Companion(Subtype.EXPIRY_RECLAIM, None),
    "BalanceRecovered": Companion(Subtype.RECOVERY, None),
}
# Each companion event has at most one of these arguments, so the first one present is its reference.
REFERENCE_ARGUMENTS = tuple(dict.fromkeys(c.reference for c in COMPANIONS.values() if c.reference))


def classify(companion_event: str | None, payee_kind: str | None) -> Subtype:
    """A Transfer's subtype from the event beside it and what its payee was registered as at the time: a
    payment to a resident is person to person, to anyone else (merchant, organisation, municipality) a
    payment. A Transfer with no known companion is OTHER."""
    companion = COMPANIONS.get(companion_event or "")
    if companion is None:
        return Subtype.OTHER
    if companion.subtype is Subtype.PAYMENT and payee_kind == Kind.RESIDENT.name.lower():
        return Subtype.PERSON_TO_PERSON
    return companion.subtype


def reference_of(companion_args: dict[str, Any] | None) -> str | None:
    if not companion_args:
        return None
    return next((companion_args[name] for name in REFERENCE_ARGUMENTS if name in companion_args), None)


# --------------------------------------------------------------------------------------------------
# The frames
# --------------------------------------------------------------------------------------------------

CATEGORIES: dict[str, tuple[str, ...]] = {
    "subtype": tuple(s.value for s in Subtype),
    "transfer_subtype": tuple(s.value for s in SarafuSubtype),
    "kind": KINDS,
}


@dataclass(frozen=True, eq=False)
class Ledger:
    """The three frames of schema.py, each in chain order, and where they were read."""

    transfers: pd.DataFrame
    participants: pd.DataFrame
    coins: pd.DataFrame
    chain_id: int | None = None
    first_block: int | None = None
    last_block: int | None = None

    def frames(self) -> dict[str, pd.DataFrame]:
        return {"transfers": self.transfers, "participants": self.participants, "coins": self.coins}

    # -- loaders -----------------------------------------------------------------------------------------

    @classmethod
    def from_index(cls, source: Session | Engine, *, chain_id: int | None = None) -> Ledger:
        """From the backend's `chain_events` table: one query per frame. `chain_id` only labels the
        result (the index does not keep it)."""
        if isinstance(source, Session):
            return _from_index(source, chain_id)
        with Session(source) as session:
            return _from_index(session, chain_id)

    @classmethod
    def from_rpc(
        cls,
        rpc_url: str,
        registry_address: str | None = None,
        *,
        start_block: int | None = None,
        end_block: int | None = None,
        blocks_per_request: int = BLOCKS_PER_REQUEST,
        progress: Callable[[int, int], None] | None = None,
        build_dir: Path = BUILD_DIR,
        timeout: float = 60.0,
    ) -> Ledger:
        """From a chain's JSON-RPC endpoint alone (eth_getLogs in ranges of blocks, and the headers of the
        blocks with our logs for their times). Everything is found from the registry's address (when not
        given: the one contract on the chain that logged a registry's PurposeAdded): its coins from
        CoinAdded, the factory as the emitter of the CoinCreated just before each CoinAdded, the issuer as
        the emitter of the mint event just before each mint. `start_block` defaults to the block that
        deployed the registry (found with eth_getCode; 0 on a node that keeps no old state), `end_block`
        to the newest. `progress(blocks_read, blocks_in_all)` is called after each range."""
        return _from_rpc(
            _JsonRpc(rpc_url, timeout),
            None if registry_address is None else _address(registry_address),
            start_block=start_block,
            end_block=end_block,
            step=blocks_per_request,
            progress=progress,
            decoder=_decoder(build_dir),
        )


def _utc(values: Any) -> pd.Series:
    return pd.Series(pd.to_datetime(values, utc=True)).astype("datetime64[ns, UTC]")


def typed(
    frame: pd.DataFrame, columns: tuple[Column, ...], categories: dict[str, tuple[str, ...]]
) -> pd.DataFrame:
    """The columns of the schema, in its order and with its dtypes, on a fresh index."""
    out = {}
    for column in columns:
        values = frame[column.name].reset_index(drop=True) if len(frame) else pd.Series([], dtype=object)
        if column.dtype == "category":
            dtype: Any = pd.CategoricalDtype(categories[column.name])
            out[column.name] = values.astype("string").astype(dtype)
        elif column.dtype.startswith("datetime64"):
            out[column.name] = _utc(values)
        else:
            out[column.name] = values.astype(column.dtype)
    return pd.DataFrame(out, columns=[c.name for c in columns])


POSITION_SHIFT = 1 << 32  # log indexes stay far below this: (block, log) in one sortable integer


def _position(block_number: Any, log_index: Any) -> Any:
    return block_number * POSITION_SHIFT + log_index


@dataclass(frozen=True)
class Event:
    """One decoded log, as both loaders see it."""

    block_number: int
    log_index: int
    block_time: datetime
    name: str
    args: dict[str, Any]


PARTICIPANT_EVENTS = ("ParticipantRegistered", "ParticipantUpdated", "ParticipantRecovered")
COIN_EVENTS = ("PurposeAdded", "CoinAdded", "CoinCreated")


def _participants(events: Iterable[Event]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The participants frame, and each address's kind from the event that set it (for the payee's kind at
    the time of a payment). A recovery gives the replacement the lost address's registration."""
    found: dict[str, dict[str, Any]] = {}
    kinds: list[tuple[str, int, str | None]] = []  # (address, position, kind from then on)
    for event in sorted(events, key=lambda e: (e.block_number, e.log_index)):
        position = _position(event.block_number, event.log_index)
        args = event.args
        if event.name == "ParticipantRecovered":
            # A read that starts after the lost address was registered knows neither its kind nor area.
            lost = found.setdefault(
                args["lost"], {"address": args["lost"], "kind": None, "area": None, "registered_at": None}
            )
            lost["replaced_by"] = args["replacement"]
            found[args["replacement"]] = dict(
                lost, address=args["replacement"], registered_at=event.block_time, replaced_by=None
            )
            kinds += [(args["lost"], position, None), (args["replacement"], position, lost["kind"])]
            continue
        kind = Kind(int(args["kind"])).name.lower()
        area = from_bytes8(bytes.fromhex(args["area"][2:]))
        known = found.setdefault(
            args["account"],
            {"address": args["account"], "registered_at": event.block_time, "replaced_by": None},
        )
        known.update(kind=kind, area=area)
        kinds.append((args["account"], position, kind))
    participants = pd.DataFrame(list(found.values()), columns=[c.name for c in PARTICIPANTS])
    history = pd.DataFrame(kinds, columns=["target", "position", "payee_kind"])
    return typed(participants, PARTICIPANTS, CATEGORIES), history


def _coins(events: Iterable[Event]) -> pd.DataFrame:
    """Every coin the registry listed, in the order it listed them, with the terms its factory created it
    with."""
    purposes: dict[int, str] = {}
    created: dict[str, Event] = {}
    listed: list[str] = []
    for event in sorted(events, key=lambda e: (e.block_number, e.log_index)):
        if event.name == "PurposeAdded":
            purposes[int(event.args["id"])] = bytes.fromhex(event.args["code"][2:]).rstrip(b"\0").decode()
        elif event.name == "CoinCreated":
            created[event.args["coin"]] = event
        elif event.name == "CoinAdded":
            listed.append(event.args["coin"])
    rows = []
    for coin in listed:
        terms = created[coin]
        args = terms.args
        expiry = int(args["expiry"])
        rows.append(
            {
                "coin": coin,
                "symbol": args["symbol"],
                "name": args["name"],
                "purpose": purposes[int(args["purposeId"])],
                "area": from_bytes8(bytes.fromhex(args["area"][2:])),
                "expiry": datetime.fromtimestamp(expiry, UTC) if expiry else None,
                "person_to_person": bool(args["personToPerson"]),
                "holding_cap": int(args["holdingCap"]),
                "created_at": terms.block_time,
            }
        )
    frame = pd.DataFrame(rows, columns=[c.name for c in COINS])
    return typed(frame, COINS, {**CATEGORIES, "purpose": tuple(purposes[i] for i in sorted(purposes))})


def _transfers(raw: pd.DataFrame, kinds: pd.DataFrame) -> pd.DataFrame:
    """Transfers from their raw columns (block_number, block_time, tx_hash, log_index, coin, source, target,
    value, companion_event, reference, activity_id), classified with the payee's kind at the time."""
    raw = raw.sort_values(["block_number", "log_index"], ignore_index=True)
    raw["position"] = _position(raw["block_number"].astype("int64"), raw["log_index"].astype("int64"))
    raw["target"] = raw["target"].astype(object)
    kinds = kinds.sort_values("position", ignore_index=True)
    kinds["position"] = kinds["position"].astype("int64")
    kinds["target"] = kinds["target"].astype(object)
    if len(raw):
        raw = pd.merge_asof(raw, kinds, on="position", by="target", direction="backward")
    else:
        raw["payee_kind"] = pd.Series([], dtype=object)
    pairs = pd.DataFrame({"event": raw["companion_event"], "kind": raw["payee_kind"]}).fillna("")
    distinct = pairs.drop_duplicates()
    distinct = distinct.assign(
        subtype=[
            classify(e or None, k or None).value
            for e, k in zip(distinct["event"], distinct["kind"], strict=True)
        ]
    )
    raw["subtype"] = pairs.merge(distinct, on=["event", "kind"], how="left")["subtype"].to_numpy()
    raw["transfer_subtype"] = raw["subtype"].map(
        {s.value: (t.value if (t := SARAFU[s]) else None) for s in Subtype}
    )
    return typed(raw, TRANSFERS, CATEGORIES)


def build_ledger(
    raw_transfers: pd.DataFrame,
    events: Iterable[Event],
    *,
    chain_id: int | None = None,
    first_block: int | None = None,
    last_block: int | None = None,
) -> Ledger:
    """The frames from what both loaders read: the Transfers in the raw columns of TRANSFER_COLUMNS, and
    the registry's and factory's events (PARTICIPANT_EVENTS, COIN_EVENTS; others are ignored)."""
    events = list(events)
    participants, kinds = _participants(e for e in events if e.name in PARTICIPANT_EVENTS)
    return Ledger(
        transfers=_transfers(raw_transfers, kinds),
        participants=participants,
        coins=_coins(e for e in events if e.name in COIN_EVENTS),
        chain_id=chain_id,
        first_block=first_block,
        last_block=last_block,
    )


TRANSFER_COLUMNS = [
    "block_number",
    "block_time",
    "tx_hash",
    "log_index",
    "coin",
    "source",
    "target",
    "value",
    "companion_event",
    "reference",
    "activity_id",
]


# --------------------------------------------------------------------------------------------------
# From the backend's index
# --------------------------------------------------------------------------------------------------


def _events(session: Session, names: tuple[str, ...]) -> list[Event]:
    rows = session.execute(
        select(
            ChainEvent.block_number,
            ChainEvent.log_index,
            ChainEvent.block_time,
            ChainEvent.event,
            ChainEvent.args,
        )
        .where(ChainEvent.event.in_(names))
        .order_by(ChainEvent.block_number, ChainEvent.log_index)
    )
    return [Event(*row) for row in rows]


def _from_index(session: Session, chain_id: int | None) -> Ledger:
    companion = ChainEvent.companion_args
    query = (
        select(
            ChainEvent.block_number,
            ChainEvent.block_time,
            ChainEvent.tx_hash,
            ChainEvent.log_index,
            ChainEvent.contract.label("coin"),
            ChainEvent.from_account.label("source"),
            ChainEvent.to_account.label("target"),
            ChainEvent.args["value"].as_string().label("value"),
            ChainEvent.companion_event,
            func.coalesce(*(companion[name].as_string() for name in REFERENCE_ARGUMENTS)).label("reference"),
            companion["activityId"].as_string().label("activity_id"),
        )
        .where(ChainEvent.event == "Transfer")
        .order_by(ChainEvent.block_number, ChainEvent.log_index)
    )
    raw = pd.DataFrame(session.execute(query).all(), columns=TRANSFER_COLUMNS)
    first, last = session.execute(
        select(func.min(ChainEvent.block_number), select(func.max(IndexedBlock.number)).scalar_subquery())
    ).one()
    events = _events(session, PARTICIPANT_EVENTS + COIN_EVENTS)
    return build_ledger(raw, events, chain_id=chain_id, first_block=first, last_block=last)


# --------------------------------------------------------------------------------------------------
# From a chain's logs alone
# --------------------------------------------------------------------------------------------------


class LedgerError(Exception):
    """What went wrong reading a chain, said so that the reader knows what to change."""


class RpcUnreachable(LedgerError):
    """No JSON-RPC answer at all (a wrong URL, a node that is down)."""


class RpcRefused(LedgerError):
    """The node answered a request with an error."""


class NotARegistry(LedgerError):
    pass


def _address(text: str) -> str:
    if not is_hex_address(text):
        raise NotARegistry(f"{text!r} is not an address (0x and 40 hexadecimal digits)")
    return to_checksum_address(text)


def _decoder(build_dir: Path) -> EventDecoder:
    abis = Abis(build_dir)
    return EventDecoder(
        {
            "registry": abis[Contract.REGISTRY],
            "issuer": abis[Contract.ISSUER],
            "factory": abis[Contract.FACTORY],
            "coin": abis[Contract.COIN],
        }
    )


class _JsonRpc:
    def __init__(self, url: str, timeout: float):
        self.url = url
        self.timeout = timeout
        self._http = requests.Session()

    def _post(self, body: Any) -> Any:
        try:
            answer = self._http.post(self.url, json=body, timeout=self.timeout)
            answer.raise_for_status()
            return answer.json()
        except requests.RequestException as exc:
            raise RpcUnreachable(f"no JSON-RPC answer from {self.url}: {exc}. Check --rpc.") from exc
        except ValueError as exc:
            raise RpcUnreachable(f"{self.url} answered, but not with JSON-RPC. Check --rpc.") from exc

    @staticmethod
    def _result(method: str, answer: Any) -> Any:
        if not isinstance(answer, dict) or "error" in answer or "result" not in answer:
            error = answer.get("error") if isinstance(answer, dict) else answer
            raise RpcRefused(f"the node refused {method}: {error}")
        return answer["result"]

    def call(self, method: str, params: list[Any]) -> Any:
        return self._result(
            method, self._post({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        )

    def batch(self, method: str, calls: list[list[Any]]) -> list[Any]:
        if not calls:
            return []
        answers = self._post(
            [{"jsonrpc": "2.0", "id": i, "method": method, "params": p} for i, p in enumerate(calls)]
        )
        if not isinstance(answers, list):
            raise LedgerError(f"the node answered a batch of {method} with {str(answers)[:200]}")
        by_id = {a.get("id"): a for a in answers}
        return [self._result(method, by_id.get(i)) for i in range(len(calls))]


def _deployment_block(rpc: _JsonRpc, address: str, head: int) -> int:
    """The first block at which `address` has code (a binary search); 0 when the node keeps no old state."""
    low, high = 0, head
    try:
        while low < high:
            middle = (low + high) // 2
            if rpc.call("eth_getCode", [address, hex(middle)]) in ("0x", "0x0", None):
                low = middle + 1
            else:
                high = middle
    except RpcRefused:
        return 0
    return low


class _LogReader:
    """Keeps the logs of the registry, its coins, and the factory and issuer it learns of on the way."""

    def __init__(self, decoder: EventDecoder, registry: str):
        self.decoder = decoder
        self.registry = registry
        self.coins: set[str] = set()
        self.learned: dict[str, str] = {}  # address -> "factory" or "issuer"
        self.rows: list[dict[str, Any]] = []
        self.purposes_seen = False

    def _kind(self, address: str) -> str | None:
        if address == self.registry:
            return "registry"
        if address in self.coins:
            return "coin"
        return self.learned.get(address)

    def _row(self, entry: dict[str, Any], name: str, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "block_number": int(entry["blockNumber"], 16),
            "tx_hash": entry["transactionHash"],
            "log_index": int(entry["logIndex"], 16),
            "contract": checksummed(entry["address"]),
            "event": name,
            "args": args,
            "companion_event": None,
            "companion_args": None,
        }

    def read(self, logs: list[dict[str, Any]]) -> None:
        """Logs of whole blocks, in chain order."""
        at = {(entry["transactionHash"], int(entry["logIndex"], 16)): entry for entry in logs}
        rows: list[dict[str, Any]] = []
        for entry in logs:
            kind = self._kind(checksummed(entry["address"]))
            decoded = self.decoder.decode(kind, entry) if kind else None
            if decoded is None:
                continue
            name, args = decoded
            rows.append(self._row(entry, name, args))
            if kind == "registry" and name == "PurposeAdded":
                self.purposes_seen = True
            if kind == "registry" and name == "CoinAdded":
                self.coins.add(checksummed(args["coin"]))
                self._learn(at, entry, "factory", checksummed(args["coin"]), rows)
            if kind == "coin" and name == "Transfer" and args["from"] == ZERO_ADDRESS:
                self._learn(at, entry, "issuer", checksummed(entry["address"]), rows)
        link_companions(rows)
        self.rows += rows

    def _learn(
        self, at: dict, entry: dict[str, Any], kind: str, coin: str, rows: list[dict[str, Any]]
    ) -> None:
        """The log just before a CoinAdded is its factory's CoinCreated, the log just before a mint the
        issuer's mint event, both naming `coin`: only the factory lists coins and only the issuer mints,
        and neither logs anything else in between. Its emitter is kept from then on."""
        before = at.get((entry["transactionHash"], int(entry["logIndex"], 16) - 1))
        if before is None or self._kind(checksummed(before["address"])) is not None:
            return
        decoded = self.decoder.decode(kind, before)
        if decoded is not None and decoded[1].get("coin") == coin:
            self.learned[checksummed(before["address"])] = kind
            rows.append(self._row(before, *decoded))


def _logs_in_ranges(
    rpc: _JsonRpc, selection: dict[str, Any], first: int, last: int, step: int
) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """(last block of the range, its logs matching `selection`) for blocks first..last, `step` blocks to a
    request at most: fewer when the node refuses a request as too large."""
    start, size = first, step
    while start <= last:
        end = min(start + size - 1, last)
        try:
            logs = rpc.call("eth_getLogs", [selection | {"fromBlock": hex(start), "toBlock": hex(end)}])
        except RpcRefused:
            if size == 1:
                raise
            size = max(1, size // 2)  # nodes cap a request's blocks or logs: ask for fewer
            continue
        yield end, logs
        start = end + 1


def _find_registry(rpc: _JsonRpc, decoder: EventDecoder, chain_id: int, last: int, step: int) -> str:
    """The one contract on the chain that logged the registry's PurposeAdded (every registry does at its
    deployment): refused when there is none, or more than one to choose from."""
    topic = decoder.topic("registry", "PurposeAdded")
    found = {
        to_checksum_address(entry["address"])
        for _, logs in _logs_in_ranges(rpc, {"topics": [topic]}, 0, last, step)
        for entry in logs
    }
    if len(found) == 1:
        return found.pop()
    if not found:
        raise NotARegistry(
            f"no contract on chain {chain_id} logged a ParticipantRegistry's PurposeAdded up to block "
            f"{last}: there is no Socialcoin registry here; check --rpc, or give the registry's address "
            "with --registry"
        )
    raise NotARegistry(
        f"chain {chain_id} has {len(found)} Socialcoin registries ({', '.join(sorted(found))}): choose one "
        "with --registry"
    )


def _from_rpc(
    rpc: _JsonRpc,
    registry: str | None,
    *,
    start_block: int | None,
    end_block: int | None,
    step: int,
    progress: Callable[[int, int], None] | None,
    decoder: EventDecoder,
) -> Ledger:
    chain_id = int(rpc.call("eth_chainId", []), 16)
    last = end_block if end_block is not None else int(rpc.call("eth_blockNumber", []), 16)
    if registry is None:
        registry = _find_registry(rpc, decoder, chain_id, last, step)
    if rpc.call("eth_getCode", [registry, hex(last)]) in ("0x", "0x0", None):
        raise NotARegistry(f"there is no contract at {registry} on chain {chain_id}: check --registry")
    first = start_block if start_block is not None else _deployment_block(rpc, registry, last)
    reader = _LogReader(decoder, registry)
    times: dict[int, datetime] = {}
    for end, logs in _logs_in_ranges(rpc, {}, first, last, step):
        before = len(reader.rows)
        reader.read(logs)
        numbers = sorted({row["block_number"] for row in reader.rows[before:]} - times.keys())
        for chunk in range(0, len(numbers), BLOCKS_PER_BATCH):
            part = numbers[chunk : chunk + BLOCKS_PER_BATCH]
            for number, block in zip(
                part, rpc.batch("eth_getBlockByNumber", [[hex(n), False] for n in part]), strict=True
            ):
                times[number] = datetime.fromtimestamp(int(block["timestamp"], 16), UTC)
        if progress is not None:
            progress(end - first + 1, last - first + 1)
    if not reader.purposes_seen:
        raise NotARegistry(
            f"{registry} on chain {chain_id} logged no PurposeAdded from block {first}: it is not a "
            "ParticipantRegistry (or --from-block is after its deployment); check --registry"
        )
    events = [
        Event(r["block_number"], r["log_index"], times[r["block_number"]], r["event"], r["args"])
        for r in reader.rows
    ]
    transfers = [row for row in reader.rows if row["event"] == "Transfer" and row["contract"] in reader.coins]
    raw = pd.DataFrame(
        [
            {
                "block_number": row["block_number"],
                "block_time": times[row["block_number"]],
                "tx_hash": row["tx_hash"],
                "log_index": row["log_index"],
                "coin": row["contract"],
                "source": row["args"]["from"],
                "target": row["args"]["to"],
                "value": row["args"]["value"],
                "companion_event": row["companion_event"],
                "reference": reference_of(row["companion_args"]),
                "activity_id": (row["companion_args"] or {}).get("activityId"),
            }
            for row in transfers
        ],
        columns=TRANSFER_COLUMNS,
    )
    return build_ledger(raw, events, chain_id=chain_id, first_block=first, last_block=last)
