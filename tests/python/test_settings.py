"""Settings are read from SOCIALCOIN_* variables and checked at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from socialcoin.settings import DEVELOPMENT_OPERATOR_KEY, Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]
DEVELOPMENT = {"SOCIALCOIN_ENVIRONMENT": "development"}

STRONG = {
    "SOCIALCOIN_MINTER_KEY": "0x" + "11" * 32,
    "SOCIALCOIN_REGISTRAR_KEY": "0x" + "22" * 32,
    "SOCIALCOIN_RELAYER_KEY": "0x" + "33" * 32,
    "SOCIALCOIN_SECRET_KEY": "a-long-production-secret-of-more-than-32-chars",
}


def test_values_come_from_socialcoin_variables():
    settings = Settings.from_env(
        {**DEVELOPMENT, "SOCIALCOIN_RPC_URL": "http://node:8545", "SOCIALCOIN_CONFIRMATIONS": "3"}
    )
    assert settings.rpc_url == "http://node:8545"
    assert settings.confirmations == 3


def test_production_refuses_the_development_keys_and_names_them():
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"SOCIALCOIN_ENVIRONMENT": "production"})
    for name in (
        "SOCIALCOIN_MINTER_KEY",
        "SOCIALCOIN_RELAYER_KEY",
        "SOCIALCOIN_REGISTRAR_KEY",
        "SOCIALCOIN_SECRET_KEY",
    ):
        assert name in str(refused.value)


def test_production_refuses_a_short_secret():
    with pytest.raises(SettingsError, match="SOCIALCOIN_SECRET_KEY"):
        Settings.from_env(
            {**STRONG, "SOCIALCOIN_ENVIRONMENT": "production", "SOCIALCOIN_SECRET_KEY": "short"}
        )


def test_production_starts_with_keys_of_its_own():
    settings = Settings.from_env({**STRONG, "SOCIALCOIN_ENVIRONMENT": "production"})
    assert settings.environment == "production"


def test_a_malformed_value_is_refused_with_its_name():
    with pytest.raises(SettingsError, match="confirmations"):
        Settings.from_env({**DEVELOPMENT, "SOCIALCOIN_CONFIRMATIONS": "-1"})


def test_the_operator_key_defaults_to_the_demo_admin_outside_production_and_can_be_turned_off():
    assert Settings.from_env(DEVELOPMENT).operator_key.get_secret_value() == DEVELOPMENT_OPERATOR_KEY
    assert Settings.from_env({"SOCIALCOIN_ENVIRONMENT": "test"}).operator_key is not None
    assert Settings.from_env({**DEVELOPMENT, "SOCIALCOIN_OPERATOR_KEY": ""}).operator_key is None
    assert Settings(environment="test", operator_key=None).operator_key is None


def test_production_runs_without_an_operator_key_and_takes_one_of_its_own():
    assert Settings.from_env({**STRONG, "SOCIALCOIN_ENVIRONMENT": "production"}).operator_key is None
    own = "0x" + "44" * 32
    settings = Settings.from_env(
        {**STRONG, "SOCIALCOIN_ENVIRONMENT": "production", "SOCIALCOIN_OPERATOR_KEY": own}
    )
    assert settings.operator_key.get_secret_value() == own


def test_production_refuses_the_development_operator_key():
    with pytest.raises(SettingsError, match="SOCIALCOIN_OPERATOR_KEY"):
        Settings.from_env(
            {
                **STRONG,
                "SOCIALCOIN_ENVIRONMENT": "production",
                "SOCIALCOIN_OPERATOR_KEY": DEVELOPMENT_OPERATOR_KEY,
            }
        )


# --------------------------------------------------------------------------------------------------
# No environment, no service: a deployment that forgets it would otherwise run on the public keys
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("environ", [{}, {"SOCIALCOIN_ENVIRONMENT": ""}])
def test_without_an_environment_the_settings_are_refused_saying_what_to_set(environ):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(environ)
    message = str(refused.value)
    assert message.startswith("SOCIALCOIN_ENVIRONMENT ontbreekt")  # Dutch first
    assert " / SOCIALCOIN_ENVIRONMENT is not set" in message  # English beside it
    for allowed in ("production", "development", "test"):
        assert message.count(allowed) >= 2  # named in both languages


def test_an_unknown_environment_is_refused_naming_the_allowed_values():
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"SOCIALCOIN_ENVIRONMENT": "prod"})
    message = str(refused.value)
    assert "'prod'" in message and "production, development, test" in message
    assert " / " in message  # Dutch, then English


def test_settings_made_in_code_name_their_environment_too():
    with pytest.raises(ValueError, match="environment"):
        Settings()  # type: ignore[call-arg]
    assert Settings(environment="test").environment == "test"


def _started_without_environment(*command: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCOIN_")}
    env["SOCIALCOIN_DATABASE_URL"] = "sqlite:////nonexistent/never-created.db"  # never reached
    return subprocess.run(
        [sys.executable, "-m", *command], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "command",
    [
        ("socialcoin.server", "serve", "--port", "0"),
        ("socialcoin.server", "serve", "--port", "0", "--processes", "2", "--no-workers"),
        ("socialcoin.server", "worker"),
        ("socialcoin.server", "token", "--label", "forgotten"),
        ("socialcoin.demo",),
    ],
)
def test_a_process_that_starts_the_service_without_an_environment_stops_with_the_message(command):
    ended = _started_without_environment(*command)
    assert ended.returncode == 2, ended.stderr
    assert "SOCIALCOIN_ENVIRONMENT ontbreekt" in ended.stderr and "is not set" in ended.stderr
    assert "Traceback" not in ended.stderr
    assert ended.stdout == ""  # no token printed, nothing served


def test_production_with_the_development_keys_stops_before_serving():
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCOIN_")}
    env["SOCIALCOIN_ENVIRONMENT"] = "production"
    ended = subprocess.run(
        [sys.executable, "-m", "socialcoin.server", "serve", "--port", "0"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ended.returncode == 2, ended.stderr
    assert "worden in productie geweigerd" in ended.stderr and "refused in production" in ended.stderr
    assert "SOCIALCOIN_SECRET_KEY" in ended.stderr and "Traceback" not in ended.stderr
