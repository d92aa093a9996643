"""What every admin script shares: its arguments, the operator's key, the deployment, role checks,
sending a transaction and saying what was done. The scripts themselves only say what they do.

Arguments are `name=value` words after the function name, because `brownie run` passes the words
after `<script> <function>` to that function as strings:

    brownie run scripts/freeze.py main accounts=0xAbc...,0xDef... --network <network>

A refusal is a `Refusal`, a SystemExit, so that `brownie run` prints just the message (Dutch first,
English below) and exits with status 1, before anything is sent.
"""

from __future__ import annotations

import getpass
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from brownie import ActivityIssuer, CoinFactory, ParticipantRegistry, SocialCoin, accounts, network, web3
from brownie.exceptions import VirtualMachineError
from brownie.network import rpc
from eth_account import Account
from eth_utils import is_checksum_address, is_checksum_formatted_address, to_checksum_address

from scripts.deploy import DEPLOYMENTS
from socialcoin.areas import InvalidAreaCode, to_bytes8
from socialcoin.chain.constants import CENTS_PER_EURO, Kind

KEYSTORE = "SOCIALCOIN_KEYSTORE"
KEYSTORE_PASSWORD = "SOCIALCOIN_KEYSTORE_PASSWORD"
OPERATOR_KEY = "SOCIALCOIN_OPERATOR_KEY"
DEPLOYMENT = "SOCIALCOIN_DEPLOYMENT"

ZERO_ADDRESS = "0x" + "00" * 20
DEFAULT_ADMIN_ROLE = "DEFAULT_ADMIN_ROLE"
HANDOVER = "beginDefaultAdminTransfer, acceptDefaultAdminTransfer"
# A coin's expiry date is the last day it can be used, in the municipality's time zone.
MUNICIPAL_TIME = ZoneInfo("Europe/Amsterdam")

# The contracts the scripts administer, by the name used in arguments and messages.
CONTRACT_NAMES = {"registry": "ParticipantRegistry", "issuer": "ActivityIssuer", "factory": "CoinFactory"}

# The roles an operator's key can be given (by the admin, with scripts/roles.py), and what they allow.
# The admin role itself changes hands only through the two-step handover with its delay; minters get
# their role together with a budget (scripts/minter_budget.py); the factory's role is wired by deploy.py.
OPERATOR_ROLES: dict[tuple[str, str], tuple[str, str]] = {
    ("registry", "REGISTRAR_ROLE"): (
        "deelnemers te registreren en bij te werken",
        "register and update participants",
    ),
    ("registry", "PAUSER_ROLE"): ("het systeem te pauzeren en te hervatten", "pause and unpause the system"),
    ("registry", "COMPLIANCE_ROLE"): (
        "wallets te bevriezen en te ontdooien en verloren wallets te herstellen",
        "freeze and unfreeze wallets and recover lost wallets",
    ),
    ("issuer", "MASTER_MINTER_ROLE"): (
        "mintbudgetten te verhogen en te verlagen en verlopen munten terug te halen",
        "raise and lower minter budgets and reclaim expired coins",
    ),
    ("issuer", "REGISTRAR_ROLE"): ("verifiers per munt te machtigen", "authorise verifiers per coin"),
}
ROLE_NAMES = (
    DEFAULT_ADMIN_ROLE,
    "REGISTRAR_ROLE",
    "PAUSER_ROLE",
    "COMPLIANCE_ROLE",
    "COIN_FACTORY_ROLE",
    "MASTER_MINTER_ROLE",
    "MINTER_ROLE",
)

KINDS = {
    "resident": Kind.RESIDENT,
    "bewoner": Kind.RESIDENT,
    "merchant": Kind.MERCHANT,
    "ondernemer": Kind.MERCHANT,
    "organisation": Kind.ORGANISATION,
    "organisatie": Kind.ORGANISATION,
    "municipality": Kind.MUNICIPALITY,
    "gemeente": Kind.MUNICIPALITY,
}
YES = {"ja", "yes", "true", "1"}
NO = {"nee", "no", "false", "0"}


# --------------------------------------------------------------------------------------------------
# Refusals and output
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing that is wrong, with where it is (an argument, or file:line column) when known."""

    nl: str
    en: str
    where: str = ""


class Refusal(SystemExit):
    """The script stops before sending anything; the message says what is wrong and what to do."""

    def __init__(self, nl: str, en: str, problems: Iterable[Problem] = (), usage: Sequence[str] = ()):
        self.nl, self.en, self.problems, self.usage = nl, en, list(problems), list(usage)
        super().__init__(self.text())

    def text(self) -> str:
        lines = [f"Geweigerd: {self.nl}", f"Refused:   {self.en}"]
        for problem in self.problems:
            where = f"{problem.where}: " if problem.where else ""
            lines += [f"  - {where}{problem.nl}", f"    {' ' * len(where)}{problem.en}"]
        if self.usage:
            lines.append("Gebruik / Usage:")
            lines += [f"  {example}" for example in self.usage]
        return "\n".join(lines)


def say(nl: str, en: str) -> None:
    """Prints a line in Dutch and, when it differs, in English below it."""
    print(nl if nl == en else f"{nl}\n  {en}")


def euros(cents: int) -> str:
    return f"EUR {int(cents) / CENTS_PER_EURO:.2f}"


def when(timestamp: int) -> str:
    return datetime.fromtimestamp(int(timestamp), MUNICIPAL_TIME).strftime("%Y-%m-%d %H:%M %Z")


# --------------------------------------------------------------------------------------------------
# Arguments: name=value words, each parsed by its converter
# --------------------------------------------------------------------------------------------------


class BadValue(ValueError):
    """A converter's refusal of one value, in both languages."""

    def __init__(self, nl: str, en: str):
        super().__init__(en)
        self.nl, self.en = nl, en


@dataclass(frozen=True)
class Arg:
    name: str
    example: str
    parse: Callable[[str], object] = str
    required: bool = True
    default: object = None


def parse_args(words: Sequence[str], spec: Sequence[Arg], usage: Sequence[str]) -> dict[str, object]:
    """The arguments by name, converted; refuses with every problem at once."""
    known = {arg.name: arg for arg in spec}
    given: dict[str, str] = {}
    problems: list[Problem] = []
    for word in words:
        name, equals, value = str(word).partition("=")
        name = name.strip().lower()
        if not equals:
            problems.append(
                Problem(
                    f"'{word}' heeft geen naam: schrijf naam=waarde",
                    f"'{word}' has no name: write name=value",
                )
            )
        elif name not in known:
            names = ", ".join(known) or "(geen / none)"
            problems.append(
                Problem(
                    f"onbekend argument '{name}'; dit script kent: {names}",
                    f"unknown argument '{name}'; this script takes: {names}",
                )
            )
        elif name in given:
            problems.append(
                Problem(f"argument '{name}' staat er twee keer", f"argument '{name}' is given twice")
            )
        else:
            given[name] = value.strip()
    values: dict[str, object] = {}
    for arg in spec:
        if arg.name not in given or given[arg.name] == "":
            if arg.required:
                problems.append(
                    Problem(
                        f"argument '{arg.name}' ontbreekt, bijvoorbeeld {arg.name}={arg.example}",
                        f"argument '{arg.name}' is missing, for example {arg.name}={arg.example}",
                    )
                )
            values[arg.name] = arg.default
            continue
        try:
            values[arg.name] = arg.parse(given[arg.name])
        except BadValue as bad:
            problems.append(Problem(bad.nl, bad.en, where=f"{arg.name}={given[arg.name]}"))
    if problems:
        raise Refusal(
            "de argumenten kloppen niet; er is niets verstuurd",
            "the arguments are not right; nothing was sent",
            problems,
            usage,
        )
    return values


def address(text: str) -> str:
    """A checksummed address; refuses a typo that breaks the checksum and the zero address."""
    text = text.strip()
    if not re.fullmatch(r"0[xX][0-9a-fA-F]{40}", text):
        raise BadValue(
            f"'{text}' is geen adres (0x en 40 hexadecimale tekens)",
            f"'{text}' is not an address (0x and 40 hexadecimal digits)",
        )
    if is_checksum_formatted_address(text) and not is_checksum_address(text):
        raise BadValue(
            f"de hoofdletters van '{text}' kloppen niet (controlesom): een typfout?",
            f"the capitals of '{text}' do not match its checksum: a typo?",
        )
    if int(text, 16) == 0:
        raise BadValue("het nuladres kan dat niet zijn", "the zero address cannot be that")
    return to_checksum_address(text)


def address_list(text: str) -> list[str]:
    """Comma-separated addresses, each once."""
    found: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        checked = address(item)
        if checked in found:
            raise BadValue(f"{checked} staat er twee keer in", f"{checked} is listed twice")
        found.append(checked)
    if not found:
        raise BadValue("geen adressen", "no addresses")
    return found


def nonempty(text: str) -> str:
    if not text.strip():
        raise BadValue("mag niet leeg zijn", "must not be empty")
    return text.strip()


def yes_no(text: str) -> bool:
    word = text.strip().lower()
    if word in YES:
        return True
    if word in NO:
        return False
    raise BadValue(f"'{text}' is geen ja/nee", f"'{text}' is not yes/no")


def cents(text: str) -> int:
    """Euros as 50000, 50000.00 or 50000,00 -> cents; no thousands separators (50.000 is ambiguous)."""
    match = re.fullmatch(r"(\d+)(?:[.,](\d{1,2}))?", text.strip())
    if not match:
        raise BadValue(
            f"'{text}' is geen bedrag in euro's: schrijf 50000 of 50000,00 (zonder punten ertussen)",
            f"'{text}' is not an amount in euros: write 50000 or 50000.00 (no thousands separators)",
        )
    whole, fraction = match.groups()
    return int(whole) * CENTS_PER_EURO + int((fraction or "0").ljust(2, "0"))


def days(text: str) -> int:
    """A whole number of days -> seconds (30 -> 2592000)."""
    if not text.strip().isdigit():
        raise BadValue(
            f"'{text}' is geen aantal dagen: schrijf een geheel getal, zoals 30",
            f"'{text}' is not a number of days: write a whole number, such as 30",
        )
    return int(text.strip()) * 24 * 3600


def kind(text: str) -> Kind:
    try:
        return KINDS[text.strip().lower()]
    except KeyError:
        raise BadValue(
            f"soort '{text}' bestaat niet; kies bewoner, ondernemer, organisatie of gemeente",
            f"kind '{text}' does not exist; choose resident, merchant, organisation or municipality",
        ) from None


def area(text: str) -> str:
    """A CBS area code (NL, GM0202, WK020201, BU02020101), upper case."""
    try:
        to_bytes8(text)
    except InvalidAreaCode:
        raise BadValue(
            f"'{text}' is geen CBS-gebiedscode (NL, GM + 4 cijfers, WK + 6, BU + 8)",
            f"'{text}' is not a CBS area code (NL, GM + 4 digits, WK + 6, BU + 8)",
        ) from None
    return text.strip().upper()


def expiry(text: str) -> int:
    """The last day a coin can be used (2027-12-31: it expires at the midnight after it, Amsterdam
    time), or unix seconds; `geen`/`none`/`0` for a coin that never expires."""
    text = text.strip().lower()
    if text in {"geen", "none", "0"}:
        return 0
    if text.isdigit():
        return int(text)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadValue(
            f"'{text}' is geen datum (JJJJ-MM-DD), unix-tijd of 'geen'",
            f"'{text}' is not a date (YYYY-MM-DD), unix time or 'none'",
        ) from None
    midnight_after = datetime.combine(day + timedelta(days=1), datetime.min.time(), MUNICIPAL_TIME)
    return int(midnight_after.timestamp())


# --------------------------------------------------------------------------------------------------
# The operator's key
# --------------------------------------------------------------------------------------------------


def operator_account():
    """The signing account: an encrypted keystore, or a key in the environment; never from the repo.
    On a local development chain without either, brownie's accounts[0], with a note."""
    keystore, key = os.environ.get(KEYSTORE), os.environ.get(OPERATOR_KEY)
    if keystore and key:
        raise Refusal(
            f"zowel {KEYSTORE} als {OPERATOR_KEY} is gezet; zet er één, zodat duidelijk is wie tekent",
            f"both {KEYSTORE} and {OPERATOR_KEY} are set; set one, so that it is clear who signs",
        )
    if keystore:
        return accounts.add(_decrypt_keystore(Path(keystore)))
    if key:
        try:
            return accounts.add(key.strip())
        except (ValueError, TypeError):
            raise Refusal(
                f"{OPERATOR_KEY} is geen geldige private sleutel (0x en 64 hexadecimale tekens)",
                f"{OPERATOR_KEY} is not a valid private key (0x and 64 hexadecimal digits)",
            ) from None
    if rpc.is_active():
        account = accounts[0]
        say(
            f"Let op: ontwikkelnetwerk zonder {KEYSTORE} of {OPERATOR_KEY}: brownie's accounts[0] "
            f"({account.address}) tekent.",
            f"Note: a development network without {KEYSTORE} or {OPERATOR_KEY}: brownie's accounts[0] "
            f"({account.address}) signs.",
        )
        return account
    raise Refusal(
        f"geen sleutel: zet {KEYSTORE} (een versleuteld keystore-bestand, met {KEYSTORE_PASSWORD} "
        f"of een vraag om het wachtwoord) of {OPERATOR_KEY}",
        f"no key: set {KEYSTORE} (an encrypted keystore file, with {KEYSTORE_PASSWORD} or a "
        f"password prompt) or {OPERATOR_KEY}",
    )


def _decrypt_keystore(path: Path) -> bytes:
    try:
        keystore = json.loads(path.read_text())
    except OSError:
        raise Refusal(
            f"keystore {path} ({KEYSTORE}) is niet te lezen", f"keystore {path} ({KEYSTORE}) cannot be read"
        ) from None
    except ValueError:
        raise Refusal(
            f"{path} ({KEYSTORE}) is geen keystore-bestand (JSON)",
            f"{path} ({KEYSTORE}) is not a keystore file (JSON)",
        ) from None
    password = os.environ.get(KEYSTORE_PASSWORD)
    if password is None:
        password = getpass.getpass(f"Wachtwoord / password for {path}: ")
    try:
        return Account.decrypt(keystore, password)
    except ValueError:
        raise Refusal(
            f"het wachtwoord opent keystore {path} niet (controleer {KEYSTORE_PASSWORD})",
            f"the password does not open keystore {path} (check {KEYSTORE_PASSWORD})",
        ) from None
    except (KeyError, TypeError, AttributeError):
        raise Refusal(
            f"{path} is geen eth-account keystore", f"{path} is not an eth-account keystore"
        ) from None


# --------------------------------------------------------------------------------------------------
# The deployment and what the scripts read from the chain
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoinInfo:
    contract: object
    symbol: str
    expiry: int

    @property
    def address(self) -> str:
        return self.contract.address

    def label(self) -> str:
        return f"{self.symbol} ({self.address})"


def deployment_path() -> Path:
    """SOCIALCOIN_DEPLOYMENT, or the file scripts/deploy.py wrote for this network."""
    return Path(os.environ.get(DEPLOYMENT) or DEPLOYMENTS / f"{network.show_active()}.json")


class Admin:
    """A connected run: the deployment's contracts and the operator who signs."""

    def __init__(self, path: Path, deployment: dict):
        self.path, self.deployment = path, deployment
        contracts = deployment["contracts"]
        self.registry = ParticipantRegistry.at(contracts["ParticipantRegistry"])
        self.issuer = ActivityIssuer.at(contracts["ActivityIssuer"])
        self.factory = CoinFactory.at(contracts["CoinFactory"])
        self._coins: list[CoinInfo] | None = None
        self._purposes: dict[str, int] | None = None
        self._sender = None

    @classmethod
    def connect(cls) -> Admin:
        """Loads the deployment and checks that it is on the chain we are connected to."""
        path, net = deployment_path(), network.show_active()
        deploy, chain_id = f"brownie run scripts/deploy.py --network {net}", web3.eth.chain_id
        try:
            deployment = json.loads(path.read_text())
            addresses = deployment["contracts"]
            names = ("ParticipantRegistry", "ActivityIssuer", "CoinFactory")
            missing = [name for name in names if not web3.eth.get_code(addresses[name])]
        except OSError:
            raise Refusal(
                f"geen deployment {path} voor netwerk {net}: eerst {deploy}",
                f"no deployment {path} for network {net}: first {deploy}",
            ) from None
        except (ValueError, KeyError, TypeError):
            raise Refusal(
                f"{path} is geen deployment-bestand van scripts/deploy.py",
                f"{path} is not a deployment file written by scripts/deploy.py",
            ) from None
        if int(deployment.get("chain_id", -1)) != chain_id:
            raise Refusal(
                f"{path} hoort bij chain {deployment.get('chain_id')}, netwerk {net} is chain {chain_id}",
                f"{path} belongs to chain {deployment.get('chain_id')}, network {net} is chain {chain_id}",
            )
        if missing:
            raise Refusal(
                f"op netwerk {net} staat geen contract op het adres in {path} van {', '.join(missing)} "
                "(een nieuwe chain? deploy opnieuw)",
                f"network {net} has no contract at the address {path} gives for {', '.join(missing)} "
                "(a new chain? deploy again)",
            )
        return cls(path, deployment)

    @property
    def sender(self):
        """The operator's account, loaded (and the keystore's password asked) when first needed, so
        that wrong arguments are refused before anyone types a password."""
        if self._sender is None:
            self._sender = operator_account()
        return self._sender

    # -- roles ---------------------------------------------------------------------------------

    def contract(self, name: str):
        return {"registry": self.registry, "issuer": self.issuer, "factory": self.factory}[name]

    def role_name(self, contract, role_id) -> str:
        for name in ROLE_NAMES:
            if hasattr(contract, name) and getattr(contract, name)() == role_id:
                return name
        return str(role_id)

    def require_role(self, contract_name: str, role: str) -> None:
        """Refuses unless the sender holds `role` on the contract, saying who can give it."""
        contract = self.contract(contract_name)
        label, who = f"{CONTRACT_NAMES[contract_name]} ({contract.address})", self.sender.address
        if contract.hasRole(getattr(contract, role)(), who):
            return
        duty_nl, duty_en = OPERATOR_ROLES.get((contract_name, role), ("", ""))
        nl = f"{who} heeft rol {role} op {label} niet" + (f", nodig om {duty_nl}" if duty_nl else "")
        en = f"{who} lacks role {role} on {label}" + (f", needed to {duty_en}" if duty_en else "")
        admin = contract.defaultAdmin()
        if role == DEFAULT_ADMIN_ROLE:
            hint = Problem(
                f"alleen de beheerder van {CONTRACT_NAMES[contract_name]}, nu {admin}, kan dit; het beheer "
                f"gaat over in twee stappen met wachttijd ({HANDOVER})",
                f"only the admin of {CONTRACT_NAMES[contract_name]}, now {admin}, can do this; the admin "
                f"role passes in two steps with a delay ({HANDOVER})",
            )
        else:
            granter = self.role_name(contract, contract.getRoleAdmin(getattr(contract, role)()))
            holder = (
                f"de beheerder {admin}" if granter == DEFAULT_ADMIN_ROLE else f"een account met {granter}"
            )
            holder_en = (
                f"the admin {admin}" if granter == DEFAULT_ADMIN_ROLE else f"an account with {granter}"
            )
            command = (
                f"brownie run scripts/roles.py grant role={role} contract={contract_name} "
                f"account={who} --network {network.show_active()}"
            )
            hint = Problem(f"{holder} kan die rol geven: {command}", f"{holder_en} can grant it: {command}")
        raise Refusal(nl, en, [hint])

    # -- coins and purposes --------------------------------------------------------------------

    def coins(self) -> list[CoinInfo]:
        if self._coins is None:
            found = [SocialCoin.at(coin) for coin in self.registry.coins()]
            self._coins = [CoinInfo(coin, coin.symbol(), int(coin.expiry())) for coin in found]
        return self._coins

    def coin(self, text: str) -> CoinInfo:
        """A coin of this registry by symbol (case-insensitive) or address; raises BadValue."""
        text = text.strip()
        if text.lower().startswith("0x"):
            matches = [info for info in self.coins() if info.address == address(text)]
        else:
            matches = [info for info in self.coins() if info.symbol.lower() == text.lower()]
        if len(matches) == 1:
            return matches[0]
        known = ", ".join(info.label() for info in self.coins()) or "(geen / none)"
        if not matches:
            raise BadValue(
                f"die munt bestaat niet in deze registry; bekend: {known}",
                f"no such coin in this registry; known: {known}",
            )
        raise BadValue(
            f"meer munten hebben dat symbool; geef het adres: {known}",
            f"several coins have that symbol; give the address: {known}",
        )

    def purposes(self) -> dict[str, int]:
        """Purpose codes by name, as the registry knows them (municipalities may add more)."""
        if self._purposes is None:
            self._purposes = {}
            for purpose_id in range(self.registry.purposeCount()):
                code = bytes(self.registry.purpose(purpose_id)[0]).rstrip(b"\0").decode()
                self._purposes[code] = purpose_id
        return self._purposes

    def purpose_id(self, name: str) -> int:
        """One purpose by name; raises BadValue naming the known ones."""
        code = name.strip().upper()
        if code not in self.purposes():
            known = ", ".join(self.purposes())
            raise BadValue(
                f"doel '{name}' bestaat niet; bekend: {known}",
                f"purpose '{name}' does not exist; known: {known}",
            )
        return self.purposes()[code]

    def purpose_set(self, text: str) -> int:
        """Purposes joined by '+' (LOCAL_SPENDING+SPORT_CULTURE) -> their bit set; empty or 'geen' -> 0."""
        if text.strip().lower() in {"", "geen", "none", "-"}:
            return 0
        bits = 0
        for name in text.split("+"):
            bits |= 1 << self.purpose_id(name)
        return bits

    def purpose_names(self, bits: int) -> str:
        return "+".join(name for name, purpose_id in self.purposes().items() if bits >> purpose_id & 1) or "-"

    def chain_time(self) -> int:
        return int(web3.eth.get_block("latest").timestamp)

    # -- sending -------------------------------------------------------------------------------

    def send(self, nl: str, en: str, function, *args):
        """Sends one transaction from the operator and says what it did, with its hash."""
        try:
            tx = function(*args, {"from": self.sender})
        except VirtualMachineError as exc:
            raise Refusal(
                f"de chain weigerde de transactie ({nl}): {exc.revert_msg}",
                f"the chain refused the transaction ({en}): {exc.revert_msg}",
            ) from None
        say(
            f"Gedaan: {nl}. Transactie {tx.txid} (blok {tx.block_number})",
            f"Done: {en}. Transaction {tx.txid} (block {tx.block_number})",
        )
        return tx

    def save_coin(self, symbol: str, coin_address: str) -> None:
        """Adds a new coin to the deployment file, where the backend finds it by symbol."""
        coins = self.deployment.get("coins") or {}
        coins[symbol] = coin_address
        self.deployment["coins"] = coins
        self.path.write_text(json.dumps(self.deployment, indent=2) + "\n")
