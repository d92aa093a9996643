"""Settings are read from SOCIALCOIN_* variables and checked at start-up."""

from __future__ import annotations

import pytest

from socialcoin.settings import DEVELOPMENT_OPERATOR_KEY, Settings, SettingsError

STRONG = {
    "SOCIALCOIN_MINTER_KEY": "0x" + "11" * 32,
    "SOCIALCOIN_REGISTRAR_KEY": "0x" + "22" * 32,
    "SOCIALCOIN_RELAYER_KEY": "0x" + "33" * 32,
    "SOCIALCOIN_SECRET_KEY": "a-long-production-secret-of-more-than-32-chars",
}


def test_values_come_from_socialcoin_variables():
    settings = Settings.from_env({"SOCIALCOIN_RPC_URL": "http://node:8545", "SOCIALCOIN_CONFIRMATIONS": "3"})
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
        Settings.from_env({"SOCIALCOIN_CONFIRMATIONS": "-1"})


def test_the_operator_key_defaults_to_the_demo_admin_outside_production_and_can_be_turned_off():
    assert Settings.from_env({}).operator_key.get_secret_value() == DEVELOPMENT_OPERATOR_KEY
    assert Settings.from_env({"SOCIALCOIN_ENVIRONMENT": "test"}).operator_key is not None
    assert Settings.from_env({"SOCIALCOIN_OPERATOR_KEY": ""}).operator_key is None
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
