"""The service's settings: read once from the environment (SOCIALCOIN_*), checked at start-up."""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator

ROOT = Path(__file__).resolve().parents[2]

# Well-known keys of anvil's test mnemonic: fine on a laptop chain, refused anywhere else.
DEVELOPMENT_MINTER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
DEVELOPMENT_RELAYER_KEY = "0x701b615bbdfb9de65240bc28bd21bbc0d996645a3dd57e7b12bc2bdf6f192c82"
DEVELOPMENT_REGISTRAR_KEY = "0xa267530f49f8280200edf313ee7af6b827f2a8bce2897751d06a843f644967b1"
# The demo's admin account (index 0), which scripts/demo.py gives the operator's roles.
DEVELOPMENT_OPERATOR_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
DEVELOPMENT_SECRET = "development-only-secret-change-me"


class SettingsError(ValueError):
    """A setting is missing or unsafe; the message names the variable."""


Environment = Literal["production", "development", "test"]
ENVIRONMENTS = get_args(Environment)


def _environment_missing(given: str | None) -> SettingsError:
    """No environment, or one we do not know: no default, because a forgotten setting would otherwise
    run a deployment on the public development keys and secret."""
    allowed = ", ".join(ENVIRONMENTS)
    if given:
        what_nl = f"SOCIALCOIN_ENVIRONMENT='{given}' kent de dienst niet"
        what_en = f"SOCIALCOIN_ENVIRONMENT='{given}' is not one the service knows"
    else:
        what_nl, what_en = "SOCIALCOIN_ENVIRONMENT ontbreekt", "SOCIALCOIN_ENVIRONMENT is not set"
    return SettingsError(
        f"{what_nl}. Zet het op een van {allowed}: production voor een echte gemeente (eigen sleutels "
        "en een eigen geheim verplicht: SOCIALCOIN_MINTER_KEY, SOCIALCOIN_REGISTRAR_KEY, "
        "SOCIALCOIN_RELAYER_KEY, SOCIALCOIN_SECRET_KEY), development voor een eigen laptop met de openbare "
        "ontwikkelsleutels (zoals make run), test voor de tests. De dienst start niet zonder. / "
        f"{what_en}. Set it to one of {allowed}: production for a real municipality (keys and a secret of "
        "its own required: SOCIALCOIN_MINTER_KEY, SOCIALCOIN_REGISTRAR_KEY, SOCIALCOIN_RELAYER_KEY, "
        "SOCIALCOIN_SECRET_KEY), development for a laptop with the public development keys (as make run "
        "does), test for the tests. The service does not start without it."
    )


class Settings(BaseModel):
    # No default: every process that starts the service says where it runs (see _environment_missing).
    environment: Environment
    database_url: str = f"sqlite:///{ROOT / 'socialcoin.db'}"
    rpc_url: str = "http://127.0.0.1:8545"
    deployment_file: Path = ROOT / "deployments" / "socialcoin-local.json"
    build_dir: Path = ROOT / "build" / "contracts"
    # The backend's keys: the minter (mints within its budget), the registrar (admits residents,
    # merchants, organisations, authorises verifiers) and the relayer (sends residents' signed
    # payments). On the permissioned chain gas is free; none of them needs ether.
    minter_key: SecretStr = SecretStr(DEVELOPMENT_MINTER_KEY)
    registrar_key: SecretStr = SecretStr(DEVELOPMENT_REGISTRAR_KEY)
    relayer_key: SecretStr = SecretStr(DEVELOPMENT_RELAYER_KEY)
    # Optional: the operator key for chain administration through the API (pause, recover, reclaim,
    # create coins, the minter's allowance). Development and test default to the demo admin's key;
    # production has none unless SOCIALCOIN_OPERATOR_KEY is set (an empty value turns it off anywhere),
    # and those endpoints then answer 503 and point to the brownie scripts.
    operator_key: SecretStr | None = None
    # Encrypts custodial wallets at rest and salts record hashes.
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    confirmations: int = Field(default=0, ge=0)
    # How long a request waits for the node before it answers 503 chain_unavailable (and the outbox and
    # indexer, which may ask for more at once, wait for theirs).
    chain_timeout_seconds: float = Field(default=3.0, gt=0, le=5)
    worker_chain_timeout_seconds: float = Field(default=30.0, gt=0)
    # When the outbox calls a transaction stuck: refused by the node this many times in a row (signed anew
    # with the node's fees each time, after a pause of retry_seconds that doubles), or sent and not mined
    # within stuck_after_seconds.
    outbox_max_send_failures: int = Field(default=5, ge=1)
    outbox_stuck_after_seconds: float = Field(default=300.0, gt=0)
    outbox_retry_seconds: float = Field(default=2.0, ge=0)
    token_ttl_seconds: int = Field(default=8 * 3600, gt=0)
    mint_batch_size: int = Field(default=200, ge=1, le=1000)
    evidence_dir: Path = ROOT / "var" / "evidence"
    # Rate limits in the `limits` library's notation ("20/minute;200/hour"; empty: none), counted in the
    # database so that they hold across API processes (README: "The front door").
    login_limit_per_client: str = "20/minute;200/hour"
    spend_limit_per_client: str = "120/minute"
    spend_limit_per_holder: str = "20/minute"
    # Reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the client. None
    # by default: the client is then the address that connects, and the header is ignored.
    trusted_proxies: str = ""
    # Where people reach the pages (the link in a till's QR code opens the wallet here): https in
    # production, so that a phone's own camera opens it.
    public_url: str = "http://127.0.0.1:8000"
    # The least number of distinct residents a public research figure may rest on (docs/research.md,
    # "Privacy"): any smaller aggregate is suppressed.
    research_k_anonymity: int = 10
    # How long public research figures are served before new events make them be computed again: on a
    # large ledger a computation takes seconds of a core, and a busy scheme stores events every moment.
    research_refresh_seconds: float = 60.0

    @model_validator(mode="after")
    def _operator_key_by_environment(self) -> Settings:
        if self.operator_key is not None and not self.operator_key.get_secret_value():
            self.operator_key = None
        elif "operator_key" not in self.model_fields_set and self.environment != "production":
            self.operator_key = SecretStr(DEVELOPMENT_OPERATOR_KEY)
        return self

    @model_validator(mode="after")
    def _front_door_settings_parse(self) -> Settings:
        from limits import parse_many

        for name in ("login_limit_per_client", "spend_limit_per_client", "spend_limit_per_holder"):
            if getattr(self, name).strip():
                try:
                    parse_many(getattr(self, name))
                except ValueError as exc:
                    raise SettingsError(f"SOCIALCOIN_{name.upper()}: {exc}") from exc
        for proxy in filter(None, (p.strip() for p in self.trusted_proxies.split(","))):
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as exc:
                raise SettingsError(f"SOCIALCOIN_TRUSTED_PROXIES: {exc}") from exc
        return self

    @model_validator(mode="after")
    def _k_anonymity_protects_someone(self) -> Settings:
        if self.research_k_anonymity < 2:
            raise SettingsError(
                f"SOCIALCOIN_RESEARCH_K_ANONYMITY={self.research_k_anonymity}: moet minstens 2 zijn, anders "
                "toont een openbaar cijfer wat een enkele inwoner deed (standaard 10). / must be at least 2, "
                "or a public figure shows what a single resident did (default 10)."
            )
        return self

    @model_validator(mode="after")
    def _refuse_development_secrets_in_production(self) -> Settings:
        if self.environment == "production":
            defaults = {
                "SOCIALCOIN_MINTER_KEY": (self.minter_key, DEVELOPMENT_MINTER_KEY),
                "SOCIALCOIN_RELAYER_KEY": (self.relayer_key, DEVELOPMENT_RELAYER_KEY),
                "SOCIALCOIN_REGISTRAR_KEY": (self.registrar_key, DEVELOPMENT_REGISTRAR_KEY),
                "SOCIALCOIN_SECRET_KEY": (self.secret_key, DEVELOPMENT_SECRET),
                "SOCIALCOIN_OPERATOR_KEY": (self.operator_key, DEVELOPMENT_OPERATOR_KEY),
            }
            unsafe = [
                name
                for name, (value, default) in defaults.items()
                if value is not None and value.get_secret_value() == default
            ]
            if unsafe:
                names = ", ".join(unsafe)
                raise SettingsError(
                    f"Zet {names}: de openbare ontwikkelsleutels worden in productie geweigerd. / "
                    f"Set {names}: development defaults are refused in production."
                )
            if len(self.secret_key.get_secret_value()) < 32:
                raise SettingsError(
                    "SOCIALCOIN_SECRET_KEY moet in productie minstens 32 tekens lang zijn. / "
                    "SOCIALCOIN_SECRET_KEY must be at least 32 characters in production."
                )
        return self

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Builds settings from SOCIALCOIN_<FIELD> variables; unknown fields keep their defaults."""
        environ = dict(os.environ if environ is None else environ)
        environment = environ.get("SOCIALCOIN_ENVIRONMENT", "").strip()
        if environment not in ENVIRONMENTS:
            raise _environment_missing(environment)
        environ["SOCIALCOIN_ENVIRONMENT"] = environment
        values = {
            name: environ[f"SOCIALCOIN_{name.upper()}"]
            for name in cls.model_fields
            if f"SOCIALCOIN_{name.upper()}" in environ
        }
        try:
            return cls(**values)
        except ValidationError as exc:
            # Our own refusals come through as written; pydantic's (a malformed value) name the field.
            ours = [error.get("ctx", {}).get("error") for error in exc.errors()]
            refused = next((error for error in ours if isinstance(error, SettingsError)), None)
            raise (refused or SettingsError(str(exc))) from None


def settings_or_exit() -> Settings:
    """The settings of a process that starts the service (server, worker, token, demo): a missing or unsafe
    setting ends it with the message and exit code 2, not a traceback."""
    try:
        return Settings.from_env()
    except SettingsError as refused:
        print(f"socialcoin: {refused}", file=sys.stderr)
        raise SystemExit(2) from None
