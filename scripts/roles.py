"""Gives an operator's key a role, takes it away, or shows an account's roles. Granting and revoking
need the admin role of the contract (the deployer's account, until it is handed over).

    brownie run scripts/roles.py grant role=REGISTRAR_ROLE contract=registry account=0x... --network <net>
    brownie run scripts/roles.py revoke role=PAUSER_ROLE account=0x... --network <net>
    brownie run scripts/roles.py show account=0x... --network <net>

The roles: on the registry REGISTRAR_ROLE (register, update), PAUSER_ROLE (pause), COMPLIANCE_ROLE
(freeze, unfreeze, recover lost wallets); on the issuer MASTER_MINTER_ROLE (minter budgets, reclaim
expired coins) and REGISTRAR_ROLE (verifiers). `contract` may be left out when only one contract has
the role. Minters get their role with a budget (scripts/minter_budget.py); the admin role passes
only through its two-step handover with a delay. The other roles are granted at once: what guards a
resident's coins against an admin who gives itself COMPLIANCE_ROLE is the recovery's own delay, during
which the lost key and the admin can cancel it.
"""

from __future__ import annotations

from scripts._admin import (
    CONTRACT_NAMES,
    OPERATOR_ROLES,
    ROLE_NAMES,
    Admin,
    Arg,
    BadValue,
    Refusal,
    address,
    parse_args,
    say,
)

USAGE = [
    "brownie run scripts/roles.py grant role=REGISTRAR_ROLE contract=registry account=0x... --network <net>",
    "brownie run scripts/roles.py revoke role=PAUSER_ROLE account=0x... --network <net>",
    "brownie run scripts/roles.py show account=0x... --network <net>",
]
ELSEWHERE = {
    "DEFAULT_ADMIN_ROLE": (
        "de beheerdersrol gaat over in twee stappen met wachttijd (beginDefaultAdminTransfer)",
        "the admin role passes in two steps with a delay (beginDefaultAdminTransfer)",
    ),
    "MINTER_ROLE": (
        "een minter krijgt zijn rol met een budget: scripts/minter_budget.py increase",
        "a minter gets its role with a budget: scripts/minter_budget.py increase",
    ),
    "COIN_FACTORY_ROLE": (
        "die rol geeft scripts/deploy.py de CoinFactory",
        "scripts/deploy.py gives that role to the CoinFactory",
    ),
}


def main(*args):
    raise Refusal("kies grant, revoke of show", "choose grant, revoke or show", usage=USAGE)


def grant(*args):
    """Gives the account the role."""
    return change_role(args, granted=True)


def revoke(*args):
    """Takes the role away from the account."""
    return change_role(args, granted=False)


def show(*args):
    """Lists the roles the account holds on each contract."""
    admin = Admin.connect()
    account = parse_args(args, [Arg("account", "0x...", address)], USAGE)["account"]
    held = {}
    for name, label in CONTRACT_NAMES.items():
        contract = admin.contract(name)
        roles = [
            role
            for role in ROLE_NAMES
            if hasattr(contract, role) and contract.hasRole(getattr(contract, role)(), account)
        ]
        held[name] = roles
        say(f"{label}: {', '.join(roles) or 'geen rollen'}", f"{label}: {', '.join(roles) or 'no roles'}")
    return held


def operator_role(text: str) -> str:
    role = text.strip().upper()
    if role in ELSEWHERE:
        raise BadValue(*ELSEWHERE[role])
    if role not in {name for _, name in OPERATOR_ROLES}:
        known = ", ".join(sorted({name for _, name in OPERATOR_ROLES}))
        raise BadValue(
            f"rol '{text}' bestaat niet; kies uit {known}",
            f"role '{text}' does not exist; choose from {known}",
        )
    return role


def contract_name(text: str) -> str:
    name = text.strip().lower()
    if name not in CONTRACT_NAMES:
        known = ", ".join(CONTRACT_NAMES)
        raise BadValue(
            f"contract '{text}' bestaat niet; kies uit {known}",
            f"contract '{text}' does not exist; choose from {known}",
        )
    return name


def change_role(args, granted: bool):
    admin = Admin.connect()
    values = parse_args(
        args,
        [
            Arg("role", "REGISTRAR_ROLE", operator_role),
            Arg("account", "0x...", address),
            Arg("contract", "registry", contract_name, required=False),
        ],
        USAGE,
    )
    role, account = values["role"], values["account"]
    holders = [name for name, role_name in OPERATOR_ROLES if role_name == role]
    name = values["contract"] or (holders[0] if len(holders) == 1 else None)
    if name not in holders:
        raise Refusal(
            f"{role} bestaat op {' en '.join(holders)}: kies met contract=",
            f"{role} exists on {' and '.join(holders)}: choose with contract=",
            usage=USAGE,
        )
    contract = admin.contract(name)
    label = f"{CONTRACT_NAMES[name]} ({contract.address})"
    role_id = getattr(contract, role)()
    if contract.hasRole(role_id, account) == granted:
        state_nl = f"heeft {role} op {label} al" if granted else f"heeft {role} op {label} niet"
        state_en = f"holds {role} on {label} already" if granted else f"does not hold {role} on {label}"
        say(f"Niets te doen: {account} {state_nl}.", f"Nothing to do: {account} {state_en}.")
        return None
    admin.require_role(name, admin.role_name(contract, contract.getRoleAdmin(role_id)))
    if granted:
        return admin.send(
            f"{account} kreeg {role} op {label}",
            f"{account} was granted {role} on {label}",
            contract.grantRole,
            role_id,
            account,
        )
    return admin.send(
        f"{account} verloor {role} op {label}",
        f"{account} lost {role} on {label}",
        contract.revokeRole,
        role_id,
        account,
    )
