"""Deploys and wires a municipality's Socialcoin contracts and writes deployments/<network>.json.

    brownie run scripts/deploy.py --network <network>

The deployer key comes from SOCIALCOIN_DEPLOYER_KEY (a hex private key) or a brownie keystore named
in SOCIALCOIN_DEPLOYER_KEYSTORE; on a local development chain the node's first account is used.
SOCIALCOIN_ADMIN_DELAY sets how long (seconds) a handover of the admin role must wait (default 2 days).
SOCIALCOIN_RECOVERY_DELAY sets how long (seconds) a lost wallet's recovery waits between its request and
its execution: default 3 days, and 0 on the local development chain (chain id 31337), the only chain
where the registry accepts less than a day.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from brownie import ActivityIssuer, CoinFactory, ParticipantRegistry, SocialCoin, accounts, network, web3
from brownie.network import rpc

DEPLOYMENTS = Path(__file__).resolve().parent.parent / "deployments"
DEFAULT_ADMIN_DELAY = 2 * 24 * 3600
DEFAULT_RECOVERY_DELAY = 3 * 24 * 3600
DEVELOPMENT_CHAIN_ID = 31337  # ParticipantRegistry.DEVELOPMENT_CHAIN_ID


@dataclass
class System:
    registry: object
    issuer: object
    factory: object


def deployer_account():
    """The account that deploys and becomes admin: from the environment, never from the repo."""
    if key := os.environ.get("SOCIALCOIN_DEPLOYER_KEY"):
        return accounts.add(key)
    if keystore := os.environ.get("SOCIALCOIN_DEPLOYER_KEYSTORE"):
        return accounts.load(keystore)
    if rpc.is_active():  # a local development node that brownie attached to or started
        return accounts[0]
    raise SystemExit("Set SOCIALCOIN_DEPLOYER_KEY or SOCIALCOIN_DEPLOYER_KEYSTORE for this network.")


def default_recovery_delay() -> int:
    """SOCIALCOIN_RECOVERY_DELAY, or 0 on the local development chain and 3 days elsewhere."""
    if value := os.environ.get("SOCIALCOIN_RECOVERY_DELAY"):
        return int(value)
    return 0 if web3.eth.chain_id == DEVELOPMENT_CHAIN_ID else DEFAULT_RECOVERY_DELAY


def deploy_system(admin, admin_delay: int = DEFAULT_ADMIN_DELAY, recovery_delay: int | None = None) -> System:
    """Deploys registry, issuer and factory with `admin` as their admin, and lets the factory list coins."""
    tx = {"from": admin}
    if recovery_delay is None:
        recovery_delay = default_recovery_delay()
    registry = ParticipantRegistry.deploy(admin_delay, admin, recovery_delay, tx)
    issuer = ActivityIssuer.deploy(registry, admin_delay, admin, tx)
    factory = CoinFactory.deploy(registry, issuer, admin_delay, admin, tx)
    registry.grantRole(registry.COIN_FACTORY_ROLE(), factory, tx)
    return System(registry=registry, issuer=issuer, factory=factory)


def write_deployment(system: System, path: Path | None = None) -> Path:
    """Writes the addresses, the chain id and where the ABIs are, for the backend and the CLI."""
    path = path or DEPLOYMENTS / f"{network.show_active()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    registry = system.registry
    deployment = {
        "network": network.show_active(),
        "chain_id": web3.eth.chain_id,
        "abi_dir": "build/contracts",
        "start_block": registry.tx.block_number if registry.tx else 0,
        "contracts": {
            "ParticipantRegistry": registry.address,
            "ActivityIssuer": system.issuer.address,
            "CoinFactory": system.factory.address,
        },
        # By symbol, as scripts/demo.py and create_coin.py add them and the backend reads them.
        "coins": {SocialCoin.at(coin).symbol(): coin for coin in registry.coins()},
    }
    path.write_text(json.dumps(deployment, indent=2) + "\n")
    return path


def main() -> System:
    admin = deployer_account()
    delay = int(os.environ.get("SOCIALCOIN_ADMIN_DELAY", DEFAULT_ADMIN_DELAY))
    system = deploy_system(admin, delay)
    path = write_deployment(system)
    print(f"ParticipantRegistry {system.registry.address}")
    print(f"ActivityIssuer      {system.issuer.address}")
    print(f"CoinFactory         {system.factory.address}")
    print(f"Recovery delay      {system.registry.recoveryDelay()} s")
    print(f"Deployment written to {path}")
    return system
