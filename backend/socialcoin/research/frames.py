"""What every figure needs from the three frames of schema.py, checked and derived once.

The metrics take the frames as they come (from research/ledger.py, an export read back, or a test's hand-built
ledger), refuse any frame that lacks a column they read, and share one `Prepared` view of them: integer codes
for coins and addresses, the month of each transfer, and whether payer and payee both lie in the coin's area.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from socialcoin import areas
from socialcoin.areas import InvalidAreaCode, is_within
from socialcoin.research.schema import FRAMES, ZERO, SarafuSubtype, Subtype


class MissingColumn(ValueError):
    """A frame handed to a metric lacks a column of schema.py that the metric reads."""


def require(frame: pd.DataFrame, frame_name: str, columns: Iterable[str]) -> None:
    """Raises MissingColumn naming the first column of `columns` that `frame` lacks, with its meaning."""
    meanings = {column.name: column.meaning for column in FRAMES[frame_name]}
    for name in columns:
        if name not in frame.columns:
            raise MissingColumn(
                f"the {frame_name} frame has no column {name!r} ({meanings.get(name, 'see schema.py')}); "
                "load the ledger with socialcoin.research.ledger, or give every column of "
                f"socialcoin.research.schema.{frame_name.upper()}"
            )


TRANSFER_COLUMNS = ("block_number", "log_index", "block_time", "coin", "source", "target", "value", "subtype")
TRANSFER_COLUMNS_SARAFU = (*TRANSFER_COLUMNS, "transfer_subtype")
PARTICIPANT_COLUMNS = ("address", "kind", "area")
COIN_COLUMNS = ("coin", "symbol", "purpose", "area")

# Subtypes that move a resident's reward: both mints a resident earns for social activity.
REWARD_SUBTYPES = (Subtype.ACTIVITY_REWARD, Subtype.REWARD_GRANT)
# Subtypes that are spending: a resident paying a merchant, an organisation or another resident.
SPEND_SUBTYPES = (Subtype.PAYMENT, Subtype.PERSON_TO_PERSON)
BURN_SUBTYPES = (
    Subtype.DEBT_SETTLEMENT,
    Subtype.SERVICE_REDEMPTION,
    Subtype.MERCHANT_PAYOUT,
    Subtype.EXPIRY_RECLAIM,
)


def area_digits(code: object) -> str | None:
    """The digits of a CBS code ("WK020201" -> "020201", "NL" -> ""), or None when it is no area code."""
    if not isinstance(code, str):
        return None
    try:
        is_within(code, "NL")
    except InvalidAreaCode:
        return None
    return code.strip().upper()[2:]


def wijk_of(code: object) -> str:
    """The wijk a code lies in ("BU02020101" -> "WK020201"); a wijk, gemeente or NL stays itself; anything
    that is not an area code is "unknown"."""
    if area_digits(code) is None:
        return "unknown"
    return areas.wijk_of(str(code))


@dataclass(frozen=True)
class Prepared:
    """The frames reduced to what the figures compute on. Transfers are in ledger order (block, log)."""

    transfers: pd.DataFrame  # the given rows, sorted, with `month` (category "YYYY-MM") added
    participants: pd.DataFrame  # one row per address
    coins: pd.DataFrame  # one row per coin
    months: list[str]  # every month from the first transfer's to the last's, in order
    month: np.ndarray  # per transfer: index into `months`
    time_ns: np.ndarray  # per transfer: block time, ns since 1970 (UTC)
    coin: np.ndarray  # per transfer: index into coins
    source: np.ndarray  # per transfer: index into `addresses`, 0 for the zero address
    target: np.ndarray
    addresses: np.ndarray  # index 0 is the zero address
    value: np.ndarray  # int64 cents
    subtype: np.ndarray  # per transfer: the Subtype's value (object array of str)
    standard: np.ndarray  # bool: Sarafu STANDARD (between users)
    local: np.ndarray  # bool: payer and payee both lie within the coin's area
    kind: np.ndarray  # per address index: its kind ("" when not among the participants)
    area: np.ndarray  # per address index: its area code ("" when unknown)


def month_labels(first: np.datetime64, last: np.datetime64) -> list[str]:
    return [str(m) for m in np.arange(first, last + np.timedelta64(1, "M"), dtype="datetime64[M]")]


def to_utc_ns(times: pd.Series) -> np.ndarray:
    """Block times as int64 ns since 1970 UTC (naive times are taken as UTC)."""
    series = pd.to_datetime(times, utc=True)
    return series.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").astype(np.int64)


def as_text(column: pd.Series) -> np.ndarray:
    """A column as an object array of str ("" for missing); a categorical is mapped through its categories
    (one conversion per category, not per row)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        names = np.append(np.asarray(column.cat.categories.astype(str), dtype=object), "")
        return names[column.cat.codes.to_numpy()]
    return column.astype(str).fillna("").to_numpy(dtype=object)


def prepare(transfers: pd.DataFrame, participants: pd.DataFrame, coins: pd.DataFrame) -> Prepared:
    require(transfers, "transfers", TRANSFER_COLUMNS)
    require(participants, "participants", PARTICIPANT_COLUMNS)
    require(coins, "coins", COIN_COLUMNS)
    if not pd.api.types.is_integer_dtype(transfers["value"]):
        raise ValueError("the transfers frame's 'value' must be integer cents (int64), not floats or text")
    block, log = transfers["block_number"].to_numpy(), transfers["log_index"].to_numpy()
    in_order = bool(np.all((block[1:] > block[:-1]) | ((block[1:] == block[:-1]) & (log[1:] > log[:-1]))))
    # A loader's frame is in ledger order already: copy (without reordering) only what is not.
    frame = transfers.reset_index(drop=True) if in_order else transfers.iloc[np.lexsort((log, block))]
    frame = frame.reset_index(drop=True).copy(deep=False)
    time_ns = to_utc_ns(frame["block_time"])
    month_of = time_ns.astype("datetime64[ns]").astype("datetime64[M]")
    if len(frame):
        first, last = month_of.min(), month_of.max()
        months = month_labels(first, last)
        month = (month_of - first).astype(np.int64)
    else:
        months, month = [], np.zeros(0, dtype=np.int64)
    frame["month"] = pd.Categorical.from_codes(month, categories=months) if months else pd.Categorical([])

    coins_one = coins.drop_duplicates("coin").reset_index(drop=True)
    coin = pd.Index(coins_one["coin"].astype(str)).get_indexer(frame["coin"])
    if (coin < 0).any():
        unknown = frame["coin"].iloc[int(np.argmax(coin < 0))]
        raise ValueError(f"transfer of coin {unknown} which the coins frame does not list: give every coin")

    people = participants.drop_duplicates("address").reset_index(drop=True)
    codes, uniques = pd.factorize(
        pd.concat([pd.Series([ZERO], dtype=frame["source"].dtype), frame["source"], frame["target"]]),
        sort=False,
    )
    n = len(frame)
    source, target = codes[1 : n + 1].astype(np.int64), codes[n + 1 :].astype(np.int64)
    addresses = np.asarray(uniques, dtype=object)
    at = pd.Index(people["address"].astype(str)).get_indexer(addresses)
    known = at >= 0
    kind = np.full(len(addresses), "", dtype=object)
    area = np.full(len(addresses), "", dtype=object)
    kind[known] = people["kind"].astype(str).to_numpy()[at[known]]
    area[known] = people["area"].astype(str).to_numpy()[at[known]]

    subtype = as_text(frame["subtype"])
    if "transfer_subtype" in frame.columns:
        standard = as_text(frame["transfer_subtype"]) == SarafuSubtype.STANDARD.value
    else:
        standard = np.isin(subtype, [Subtype.PAYMENT, Subtype.PERSON_TO_PERSON, Subtype.REFUND])
    local = _local(source, target, coin, area, coins_one["area"].astype(str).to_numpy())
    return Prepared(
        transfers=frame,
        participants=people,
        coins=coins_one,
        months=months,
        month=month,
        time_ns=time_ns,
        coin=coin.astype(np.int64),
        source=source,
        target=target,
        addresses=addresses,
        value=frame["value"].to_numpy(dtype=np.int64),
        subtype=subtype,
        standard=standard,
        local=local,
        kind=kind,
        area=area,
    )


def within(area: object, container: object) -> bool:
    """areas.is_within, where an area that is no CBS code (an address without a known area) lies nowhere."""
    try:
        return is_within(str(area), str(container))
    except InvalidAreaCode:
        return False


def _local(
    source: np.ndarray, target: np.ndarray, coin: np.ndarray, area: np.ndarray, coin_area: np.ndarray
) -> np.ndarray:
    """Per transfer: both ends lie within the coin's area (areas.is_within), decided once per distinct
    (participant area, coin area) pair. An address without a known area lies nowhere."""
    area_codes, area_values = pd.factorize(pd.Series(area, dtype=object))
    coin_codes, coin_values = pd.factorize(pd.Series(coin_area, dtype=object))
    inside = np.zeros((len(area_values), len(coin_values)), dtype=bool)
    for i, place in enumerate(area_values):
        for j, container in enumerate(coin_values):
            inside[i, j] = within(place, container)
    by_coin = coin_codes[coin]
    return inside[area_codes[source], by_coin] & inside[area_codes[target], by_coin]
