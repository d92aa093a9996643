"""A list costs the database the same number of statements for six rows as for one: response models load
the rows a list relates to once per list (`many`), never once per row."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import event

from test_activity_flow import World, make_world
from test_debts import record
from test_payments import PIN, key, resident_with_coins
from test_services import offer


@pytest.fixture
def world(client, runtime, auth, demo) -> World:
    return make_world(client, runtime, auth, demo)


def statements(world: World, path: str, headers: dict) -> int:
    """How many SQL statements one GET of `path` runs."""
    seen: list[str] = []

    def note(_connection, _cursor, statement: str, *_args) -> None:
        seen.append(statement)

    event.listen(world.runtime.engine, "before_cursor_execute", note)
    try:
        answer = world.client.get(path, headers=headers)
    finally:
        event.remove(world.runtime.engine, "before_cursor_execute", note)
    assert answer.status_code == 200, answer.text
    return len(seen)


def assert_same_cost(world: World, grow: Callable[[int], None], lists: dict[str, dict]) -> None:
    """Each list in `lists` (path: headers) runs as many statements with 6 rows as with 1."""
    grow(1)
    one = {path: statements(world, path, headers) for path, headers in lists.items()}
    grow(6)
    for path, headers in lists.items():
        assert len(world.client.get(path, headers=headers).json()) == 6, path
    six = {path: statements(world, path, headers) for path, headers in lists.items()}
    assert six == one, f"statements with 1 row: {one}; with 6 rows: {six}"


def test_task_claim_and_activity_lists_load_related_rows_once_per_list(world):
    programme = world.programme("GKW")
    resident = world.resident()
    world.drain()  # the resident's registration
    claims: list[int] = []

    def grow(rows: int) -> None:
        # A task and an approved claim for each new activity: the lists' rows each relate to their own
        # activity, and each claim has a mint whose error the list reads.
        while len(claims) < rows:
            activity = world.activity(programme, title=f"Activiteit {len(claims) + 1}")
            claims.append(world.claim(activity, resident))
            assert world.approve(claims[-1]).status_code == 200

    assert_same_cost(
        world,
        grow,
        {
            "/residents/me/tasks": resident[2],
            "/municipality/tasks": world.admin,
            "/municipality/claims": world.admin,
            "/municipality/activities": world.admin,
            "/organisations/me/tasks": world.verifier,
            "/organisations/me/claims": world.verifier,
        },
    )


def test_debt_and_order_lists_load_related_rows_once_per_list(world):
    runtime, auth = world.runtime, world.auth
    resident_id, _wallet, headers = resident_with_coins(runtime, world.demo, auth, "2026-L001", "ASC", 10_000)
    service = offer(world.client, auth)
    cases: list[dict] = []
    orders: list[dict] = []

    def grow(rows: int) -> None:
        while len(cases) < rows:
            cases.append(record(world.client, auth, resident_id, reference=f"CJIB-2026-{len(cases):06d}"))
            answer = world.client.post(
                "/residents/me/orders",
                headers={**headers, **key()},
                json={"service_id": service["id"], "coin": "ASC", "pin": PIN},
            )
            assert answer.status_code == 202, answer.text
            orders.append(answer.json())

    assert_same_cost(
        world,
        grow,
        {
            "/residents/me/debts": headers,
            "/municipality/debts": world.admin,
            "/residents/me/orders": headers,
            "/municipality/orders": world.admin,
        },
    )
