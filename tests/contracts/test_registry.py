"""ParticipantRegistry: participants (R1-R10) and purposes (P1-P3)."""

from __future__ import annotations

import pytest
from brownie import ZERO_ADDRESS

from socialcoin.areas import is_within, to_bytes8
from socialcoin.chain.constants import BurnReason, Kind, Purpose, purpose_set
from support import BUURT, GEMEENTE, OTHER_GEMEENTE, OTHER_WIJK, WIJK, local_account, ref, reverts_with

ZERO_BYTES32 = b"\0" * 32
DEFAULT_ADMIN_ROLE = ZERO_BYTES32
BUILT_IN_PURPOSES = len(Purpose)
KNOWN_PURPOSES = (1 << BUILT_IN_PURPOSES) - 1
DEBT = 1 << BurnReason.DEBT_SETTLEMENT
SERVICE = 1 << BurnReason.SERVICE_REDEMPTION


def code(text: str) -> bytes:
    """A purpose code: ASCII, right-padded to bytes32."""
    return text.encode("ascii").ljust(32, b"\0")


def fresh(label: str):
    """An address the registry has never seen."""
    return local_account(f"registry test {label}")


def row(account, kind=Kind.RESIDENT, area=WIJK, purposes=0, record=None):
    """A Registration tuple; `area` is a CBS code or raw bytes8."""
    address = account if isinstance(account, str) else account.address
    area_bytes = to_bytes8(area) if isinstance(area, str) else area
    return (address, int(kind), area_bytes, purposes, ref(record or f"record of {address}"))


def stored(registry, account) -> tuple:
    """(kind, area bytes8, purposes, frozen, record hash) as the registry holds them."""
    kind, area, purposes, frozen, record_hash = registry.participant(account)
    return int(kind), bytes(area), int(purposes), bool(frozen), bytes(record_hash)


def purpose_of(registry, purpose_id: int) -> tuple:
    """(code, redemptions) of a purpose, as plain bytes and int."""
    purpose_code, redemptions = registry.purpose(purpose_id)
    return bytes(purpose_code), int(redemptions)


def expected(reg: tuple, frozen=False) -> tuple:
    _, kind, area, purposes, record_hash = reg
    return kind, bytes(area), purposes, frozen, bytes(record_hash)


def assert_unregistered(registry, account):
    assert registry.participantWord(account) == 0
    assert stored(registry, account) == (0, b"\0" * 8, 0, False, ZERO_BYTES32)


def assert_event(event, reg: tuple):
    account, kind, area, purposes, record_hash = reg
    assert event["account"] == account
    assert event["kind"] == kind
    assert bytes(event["area"]) == bytes(area)
    assert event["purposes"] == purposes
    assert bytes(event["recordHash"]) == bytes(record_hash)


# --------------------------------------------------------------------------------------------------
# R1: only the registrar registers, only compliance freezes
# --------------------------------------------------------------------------------------------------


REGISTRAR_METHODS = ["register", "registerBatch", "update", "updateBatch"]
COMPLIANCE_METHODS = ["freeze", "unfreeze"]


def role_arguments(method: str, newcomer, resident):
    return {
        "register": row(newcomer),
        "registerBatch": [row(newcomer)],
        "update": row(resident, Kind.MERCHANT),
        "updateBatch": [row(resident, Kind.MERCHANT)],
        "freeze": [resident.address],
        "unfreeze": [resident.address],
    }[method]


@pytest.mark.parametrize("method", REGISTRAR_METHODS)
def test_only_the_registrar_may_register_or_update(
    registry, resident, admin, compliance, pauser, stranger, method
):
    """spec: R1"""
    newcomer = fresh("newcomer")
    for sender in (stranger, admin, compliance, pauser):
        with reverts_with("AccessControlUnauthorizedAccount", sender, registry.REGISTRAR_ROLE()):
            getattr(registry, method)(role_arguments(method, newcomer, resident), {"from": sender})
    assert_unregistered(registry, newcomer)
    assert stored(registry, resident)[0] == Kind.RESIDENT


@pytest.mark.parametrize("method", COMPLIANCE_METHODS)
def test_only_compliance_may_freeze_or_unfreeze_never_the_registrar(
    registry, resident, admin, registrar, pauser, stranger, compliance, method
):
    """spec: R1"""
    if method == "unfreeze":
        registry.freeze([resident], {"from": compliance})
    frozen = stored(registry, resident)[3]
    for sender in (registrar, stranger, admin, pauser):
        with reverts_with("AccessControlUnauthorizedAccount", sender, registry.COMPLIANCE_ROLE()):
            getattr(registry, method)(role_arguments(method, fresh("unused"), resident), {"from": sender})
    assert stored(registry, resident)[3] == frozen


def test_the_registrar_registers_and_updates_and_compliance_freezes_and_unfreezes(
    registry, registrar, compliance
):
    """spec: R1"""
    account = fresh("registrar's own work")
    registry.register(row(account), {"from": registrar})
    registry.update(row(account, Kind.MERCHANT), {"from": registrar})
    registry.freeze([account], {"from": compliance})
    assert stored(registry, account)[3]
    registry.unfreeze([account], {"from": compliance})
    assert stored(registry, account)[:4] == (Kind.MERCHANT, to_bytes8(WIJK), 0, False)


# --------------------------------------------------------------------------------------------------
# R2: what a registration holds
# --------------------------------------------------------------------------------------------------


def test_a_participant_is_registered_with_kind_area_purposes_and_record_hash(registry, registrar):
    """spec: R2, R10"""
    purposes = purpose_set(Purpose.LOCAL_SPENDING, Purpose.ENERGY)
    area = int.from_bytes(to_bytes8(BUURT), "big")
    for kind in (Kind.RESIDENT, Kind.MERCHANT, Kind.ORGANISATION, Kind.MUNICIPALITY):
        account = fresh(f"kind {kind.name}")
        reg = row(account, kind, BUURT, purposes, record=f"salted record of a {kind.name}")
        tx = registry.register(reg, {"from": registrar})

        assert stored(registry, account) == expected(reg)
        assert registry.participantWord(account) == area | (purposes << 64) | (int(kind) << 128)
        assert len(tx.events["ParticipantRegistered"]) == 1
        assert_event(tx.events["ParticipantRegistered"], reg)


def test_a_registration_carries_no_personal_data(registry):
    """spec: R2"""
    (registration,) = registry.register.abi["inputs"]
    assert [field["name"] for field in registration["components"]] == [
        "account",
        "kind",
        "area",
        "purposes",
        "recordHash",
    ]
    event = next(item for item in registry.abi if item.get("name") == "ParticipantRegistered")
    fields = [field["name"] for field in event["inputs"]]
    assert fields == ["account", "kind", "area", "purposes", "recordHash"]
    participant = next(item for item in registry.abi if item.get("name") == "participant")
    fields = [field["name"] for field in participant["outputs"][0]["components"]]
    assert fields == ["kind", "area", "purposes", "frozen", "recordHash"]


def test_registering_without_a_kind_is_refused(registry, registrar):
    """spec: R2"""
    account = fresh("no kind")
    with reverts_with("RegistryInvalidKind", account, int(Kind.NONE)):
        registry.register(row(account, Kind.NONE), {"from": registrar})
    assert_unregistered(registry, account)


def test_registering_the_zero_address_is_refused(registry, registrar):
    """spec: R2"""
    with reverts_with("RegistryZeroAddress"):
        registry.register(row(ZERO_ADDRESS), {"from": registrar})


# --------------------------------------------------------------------------------------------------
# R3: once only
# --------------------------------------------------------------------------------------------------


def test_registering_twice_is_refused(registry, registrar, resident):
    """spec: R3"""
    before = stored(registry, resident)
    with reverts_with("RegistryAlreadyRegistered", resident):
        registry.register(row(resident, Kind.MERCHANT, GEMEENTE), {"from": registrar})
    assert stored(registry, resident) == before


def test_registering_a_frozen_participant_again_is_refused(registry, registrar, resident, compliance):
    """spec: R3"""
    registry.freeze([resident], {"from": compliance})
    with reverts_with("RegistryAlreadyRegistered", resident):
        registry.register(row(resident), {"from": registrar})


# --------------------------------------------------------------------------------------------------
# R4: areas are CBS codes
# --------------------------------------------------------------------------------------------------


def test_every_cbs_level_is_a_valid_area(registry, registrar):
    """spec: R4"""
    for area in ("NL", GEMEENTE, WIJK, BUURT):
        account = fresh(f"area {area}")
        registry.register(row(account, area=area), {"from": registrar})
        assert stored(registry, account)[1] == to_bytes8(area)


INVALID_AREAS = [
    b"02\0\0\0\0\0\0",  # two digits
    b"020\0\0\0\0\0",  # three
    b"02020\0\0\0",  # five
    b"0202010\0",  # seven
    b"GM0202\0\0",  # letters
    b"02a2\0\0\0\0",  # a letter among digits
    b"0202 \0\0\0",  # a space
    b"\x000202\0\0\0",  # not left-aligned
    b"0202\x0001\x00",  # a gap
    b"020201\0\x01",  # trailing garbage
    b"\xff" * 8,
]


def test_registering_with_an_area_that_is_no_cbs_code_is_refused(registry, registrar):
    """spec: R4"""
    account = fresh("bad area")
    for area in INVALID_AREAS:
        with reverts_with("RegistryInvalidArea", area):
            registry.register(row(account, area=area), {"from": registrar})
    assert_unregistered(registry, account)


def test_updating_to_an_area_that_is_no_cbs_code_is_refused(registry, registrar, resident):
    """spec: R4, R7"""
    before = stored(registry, resident)
    area = b"02020\0\0\0"
    with reverts_with("RegistryInvalidArea", area):
        registry.update(row(resident, area=area), {"from": registrar})
    assert stored(registry, resident) == before


def test_is_within_refuses_a_container_that_is_no_cbs_code(registry):
    """spec: R4, R9"""
    container = b"02020\0\0\0"
    with reverts_with("RegistryInvalidArea", container):
        registry.isWithin(to_bytes8(BUURT), container)


# --------------------------------------------------------------------------------------------------
# R5: purposes must be known
# --------------------------------------------------------------------------------------------------


def test_accepting_all_known_purposes_is_allowed(registry, registrar):
    """spec: R5"""
    account = fresh("all purposes")
    registry.register(row(account, Kind.MERCHANT, purposes=KNOWN_PURPOSES), {"from": registrar})
    assert stored(registry, account)[2] == KNOWN_PURPOSES


def test_registering_with_an_unknown_purpose_is_refused(registry, registrar):
    """spec: R5"""
    account = fresh("unknown purpose")
    for purposes in (1 << BUILT_IN_PURPOSES, (1 << 63) | 1, 2**64 - 1):
        with reverts_with("RegistryUnknownPurposes", purposes, KNOWN_PURPOSES):
            registry.register(row(account, Kind.MERCHANT, purposes=purposes), {"from": registrar})
    assert_unregistered(registry, account)


def test_updating_to_an_unknown_purpose_is_refused(registry, registrar, merchant):
    """spec: R5, R7"""
    before = stored(registry, merchant)
    purposes = purpose_set(Purpose.LOCAL_SPENDING) | 1 << 10
    with reverts_with("RegistryUnknownPurposes", purposes, KNOWN_PURPOSES):
        registry.update(row(merchant, Kind.MERCHANT, purposes=purposes), {"from": registrar})
    assert stored(registry, merchant) == before


def test_a_purpose_becomes_acceptable_once_added(registry, registrar, admin):
    """spec: R5, P2"""
    account = fresh("new purpose")
    new_bit = 1 << BUILT_IN_PURPOSES
    registry.addPurpose(code("CHILDCARE"), SERVICE, {"from": admin})
    registry.register(row(account, Kind.MERCHANT, purposes=new_bit), {"from": registrar})
    assert stored(registry, account)[2] == new_bit
    with reverts_with("RegistryUnknownPurposes", new_bit << 1, (new_bit << 1) - 1):
        registry.update(row(account, Kind.MERCHANT, purposes=new_bit << 1), {"from": registrar})


# --------------------------------------------------------------------------------------------------
# R6: batches are all or nothing
# --------------------------------------------------------------------------------------------------


def test_a_batch_registers_every_participant(registry, registrar):
    """spec: R6, R10"""
    rows = [
        row(fresh("batch resident"), Kind.RESIDENT, BUURT),
        row(fresh("batch merchant"), Kind.MERCHANT, WIJK, purpose_set(Purpose.LOCAL_SPENDING)),
        row(fresh("batch organisation"), Kind.ORGANISATION, GEMEENTE, 0, "organisation record"),
    ]
    tx = registry.registerBatch(rows, {"from": registrar})
    events = tx.events["ParticipantRegistered"]
    assert len(events) == len(rows)
    for event, reg in zip(events, rows, strict=True):
        assert_event(event, reg)
        assert stored(registry, reg[0]) == expected(reg)


FIVE_DIGITS = b"02020\0\0\0"
BAD_ROWS = [
    "invalid area",
    "unknown purposes",
    "no kind",
    "zero address",
    "already registered",
    "twice in the batch",
]


def _bad_rows(resident):
    first = fresh("batch first")
    return {
        "invalid area": (row(fresh("bad"), area=FIVE_DIGITS), ("RegistryInvalidArea", FIVE_DIGITS)),
        "unknown purposes": (
            row(fresh("bad"), purposes=1 << 20),
            ("RegistryUnknownPurposes", 1 << 20, KNOWN_PURPOSES),
        ),
        "no kind": (row(fresh("bad"), Kind.NONE), ("RegistryInvalidKind", fresh("bad"), 0)),
        "zero address": (row(ZERO_ADDRESS), ("RegistryZeroAddress",)),
        "already registered": (row(resident), ("RegistryAlreadyRegistered", resident)),
        "twice in the batch": (row(first, Kind.MERCHANT), ("RegistryAlreadyRegistered", first)),
    }, first


@pytest.mark.parametrize("bad", BAD_ROWS)
def test_a_batch_with_one_invalid_row_registers_nobody(registry, registrar, resident, bad):
    """spec: R6, R3, R4, R5"""
    bad_rows, first = _bad_rows(resident)
    bad_row, (error, *args) = bad_rows[bad]
    good = [row(first), row(fresh("batch second"), Kind.MERCHANT, GEMEENTE)]
    resident_before = stored(registry, resident)

    with reverts_with(error, *args):
        registry.registerBatch([*good, bad_row], {"from": registrar})

    for reg in good:
        assert_unregistered(registry, reg[0])
    assert stored(registry, resident) == resident_before


def test_a_batch_with_the_invalid_row_first_registers_nobody(registry, registrar):
    """spec: R6"""
    later = fresh("batch later")
    with reverts_with("RegistryInvalidKind", fresh("bad first"), 0):
        registry.registerBatch([row(fresh("bad first"), Kind.NONE), row(later)], {"from": registrar})
    assert_unregistered(registry, later)


# --------------------------------------------------------------------------------------------------
# R7: updates
# --------------------------------------------------------------------------------------------------


def test_updating_changes_kind_area_purposes_and_record_hash(registry, registrar, resident):
    """spec: R7, R10"""
    reg = row(resident, Kind.MERCHANT, OTHER_WIJK, purpose_set(Purpose.MOBILITY), record="new record")
    tx = registry.update(reg, {"from": registrar})
    assert stored(registry, resident) == expected(reg)
    assert len(tx.events["ParticipantUpdated"]) == 1
    assert_event(tx.events["ParticipantUpdated"], reg)
    assert "ParticipantRegistered" not in tx.events


def test_updating_keeps_a_participant_frozen(registry, registrar, resident, compliance):
    """spec: R7"""
    registry.freeze([resident], {"from": compliance})
    reg = row(resident, Kind.RESIDENT, OTHER_WIJK, record="moved house")
    registry.update(reg, {"from": registrar})
    assert stored(registry, resident) == expected(reg, frozen=True)


def test_updating_keeps_a_participant_unfrozen(registry, registrar, resident):
    """spec: R7"""
    reg = row(resident, Kind.RESIDENT, OTHER_WIJK, record="moved house")
    registry.update(reg, {"from": registrar})
    assert stored(registry, resident) == expected(reg, frozen=False)


def test_updating_an_unregistered_address_is_refused(registry, registrar):
    """spec: R7"""
    account = fresh("never registered")
    with reverts_with("RegistryNotRegistered", account):
        registry.update(row(account), {"from": registrar})
    assert_unregistered(registry, account)


def test_updating_the_zero_address_is_refused(registry, registrar):
    """spec: R7"""
    with reverts_with("RegistryNotRegistered", ZERO_ADDRESS):
        registry.update(row(ZERO_ADDRESS), {"from": registrar})


def test_updating_to_no_kind_is_refused(registry, registrar, resident):
    """spec: R7"""
    before = stored(registry, resident)
    with reverts_with("RegistryInvalidKind", resident, 0):
        registry.update(row(resident, Kind.NONE), {"from": registrar})
    assert stored(registry, resident) == before


def test_a_batch_update_changes_every_participant(registry, registrar, resident, merchant):
    """spec: R7, R10"""
    rows = [row(resident, Kind.RESIDENT, OTHER_WIJK), row(merchant, Kind.MERCHANT, GEMEENTE, KNOWN_PURPOSES)]
    tx = registry.updateBatch(rows, {"from": registrar})
    assert len(tx.events["ParticipantUpdated"]) == 2
    for event, reg in zip(tx.events["ParticipantUpdated"], rows, strict=True):
        assert_event(event, reg)
        assert stored(registry, reg[0]) == expected(reg)


def test_a_batch_update_with_one_unregistered_row_changes_nobody(registry, registrar, resident, merchant):
    """spec: R7, R6"""
    before = stored(registry, resident), stored(registry, merchant)
    stranger_row = row(fresh("not registered"))
    rows = [row(resident, Kind.MERCHANT, GEMEENTE), row(merchant, Kind.RESIDENT, GEMEENTE), stranger_row]
    with reverts_with("RegistryNotRegistered", stranger_row[0]):
        registry.updateBatch(rows, {"from": registrar})
    assert (stored(registry, resident), stored(registry, merchant)) == before


# --------------------------------------------------------------------------------------------------
# R8: freezing
# --------------------------------------------------------------------------------------------------


def test_freezing_and_unfreezing_change_only_the_frozen_state(registry, merchant, compliance):
    """spec: R8, R10"""
    before = stored(registry, merchant)
    tx = registry.freeze([merchant], {"from": compliance})
    assert tx.events["ParticipantFrozen"]["account"] == merchant
    assert stored(registry, merchant) == (*before[:3], True, before[4])

    tx = registry.unfreeze([merchant], {"from": compliance})
    assert tx.events["ParticipantUnfrozen"]["account"] == merchant
    assert stored(registry, merchant) == before


def test_freezing_a_frozen_participant_is_refused(registry, resident, compliance):
    """spec: R8"""
    registry.freeze([resident], {"from": compliance})
    with reverts_with("RegistryAlreadyFrozen", resident):
        registry.freeze([resident], {"from": compliance})
    assert stored(registry, resident)[3]


def test_unfreezing_a_participant_that_is_not_frozen_is_refused(registry, resident, compliance):
    """spec: R8"""
    with reverts_with("RegistryNotFrozen", resident):
        registry.unfreeze([resident], {"from": compliance})
    assert not stored(registry, resident)[3]


@pytest.mark.parametrize("method", ["freeze", "unfreeze"])
def test_freezing_or_unfreezing_an_unregistered_address_is_refused(registry, compliance, method):
    """spec: R8"""
    account = fresh("not registered")
    with reverts_with("RegistryNotRegistered", account):
        getattr(registry, method)([account], {"from": compliance})
    assert_unregistered(registry, account)


def test_freezing_many_is_all_or_nothing(registry, resident, merchant, neighbour, compliance):
    """spec: R8, R10"""
    tx = registry.freeze([resident, merchant], {"from": compliance})
    assert [event["account"] for event in tx.events["ParticipantFrozen"]] == [resident, merchant]

    with reverts_with("RegistryAlreadyFrozen", resident):
        registry.freeze([neighbour, resident], {"from": compliance})
    assert not stored(registry, neighbour)[3]

    with reverts_with("RegistryNotFrozen", neighbour):
        registry.unfreeze([resident, neighbour], {"from": compliance})
    assert stored(registry, resident)[3]

    tx = registry.unfreeze([merchant, resident], {"from": compliance})
    assert [event["account"] for event in tx.events["ParticipantUnfrozen"]] == [merchant, resident]


def test_a_frozen_participant_can_be_frozen_again_after_unfreezing(registry, resident, compliance):
    """spec: R8"""
    registry.freeze([resident], {"from": compliance})
    registry.unfreeze([resident], {"from": compliance})
    registry.freeze([resident], {"from": compliance})
    assert stored(registry, resident)[3]


# --------------------------------------------------------------------------------------------------
# R9: areas within areas
# --------------------------------------------------------------------------------------------------

WITHIN_CASES = [
    (BUURT, WIJK, True),
    (BUURT, GEMEENTE, True),
    (WIJK, GEMEENTE, True),
    (GEMEENTE, GEMEENTE, True),
    (WIJK, WIJK, True),
    (BUURT, BUURT, True),
    (BUURT, "NL", True),
    (WIJK, "NL", True),
    (GEMEENTE, "NL", True),
    ("NL", "NL", True),
    (OTHER_GEMEENTE, "NL", True),
    ("BU03630101", "NL", True),
    (OTHER_WIJK, GEMEENTE, True),
    (WIJK, BUURT, False),
    (GEMEENTE, WIJK, False),
    ("NL", GEMEENTE, False),
    (OTHER_WIJK, WIJK, False),
    ("BU02020201", WIJK, False),
    (BUURT, OTHER_GEMEENTE, False),
    (WIJK, OTHER_GEMEENTE, False),
    ("WK036302", GEMEENTE, False),
    ("BU02021101", WIJK, False),  # shares "02020" with the wijk, but not all six digits
    ("GM2020", GEMEENTE, False),
]


def test_an_area_lies_within_another_when_its_digits_start_with_the_others(registry):
    """spec: R9"""
    for area, container, within in WITHIN_CASES:
        assert registry.isWithin(to_bytes8(area), to_bytes8(container)) is within, (area, container)


def test_python_is_within_agrees_with_the_registry(registry):
    """spec: R9"""
    for area, container, within in WITHIN_CASES:
        assert is_within(area, container) is within, (area, container)
    codes = ["NL", GEMEENTE, OTHER_GEMEENTE, WIJK, OTHER_WIJK, BUURT, "BU02020201", "WK036302", "GM2020"]
    for area in codes:
        for container in codes:
            on_chain = registry.isWithin(to_bytes8(area), to_bytes8(container))
            assert on_chain is is_within(area, container), (area, container)


# --------------------------------------------------------------------------------------------------
# P1-P3: purposes
# --------------------------------------------------------------------------------------------------

BUILT_IN_REDEMPTIONS = {
    Purpose.DEBT_SETTLEMENT: DEBT,
    Purpose.MUNICIPAL_SERVICES: SERVICE,
    Purpose.LOCAL_SPENDING: 0,
    Purpose.SPORT_CULTURE: SERVICE,
    Purpose.MOBILITY: SERVICE,
    Purpose.ENERGY: 0,
    Purpose.EDUCATION: SERVICE,
}


def test_a_new_registry_knows_the_seven_purposes(registry):
    """spec: P1"""
    assert registry.purposeCount() == 7
    for purpose in Purpose:
        purpose_code, _ = registry.purpose(purpose)
        assert bytes(purpose_code) == code(purpose.name)
        assert registry.purposeId(code(purpose.name)) == purpose


def test_an_unknown_purpose_code_has_no_id(registry):
    """spec: P1"""
    for unknown in (code("CHILDCARE"), ZERO_BYTES32, code("debt_settlement")):
        with reverts_with("RegistryInvalidPurposeCode", unknown):
            registry.purposeId(unknown)


def test_only_the_admin_may_add_a_purpose(registry, admin, registrar, compliance, stranger):
    """spec: P2"""
    for caller in (stranger, registrar, compliance):
        with reverts_with("AccessControlUnauthorizedAccount", caller, DEFAULT_ADMIN_ROLE):
            registry.addPurpose(code("CHILDCARE"), SERVICE, {"from": caller})
    assert registry.purposeCount() == 7

    tx = registry.addPurpose(code("CHILDCARE"), SERVICE, {"from": admin})
    assert tx.return_value == 7
    event = tx.events["PurposeAdded"]
    assert (event["id"], bytes(event["code"]), event["redemptions"]) == (7, code("CHILDCARE"), SERVICE)
    assert registry.purposeCount() == 8
    assert purpose_of(registry, 7) == (code("CHILDCARE"), SERVICE)
    assert registry.purposeId(code("CHILDCARE")) == 7


def test_a_built_in_purpose_code_cannot_be_added_again(registry, admin):
    """spec: P2"""
    for purpose in Purpose:
        before = purpose_of(registry, purpose)
        with reverts_with("RegistryPurposeExists", code(purpose.name), int(purpose)):
            registry.addPurpose(code(purpose.name), DEBT | SERVICE, {"from": admin})
        assert purpose_of(registry, purpose) == before
    assert registry.purposeCount() == 7


def test_an_added_purpose_code_cannot_be_added_again(registry, admin):
    """spec: P2"""
    registry.addPurpose(code("CHILDCARE"), SERVICE, {"from": admin})
    with reverts_with("RegistryPurposeExists", code("CHILDCARE"), 7):
        registry.addPurpose(code("CHILDCARE"), DEBT, {"from": admin})
    assert purpose_of(registry, 7) == (code("CHILDCARE"), SERVICE)
    assert registry.purposeCount() == 8


def test_the_empty_purpose_code_is_refused(registry, admin):
    """spec: P2"""
    with reverts_with("RegistryInvalidPurposeCode", ZERO_BYTES32):
        registry.addPurpose(ZERO_BYTES32, 0, {"from": admin})
    assert registry.purposeCount() == 7


def test_a_purpose_may_only_allow_debt_and_service_burns(registry, admin):
    """spec: P2, P3"""
    for redemptions in (1 << BurnReason.MERCHANT_PAYOUT, 1 << BurnReason.EXPIRY_RECLAIM, DEBT | 0x80, 0xFF):
        with reverts_with("RegistryInvalidRedemptions", redemptions):
            registry.addPurpose(code("CHILDCARE"), redemptions, {"from": admin})
    assert registry.purposeCount() == 7


def test_at_most_64_purposes_fit_and_all_64_can_be_accepted(registry, admin, registrar):
    """spec: P2, R5"""
    for number in range(BUILT_IN_PURPOSES, 64):
        assert registry.addPurpose(code(f"PURPOSE_{number}"), 0, {"from": admin}).return_value == number
    assert registry.purposeCount() == 64
    with reverts_with("RegistryPurposeLimitReached", 64):
        registry.addPurpose(code("ONE_TOO_MANY"), 0, {"from": admin})
    assert registry.purposeCount() == 64

    account = fresh("every purpose")
    registry.register(row(account, Kind.MERCHANT, purposes=2**64 - 1), {"from": registrar})
    assert stored(registry, account)[2] == 2**64 - 1


def test_the_registry_has_no_function_that_changes_a_purpose(registry):
    """spec: P2"""
    writers = {
        item["name"]
        for item in registry.abi
        if item["type"] == "function" and item["stateMutability"] not in ("view", "pure")
    }
    assert {name for name in writers if "urpose" in name} == {"addPurpose"}


def test_each_purpose_says_which_burns_residents_may_use(registry):
    """spec: P3"""
    for purpose, redemptions in BUILT_IN_REDEMPTIONS.items():
        assert registry.purpose(purpose)[1] == redemptions, purpose.name


def test_an_added_purpose_keeps_the_burns_it_was_given(registry, admin):
    """spec: P3"""
    for redemptions in (0, DEBT, SERVICE, DEBT | SERVICE):
        new_code = code(f"NEW_{redemptions}")
        purpose_id = registry.addPurpose(new_code, redemptions, {"from": admin}).return_value
        assert purpose_of(registry, purpose_id) == (new_code, redemptions)


def test_residents_burn_coins_only_as_their_purpose_allows(registry, make_coin, give, resident):
    """spec: P3"""
    for purpose, redemptions in BUILT_IN_REDEMPTIONS.items():
        coin = make_coin(purpose, GEMEENTE)
        give(coin, resident, 2)
        for reason, burn in ((DEBT, coin.settleDebt), (SERVICE, coin.redeemService)):
            if redemptions & reason:
                burn(1, ref("reference"), {"from": resident})
            else:
                burn_reason = BurnReason.DEBT_SETTLEMENT if reason == DEBT else BurnReason.SERVICE_REDEMPTION
                with reverts_with("CoinBurnNotAllowed", resident, int(burn_reason)):
                    burn(1, ref("reference"), {"from": resident})
        assert coin.balanceOf(resident) == 2 - bin(redemptions).count("1"), purpose.name
