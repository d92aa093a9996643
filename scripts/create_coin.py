"""Creates a coin. Its name, symbol, purpose, area (a gemeente or a wijk), expiry, whether residents
may pay each other with it, the merchants' redemption grace after expiry and the holding cap per
resident are fixed for good. Needs the admin role of the CoinFactory.

    brownie run scripts/create_coin.py main "name=Socialcoin Geitenkamp - Wijkmunt" symbol=GKW \\
        purpose=LOCAL_SPENDING area=WK020201 expiry=2027-12-31 person_to_person=nee \\
        redemption_grace_days=30 holding_cap=3000 --network <net>

`expiry` (the last day the coin can be used), `person_to_person` (default nee), `redemption_grace_days`
(days after expiry during which merchants may still redeem the coin for euros; default 0, only with an
expiry) and `holding_cap` (the most a resident may hold, in euros; default 0: no cap) may be left out.
The new coin is added to the deployment file under its symbol, where the backend finds it.
"""

from __future__ import annotations

from scripts._admin import (
    DEFAULT_ADMIN_ROLE,
    Admin,
    Arg,
    BadValue,
    Refusal,
    area,
    cents,
    days,
    euros,
    expiry,
    nonempty,
    parse_args,
    say,
    when,
    yes_no,
)
from socialcoin.areas import to_bytes8

USAGE = [
    'brownie run scripts/create_coin.py main "name=Socialcoin Geitenkamp - Wijkmunt" symbol=GKW '
    "purpose=LOCAL_SPENDING area=WK020201 [expiry=2027-12-31] [person_to_person=nee] "
    "[redemption_grace_days=30] [holding_cap=3000] --network <net>",
]


def coin_area(text: str) -> str:
    """A coin's area is a gemeente (GM + 4 digits) or a wijk (WK + 6)."""
    code = area(text)
    if not (code.startswith("GM") or code.startswith("WK")):
        raise BadValue(
            f"een munt hoort bij een gemeente (GM) of wijk (WK), niet bij {code}",
            f"a coin belongs to a gemeente (GM) or a wijk (WK), not to {code}",
        )
    return code


def main(*args):
    admin = Admin.connect()
    values = parse_args(
        args,
        [
            Arg("name", '"Socialcoin Geitenkamp - Wijkmunt"', nonempty),
            Arg("symbol", "GKW", nonempty),
            Arg("purpose", "LOCAL_SPENDING", admin.purpose_id),
            Arg("area", "WK020201", coin_area),
            Arg("expiry", "2027-12-31", expiry, required=False, default=0),
            Arg("person_to_person", "nee", yes_no, required=False, default=False),
            Arg("redemption_grace_days", "30", days, required=False, default=0),
            Arg("holding_cap", "3000", cents, required=False, default=0),
        ],
        USAGE,
    )
    name, symbol, purpose_id, code = values["name"], values["symbol"], values["purpose"], values["area"]
    expires, person_to_person = values["expiry"], values["person_to_person"]
    grace, cap = values["redemption_grace_days"], values["holding_cap"]
    purpose = admin.purpose_names(1 << purpose_id)
    if grace and not expires:
        raise Refusal(
            "redemption_grace_days kan alleen bij een munt met een expiry",
            "redemption_grace_days needs a coin with an expiry",
        )

    now = admin.chain_time()
    if expires and expires <= now:
        raise Refusal(
            f"expiry ligt in het verleden ({when(expires)}; de chain staat op {when(now)})",
            f"expiry lies in the past ({when(expires)}; the chain is at {when(now)})",
        )
    taken = [coin for coin in admin.coins() if coin.symbol.lower() == symbol.lower()]
    if taken:
        raise Refusal(
            f"symbool {symbol} is al van munt {taken[0].label()}; kies een ander",
            f"symbol {symbol} already belongs to coin {taken[0].label()}; choose another",
        )
    existing = admin.factory.coinFor(purpose_id, to_bytes8(code))
    live = [coin for coin in admin.coins() if coin.address == existing and not 0 < coin.expiry <= now]
    if live:
        raise Refusal(
            f"voor doel {purpose} in {code} bestaat al een geldige munt: {live[0].label()}",
            f"a live coin for purpose {purpose} in {code} exists: {live[0].label()}",
        )
    admin.require_role("factory", DEFAULT_ADMIN_ROLE)

    spec = (name, symbol, purpose_id, to_bytes8(code), expires, person_to_person, grace, cap)
    tx = admin.send(f"munt {symbol} gemaakt", f"coin {symbol} created", admin.factory.createCoin, spec)
    coin = tx.events["CoinCreated"]["coin"]
    admin.save_coin(symbol, coin)
    ends_nl, ends_en = (
        (f"geldig tot {when(expires)}", f"valid until {when(expires)}")
        if expires
        else ("vervalt nooit", "never expires")
    )
    grace_days = grace // (24 * 3600)
    say(
        f"Munt {symbol} ({name}) op {coin}: doel {purpose}, gebied {code}, "
        f"{ends_nl}, van bewoner naar bewoner: {'ja' if person_to_person else 'nee'}, "
        f"inwisselen door ondernemers na de vervaldatum: {grace_days} dagen, "
        f"hoogstens per bewoner: {euros(cap) if cap else 'geen grens'}. Toegevoegd aan {admin.path}.",
        f"Coin {symbol} ({name}) at {coin}: purpose {purpose}, area {code}, "
        f"{ends_en}, person to person: {'yes' if person_to_person else 'no'}, "
        f"merchants' redemption after expiry: {grace_days} days, "
        f"holding cap per resident: {euros(cap) if cap else 'none'}. Added to {admin.path}.",
    )
    return tx
