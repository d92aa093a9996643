"""The public research figures: every table of metrics.all_figures that can be published, each through the
privacy gate (privacy.publish) with the residents behind each of its cells, computed from the backend's
index and kept in the process until the indexer reads a newer block.

What is published and why (docs/research.md, "Public pages and API"):

- the coin and month tables (supply, velocity, local share, debts settled), social value per month, wijk
  and activity, active participants per month and kind, LM3 and Gini per coin: as they are, through the
  gate, with the contributions docs/research.md ("Privacy") prescribes;
- the network as **flows between groups**: STANDARD volume between (kind, wijk) of the payer and (kind,
  wijk) of the payee, through the gate like any table (a cell rests on the residents at either end of its
  transfers), plus the network's summary and its cycles per community, each resting on the residents of
  the network or community. Per-address tables (edges, nodes and their PageRank) are never published: an
  edge between two residents rests on two people.
- hops before burn and redemption and leakage by cohort: through the gate with, behind each cell, the
  residents who held the cell's cents on their way from mint to burn (or to now), which a second trace
  records (metrics.traced_residents); the shares of hops_before_burn are left out (each would give away
  its coin's total, a margin the gate may withhold), the cohorts' shares are of their own cell.

Nothing personal reaches these tables: the frames hold pseudonymous addresses and CBS area codes only, and
no address is published either (the flows are keyed by kind and wijk).
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from socialcoin.areas import InvalidAreaCode, enclosing, is_within
from socialcoin.db.models import ChainEvent
from socialcoin.runtime import Runtime

from .charts import chart_texts, every_chart
from .exports import write_exports
from .frames import BURN_SUBTYPES, REWARD_SUBTYPES, as_text, wijk_of, within
from .ledger import Ledger
from .metrics import all_figures, traced_residents
from .privacy import RESIDENT, SUPPRESSED, Dimension, Publication, publish, transfer_residents
from .schema import ZERO

COIN_LABELS = ("symbol", "purpose", "area")
STANDARD = "STANDARD"
UNKNOWN = "unknown"  # the kind or wijk of an address the participants frame does not list


def _gemeente(code: object) -> object:
    """The gemeente of a wijk code; anything that is not an area code ("unknown") stays itself."""
    try:
        return enclosing(str(code), "GM")
    except InvalidAreaCode:
        return code


def wijk_dimension(column: str) -> Dimension:
    """A column of wijk codes (or "unknown") with its gemeente totals; NL is the total."""
    return Dimension(column, levels=(("GM", _gemeente),), total_label="NL")


def _months(times: pd.Series) -> pd.Series:
    return times.dt.tz_convert("UTC").dt.strftime("%Y-%m").astype("string")


def _one_end(transfers: pd.DataFrame, participants: pd.DataFrame, end: str, other: str) -> pd.DataFrame:
    """Each transfer once if its `end` is a resident (privacy.transfer_residents), the transfer unchanged."""
    rows = transfer_residents(transfers.assign(**{other: pd.NA}), participants)
    return rows.assign(**{other: transfers.loc[rows.index, other]})


def _persons(rows: pd.DataFrame, participants: pd.DataFrame) -> pd.DataFrame:
    """Rows naming a resident's address (column ``address``) with the person in column ``resident`` (the
    newest address, as privacy.transfer_residents names them)."""
    return transfer_residents(rows.assign(source=rows["address"], target=pd.NA), participants)


class Frames:
    """The ledger's frames and figures with what every table's contributions share: each transfer once per
    resident at its source (``sources``), at its target (``targets``) and at either end (``ends``), with the
    transfer's month; the resident is the person's newest address (privacy.transfer_residents)."""

    def __init__(self, ledger: Ledger, figures: dict[str, pd.DataFrame]) -> None:
        self.participants = ledger.participants
        self.transfers, self.coins = ledger.transfers, ledger.coins
        self.figures = figures
        transfers = ledger.transfers.reset_index(drop=True)  # one row per label: _one_end reads by it
        transfers = transfers.assign(
            month=_months(transfers["block_time"]), coin=transfers["coin"].astype("string")
        )
        # The residents at one end: the other end hidden while they are found, then given back (by index).
        self.sources = _one_end(transfers, self.participants, "source", "target")
        self.targets = _one_end(transfers, self.participants, "target", "source")
        # Both ends: a resident paying themselves (or their own replacement) counts once.
        both = pd.concat([self.sources, self.targets])
        once = ~both.set_index(RESIDENT, append=True).index.duplicated()
        self.ends = both[once].sort_index(kind="stable")

    @cached_property
    def traced(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The residents who held the cents of each (coin, hops) and each (coin, cohort), as persons."""
        by_hops, by_cohort = traced_residents(self.transfers, self.participants, self.coins)
        return _persons(by_hops, self.participants), _persons(by_cohort, self.participants)

    @staticmethod
    def subtype_in(rows: pd.DataFrame, *subtypes: str) -> pd.Series:
        return rows["subtype"].astype("string").isin(subtypes)

    @staticmethod
    def standard(rows: pd.DataFrame) -> pd.Series:
        return rows["transfer_subtype"].astype("string").eq(STANDARD).fillna(False)


@dataclass(frozen=True)
class PublicTable:
    """How one figure table goes through the gate: its dimensions, which columns are additive values, which
    are figures of a cell alone, which only describe a key, and who is behind each cell."""

    name: str
    dimensions: tuple[Dimension, ...]
    values: tuple[str, ...]
    cell_only: tuple[str, ...]
    labels: tuple[str, ...]
    contributions: Callable[[Frames, pd.DataFrame], pd.DataFrame]
    prepare: Callable[[Frames, dict[str, pd.DataFrame]], pd.DataFrame] | None = None
    description: str = ""

    @property
    def keys(self) -> list[str]:
        return [d.column for d in self.dimensions]


def _keyed(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return rows[[*keys, RESIDENT]].drop_duplicates().reset_index(drop=True)


def _supply(f: Frames, _table: pd.DataFrame) -> pd.DataFrame:
    mints = f.targets[f.targets["source"].eq(ZERO)]
    burns = f.sources[f.sources["target"].eq(ZERO)]
    return _keyed(pd.concat([mints, burns]), ["coin", "month"])


def _standard(f: Frames, _table: pd.DataFrame) -> pd.DataFrame:
    return _keyed(f.ends[f.standard(f.ends)], ["coin", "month"])


def _debts(f: Frames, _table: pd.DataFrame) -> pd.DataFrame:
    return _keyed(f.sources[f.subtype_in(f.sources, "debt_settlement")], ["coin", "month"])


def _rewards(f: Frames) -> pd.DataFrame:
    t = f.targets
    return t[f.subtype_in(t, *(s.value for s in REWARD_SUBTYPES)) & t["source"].eq(ZERO)]


def _social_value(f: Frames, _table: pd.DataFrame) -> pd.DataFrame:
    rewards = _rewards(f)
    area = f.participants.set_index(f.participants["address"].astype("string"))["area"].astype("string")
    rows = rewards.assign(
        wijk=rewards["target"].astype("string").map(area).map(wijk_of).astype("string"),
        activity_id=pd.array(as_text(rewards["activity_id"]), dtype="string"),
    )
    return _keyed(rows, ["month", "wijk", "activity_id"])


def _active(f: Frames, _table: pd.DataFrame) -> pd.DataFrame:
    moving = f.ends["subtype"].astype("string").ne("recovery")
    return _keyed(f.ends[moving].assign(kind="resident"), ["month", "kind"])


def _lm3(f: Frames, _table: pd.DataFrame) -> pd.DataFrame:
    """The rewarded residents (R1) and the residents at either end of the coin's spends (R2, R3)."""
    spends = f.ends[f.subtype_in(f.ends, "payment", "person_to_person")]
    return _keyed(pd.concat([_rewards(f), spends]), ["coin"])


def _gini(f: Frames, table: pd.DataFrame) -> pd.DataFrame:
    """The residents each Gini is over: registered by its moment, not replaced, within the coin's area."""
    people = f.participants
    when = table["at"].iloc[0] if len(table) else pd.Timestamp.now(tz="UTC")
    counted = people[
        people["kind"].astype("string").eq("resident")
        & (pd.to_datetime(people["registered_at"], utc=True) <= when)
        & people["replaced_by"].fillna("").astype("string").eq("")
    ]
    rows = []
    for coin, coin_area in zip(table["coin"], table["area"], strict=True):
        for address, area in zip(counted["address"], counted["area"], strict=True):
            if coin == "all" or within(area, coin_area):
                rows.append((coin, str(address).lower()))
    return pd.DataFrame(rows, columns=["coin", RESIDENT], dtype="string")


def _flow_table(f: Frames, figures: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The flow network's edges summed per (kind, wijk) of payer and payee: no address survives."""
    edges = _flow_edges(f, figures)
    keys = [*FLOW_KEYS]
    return (
        edges.groupby(keys, sort=True)
        .agg(value=("value", "sum"), transfers=("transfers", "sum"))
        .reset_index()
    )


FLOW_KEYS = ("source_kind", "source_wijk", "target_kind", "target_wijk")


def _flow_edges(f: Frames, figures: dict[str, pd.DataFrame]) -> pd.DataFrame:
    edges = figures["network_edges"]
    people = f.participants.set_index(f.participants["address"].astype("string"))
    kind = people["kind"].astype("string")
    wijk = people["area"].astype("string").map(wijk_of)
    return edges.assign(
        source_kind=edges["source"].map(kind).fillna(UNKNOWN).astype("string"),
        source_wijk=edges["source"].map(wijk).fillna(UNKNOWN).astype("string"),
        target_kind=edges["target"].map(kind).fillna(UNKNOWN).astype("string"),
        target_wijk=edges["target"].map(wijk).fillna(UNKNOWN).astype("string"),
    )


def _flows(f: Frames, _table: pd.DataFrame) -> pd.DataFrame:
    edges = _flow_edges(f, f.figures)
    return _keyed(transfer_residents(edges, f.participants), list(FLOW_KEYS))


def _hops(f: Frames, _table: pd.DataFrame) -> pd.DataFrame:
    return _keyed(f.traced[0], ["coin", "hops"])


def _hops_table(_f: Frames, figures: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """hops_before_burn without its shares: a share of the coin's burned cents would give away the coin's
    total, a margin the gate may withhold."""
    return figures["hops_before_burn"].drop(columns="share")


def _cohorts(f: Frames, _table: pd.DataFrame) -> pd.DataFrame:
    return _keyed(f.traced[1], ["coin", "cohort"])


def _summary_table(_f: Frames, figures: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return figures["network_summary"].assign(network="all")


def _summary(f: Frames, _table: pd.DataFrame) -> pd.DataFrame:
    edges = f.figures["network_edges"]
    return _keyed(transfer_residents(edges, f.participants).assign(network="all"), ["network"])


def _cycles(f: Frames, _table: pd.DataFrame) -> pd.DataFrame:
    """Every resident of a community is behind each of its cycle counts."""
    figures = f.figures
    nodes = figures["network_nodes"]
    members = nodes.assign(source=nodes["address"], target=nodes["address"])
    rows = transfer_residents(members, f.participants)[["community", RESIDENT]]
    lengths = figures["network_cycles"][["community", "length"]]
    return _keyed(rows.merge(lengths, on="community"), ["community", "length"])


COIN = Dimension("coin")
MONTH = Dimension("month")

TABLES: tuple[PublicTable, ...] = (
    PublicTable(
        "supply",
        (COIN, MONTH),
        ("minted", "burned"),
        ("circulating",),
        COIN_LABELS,
        _supply,
        description="Per coin and month: cents minted, burned, and circulating at the month's end",
    ),
    PublicTable(
        "social_value",
        (MONTH, wijk_dimension("wijk"), Dimension("activity_id")),
        ("value", "rewards"),
        ("residents",),
        (),
        _social_value,
        description="Per month, wijk and activity: cents minted as rewards, rewards, distinct residents",
    ),
    PublicTable(
        "velocity",
        (COIN, MONTH),
        ("standard_volume", "outflow"),
        ("average_circulating", "days", "velocity", "holding_days"),
        COIN_LABELS,
        _standard,
        description="Per coin and month: volume between users, mean circulating supply, velocity, "
        "holding time",
    ),
    PublicTable(
        "local_share",
        (COIN, MONTH),
        ("standard_volume", "local_volume"),
        ("local_share",),
        COIN_LABELS,
        _standard,
        description="Per coin and month: volume between users, the part within the coin's area, its share",
    ),
    PublicTable(
        "lm3",
        (COIN,),
        (),
        ("r1", "r2", "r3", "lm3"),
        COIN_LABELS,
        _lm3,
        description="Per coin: the Local Multiplier 3 of residents' rewards, (R1 + R2 + R3) / R1",
    ),
    PublicTable(
        "hops_before_burn",
        (COIN, Dimension("hops")),
        ("burned",),
        (),
        COIN_LABELS,
        _hops,
        prepare=_hops_table,
        description="Per coin and number of hops (transfers between users a cent passed from its mint to "
        "its burn; 127: 127 or more): cents burned after that many hops",
    ),
    PublicTable(
        "cohorts",
        (COIN, Dimension("cohort")),
        ("minted", *(s.value for s in BURN_SUBTYPES), "outstanding", "left_area"),
        ("redeemed_share", "payout_share", "expired_share", "leakage_share"),
        COIN_LABELS,
        _cohorts,
        description="Per coin and cohort (month of mint): cents minted, how they ended (burned per way, "
        "still outstanding), cents that left the coin's area, and those as shares of the minted cents",
    ),
    PublicTable(
        "active_participants",
        (MONTH, Dimension("kind")),
        (),
        ("active", "trading"),
        (),
        _active,
        description="Per month and kind: addresses in any transfer (active) and between users (trading)",
    ),
    PublicTable(
        "debts_settled",
        (COIN, MONTH),
        ("settlements", "settled"),
        ("residents",),
        COIN_LABELS,
        _debts,
        description="Per coin and month: debt settlements, cents settled, distinct payers",
    ),
    PublicTable(
        "gini",
        (COIN,),
        (),
        ("residents", "total", "gini"),
        ("at", *COIN_LABELS),
        _gini,
        description="Per coin and over all coins: the Gini coefficient of residents' balances",
    ),
    PublicTable(
        "network_flows",
        (
            Dimension("source_kind"),
            wijk_dimension("source_wijk"),
            Dimension("target_kind"),
            wijk_dimension("target_wijk"),
        ),
        ("value", "transfers"),
        (),
        (),
        _flows,
        prepare=_flow_table,
        description="Who pays whom, by group: volume between users from (kind, wijk) to (kind, wijk)",
    ),
    PublicTable(
        "network_summary",
        (Dimension("network"),),
        (),
        ("nodes", "edges", "volume", "communities", "community_share", "degree_assortativity"),
        (),
        _summary,
        prepare=_summary_table,
        description="The flow network as a whole: size, volume, communities, assortativity",
    ),
    PublicTable(
        "network_cycles",
        (Dimension("community"), Dimension("length")),
        (),
        ("cycles",),
        (),
        _cycles,
        description="Per community of the flow network: simple payment cycles of length 2 to 5",
    ),
)
PUBLIC_TABLES = {table.name: table for table in TABLES}
NOT_PUBLISHED = ("network_edges", "network_nodes")


DRAWN_KEPT = 256  # pictures kept per version of the figures (charts x languages x filters)


@dataclass(frozen=True)
class PublicFigures:
    """Every public table's publication, the ledger they came from, and the index's block they were
    computed at."""

    last_block: int | None
    k: int
    publications: dict[str, Publication]
    ledger: Ledger
    # Pictures drawn of these figures (see `drawn`), by what they show: kept as long as the figures are.
    _drawn: dict[Hashable, bytes] = field(default_factory=dict, compare=False, repr=False)

    def drawn(self, key: Hashable, draw: Callable[[], bytes]) -> bytes:
        """The picture `key` of these figures, drawn once (a page view asks for several charts, and the
        figures change only with new events). At most DRAWN_KEPT are kept: filters are the visitor's."""
        picture = self._drawn.get(key)
        if picture is None:
            picture = draw()
            if len(self._drawn) < DRAWN_KEPT:
                self._drawn[key] = picture
        return picture


def public_figures(
    ledger: Ledger, k: int, figures: Mapping[str, pd.DataFrame] | None = None
) -> PublicFigures:
    """Every table of TABLES from the ledger's frames, each through privacy.publish with threshold k.
    `figures`: metrics.all_figures of this ledger when the caller has them already."""
    figures = dict(figures or all_figures(ledger.transfers, ledger.participants, ledger.coins))
    frames = Frames(ledger, figures)
    publications = {}
    for spec in TABLES:
        table = spec.prepare(frames, figures) if spec.prepare else figures[spec.name]
        publications[spec.name] = publish(
            table,
            spec.contributions(frames, table),
            spec.dimensions,
            spec.values,
            k,
            cell_only=spec.cell_only,
            labels=spec.labels,
        )
    return PublicFigures(ledger.last_block, k, publications, ledger)


PUBLIC_DIR = "public"  # in a download: the public tables, cells and margins, as published


def write_public_exports(found: PublicFigures, directory: Path) -> Path:
    """The download: the frames (what the chain holds: pseudonymous addresses and area codes), the data
    dictionary, the dashboard's charts (charts/<name>.png and .svg, in English) and the manifest of
    exports.write_exports, and beside them the published tables (public/<table>.csv and .parquet for the
    cells, public/<table>-margins.* for the totals). The toolkit's own figure tables are not among them:
    those are not gated, and `socialcoin research rebuild` writes them for whoever reads the chain. Returns
    the manifest's path."""
    charts = every_chart(found.publications, chart_texts())
    manifest = write_exports(found.ledger, directory, charts=charts)
    (directory / PUBLIC_DIR).mkdir(exist_ok=True)
    for name, publication in found.publications.items():
        keys = {
            d.column: "string" for d in publication.dimensions
        }  # a margin's key may be "*" beside numbers
        for suffix, frame in (("", publication.cells), ("-margins", publication.margins.astype(keys))):
            base = directory / PUBLIC_DIR / f"{name}{suffix}"
            frame.to_csv(base.with_suffix(".csv"), index=False, encoding="utf-8", lineterminator="\n")
            frame.to_parquet(base.with_suffix(".parquet"), engine="pyarrow", index=False)
    return manifest


# What the cached figures were computed from (see ledger_version); None: no event indexed yet.
LedgerVersion = tuple[int, str] | None


class FiguresCache:
    """The public figures of the indexed events: computed once per new event the indexer stores (and per k),
    so that a page view reads them instead of recomputing every transfer, and empty blocks cost nothing.
    While one request computes newer figures (some seconds on a large ledger), the others get the previous
    ones at once rather than wait; only the very first computation is waited for. The download's files are
    written once per version too, on first request, into a directory the cache owns."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards the fields below
        self._computing = threading.Lock()  # held by the one request computing newer figures
        self._figures: PublicFigures | None = None
        self._key: tuple[LedgerVersion, int] | None = None
        self._computed_at = 0.0  # time.monotonic() when the figures above were computed
        self._exporting = threading.Lock()  # guards the two fields below
        self._exports: tempfile.TemporaryDirectory[str] | None = None
        self._exported: PublicFigures | None = None  # the figures the files are of

    def _cached(
        self, key: tuple[LedgerVersion, int], refresh_seconds: float = 0.0
    ) -> tuple[PublicFigures | None, PublicFigures | None]:
        """(the figures of this key, or of an earlier version with the same k computed less than
        `refresh_seconds` ago; or else None and those of an earlier version with the same k)."""
        with self._lock:
            if self._figures is None or self._key is None or self._key[1] != key[1]:
                return None, None
            if self._key == key or time.monotonic() - self._computed_at < refresh_seconds:
                return self._figures, None
            return None, self._figures

    def get(
        self,
        session: Session,
        version: LedgerVersion,
        k: int,
        chain_id: int | None = None,
        refresh_seconds: float = 0.0,
    ) -> PublicFigures:
        """The figures of `version`, or of an earlier one computed less than `refresh_seconds` ago."""
        key = (version, k)
        current, earlier = self._cached(key, refresh_seconds)
        if current is not None:
            return current
        if earlier is not None:
            if not self._computing.acquire(blocking=False):
                return earlier  # another request is computing the newer figures
        else:
            self._computing.acquire()
        try:
            current, _ = self._cached(key)  # computed while this request waited
            if current is not None:
                return current
            # The ledger may hold events newer than `version` (stored meanwhile): then the next request, with
            # their version, computes once more.
            found = public_figures(Ledger.from_index(session, chain_id=chain_id), k)
            with self._lock:
                self._figures, self._key, self._computed_at = found, key, time.monotonic()
            return found
        finally:
            self._computing.release()

    def exports(self, found: PublicFigures) -> Path:
        """The directory of the download's files of `found` (figures `get` gave), written on first request."""
        with self._exporting:
            if self._exports is None or self._exported is not found:
                written = tempfile.TemporaryDirectory(prefix="socialcoin-research-")
                write_public_exports(found, Path(written.name))
                if self._exports is not None:
                    self._exports.cleanup()
                self._exports, self._exported = written, found
            return Path(self._exports.name)


# Filters a table accepts, by the column each reads: coin (a key or label), area (the coin's area, a wijk
# column), month (a key).
AREA_COLUMNS = ("area", "wijk", "source_wijk", "target_wijk")
TOTALS = ("*", "NL")


class FilterRefused(ValueError):
    """A filter the table cannot apply (it has no such column) or a value that is no area; the message in
    Dutch (``nl``) and English."""

    def __init__(self, field: str, nl: str, en: str) -> None:
        super().__init__(en)
        self.field = field
        self.nl = nl


@dataclass(frozen=True)
class Filters:
    coin: str | None = None
    area: str | None = None
    month_from: str | None = None
    month_to: str | None = None

    def accepted_by(self, spec: PublicTable) -> None:
        """Refuses a filter on a table without its column, naming what the table does accept."""
        accepts = table_filters(spec)
        given = {"coin": self.coin, "area": self.area, "from": self.month_from, "to": self.month_to}
        for name, value in given.items():
            column = "month" if name in ("from", "to") else name
            if value is not None and column not in accepts:
                listed = ", ".join(accepts) or "-"
                raise FilterRefused(
                    name,
                    f"Tabel {spec.name} heeft geen {column} om op te filteren; wel: {listed}.",
                    f"Table {spec.name} has no {column} to filter on; it accepts: {listed}.",
                )
        self.check_area()

    def check_area(self) -> None:
        """Refuses an area that is no CBS code."""
        if self.area is not None:
            try:
                is_within(self.area, "NL")
            except InvalidAreaCode as error:
                raise FilterRefused(
                    "area",
                    f"{self.area!r} is geen CBS-gebiedscode (NL, GM0202, WK020201, BU02020101).",
                    f"{self.area!r} is not a CBS area code (NL, GM0202, WK020201, BU02020101).",
                ) from error

    def only_for(self, spec: PublicTable) -> Filters:
        """These filters without those the table has no column for (a page applies what fits each table)."""
        accepts = table_filters(spec)
        months = "month" in accepts
        return Filters(
            self.coin if "coin" in accepts else None,
            self.area if "area" in accepts else None,
            self.month_from if months else None,
            self.month_to if months else None,
        )

    def keep(self, frame: pd.DataFrame) -> pd.Series:
        """Rows of cells or margins that match every filter; a margin's total ("*", "NL") always does."""
        keep = pd.Series(True, index=frame.index)
        if self.coin is not None and "coin" in frame:
            coin = frame["coin"].astype("string").str.lower()
            keep &= coin.eq(self.coin.lower()) | coin.isin(TOTALS)
        if self.area is not None:
            columns = [c for c in AREA_COLUMNS if c in frame]
            if columns:
                inside = pd.Series(False, index=frame.index)
                for column in columns:
                    inside |= frame[column].astype("string").map(self._overlaps).astype(bool)
                keep &= inside
        month_column = "month" if "month" in frame else None
        if month_column and (self.month_from or self.month_to):
            month = frame[month_column].astype("string")
            total = month.isin(TOTALS)
            inside = pd.Series(True, index=frame.index)
            if self.month_from:
                inside &= month >= self.month_from
            if self.month_to:
                inside &= month <= self.month_to
            keep &= (inside | total).fillna(False)
        return keep

    def _overlaps(self, code: object) -> bool:
        """A row's area matches when it lies within the filter's area or holds it (a gemeente total)."""
        assert self.area is not None
        return within(code, self.area) or within(self.area, code)


def table_filters(spec: PublicTable) -> tuple[str, ...]:
    columns = {*spec.keys, *spec.labels}
    found = []
    if "coin" in columns:
        found.append("coin")
    if columns & set(AREA_COLUMNS):
        found.append("area")
    if "month" in columns:
        found.append("month")
    return tuple(found)


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as JSON values: missing as null, moments in ISO 8601, integers as integers."""
    return json.loads(frame.to_json(orient="records", date_format="iso", date_unit="s"))


__all__ = [
    "NOT_PUBLISHED",
    "PUBLIC_TABLES",
    "SUPPRESSED",
    "TABLES",
    "PublicFigures",
    "public_figures",
]


def ledger_version(session: Session) -> LedgerVersion:
    """What the figures depend on: the index's newest event, by id and block hash (an event stored in its
    place after a reorganisation has another block hash). Blocks without our events leave it unchanged."""
    newest = session.execute(
        select(ChainEvent.id, ChainEvent.block_hash).order_by(ChainEvent.id.desc()).limit(1)
    ).first()
    return None if newest is None else (newest.id, newest.block_hash)


def _cache(runtime: Runtime) -> FiguresCache:
    cache = runtime.caches.setdefault("public research figures", FiguresCache())
    assert isinstance(cache, FiguresCache)
    return cache


def current_figures(session: Session, runtime: Runtime) -> PublicFigures:
    """The public figures of the index's events (from the runtime's cache while no new event is indexed, or
    while the cached ones are younger than the settings' research_refresh_seconds)."""
    settings = runtime.settings
    return _cache(runtime).get(
        session,
        ledger_version(session),
        settings.research_k_anonymity,
        runtime.chain.deployment.chain_id,
        settings.research_refresh_seconds,
    )


def current_exports(session: Session, runtime: Runtime) -> tuple[PublicFigures, Path]:
    """The figures as `current_figures` gives them and the directory of the download's files of them."""
    found = current_figures(session, runtime)
    return found, _cache(runtime).exports(found)
