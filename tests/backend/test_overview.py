"""The dashboard's figures: residents active in the last 30 days, debts settled this month, and the
service's health (the same figures as /public/status)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from socialcoin.db.base import transaction
from socialcoin.db.enums import DebtStatus, SpendStatus, TaskStatus
from socialcoin.db.models import Activity, ChainEvent, DebtCase, Resident, Settlement, Task
from socialcoin.domain import health, overview

NOW = datetime(2026, 12, 15, 12, 0, tzinfo=UTC)
ZERO = "0x" + "0" * 40


def address(n: int) -> str:
    return "0x" + f"{n:040x}"


def resident(session, n: int) -> Resident:
    row = Resident(
        name=f"Inwoner {n}",
        case_number=f"OV-{n:04d}",
        area="BU02020101",
        wallet_address=address(n),
        wallet_custody="own",
        record_hash="0x" + "1" * 64,
        consent_at=NOW,
        registration_key=f"register:{address(n)}",
    )
    session.add(row)
    session.flush()
    return row


def transfer(session, sender: str, receiver: str, when: datetime) -> None:
    session.add(
        ChainEvent(
            block_number=1,
            block_hash="0x" + "2" * 64,
            tx_hash="0x" + uuid.uuid4().hex * 2,
            log_index=0,
            contract=address(999),
            event="Transfer",
            args={"from": sender, "to": receiver, "value": 100},
            block_time=when,
            from_account=sender,
            to_account=receiver,
        )
    )


def task(session, resident_id: int, started: datetime | None, finished: datetime | None) -> None:
    activity = Activity(title="Tuin", description="Tuin", unit="hour", area="GM0202")
    session.add(activity)
    session.flush()
    session.add(
        Task(
            activity_id=activity.id,
            resident_id=resident_id,
            status=TaskStatus.FINISHED if finished else TaskStatus.STARTED,
            opens_at=NOW - timedelta(days=90),
            due_at=NOW + timedelta(days=9),
            remind_at=NOW,
            started_at=started,
            finished_at=finished,
        )
    )


def test_a_resident_is_active_with_a_transaction_or_a_task_in_the_last_30_days(runtime):
    recent, old = NOW - timedelta(days=29), NOW - timedelta(days=31)
    with transaction(runtime.sessions) as session:
        residents = [resident(session, n) for n in range(1, 8)]
        transfer(session, ZERO, residents[0].wallet_address, recent)  # coins minted to 1
        transfer(session, residents[1].wallet_address, address(500), recent)  # 2 paid a merchant
        task(session, residents[2].id, started=recent, finished=None)  # 3 started a task
        task(session, residents[3].id, started=old, finished=recent)  # 4 finished one
        transfer(session, ZERO, residents[4].wallet_address, old)  # 5: only long ago
        task(session, residents[5].id, started=old, finished=old)  # 6: only long ago
        transfer(session, residents[0].wallet_address, address(500), recent)  # 1 again: counted once
    with runtime.sessions() as session:
        found = overview.active_residents(session, now=NOW)
    assert (found.active, found.total, found.days) == (4, 7, 30)
    assert found.since == NOW - timedelta(days=30)


def test_debts_settled_this_month_count_confirmed_settlements_and_debts_paid_off(runtime):
    start = overview.month_start(NOW)
    assert start.isoformat() == "2026-12-01T00:00:00+01:00"  # midnight in Amsterdam
    with transaction(runtime.sessions) as session:
        owner = resident(session, 1)

        def debt(n: int, closed_at: datetime | None) -> DebtCase:
            case = DebtCase(
                resident_id=owner.id,
                creditor="CJIB",
                creditor_reference=f"REF-{n}",
                amount_cents=1000,
                remaining_cents=0 if closed_at else 500,
                chain_reference="0x" + f"{n:064x}",
                status=DebtStatus.CLOSED if closed_at else DebtStatus.OPEN,
                closed_at=closed_at,
            )
            session.add(case)
            session.flush()
            return case

        def settled(case: DebtCase, cents: int, status: SpendStatus, when: datetime | None) -> None:
            session.add(
                Settlement(
                    debt_case_id=case.id,
                    coin=address(999),
                    amount_cents=cents,
                    status=status,
                    outbox_key=f"settle:{uuid.uuid4().hex}",
                    confirmed_at=when,
                )
            )

        this_month, last_month = start + timedelta(hours=1), start - timedelta(hours=1)
        paid_off, open_case, earlier = debt(1, this_month), debt(2, None), debt(3, last_month)
        settled(paid_off, 600, SpendStatus.SETTLED, last_month)
        settled(paid_off, 400, SpendStatus.SETTLED, this_month)
        settled(open_case, 500, SpendStatus.SETTLED, this_month)
        settled(open_case, 250, SpendStatus.PENDING, None)  # not confirmed: not counted
        settled(open_case, 250, SpendStatus.FAILED, None)
        settled(earlier, 1000, SpendStatus.SETTLED, last_month)
    with runtime.sessions() as session:
        found = overview.debts_settled(session, start)
        before = overview.debts_settled(session, start - timedelta(days=30), until=start)
    assert (found.settlements, found.amount_cents, found.debts_closed) == (2, 900, 1)
    assert (before.settlements, before.amount_cents, before.debts_closed) == (2, 1600, 1)


def test_health_says_what_the_public_status_says(runtime, client):
    with runtime.sessions() as session:
        found = health.health(session, runtime.chain)
    public = client.get("/public/status").json()
    assert found.chain_available and public["chain_available"]
    assert found.indexed_block == public["indexed_block"]
    assert found.indexer_lag_blocks is not None and found.indexer_lag_blocks >= 0
    assert (found.pending_writes, found.stuck_transactions, found.stuck_writes) == (0, 0, 0)


def test_residents_are_found_by_their_case_number_or_a_part_of_their_name(runtime):
    from socialcoin.domain import people

    with transaction(runtime.sessions) as session:
        for n in range(1, 4):
            resident(session, n)
        session.get(Resident, 2).name = "Anna 100% de Wit"
    with runtime.sessions() as session:

        def found(term: str) -> list[str]:
            return [r.case_number for r in people.list_residents(session, search=term)]

        assert found("OV-0003") == ["OV-0003"]
        assert found("inwoner") == ["OV-0001", "OV-0003"]
        assert found("100%") == ["OV-0002"]  # % is a character here, not a wildcard
        assert found("OV-") == []  # a case number is found whole
        assert found("  ") == ["OV-0001", "OV-0002", "OV-0003"]
