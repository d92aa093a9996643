"""CoinFactory: who creates coins, what a coin is fixed to, one live coin per purpose and area
(C1, C3-C7)."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from brownie import ZERO_ADDRESS, CoinFactory, SocialCoin, accounts, chain, web3
from brownie.exceptions import VirtualMachineError
from eth_utils import keccak

from socialcoin.areas import to_bytes8
from socialcoin.chain.constants import Purpose
from support import BUURT, GEMEENTE, OTHER_GEMEENTE, OTHER_WIJK, WIJK, recover_wallet, reverts_with

DEFAULT_ADMIN_ROLE = b"\0" * 32
IMMUTABLE_SETTINGS = ("purposeId", "area", "expiry", "personToPerson", "redemptionGrace", "holdingCap")


def spec(
    purpose=Purpose.LOCAL_SPENDING,
    area=WIJK,
    expiry=0,
    p2p=False,
    name="Socialcoin test",
    symbol="SCT",
    grace=0,
    cap=0,
):
    """A CoinSpec tuple; `area` is a CBS code or raw bytes8."""
    area_bytes = to_bytes8(area) if isinstance(area, str) else area
    return (name, symbol, int(purpose), area_bytes, expiry, p2p, grace, cap)


@contextmanager
def reverts_with_expiry_in_past(expiry: int):
    """FactoryExpiryInPast(expiry, now_): now_ is the timestamp of the block the refused transaction
    was mined in, only known afterwards."""
    with pytest.raises(VirtualMachineError) as refused:
        yield
    assert refused.value.revert_msg == f"FactoryExpiryInPast: {expiry}, {last_block_time()}"


def last_block_time() -> int:
    """The chain's clock: the latest block's timestamp."""
    return web3.eth.get_block("latest").timestamp


def emitters(tx, signature: str) -> list[str]:
    """The addresses that emitted event `signature` in `tx` (brownie leaves the event's address
    unset for events of contracts the transaction did not call)."""
    topic = keccak(text=signature)
    return [log.address for log in tx.logs if bytes(log.topics[0]) == topic]


@pytest.fixture(scope="module")
def coin_factory_account(registry, admin):
    """An account that holds COIN_FACTORY_ROLE besides the factory, to call addCoin directly."""
    account = accounts[12]
    registry.grantRole(registry.COIN_FACTORY_ROLE(), account, {"from": admin})
    return account


# --------------------------------------------------------------------------------------------------
# C1: only the admin creates coins
# --------------------------------------------------------------------------------------------------


def test_only_the_admin_may_create_a_coin(factory, registry, registrar, compliance, pauser, stranger, minter):
    """spec: C1"""
    before = registry.coins()
    for caller in (stranger, registrar, compliance, pauser, minter):
        with reverts_with("AccessControlUnauthorizedAccount", caller, DEFAULT_ADMIN_ROLE):
            factory.createCoin(spec(Purpose.EDUCATION, OTHER_GEMEENTE), {"from": caller})
    assert factory.coinFor(Purpose.EDUCATION, to_bytes8(OTHER_GEMEENTE)) == ZERO_ADDRESS
    assert registry.coins() == before


def test_the_admin_creates_a_coin(factory, admin):
    """spec: C1, C3"""
    expiry = last_block_time() + 30 * 24 * 3600
    tx = factory.createCoin(
        spec(
            Purpose.SPORT_CULTURE,
            GEMEENTE,
            expiry,
            True,
            "Socialcoin Arnhem - Sport",
            "ARSP",
            grace=14 * 24 * 3600,
            cap=300_000,
        ),
        {"from": admin},
    )
    coin = tx.return_value
    event = tx.events["CoinCreated"]
    assert event["coin"] == coin
    assert event["purposeId"] == Purpose.SPORT_CULTURE
    assert bytes(event["area"]) == to_bytes8(GEMEENTE)
    assert event["expiry"] == expiry
    assert event["personToPerson"] is True
    assert (event["name"], event["symbol"]) == ("Socialcoin Arnhem - Sport", "ARSP")
    assert (event["redemptionGrace"], event["holdingCap"]) == (14 * 24 * 3600, 300_000)
    assert factory.coinFor(Purpose.SPORT_CULTURE, to_bytes8(GEMEENTE)) == coin


def test_a_former_admin_may_no_longer_create_coins(factory, admin, stranger):
    """spec: C1"""
    new_admin = accounts[13]
    factory.beginDefaultAdminTransfer(new_admin, {"from": admin})
    chain.sleep(factory.defaultAdminDelay() + 120)
    factory.acceptDefaultAdminTransfer({"from": new_admin})

    with reverts_with("AccessControlUnauthorizedAccount", admin, DEFAULT_ADMIN_ROLE):
        factory.createCoin(spec(Purpose.EDUCATION, OTHER_GEMEENTE), {"from": admin})
    factory.createCoin(spec(Purpose.EDUCATION, OTHER_GEMEENTE), {"from": new_admin})


# --------------------------------------------------------------------------------------------------
# C3: purpose, area, expiry and person-to-person are fixed
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p2p", [False, True])
def test_a_coin_holds_the_settings_it_was_created_with(factory, registry, issuer, admin, p2p):
    """spec: C3"""
    expiry = last_block_time() + 3600
    tx = factory.createCoin(
        spec(Purpose.MOBILITY, OTHER_WIJK, expiry, p2p, "Wijk bus", "BUS", grace=600, cap=12_345),
        {"from": admin},
    )
    coin = SocialCoin.at(tx.return_value)
    assert coin.purposeId() == Purpose.MOBILITY
    assert bytes(coin.area()) == to_bytes8(OTHER_WIJK)
    assert coin.expiry() == expiry
    assert coin.personToPerson() is p2p
    assert (coin.redemptionGrace(), coin.holdingCap()) == (600, 12_345)
    assert (coin.name(), coin.symbol(), coin.decimals()) == ("Wijk bus", "BUS", 2)
    assert coin.registry() == registry
    assert coin.issuer() == issuer


def test_a_coin_has_no_function_that_changes_its_settings(wijk_coin, factory):
    """spec: C3"""
    writers = {
        item["name"]
        for item in wijk_coin.abi
        if item["type"] == "function" and item["stateMutability"] not in ("view", "pure")
    }
    settings = {setting.lower() for setting in IMMUTABLE_SETTINGS}
    assert not {name for name in writers if any(setting in name.lower() for setting in settings)}
    assert not {name for name in writers if re.match(r"(set|change|update)[A-Z]", name)}
    for setting in IMMUTABLE_SETTINGS:
        (getter,) = [item for item in wijk_coin.abi if item.get("name") == setting]
        assert getter["stateMutability"] == "view" and getter["inputs"] == []

    factory_writers = {
        item["name"]
        for item in factory.abi
        if item["type"] == "function" and item["stateMutability"] not in ("view", "pure")
    }
    assert "createCoin" in factory_writers
    assert not {name for name in factory_writers if "coin" in name.lower()} - {"createCoin"}


def test_a_coins_settings_stay_when_the_registry_changes(wijk_coin, registry, admin, pauser):
    """spec: C3"""
    before = [getattr(wijk_coin, setting)() for setting in IMMUTABLE_SETTINGS]
    registry.addPurpose(b"CHILDCARE".ljust(32, b"\0"), 2, {"from": admin})
    registry.pause({"from": pauser})
    chain.sleep(365 * 24 * 3600)
    chain.mine()
    assert [getattr(wijk_coin, setting)() for setting in IMMUTABLE_SETTINGS] == before


# --------------------------------------------------------------------------------------------------
# C4: a coin's area is a gemeente or a wijk
# --------------------------------------------------------------------------------------------------


def test_a_coin_may_be_for_a_gemeente_or_a_wijk(factory, admin):
    """spec: C4"""
    for area in (GEMEENTE, WIJK, OTHER_GEMEENTE, OTHER_WIJK):
        coin = factory.createCoin(spec(Purpose.EDUCATION, area), {"from": admin}).return_value
        assert bytes(SocialCoin.at(coin).area()) == to_bytes8(area)


@pytest.mark.parametrize(
    "area",
    [
        to_bytes8("NL"),
        to_bytes8(BUURT),
        b"02020\0\0\0",
        b"0202010\0",
        b"GM0202\0\0",
        b"\x000202\0\0\0",
        b"020201\0\x01",
    ],
    ids=["NL", "buurt", "5 digits", "7 digits", "letters", "not left-aligned", "trailing garbage"],
)
def test_a_coin_for_any_other_area_is_refused(factory, registry, admin, area):
    """spec: C4"""
    before = registry.coins()
    with reverts_with("FactoryInvalidCoinArea", area):
        factory.createCoin(spec(area=area), {"from": admin})
    assert registry.coins() == before


# --------------------------------------------------------------------------------------------------
# C5: the purpose must exist, the expiry lie ahead, the coin have a name
# --------------------------------------------------------------------------------------------------


def test_a_coin_for_an_unknown_purpose_is_refused(factory, registry, admin):
    """spec: C5"""
    before = registry.coins()
    for purpose_id in (len(Purpose), 63, 255):
        with reverts_with("FactoryUnknownPurpose", purpose_id):
            factory.createCoin(spec(purpose=purpose_id), {"from": admin})
    assert registry.coins() == before


def test_a_coin_for_a_newly_added_purpose_may_be_created(factory, registry, admin):
    """spec: C5"""
    new_id = registry.addPurpose(b"CHILDCARE".ljust(32, b"\0"), 2, {"from": admin}).return_value
    coin = SocialCoin.at(factory.createCoin(spec(purpose=new_id), {"from": admin}).return_value)
    assert coin.purposeId() == new_id
    with reverts_with("FactoryUnknownPurpose", new_id + 1):
        factory.createCoin(spec(purpose=new_id + 1), {"from": admin})


def test_a_coin_for_every_built_in_purpose_may_be_created(factory, admin):
    """spec: C5"""
    for purpose in Purpose:
        coin = SocialCoin.at(factory.createCoin(spec(purpose, OTHER_GEMEENTE), {"from": admin}).return_value)
        assert coin.purposeId() == purpose


def test_a_coin_with_an_expiry_in_the_past_is_refused(factory, registry, admin):
    """spec: C5"""
    before = registry.coins()
    for expiry in (1, last_block_time() - 3600):
        with reverts_with_expiry_in_past(expiry):
            factory.createCoin(spec(expiry=expiry), {"from": admin})
    assert registry.coins() == before


def test_a_coin_expiring_at_the_last_blocks_time_is_refused(factory, admin):
    """spec: C5"""
    # The next block is no earlier than the last one, so this expiry is now or already past.
    last = last_block_time()
    with reverts_with_expiry_in_past(last):
        factory.createCoin(spec(expiry=last), {"from": admin})


def test_a_coin_without_expiry_or_with_a_future_expiry_is_accepted(factory, admin):
    """spec: C5"""
    never = SocialCoin.at(factory.createCoin(spec(area=OTHER_WIJK, expiry=0), {"from": admin}).return_value)
    assert never.expiry() == 0
    soon = last_block_time() + 60
    later = SocialCoin.at(factory.createCoin(spec(area=GEMEENTE, expiry=soon), {"from": admin}).return_value)
    assert later.expiry() == soon


def test_a_redemption_grace_needs_an_expiry(factory, registry, admin):
    """spec: C5, X1"""
    before = registry.coins()
    with reverts_with("FactoryGraceWithoutExpiry", 3600):
        factory.createCoin(spec(expiry=0, grace=3600), {"from": admin})
    assert registry.coins() == before
    coin = SocialCoin.at(
        factory.createCoin(
            spec(area=GEMEENTE, expiry=last_block_time() + 600, grace=3600), {"from": admin}
        ).return_value
    )
    assert coin.redemptionGrace() == 3600


def test_a_coin_without_grace_or_cap_has_none(factory, admin):
    """spec: C3, H1"""
    coin = SocialCoin.at(factory.createCoin(spec(area=OTHER_WIJK), {"from": admin}).return_value)
    assert (coin.redemptionGrace(), coin.holdingCap()) == (0, 0)


@pytest.mark.parametrize("name, symbol", [("", "SCT"), ("Socialcoin", ""), ("", "")])
def test_a_coin_without_a_name_or_symbol_is_refused(factory, registry, admin, name, symbol):
    """spec: C5"""
    before = registry.coins()
    with reverts_with("FactoryMissingName"):
        factory.createCoin(spec(name=name, symbol=symbol), {"from": admin})
    assert registry.coins() == before


# --------------------------------------------------------------------------------------------------
# C6: one live coin per purpose and area
# --------------------------------------------------------------------------------------------------


def test_a_second_live_coin_for_the_same_purpose_and_area_is_refused(factory, admin, wijk_coin):
    """spec: C6"""
    with reverts_with("FactoryLiveCoinExists", int(Purpose.LOCAL_SPENDING), to_bytes8(WIJK), wijk_coin):
        factory.createCoin(spec(Purpose.LOCAL_SPENDING, WIJK, p2p=True, name="Another"), {"from": admin})
    assert factory.coinFor(Purpose.LOCAL_SPENDING, to_bytes8(WIJK)) == wijk_coin


def test_coins_for_other_purposes_or_areas_may_live_side_by_side(factory, admin, wijk_coin):
    """spec: C6"""
    others = [
        (Purpose.LOCAL_SPENDING, GEMEENTE),
        (Purpose.LOCAL_SPENDING, OTHER_WIJK),
        (Purpose.ENERGY, WIJK),
    ]
    for purpose, area in others:
        coin = factory.createCoin(spec(purpose, area), {"from": admin}).return_value
        assert factory.coinFor(purpose, to_bytes8(area)) == coin
    assert factory.coinFor(Purpose.LOCAL_SPENDING, to_bytes8(WIJK)) == wijk_coin


def test_a_successor_may_be_created_once_the_coin_has_expired(factory, registry, admin):
    """spec: C6"""
    expiry = last_block_time() + 1000
    first = factory.createCoin(spec(area=GEMEENTE, expiry=expiry), {"from": admin}).return_value
    with reverts_with("FactoryLiveCoinExists", int(Purpose.LOCAL_SPENDING), to_bytes8(GEMEENTE), first):
        factory.createCoin(spec(area=GEMEENTE), {"from": admin})

    # The next block's time is only roughly known; leave a margin.
    chain.sleep(1100)
    successor = factory.createCoin(spec(area=GEMEENTE, name="Successor"), {"from": admin}).return_value
    assert successor != first
    assert factory.coinFor(Purpose.LOCAL_SPENDING, to_bytes8(GEMEENTE)) == successor
    assert registry.isCoin(first) and registry.isCoin(successor)

    with reverts_with("FactoryLiveCoinExists", int(Purpose.LOCAL_SPENDING), to_bytes8(GEMEENTE), successor):
        factory.createCoin(spec(area=GEMEENTE, name="Third"), {"from": admin})


def test_a_coin_without_expiry_blocks_a_successor_for_good(factory, admin, wijk_coin):
    """spec: C6"""
    chain.sleep(10 * 365 * 24 * 3600)
    with reverts_with("FactoryLiveCoinExists", int(Purpose.LOCAL_SPENDING), to_bytes8(WIJK), wijk_coin):
        factory.createCoin(spec(), {"from": admin})


# --------------------------------------------------------------------------------------------------
# C7: new coins are listed in the registry
# --------------------------------------------------------------------------------------------------


def test_a_new_coin_is_listed_in_the_registry(factory, registry, admin):
    """spec: C7"""
    before = registry.coins()
    created = []
    for area in (OTHER_WIJK, GEMEENTE):
        tx = factory.createCoin(spec(area=area), {"from": admin})
        created.append(tx.return_value)
        assert tx.events["CoinAdded"]["coin"] == tx.return_value
        assert registry.isCoin(tx.return_value)
    assert registry.coins() == [*before, *created]
    assert not registry.isCoin(factory)


def test_recovery_moves_balances_of_a_newly_created_coin(registry, compliance, make_coin, give, resident):
    """spec: C7"""
    coin = make_coin(Purpose.MOBILITY, GEMEENTE)
    give(coin, resident, 250)
    replacement = accounts[14]
    tx = recover_wallet(registry, compliance, resident, replacement)
    assert coin.balanceOf(resident) == 0
    assert coin.balanceOf(replacement) == 250
    event = tx.events["BalanceRecovered"]
    assert emitters(tx, "BalanceRecovered(address,address,uint256)") == [coin.address]
    assert (event["lost"], event["replacement"], event["value"]) == (resident, replacement, 250)


def test_only_the_coin_factory_may_list_a_coin(registry, admin, registrar, stranger):
    """spec: C7"""
    fake = accounts[15]
    for caller in (admin, registrar, stranger):
        with reverts_with("AccessControlUnauthorizedAccount", caller, registry.COIN_FACTORY_ROLE()):
            registry.addCoin(fake, {"from": caller})
    assert not registry.isCoin(fake)


def test_a_coin_is_listed_once(registry, coin_factory_account, wijk_coin):
    """spec: C7"""
    before = registry.coins()
    assert wijk_coin in before
    with reverts_with("RegistryCoinExists", wijk_coin):
        registry.addCoin(wijk_coin, {"from": coin_factory_account})
    assert registry.coins() == before


def test_the_zero_address_is_never_listed_as_a_coin(registry, coin_factory_account):
    """spec: C7"""
    before = registry.coins()
    with reverts_with("RegistryZeroAddress"):
        registry.addCoin(ZERO_ADDRESS, {"from": coin_factory_account})
    assert registry.coins() == before


def test_a_factory_needs_a_registry_and_an_issuer(registry, issuer, admin):
    """spec: C8"""
    for registry_address, issuer_address in ((ZERO_ADDRESS, issuer), (registry, ZERO_ADDRESS)):
        with reverts_with("FactoryZeroAddress"):
            CoinFactory.deploy(registry_address, issuer_address, 3600, admin, {"from": admin})
