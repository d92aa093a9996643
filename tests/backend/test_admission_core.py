"""Admission puts personal data in the database and only a hash, an address and an area on chain."""

from __future__ import annotations

import pytest

from contracts import contracts
from socialcoin.db.base import transaction
from socialcoin.domain.admission import admit_resident, onchain_status
from socialcoin.domain.errors import Conflict


def test_a_custodial_resident_is_registered_on_chain_with_a_hash_only(runtime):
    with transaction(runtime.sessions) as session:
        resident = admit_resident(
            session,
            runtime.settings,
            name="Eva de Vries",
            case_number="2026-0100",
            area="BU02020101",
            pin="24680",
        )
        address, key, record_hash = resident.wallet_address, resident.registration_key, resident.record_hash
    runtime.outbox.run_until_idle()
    participant = contracts(runtime).registry.functions.participant(address).call()
    assert participant[0] == 1  # resident
    assert participant[4] == bytes.fromhex(record_hash[2:])
    with runtime.sessions() as session:
        assert onchain_status(session, key) == "done"


def test_a_case_is_admitted_once(runtime):
    with transaction(runtime.sessions) as session:
        admit_resident(
            session, runtime.settings, name="A", case_number="2026-0101", area="WK020201", pin="13579"
        )
    with pytest.raises(Conflict) as refused, transaction(runtime.sessions) as session:
        admit_resident(
            session, runtime.settings, name="A", case_number="2026-0101", area="WK020201", pin="13579"
        )
    assert refused.value.code == "resident_exists"
