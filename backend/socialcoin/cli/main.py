"""The `socialcoin` command for municipal staff: batches from spreadsheets, reports and chain
administration, all through the backend's HTTP API (so it works the same against production).

Exit codes: 0 ok, 1 refused or invalid input, 2 wrong use of the command, 3 backend or chain unreachable
(130 after Ctrl-C).
"""

from __future__ import annotations

import csv
import functools
import importlib
import io
import re
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from .batch import (
    DEBTS,
    MERCHANTS,
    ORGANISATIONS,
    RESIDENTS,
    REWARDS,
    BatchKind,
    BatchRun,
    CodesFile,
    Letter,
    Options,
    Outcome,
    reissue_code,
    residents_by_case_number,
)
from .client import DEFAULT_API, Api, ApiError, Unreachable
from .csvfile import CellInvalid, euro_cents
from .groups import DefaultGroup
from .output import (
    INTERRUPTED,
    OK,
    REFUSED,
    UNREACHABLE,
    dump_json,
    euro,
    pairs,
    plural,
    say,
    table,
)
from .research import research

OPERATION_FINAL = ("done", "failed")
OPERATION_POLL_SECONDS = 0.5
OPERATION_WAIT_SECONDS = 300.0
SHOWN_ROWS = 10  # rows a dry run shows

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


class Settings:
    """What every command gets from its common options."""

    def __init__(self, api_url: str, token: str | None, as_json: bool):
        self.api_url = api_url
        self.token = token
        self.as_json = as_json

    def api(self, need_token: bool = True) -> Api:
        if need_token and not self.token:
            raise click.UsageError(
                "Geen token: geef --token of zet SOCIALCOIN_TOKEN (een beheerderstoken van de gemeente). / "
                "No token: give --token or set SOCIALCOIN_TOKEN (a municipal admin token)."
            )
        return Api(self.api_url, self.token)


def common(function: Callable) -> Callable:
    """--api, --token and --json on every command, and one way to end: the exit codes above."""

    @click.option(
        "--api",
        "api_url",
        envvar="SOCIALCOIN_API_URL",
        default=DEFAULT_API,
        show_default=True,
        help="Adres van de backend / the backend's URL (SOCIALCOIN_API_URL).",
    )
    @click.option(
        "--token",
        envvar="SOCIALCOIN_TOKEN",
        help="Beheerderstoken / admin bearer token (SOCIALCOIN_TOKEN).",
    )
    @click.option("--json", "as_json", is_flag=True, help="Uitvoer als JSON / output as JSON.")
    @functools.wraps(function)
    def command(api_url: str, token: str | None, as_json: bool, **kwargs: Any) -> None:
        settings = Settings(api_url, token, as_json)
        try:
            code = function(settings, **kwargs)
        except Unreachable as exc:
            _fail(settings, "unreachable", exc.nl, exc.en)
            code = UNREACHABLE
        except ApiError as exc:
            _fail(settings, exc.code, exc.nl, exc.en, exc.status)
            code = REFUSED
        except KeyboardInterrupt:
            say(
                "\nOnderbroken. Voer hetzelfde commando opnieuw uit om af te maken: wat klaar is, wordt "
                "overgeslagen.",
                "Interrupted. Run the same command again to finish: what is done is skipped.",
            )
            code = INTERRUPTED
        sys.exit(code or OK)

    return command


def _fail(settings: Settings, code: str, nl: str, en: str, status: int | None = None) -> None:
    say(f"Fout: {nl}", f"Error: {en}")
    if settings.as_json:
        dump_json({"error": {"code": code, "status": status, "detail": nl, "detail_en": en}})


def helptext(nl: str, en: str, example: str) -> str:
    """Dutch first, English beside, and an example (kept as written)."""
    lines = "\n".join(f"  {line}" for line in example.strip().splitlines())
    return f"{nl}\n\n{en}\n\n\b\nVoorbeeld / example:\n{lines}"


@click.group(
    context_settings=CONTEXT,
    help=helptext(
        "Socialcoin voor medewerkers van de gemeente: bewoners toelaten, ondernemers en organisaties "
        "registreren en beloningen munten uit een spreadsheet (CSV), schulden inlezen, uitbetalingen "
        "exporteren, rapporten, en het beheer van de blockchain, alles via de API van de backend. Elk "
        "commando heeft --help. Afsluitcodes: 0 gelukt, 1 geweigerd of ongeldige invoer, 2 verkeerd gebruik, "
        "3 backend of blockchain onbereikbaar.",
        "Socialcoin for municipal staff: admit residents, register merchants and organisations and mint "
        "rewards from a spreadsheet (CSV), import debts, export payouts, reports, and chain administration, "
        "all through the backend's API. Every command has --help. Exit codes: 0 ok, 1 refused or invalid "
        "input, 2 wrong use, 3 backend or chain unreachable.",
        """
export SOCIALCOIN_API_URL=https://socialcoin.arnhem.example SOCIALCOIN_TOKEN=sc_...
socialcoin status
socialcoin admit bewoners.csv --dry-run
""",
    ),
)
@click.version_option(package_name="socialcoin", prog_name="socialcoin")
def cli() -> None:
    pass


# --------------------------------------------------------------------------------------------------
# Batches from CSV files


def batch_options(function: Callable) -> Callable:
    for decorator in reversed(
        [
            click.argument("file", type=click.Path(dir_okay=False, path_type=Path)),
            click.option(
                "--dry-run",
                is_flag=True,
                help="Alleen controleren en laten zien wat er zou gebeuren; er verandert niets. / "
                "Only check and show what would happen; nothing changes.",
            ),
            click.option(
                "--skip-invalid",
                is_flag=True,
                help="Foute regels overslaan en de goede toepassen; de foute gaan naar het "
                "afwijzingenbestand. / Skip invalid lines and apply the valid ones; the invalid ones go "
                "to the rejects file.",
            ),
            click.option(
                "--rejects",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Afwijzingenbestand / rejects file [default: FILE.rejects.csv].",
            ),
            click.option(
                "--chunk-size",
                type=click.IntRange(1, 10_000),
                default=500,
                show_default=True,
                help="Regels per verzoek / rows per request.",
            ),
        ]
    ):
        function = decorator(function)
    return function


def wait_option(function: Callable) -> Callable:
    return click.option(
        "--no-wait",
        is_flag=True,
        help="Niet wachten tot de blockchain klaar is. / Do not wait for the chain to finish.",
    )(function)


def run_batch(settings: Settings, kind: BatchKind, file: Path, options: Options) -> int:
    options.show_progress = not settings.as_json
    with settings.api() as api:
        run = BatchRun(api, kind, file, options)
        outcome = run.run()
    counts = outcome.counts()
    failed = run.failed_lines()
    if settings.as_json:
        dump_json(
            {
                "file": str(file),
                "command": kind.name,
                "dry_run": outcome.dry_run,
                "ok": outcome.ok,
                "counts": counts,
                "faults": [f.as_dict() for f in outcome.faults],
                "failed_lines": [line for line, _nl, _en in failed],
                "failures": [{"line": line, "reason": nl, "reason_en": en} for line, nl, en in failed],
                "rejects_file": str(outcome.rejects_file) if outcome.rejects_file else None,
                "codes_file": str(outcome.codes_file) if outcome.codes_file else None,
                "codes_written": outcome.codes_written,
                "codes_reissued": outcome.codes_reissued,
                "codes_issued_before": outcome.codes_issued_before,
                "seconds": outcome.seconds,
                "results": [_without_secrets(r) for r in outcome.results],
            }
        )
    else:
        for fault in outcome.faults:
            print(fault, file=sys.stderr)
        _summary(kind, outcome, counts, failed)
    return OK if outcome.ok else REFUSED


def _without_secrets(result: dict[str, Any]) -> dict[str, Any]:
    """A result as shown: activation codes only ever go to the codes file (mode 0600), not to a screen
    or a log."""
    return {key: value for key, value in result.items() if key != "activation_code"}


STATUS_LABELS = {
    "new": ("nieuw", "new"),
    "exists": ("bestond al", "exists"),
    "rejected": ("afgewezen", "rejected"),
    "failed": ("mislukt op de blockchain", "failed on chain"),
    "pending": ("wacht op de blockchain", "pending on chain"),
}


def _summary(
    kind: BatchKind, outcome: Outcome, counts: dict[str, int], failed: list[tuple[int, str, str]]
) -> None:
    labels = dict(STATUS_LABELS)
    if kind.lookup:
        labels[kind.lookup.done] = (kind.lookup.nl, kind.lookup.en)
    rows = [(" / ".join(labels.get(status, (status, status))), count) for status, count in counts.items()]
    lines = f"{plural(outcome.lines, 'regel', 'regels')} / {plural(outcome.lines, 'line', 'lines')}"
    if outcome.dry_run:
        print(f"{outcome.path}: proef, er is niets veranderd / dry run, nothing was changed ({lines})")
    else:
        print(f"{outcome.path}: {lines}")
    table(["status", "aantal / count"], rows)
    if outcome.dry_run and outcome.results:
        shown = [_without_secrets(r) for r in outcome.results[:SHOWN_ROWS]]
        keys = [k for k in shown[0] if k not in ("line", "status")]
        print(f"\nEerste regels / first lines ({len(shown)} van / of {len(outcome.results)}):")
        table(
            ["regel / line", "status", *keys],
            [[r.get("line"), r.get("status")] + [r.get(k) for k in keys] for r in shown],
        )
    for line, nl, en in failed[:50]:
        say(f"{outcome.path}:{line}: mislukt op de blockchain: {nl}", f"failed on chain: {en}")
    if failed and kind.retries_failed:
        say(
            "Stuur het bestand opnieuw zodra de oorzaak weg is: mislukte regels worden dan opnieuw "
            "geprobeerd, gelukte niet.",
            "send the file again once the cause is gone: failed lines are tried again, done ones are not",
        )
    if outcome.codes_file is not None:
        written = outcome.codes_written
        say(
            f"{plural(written, 'activeringscode', 'activeringscodes')} voor de brieven "
            f"{'staat' if written == 1 else 'staan'} in {outcome.codes_file} (alleen voor u leesbaar)",
            f"{plural(written, 'activation code', 'activation codes')} for the letters "
            f"{'is' if written == 1 else 'are'} in that file (only you can read it)",
        )
    if outcome.codes_reissued:
        lost = outcome.codes_reissued
        say(
            f"{plural(lost, 'activeringscode was', 'activeringscodes waren')} in een eerdere run uitgegeven "
            "maar nooit opgeschreven (onderbroken); opnieuw uitgegeven, de oude werken niet meer",
            f"{plural(lost, 'activation code was', 'activation codes were')} issued in an earlier run but "
            "never written down (interrupted); reissued, the old ones no longer work",
        )
    if outcome.codes_issued_before:
        before = outcome.codes_issued_before
        say(
            f"{plural(before, 'bewoner kreeg', 'bewoners kregen')} eerder al een activeringscode; die wordt "
            "niet opnieuw getoond (zie het codesbestand van toen). Een nieuwe code, die de oude vervangt: "
            "socialcoin activation-code reissue DOSSIERNUMMER",
            f"{plural(before, 'resident was', 'residents were')} issued an activation code before; it is not "
            "shown again (see the codes file of then). A new code, which replaces the old one: socialcoin "
            "activation-code reissue CASE_NUMBER",
        )
    if outcome.rejects_file is not None:
        say(
            f"Afgewezen regels met de reden staan in {outcome.rejects_file}",
            "rejected lines with their reason are in that file",
        )
    if outcome.stopped:
        applied = outcome.applied_rows
        say(
            "Gestopt: de backend weigerde regels tijdens het toepassen. Al toegepast, en dat blijft zo: "
            f"{plural(applied, 'regel', 'regels')}. Verbeter de regels en voer het commando opnieuw uit: wat "
            "klaar is, wordt overgeslagen.",
            "Stopped: the backend refused lines while applying. Applied already, and that stays: "
            f"{plural(applied, 'line', 'lines')}. Correct the lines and run the command again: what is done "
            "is skipped.",
        )
    elif outcome.faults and not outcome.rejects_file:
        invalid = len(outcome.rejected_lines) or 1
        nl = plural(invalid, "regel klopt", "regels kloppen")
        en = plural(invalid, "line is", "lines are")
        if outcome.dry_run:
            say(
                f"{nl} niet; zo zou er niets worden toegepast.",
                f"{en} invalid; as it is, nothing would be applied.",
            )
        else:
            say(f"{nl} niet; er is niets toegepast.", f"{en} invalid; nothing was applied.")
    if counts.get("pending"):
        say(
            "Nog niet alles staat op de blockchain; kijk later met hetzelfde commando (het slaat over wat "
            "klaar is).",
            "Not everything is on chain yet; look later with the same command (it skips what is done).",
        )


@cli.command(
    context_settings=CONTEXT,
    short_help="Bewoners toelaten uit CSV / admit residents from CSV.",
    help=helptext(
        "Bewoners toelaten uit een CSV-bestand met de kolommen dossiernummer, naam en buurt, en eventueel "
        "email, telefoon en wallet. In buurt staat de CBS-code van de buurt, zoals BU02020101 (de oude "
        "kolomnaam wijk werkt ook). Een bewoner zonder wallet krijgt een bewaarde wallet; de "
        "activeringscodes voor de brieven komen in een bestand dat alleen u kunt lezen. De backend toont een "
        "code één keer: het bestand is het enige exemplaar en wordt bij een nieuwe run aangevuld, nooit "
        "gewist. Eerst wordt het hele bestand gecontroleerd; bij een fout wordt niets toegepast. Opnieuw "
        "uitvoeren na een onderbreking is veilig: wat klaar is, wordt overgeslagen, en een code die nooit in "
        "het bestand kwam, wordt opnieuw uitgegeven.",
        "Admit residents from a CSV file with the columns case_number, name and buurt (or area), and "
        "optionally email, phone and wallet_address. buurt holds the CBS code of the neighbourhood, such as "
        "BU02020101 (the old column name wijk works too). A resident without a wallet gets a custodial one; "
        "the activation codes for the letters go to a file only you can read. The backend shows a code once: "
        "the file is the only copy, and a new run adds to it, never wipes it. The whole file is checked "
        "first; on any fault nothing is applied. Running it again after an interruption is safe: what is "
        "done is skipped, and a code that never reached the file is reissued.",
        """
dossiernummer;naam;buurt;email
2026-0042;Eva de Vries;BU02020101;eva@example.nl

socialcoin admit bewoners.csv --dry-run
socialcoin admit bewoners.csv --codes brieven/codes.csv
""",
    ),
)
@batch_options
@click.option(
    "--codes",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Bestand voor de activeringscodes / activation codes file "
    "[default: FILE.activation-codes.csv, mode 0600].",
)
@wait_option
@common
def admit(settings: Settings, file: Path, codes: Path | None, no_wait: bool, **batch: Any) -> int:
    return run_batch(
        settings, RESIDENTS, file, Options(codes=codes, wait=not no_wait, **_batch_options(batch))
    )


@cli.group(
    "activation-code",
    context_settings=CONTEXT,
    short_help="Activeringscodes / activation codes.",
    help=helptext(
        "Activeringscodes van bewoners die nog een pincode moeten kiezen: een nieuwe uitgeven (de oude "
        "vervalt) en zien wie wanneer een code uitgaf. De codes zelf toont de backend één keer.",
        "Activation codes of residents who have yet to choose a PIN: issue a new one (the old one stops "
        "working) and see who issued a code when. The backend shows the codes themselves once.",
        """
socialcoin activation-code reissue 2026-0042 --codes brieven/nieuw.csv
socialcoin activation-code history 2026-0042
""",
    ),
)
def activation_code() -> None:
    pass


@activation_code.command(
    "reissue",
    context_settings=CONTEXT,
    short_help="Nieuwe activeringscode / reissue activation codes.",
    help=helptext(
        "Een nieuwe activeringscode voor elke genoemde bewoner (een verloren brief, of een code die nooit is "
        "opgeschreven). De oude code werkt vanaf nu niet meer; de uitgifte staat op naam van uw token. De "
        "nieuwe codes komen in een bestand dat alleen u kunt lezen (aangevuld, nooit gewist), niet op het "
        "scherm. Eerst worden alle dossiernummers gecontroleerd.",
        "A new activation code for each resident named (a lost letter, or a code never written down). The "
        "old code stops working from now; the issue is on record with your token. The new codes go to a "
        "file only you can read (added to, never wiped), not to the screen. Every case number is checked "
        "first.",
        "socialcoin activation-code reissue 2026-0042 2026-0043 --codes brieven/nieuw.csv",
    ),
)
@click.argument("case_numbers", nargs=-1, required=True, metavar="DOSSIERNUMMER...")
@click.option(
    "--codes",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("activation-codes.csv"),
    show_default=True,
    help="Bestand voor de nieuwe codes / file for the new codes (mode 0600).",
)
@common
def activation_code_reissue(settings: Settings, case_numbers: tuple[str, ...], codes: Path) -> int:
    letters = CodesFile(codes, ";")
    with settings.api() as api:
        ids = residents_by_case_number(api, case_numbers)
        for case_number, resident_id in ids.items():
            resident = api.get(f"/municipality/residents/{resident_id}")
            issued = reissue_code(api, resident_id)
            if issued is None:
                say(
                    f"Dossier {case_number} heeft al een pincode gekozen: er is geen nieuwe code uitgegeven.",
                    f"Case {case_number} has chosen a PIN already: no new code was issued.",
                )
                return REFUSED
            letter = Letter(
                case_number,
                resident["name"],
                resident["area"],
                resident["wallet_address"],
                issued["activation_code"],
                issued["activation_code_id"],
            )
            letters.add(api, [letter])
    written = letters.count
    say(
        f"{plural(written, 'nieuwe activeringscode staat', 'nieuwe activeringscodes staan')} in {codes} "
        "(alleen voor u leesbaar); de oude werken niet meer",
        f"{plural(written, 'new activation code is', 'new activation codes are')} in that file (only you "
        "can read it); the old one stops working",
    )
    if settings.as_json:
        dump_json({"codes_file": str(codes), "codes_written": letters.count})
    return OK


@activation_code.command(
    "history",
    context_settings=CONTEXT,
    short_help="Wie gaf wanneer een code uit / who issued a code when.",
    help=helptext(
        "Elke activeringscode die voor de bewoner is uitgegeven: wanneer, waarom (aanmelding of opnieuw), "
        "door welk token, of hij is opgeschreven, vervangen of gebruikt. Nooit de codes zelf.",
        "Every activation code issued for the resident: when, why (admission or reissue), by which token, "
        "whether it was written down, replaced or used. Never the codes themselves.",
        "socialcoin activation-code history 2026-0042",
    ),
)
@click.argument("case_number", metavar="DOSSIERNUMMER")
@common
def activation_code_history(settings: Settings, case_number: str) -> int:
    with settings.api() as api:
        resident_id = residents_by_case_number(api, [case_number])[case_number]
        issues = api.get(f"/municipality/residents/{resident_id}/activation-codes")
    if settings.as_json:
        dump_json({"case_number": case_number, "resident_id": resident_id, "activation_codes": issues})
        return OK

    def by(issue: dict[str, Any]) -> str:
        token = issue["issued_by"]
        return "-" if token is None else f"{token['label']} (token {token['token_id']}, {token['role']})"

    table(
        ["uitgegeven / issued", "reden / reason", "door / by", "opgeschreven / written", "status"],
        [
            [issue["issued_at"], issue["reason"], by(issue), issue["acknowledged_at"] or "-", issue["status"]]
            for issue in issues
        ],
    )
    return OK


@cli.command(
    context_settings=CONTEXT,
    short_help="Beloningen munten uit CSV / mint rewards from CSV.",
    help=helptext(
        "Beloningen munten uit een CSV-bestand (kolommen dossiernummer, activiteit, eenheden, "
        "claimkenmerk). Het bedrag is eenheden maal de waarde per eenheid van de activiteit. Elk "
        "claimkenmerk wordt hoogstens één keer gemunt, ook als u het bestand twee keer uitvoert.",
        "Mint rewards from a CSV file (columns case_number, activity_id, units, claim_reference). The "
        "amount is units times the activity's value per unit. Each claim reference is minted at most "
        "once, also when you run the file twice.",
        """
dossiernummer;activiteit;eenheden;claimkenmerk
2026-0042;4;3;2026-03/moestuin/0042

socialcoin mint maart.csv --dry-run
socialcoin mint maart.csv --skip-invalid --rejects maart-fout.csv
""",
    ),
)
@batch_options
@wait_option
@common
def mint(settings: Settings, file: Path, no_wait: bool, **batch: Any) -> int:
    return run_batch(settings, REWARDS, file, Options(wait=not no_wait, **_batch_options(batch)))


@cli.group(
    context_settings=CONTEXT,
    short_help="Ondernemers / merchants.",
    help=helptext(
        "Ondernemers: registreren uit een spreadsheet. Zie socialcoin merchants import --help.",
        "Merchants: register them from a spreadsheet. See socialcoin merchants import --help.",
        "socialcoin merchants import ondernemers.csv --dry-run",
    ),
)
def merchants() -> None:
    pass


@merchants.command(
    "import",
    context_settings=CONTEXT,
    short_help="Ondernemers registreren uit CSV / register merchants from CSV.",
    help=helptext(
        "Ondernemers registreren uit een CSV-bestand met de kolommen naam, iban, gebied (CBS-code, zoals "
        "WK020201), doelen en wallet, en eventueel bic. In doelen staan de doelen van de munten die de "
        "ondernemer aanneemt, gescheiden door ; of + (zoals LOCAL_SPENDING;SPORT_CULTURE). Een nieuwe "
        "ondernemer heeft een eigen wallet nodig: ondernemers kunnen geen pincode kiezen met een "
        "activeringscode, dus een wallet die de gemeente bewaart, maakt u per ondernemer via de API. Een "
        "ondernemer die er al is, wordt gevonden op walletadres, of zonder wallet op naam en IBAN. Eerst "
        "wordt het hele bestand gecontroleerd (ook de IBANs); bij een fout wordt niets toegepast. Opnieuw "
        "uitvoeren na een onderbreking is veilig: wat klaar is, wordt overgeslagen.",
        "Register merchants from a CSV file with the columns name, iban, area (a CBS code such as WK020201), "
        "purposes and wallet_address, and optionally bic. purposes holds the purposes of the coins the "
        "merchant accepts, separated by ; or + (such as LOCAL_SPENDING;SPORT_CULTURE). A new merchant needs "
        "its own wallet: merchants cannot choose a PIN with an activation code, so a wallet the municipality "
        "keeps is made one merchant at a time through the API. A merchant registered already is found by "
        "its wallet address, or without one by name and IBAN. The whole file is checked first (the IBANs "
        "too); on any fault nothing is applied. Running it again after an interruption is safe: what is done "
        "is skipped.",
        """
naam;iban;bic;gebied;doelen;wallet
Bakker Jansen;NL91ABNA0417164300;ABNANL2A;WK020201;LOCAL_SPENDING;0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65

socialcoin merchants import ondernemers.csv --dry-run
socialcoin merchants import ondernemers.csv
""",
    ),
)
@batch_options
@wait_option
@common
def merchants_import(settings: Settings, file: Path, no_wait: bool, **batch: Any) -> int:
    return run_batch(settings, MERCHANTS, file, Options(wait=not no_wait, **_batch_options(batch)))


@cli.group(
    context_settings=CONTEXT,
    short_help="Organisaties / organisations.",
    help=helptext(
        "Organisaties: registreren uit een spreadsheet. Zie socialcoin organisations import --help. Hun "
        "verifier-sleutels: socialcoin verifier add.",
        "Organisations: register them from a spreadsheet. See socialcoin organisations import --help. Their "
        "verifier keys: socialcoin verifier add.",
        "socialcoin organisations import organisaties.csv --dry-run",
    ),
)
def organisations() -> None:
    pass


@organisations.command(
    "import",
    context_settings=CONTEXT,
    short_help="Organisaties registreren uit CSV / register organisations from CSV.",
    help=helptext(
        "Organisaties registreren uit een CSV-bestand met de kolommen naam, gebied (CBS-code, zoals "
        "WK020201) en wallet (het eigen walletadres van de organisatie). Een organisatie die er al is, wordt "
        "gevonden op naam (hoofdletters maken niet uit). Eerst wordt het hele bestand gecontroleerd; bij een "
        "fout wordt niets toegepast. Opnieuw uitvoeren na een onderbreking is veilig: wat klaar is, wordt "
        "overgeslagen. Verifier-sleutels geeft u daarna per organisatie met socialcoin verifier add.",
        "Register organisations from a CSV file with the columns name, area (a CBS code such as WK020201) "
        "and wallet_address (the organisation's own wallet). An organisation registered already is found by "
        "its name (whatever its case). The whole file is checked first; on any fault nothing is applied. "
        "Running it again after an interruption is safe: what is done is skipped. Then authorise verifier "
        "keys per organisation with socialcoin verifier add.",
        """
naam;gebied;wallet
Buurtcentrum Geitenkamp;WK020201;0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc

socialcoin organisations import organisaties.csv --dry-run
socialcoin organisations import organisaties.csv --skip-invalid
""",
    ),
)
@batch_options
@wait_option
@common
def organisations_import(settings: Settings, file: Path, no_wait: bool, **batch: Any) -> int:
    return run_batch(settings, ORGANISATIONS, file, Options(wait=not no_wait, **_batch_options(batch)))


def _batch_options(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "dry_run": values["dry_run"],
        "skip_invalid": values["skip_invalid"],
        "rejects": values["rejects"],
        "chunk_rows": values["chunk_size"],
    }


@cli.group(
    context_settings=CONTEXT,
    short_help="Schulden van bewoners / residents' debts.",
    help=helptext(
        "Schulden van bewoners: inlezen uit een spreadsheet, en het overzicht van de aflossingen voor een "
        "schuldeiser. Zie socialcoin debts import --help en socialcoin debts report --help.",
        "Residents' debts: import them from a spreadsheet, and the report of settlements for a creditor. "
        "See socialcoin debts import --help and socialcoin debts report --help.",
        "socialcoin debts import schulden.csv\nsocialcoin debts report --creditor CJIB -o cjib.csv",
    ),
)
def debts() -> None:
    pass


@debts.command(
    "import",
    context_settings=CONTEXT,
    short_help="Schulden inlezen uit CSV / import debts from CSV.",
    help=helptext(
        "Schulden inlezen uit een CSV-bestand (kolommen dossiernummer, schuldeiser, kenmerk, bedrag in "
        "euro zoals Excel het schrijft: 1.234,56 of 12,50). Een schuld die er al is (zelfde schuldeiser "
        "en kenmerk, zelfde gegevens) wordt overgeslagen.",
        "Import debts from a CSV file (columns case_number, creditor, creditor_reference, amount in euro "
        "as Excel writes it: 1.234,56 or 12.50). A debt already recorded (same creditor and reference, "
        "same data) is skipped.",
        """
dossiernummer;schuldeiser;kenmerk;bedrag
2026-0042;CJIB;CJIB-2026-000123;1.234,56

socialcoin debts import schulden.csv
""",
    ),
)
@batch_options
@common
def debts_import(settings: Settings, file: Path, **batch: Any) -> int:
    return run_batch(settings, DEBTS, file, Options(wait=False, **_batch_options(batch)))


REPORT_LANGUAGES = ("nl", "en")
REPORT_SEPARATOR = {"nl": ";", "en": ","}
REPORT_CENTS_COLUMN = {"nl": "bedrag_centen", "en": "amount_cents"}


@debts.command(
    "report",
    context_settings=CONTEXT,
    short_help="Aflossingen voor een schuldeiser (CSV) / settlements for a creditor (CSV).",
    help=helptext(
        "Haal het overzicht op van wat bewoners bij een schuldeiser (--creditor) hebben afgelost: één regel "
        "per bevestigde aflossing, met het kenmerk van de schuldeiser, het bedrag, wat er daarna nog open "
        "stond en de transactie op de blockchain. Het bestand is zoals Nederlandse Excel het opent: "
        "Nederlandse kolomnamen, puntkomma's, decimale komma's, UTF-8 met BOM. Met --lang en: Engelse "
        "kolomnamen, komma's en decimale punten. --since en --until zijn dagen (Nederlandse tijd), allebei "
        "inbegrepen.",
        "Fetch the report of what residents paid off at a creditor (--creditor): one line per confirmed "
        "settlement, with the creditor's reference, the amount, what was still open after it and the chain "
        "transaction. The file is as Dutch Excel opens it: Dutch column names, semicolons, decimal commas, "
        "UTF-8 with BOM. With --lang en: English column names, commas and decimal points. --since and "
        "--until are days (Dutch time), both included.",
        """
socialcoin debts report --creditor CJIB --since 2026-03-01 --until 2026-03-31 -o cjib-maart.csv
socialcoin debts report --creditor CJIB --lang en -o cjib-march.csv
""",
    ),
)
@click.option("--creditor", required=True, help="Schuldeiser / creditor (e.g. CJIB).")
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Vanaf deze dag / from this day [default: the first settlement].",
)
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Tot en met deze dag / up to and including this day [default: the last settlement].",
)
@click.option(
    "--lang",
    type=click.Choice(REPORT_LANGUAGES),
    default="nl",
    show_default=True,
    help="Taal en vorm van het bestand / language and form of the file.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Waar het bestand heen gaat ('-': standaarduitvoer) / where the file goes ('-': stdout) "
    "[default: afgeloste-schulden-<CREDITOR>.csv].",
)
@common
def debts_report(
    settings: Settings,
    creditor: str,
    since: datetime | None,
    until: datetime | None,
    lang: str,
    output: Path | None,
) -> int:
    if since and until and until < since:
        raise click.BadParameter(
            "de laatste dag ligt voor de eerste (--since) / the last day is before the first (--since)",
            param_hint="--until",
        )
    # The backend reads a moment without a time zone as Dutch time; its --until is exclusive.
    params = {
        "creditor": creditor,
        "since": since.date().isoformat() + "T00:00:00" if since else None,
        "until": (until.date() + timedelta(days=1)).isoformat() + "T00:00:00" if until else None,
        "lang": lang,
    }
    with settings.api() as api:
        content = api.get_bytes("/municipality/debt-reports/settlements.csv", **params)
    target = output or Path(f"afgeloste-schulden-{re.sub(r'[^A-Za-z0-9._-]+', '-', creditor).strip('-')}.csv")
    if str(target) == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return OK
    target.write_bytes(content)
    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=REPORT_SEPARATOR[lang])
    rows = list(reader)
    cents = REPORT_CENTS_COLUMN[lang]
    # No total from a backend that writes the report in another form (one from before --lang).
    total = sum(int(row[cents]) for row in rows) if cents in (reader.fieldnames or []) else None
    period = f"{since.date() if since else '…'} – {until.date() if until else '…'}"
    if settings.as_json:
        dump_json(
            {
                "file": str(target),
                "creditor": creditor,
                "since": since.date().isoformat() if since else None,
                "until": until.date().isoformat() if until else None,
                "lang": lang,
                "settlements": len(rows),
                "total_cents": total,
            }
        )
    else:
        pairs(
            [
                ("schuldeiser / creditor", creditor),
                ("periode / period", period),
                ("betalingen / settlements", len(rows)),
                ("totaal / total", euro(total)),
                ("bestand / file", str(target)),
            ]
        )
    return OK


# --------------------------------------------------------------------------------------------------
# Payouts, report, status


@cli.group(
    context_settings=CONTEXT,
    short_help="Uitbetalingen aan ondernemers / merchant payouts.",
    help=helptext(
        "Uitbetalingen aan ondernemers: het SEPA-bestand voor de bank. Zie socialcoin payouts export --help.",
        "Merchant payouts: the SEPA file for the bank. See socialcoin payouts export --help.",
        'socialcoin payouts export --debtor-name "Gemeente Arnhem" --debtor-iban NL91ABNA0417164300',
    ),
)
def payouts() -> None:
    pass


@payouts.command(
    "export",
    context_settings=CONTEXT,
    short_help="SEPA-bestand voor de bank / SEPA file for the bank.",
    help=helptext(
        "Zet alle wachtende uitbetalingen aan ondernemers in één SEPA-bestand (pain.001.001.03) voor de "
        "bank, en sla het op. Met --batch haalt u een eerder bestand opnieuw op.",
        "Put every waiting merchant payout into one SEPA credit-transfer file (pain.001.001.03) for the "
        "bank, and save it. With --batch, fetch an earlier file again.",
        """
socialcoin payouts export --debtor-name "Gemeente Arnhem" --debtor-iban NL91ABNA0417164300 -o maart.xml
socialcoin payouts export --batch 3 -o -
""",
    ),
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Waar het bestand heen gaat ('-': standaarduitvoer) / where the file goes ('-': stdout) "
    "[default: socialcoin-<MsgId>.xml].",
)
@click.option(
    "--batch", "batch_id", type=click.IntRange(min=1), help="Een bestaand bestand / an existing batch."
)
@click.option(
    "--debtor-name",
    envvar="SOCIALCOIN_DEBTOR_NAME",
    help="Rekeninghouder / account holder (SOCIALCOIN_DEBTOR_NAME).",
)
@click.option(
    "--debtor-iban", envvar="SOCIALCOIN_DEBTOR_IBAN", help="IBAN van de gemeente / the municipality's IBAN."
)
@click.option("--debtor-bic", envvar="SOCIALCOIN_DEBTOR_BIC", help="BIC (optional).")
@click.option(
    "--execution-date",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Uitvoerdatum / execution date (YYYY-MM-DD) [default: today].",
)
@common
def payouts_export(
    settings: Settings,
    output: Path | None,
    batch_id: int | None,
    debtor_name: str | None,
    debtor_iban: str | None,
    debtor_bic: str | None,
    execution_date: datetime | None,
) -> int:
    with settings.api() as api:
        if batch_id is None:
            if not debtor_name or not debtor_iban:
                raise click.UsageError(
                    "Geef --debtor-name en --debtor-iban (of --batch). / "
                    "Give --debtor-name and --debtor-iban (or --batch)."
                )
            body = {"debtor_name": debtor_name, "debtor_iban": debtor_iban, "debtor_bic": debtor_bic}
            if execution_date:
                body["execution_date"] = execution_date.date().isoformat()
            batch = api.post("/municipality/payout-batches", body)
        else:
            batch = api.get(f"/municipality/payout-batches/{batch_id}")
        xml = api.get_bytes(f"/municipality/payout-batches/{batch['id']}/pain.001.xml")
    target = output or Path(f"socialcoin-{batch['message_id']}.xml")
    if str(target) == "-":
        sys.stdout.buffer.write(xml)
        sys.stdout.flush()
    else:
        target.write_bytes(xml)
    if settings.as_json and str(target) != "-":
        dump_json({**batch, "file": str(target)})
    elif str(target) != "-":
        pairs(
            [
                ("batch", batch["id"]),
                ("MsgId", batch["message_id"]),
                ("uitbetalingen / payouts", batch["payout_count"]),
                ("totaal / total", euro(batch["total_cents"])),
                ("bestand / file", str(target)),
            ]
        )
    return OK


@cli.group(
    cls=DefaultGroup,
    default="budgets",
    context_settings=CONTEXT,
    short_help="Rapporten: budgetten, effectmeting / reports: budgets, effect.",
    help=helptext(
        "Rapporten. Zonder meer: de budgetten (socialcoin report budgets); de effectmeting voor de raad: "
        "socialcoin report effect --help.",
        "Reports. On its own: the budgets (socialcoin report budgets); the council's effect report: "
        "socialcoin report effect --help.",
        "socialcoin report\nsocialcoin report effect --month 2026-11 --format pdf --out effect.pdf",
    ),
)
def report() -> None:
    pass


@report.command(
    "budgets",
    context_settings=CONTEXT,
    short_help="Budgetten en munten / budgets and coins.",
    help=helptext(
        "Budget, gemunt, verbrand en uitstaand per programma en per munt, en wat de minter van de "
        "backend nog mag munten. Gemunt en verbrand komen van de geïndexeerde blockchain.",
        "Budget, minted, burned and outstanding per programme and per coin, and what the backend's "
        "minter may still mint. Minted and burned come from the indexed chain.",
        "socialcoin report budgets\nsocialcoin report --json | jq .coins",
    ),
)
@common
def report_budgets(settings: Settings) -> int:
    with settings.api() as api:
        budgets = api.get("/municipality/budgets")
    if settings.as_json:
        dump_json(budgets)
        return OK
    print("Programma's / programmes")
    table(
        [
            "id",
            "naam / name",
            "munt / coin",
            "budget",
            "gereserveerd / reserved",
            "gemunt / minted",
            "beschikbaar / available",
        ],
        [
            [
                p["programme_id"],
                p["name"],
                p["symbol"],
                euro(p["budgeted_cents"]),
                euro(p["reserved_cents"]),
                euro(p["minted_cents"]),
                euro(p["available_cents"]),
            ]
            for p in budgets["programmes"]
        ],
    )
    print("\nMunten / coins")
    table(
        [
            "munt / coin",
            "adres / address",
            "budget",
            "gemunt / minted",
            "verbrand / burned",
            "uitstaand / outstanding",
        ],
        [
            [
                c["symbol"],
                c["coin"],
                euro(c["budgeted_cents"]),
                euro(c["minted_cents"]),
                euro(c["burned_cents"]),
                euro(c["outstanding_cents"]),
            ]
            for c in budgets["coins"]
        ],
    )
    print(f"\nRuimte van de minter / minter allowance: {euro(budgets['minter_allowance_cents'])}")
    return OK


@cli.command(
    context_settings=CONTEXT,
    short_help="Backend, blockchain en indexer / backend, chain and indexer.",
    help=helptext(
        "Of de backend en de blockchain antwoorden: laatste blok, wat de indexer gelezen heeft, hoeveel "
        "blokken hij achterloopt, hoeveel schrijfacties naar de blockchain nog wachten en of er "
        "transacties vastzitten. Geen token nodig. Afsluitcode 3 als de blockchain niet antwoordt.",
        "Whether the backend and the chain answer: the chain head, what the indexer has read, how many "
        "blocks it lags, how many writes to the chain still wait and whether transactions are stuck. Needs "
        "no token. Exit code 3 when the chain does not answer.",
        "socialcoin status --api http://127.0.0.1:8000",
    ),
)
@common
def status(settings: Settings) -> int:
    started = time.perf_counter()
    with settings.api(need_token=False) as api:
        answer = api.get("/public/status")
    answer = {
        "api": settings.api_url,
        "answer_ms": round((time.perf_counter() - started) * 1000, 1),
        **answer,
    }
    if settings.as_json:
        dump_json(answer)
        return OK
    available = answer.get("chain_available", True)
    pairs(
        [
            ("backend", f"{settings.api_url} (antwoordt / answers, {answer['answer_ms']} ms)"),
            (
                "blockchain",
                "bereikbaar / reachable" if available else "ONBEREIKBAAR / UNREACHABLE",
            ),
            ("blockchain: laatste blok / chain head", answer.get("chain_head")),
            ("indexer: gelezen tot / indexed block", answer.get("indexed_block")),
            ("indexer: achterstand / lag (blocks)", answer.get("indexer_lag_blocks")),
            ("wachtende schrijfacties / pending writes", answer.get("pending_writes")),
            ("vastgelopen transacties / stuck transactions", answer.get("stuck_transactions", 0)),
        ]
    )
    if answer.get("stuck_transactions"):
        say(
            "Er zitten transacties vast; bekijk ze met 'socialcoin outbox stuck' en probeer ze opnieuw "
            "('socialcoin outbox retry ID') of annuleer ze ('socialcoin outbox cancel ID').",
            "transactions are stuck: see 'socialcoin outbox stuck', then retry or cancel them",
        )
    if not available:
        say(
            "De blockchain antwoordt niet: betalingen en andere schrijfacties worden geweigerd tot hij weer "
            "antwoordt; de rest werkt door.",
            "the chain does not answer: payments and other writes are refused until it does; the rest works",
        )
        return UNREACHABLE
    return OK


# --------------------------------------------------------------------------------------------------
# Chain administration (the backend signs with its operator key)


def operation(settings: Settings, method: str, path: str, body: Any, wait: bool) -> int:
    """Sends an operator request (once: under an idempotency key of its own) and, unless told not to,
    waits until its chain write is done or failed."""
    with settings.api() as api:
        item = api.request(method, path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
        started = time.monotonic()
        while wait and item.get("status") not in OPERATION_FINAL:
            if time.monotonic() - started > OPERATION_WAIT_SECONDS:
                raise Unreachable(
                    f"De blockchain heeft de opdracht na {OPERATION_WAIT_SECONDS:.0f} s nog niet verwerkt "
                    f"(operatie {item['id']}, status {item.get('status')}).",
                    f"The chain has not processed the request after {OPERATION_WAIT_SECONDS:.0f} s "
                    f"(operation {item['id']}, status {item.get('status')}).",
                )
            time.sleep(OPERATION_POLL_SECONDS)
            item = api.get(f"/municipality/chain/operations/{item['id']}")
    if settings.as_json:
        dump_json(item)
    else:
        result = item.get("result") or {}
        pairs(
            [
                ("operatie / operation", item.get("id")),
                ("soort / kind", item.get("kind")),
                ("status", item.get("status")),
                ("transactie / transaction", item.get("tx_hash") or "-"),
            ]
            + [(str(key), value) for key, value in result.items()]
        )
    if item.get("status") == "failed":
        say(
            f"Mislukt op de blockchain: {item.get('error_message') or item.get('error_code')}",
            f"failed on chain: {item.get('error_message_en') or item.get('error_code')}",
        )
        return REFUSED
    if item.get("status") != "done":
        say(
            f"De opdracht staat klaar (status {item.get('status')}); volg hem met GET "
            f"/municipality/chain/operations/{item.get('id')}.",
            "the request is queued; follow it with that endpoint.",
        )
    return OK


def no_wait_option(function: Callable) -> Callable:
    return click.option(
        "--no-wait",
        is_flag=True,
        help="Niet wachten tot de transactie bevestigd is. / "
        "Do not wait for the transaction to be confirmed.",
    )(function)


def reason_option(function: Callable) -> Callable:
    return click.option(
        "--reason",
        required=True,
        help="Waarom (voor het dossier) / why (for the record).",
    )(function)


@cli.group(
    context_settings=CONTEXT,
    short_help="Munten / coins.",
    help=helptext(
        "Munten: een nieuwe maken. Zie socialcoin coin create --help.",
        "Coins: create a new one. See socialcoin coin create --help.",
        'socialcoin coin create --name "Socialcoin Arnhem - Vervoer" --symbol AVV --purpose MOBILITY '
        "--area GM0202",
    ),
)
def coin() -> None:
    pass


def _expiry(value: str | None) -> int | None:
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            "geef een datum (JJJJ-MM-DD) of unix-tijd / give a date (YYYY-MM-DD) or unix time"
        ) from None
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


@coin.command(
    "create",
    context_settings=CONTEXT,
    short_help="Een nieuwe munt / a new coin.",
    help=helptext(
        "Een nieuwe munt maken voor een doel en een gebied (CBS-code van gemeente of wijk). Doel, "
        "gebied, vervaldatum, of bewoners elkaar mogen betalen, hoe lang ondernemers na de vervaldatum "
        "nog mogen inwisselen en hoeveel een bewoner hoogstens mag hebben liggen daarna voorgoed vast.",
        "Create a new coin for a purpose and an area (CBS code of a gemeente or wijk). Purpose, area, "
        "expiry, whether residents may pay each other, how long merchants may still redeem it after "
        "expiry and the most a resident may hold are fixed for good afterwards.",
        'socialcoin coin create --name "Socialcoin Presikhaaf - Wijkmunt" --symbol PHW \\\n'
        "    --purpose LOCAL_SPENDING --area WK020205 --expiry 2027-12-31 --redemption-grace-days 30 \\\n"
        "    --holding-cap 3000,00",
    ),
)
@click.option("--name", required=True, help="Naam / name.")
@click.option("--symbol", required=True, help="Symbool / symbol (e.g. GKW).")
@click.option("--purpose", required=True, help="Doel / purpose (e.g. LOCAL_SPENDING, DEBT_SETTLEMENT).")
@click.option("--area", required=True, help="CBS-code / CBS code (GM0202, WK020201).")
@click.option("--expiry", help="Vervaldatum JJJJ-MM-DD of unix-tijd / expiry YYYY-MM-DD or unix time.")
@click.option(
    "--person-to-person/--no-person-to-person",
    default=False,
    show_default=True,
    help="Mogen bewoners elkaar betalen / may residents pay each other.",
)
@click.option(
    "--redemption-grace-days",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Dagen na de vervaldatum dat ondernemers nog mogen inwisselen / days after expiry during which "
    "merchants may still redeem.",
)
@click.option(
    "--holding-cap",
    help="Hoogstens per bewoner in euro's, bijv. 3000,00 (standaard: geen) / the most a resident may hold "
    "in euros, e.g. 3000.00 (default: none).",
)
@no_wait_option
@common
def coin_create(
    settings: Settings,
    name: str,
    symbol: str,
    purpose: str,
    area: str,
    expiry: str | None,
    person_to_person: bool,
    redemption_grace_days: int,
    holding_cap: str | None,
    no_wait: bool,
) -> int:
    body: dict[str, Any] = {
        "name": name,
        "symbol": symbol,
        "purpose": purpose,
        "area": area,
        "person_to_person": person_to_person,
        "redemption_grace_days": redemption_grace_days,
    }
    if expiry is not None:
        body["expiry"] = _expiry(expiry)
    if holding_cap is not None:
        body["holding_cap_cents"] = _euro_amount_cents(holding_cap)
    return operation(settings, "POST", "/municipality/chain/coins", body, not no_wait)


@cli.group(
    "minter-allowance",
    context_settings=CONTEXT,
    short_help="De ruimte van de minter / the minter's allowance.",
    help=helptext(
        "Wat de minter van de backend nog mag munten, verhogen of verlagen met een bedrag. Nooit een nieuw "
        "totaal: dat zou overschrijven wat het terughalen van verlopen munten intussen teruggaf.",
        "What the backend's minter may still mint, raised or lowered by an amount. Never a new total: that "
        "would overwrite what reclaiming expired coins gave back meanwhile.",
        "socialcoin minter-allowance increase 250.000,00\nsocialcoin minter-allowance decrease 1.000,00",
    ),
)
def minter_allowance() -> None:
    pass


def _euro_amount_cents(value: str) -> int:
    if value.strip() in ("0", "0,00", "0.00"):
        return 0
    try:
        return euro_cents(value)
    except CellInvalid as exc:
        raise click.BadParameter(f"{exc.nl} / {exc.en}") from None


def _allowance_command(verb: str, short_help: str, nl: str, en: str, example: str) -> None:
    """minter-allowance increase/decrease AMOUNT: POST /municipality/chain/minter-allowance/<verb>."""

    def change(settings: Settings, amount: str, no_wait: bool) -> int:
        body = {"amount_cents": _euro_amount_cents(amount)}
        return operation(settings, "POST", f"/municipality/chain/minter-allowance/{verb}", body, not no_wait)

    change.__name__ = f"minter_allowance_{verb}"
    command = click.argument("amount")(no_wait_option(common(change)))
    minter_allowance.command(
        verb, context_settings=CONTEXT, short_help=short_help, help=helptext(nl, en, example)
    )(command)


_allowance_command(
    "increase",
    "Ruimte van de minter verhogen / raise the minter's allowance.",
    "Verhoog wat de minter-sleutel van de backend nog mag munten met AMOUNT euro.",
    "Raise what the backend's minter key may still mint by AMOUNT euros.",
    "socialcoin minter-allowance increase 250.000,00",
)
_allowance_command(
    "decrease",
    "Ruimte van de minter verlagen / lower the minter's allowance.",
    "Verlaag wat de minter-sleutel van de backend nog mag munten met AMOUNT euro (tot 0 op zijn laagst).",
    "Lower what the backend's minter key may still mint by AMOUNT euros (down to 0 at most).",
    "socialcoin minter-allowance decrease 1.000,00",
)


@cli.group(
    context_settings=CONTEXT,
    short_help="Verifiers van organisaties / organisations' verifiers.",
    help=helptext(
        "De sleutels waarmee organisaties activiteiten bevestigen. Zie socialcoin verifier add --help.",
        "The keys organisations attest activities with. See socialcoin verifier add --help.",
        "socialcoin verifier add 2 GKW 0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    ),
)
def verifier() -> None:
    pass


@verifier.command(
    "add",
    context_settings=CONTEXT,
    short_help="Verifier-sleutel toestaan / authorise a verifier key.",
    help=helptext(
        "Geef de verifier-sleutel (ADDRESS) van organisatie ORG het recht om activiteiten te bevestigen "
        "voor munt COIN (adres of symbool).",
        "Authorise organisation ORG's verifier key (ADDRESS) to attest activities for coin COIN (its "
        "address or symbol).",
        "socialcoin verifier add 2 GKW 0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    ),
)
@click.argument("org", type=click.IntRange(min=1))
@click.argument("coin_", metavar="COIN")
@click.argument("address")
@common
def verifier_add(settings: Settings, org: int, coin_: str, address: str) -> int:
    with settings.api() as api:
        answer = api.post(f"/municipality/organisations/{org}/verifiers", {"address": address, "coin": coin_})
    if settings.as_json:
        dump_json(answer)
    else:
        registration = answer.get("authorisation") or {}
        pairs(
            [
                ("verifier", answer["id"]),
                ("organisatie / organisation", answer["organisation_id"]),
                ("adres / address", answer["address"]),
                ("munt / coin", answer["coin"]),
                ("op de blockchain / on chain", registration.get("status")),
            ]
        )
    return OK


def _switch_command(name: str, short_help: str, nl: str, en: str, example: str, wallets: bool) -> None:
    """pause/unpause (the whole system) and freeze/unfreeze (wallets): POST /municipality/chain/<name>."""

    def switch(settings: Settings, reason: str | None, no_wait: bool, addresses: tuple[str, ...] = ()) -> int:
        body = {"wallet_addresses": list(addresses), "reason": reason} if wallets else {"reason": reason}
        return operation(settings, "POST", f"/municipality/chain/{name}", body, not no_wait)

    switch.__name__ = name
    command = common(switch)
    command = no_wait_option(command)
    if wallets:
        command = reason_option(command)
        command = click.argument("addresses", metavar="ADDRESS...", nargs=-1, required=True)(command)
    else:
        command = click.option("--reason", help="Waarom (voor het dossier) / why (for the record).")(command)
    described = helptext(nl, en, example)
    cli.command(name, context_settings=CONTEXT, short_help=short_help, help=described)(command)


_switch_command(
    "pause",
    "Alles stilzetten / pause everything.",
    "Zet het hele systeem stil: geen enkele betaling, munting of verbranding gaat nog door, tot "
    "'socialcoin unpause'.",
    "Pause the whole system: no payment, mint or burn goes through until 'socialcoin unpause'.",
    'socialcoin pause --reason "storing bij de bank"',
    wallets=False,
)
_switch_command(
    "unpause",
    "Weer laten werken / unpause.",
    "Het systeem weer laten werken.",
    "Let the system work again.",
    "socialcoin unpause",
    wallets=False,
)
_switch_command(
    "freeze",
    "Wallets bevriezen / freeze wallets.",
    "Bevries wallets: ze kunnen niets meer ontvangen of uitgeven tot 'socialcoin unfreeze'.",
    "Freeze wallets: they can neither receive nor spend until 'socialcoin unfreeze'.",
    'socialcoin freeze 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 --reason "fraudemelding 2026-17"',
    wallets=True,
)
_switch_command(
    "unfreeze",
    "Wallets ontdooien / unfreeze wallets.",
    "Ontdooi bevroren wallets.",
    "Unfreeze frozen wallets.",
    'socialcoin unfreeze 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 --reason "melding onterecht"',
    wallets=True,
)


@cli.group(
    context_settings=CONTEXT,
    short_help="Verloren wallet herstellen / recover a lost wallet.",
    help=helptext(
        "Herstel een verloren wallet in twee stappen, alleen na een nieuwe identiteitscontrole: bevries de "
        "wallet ('socialcoin freeze'), vraag het herstel aan ('recover request'), en voer het uit na de "
        "wachttijd van de registry ('recover execute'): dan gaan de registratie en alle munten van LOST "
        "naar NEW en krijgt de bewoner of ondernemer de nieuwe wallet. Tot dan kan 'recover cancel' de "
        "aanvraag intrekken.",
        "Recover a lost wallet in two steps, only after checking the person's identity again: freeze the "
        "wallet ('socialcoin freeze'), request the recovery ('recover request'), and execute it after the "
        "registry's delay ('recover execute'): the registration and every coin then move from LOST to NEW "
        "and the resident or merchant gets the new wallet. Until then 'recover cancel' withdraws the "
        "request.",
        "socialcoin recover request 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 \\\n"
        '    0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f --case Z-2026-0315 --reason "telefoon kwijt, ID '
        'gecontroleerd"\n'
        "socialcoin recover execute 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 "
        "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
    ),
)
def recover() -> None:
    pass


@recover.command(
    "request",
    context_settings=CONTEXT,
    short_help="Herstel aanvragen / request a recovery.",
    help=helptext(
        "Vraag aan om de bevroren wallet LOST te verplaatsen naar NEW. Op de blockchain komt alleen een "
        "versleutelde verwijzing naar het zaaknummer. Het antwoord zegt vanaf wanneer het herstel kan "
        "worden uitgevoerd.",
        "Request moving the frozen wallet LOST to NEW. Only a keyed reference to the case number goes on "
        "chain. The answer says from when the recovery can be executed.",
        "socialcoin recover request 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 \\\n"
        '    0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f --case Z-2026-0315 --reason "telefoon kwijt"',
    ),
)
@click.argument("lost")
@click.argument("new")
@click.option("--case", "case_number", required=True, help="Het zaaknummer / the case number.")
@reason_option
@no_wait_option
@common
def recover_request(
    settings: Settings, lost: str, new: str, case_number: str, reason: str, no_wait: bool
) -> int:
    body = {"lost_wallet": lost, "new_wallet": new, "case_number": case_number, "reason": reason}
    return operation(settings, "POST", "/municipality/chain/recovery/request", body, not no_wait)


@recover.command(
    "execute",
    context_settings=CONTEXT,
    short_help="Herstel uitvoeren / execute a recovery.",
    help=helptext(
        "Voer het aangevraagde herstel van LOST naar NEW uit, na de wachttijd: de registratie en alle "
        "munten gaan naar NEW, en de bewoner of ondernemer krijgt de nieuwe wallet.",
        "Execute the requested recovery from LOST to NEW, after the delay: the registration and every coin "
        "move to NEW, and the resident or merchant gets the new wallet.",
        "socialcoin recover execute 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 "
        "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
    ),
)
@click.argument("lost")
@click.argument("new")
@click.option("--reason", help="Waarom (voor het dossier) / why (for the record).")
@no_wait_option
@common
def recover_execute(settings: Settings, lost: str, new: str, reason: str | None, no_wait: bool) -> int:
    body = {"lost_wallet": lost, "new_wallet": new, "reason": reason}
    return operation(settings, "POST", "/municipality/chain/recovery/execute", body, not no_wait)


@recover.command(
    "cancel",
    context_settings=CONTEXT,
    short_help="Herstelaanvraag intrekken / cancel a recovery request.",
    help=helptext(
        "Trek de herstelaanvraag voor LOST in (de sleutel van de service moet beheerder van de registry "
        "zijn).",
        "Withdraw the recovery request for LOST (the service's key must be the registry's admin).",
        'socialcoin recover cancel 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 --reason "toch gevonden"',
    ),
)
@click.argument("lost")
@reason_option
@no_wait_option
@common
def recover_cancel(settings: Settings, lost: str, reason: str, no_wait: bool) -> int:
    body = {"lost_wallet": lost, "reason": reason}
    return operation(settings, "POST", "/municipality/chain/recovery/cancel", body, not no_wait)


@cli.command(
    context_settings=CONTEXT,
    short_help="Verlopen munten terughalen / reclaim expired coins.",
    help=helptext(
        "Haal na de vervaldatum van munt COIN de resterende munten terug (het budget komt vrij); zonder "
        "--holder bij iedereen die ze volgens de index heeft.",
        "After coin COIN's expiry, reclaim what is left (the budget returns); without --holder from "
        "everyone who holds it according to the index.",
        "socialcoin reclaim 0x5FbDB2315678afecb367f032d93F642f64180aa3",
    ),
)
@click.argument("coin_", metavar="COIN")
@click.option("--holder", "holders", multiple=True, help="Alleen deze houder(s) / only these holder(s).")
@click.option(
    "--credit-minter/--no-credit-minter",
    default=True,
    show_default=True,
    help="Het bedrag terug naar de ruimte van de minter / return the amount to the minter's allowance.",
)
@no_wait_option
@common
def reclaim(
    settings: Settings, coin_: str, holders: tuple[str, ...], credit_minter: bool, no_wait: bool
) -> int:
    body = {"coin": coin_, "holders": list(holders) or None, "credit_minter": credit_minter}
    return operation(settings, "POST", "/municipality/chain/reclaim-expired", body, not no_wait)


# --------------------------------------------------------------------------------------------------
# The outbox: transactions that got stuck


@cli.group(
    context_settings=CONTEXT,
    short_help="Vastgelopen transacties / stuck transactions.",
    help=helptext(
        "Transacties die de blockchain bleef weigeren of niet op tijd verwerkte (bijvoorbeeld omdat de "
        "blockchain ineens kosten vraagt): bekijken, opnieuw proberen zodra de oorzaak weg is, of annuleren "
        "(latere transacties gaan dan door; wat in de geannuleerde zat, is niet gebeurd).",
        "Transactions the chain kept refusing or did not process in time (when the chain suddenly asks a "
        "fee, for instance): list them, retry one once its cause is gone, or cancel it (later ones then "
        "flow; what the cancelled one carried did not happen).",
        "socialcoin outbox stuck\nsocialcoin outbox retry 12\nsocialcoin outbox cancel 12",
    ),
)
def outbox() -> None:
    pass


@outbox.command(
    "stuck",
    context_settings=CONTEXT,
    short_help="Toon vastgelopen transacties / list stuck transactions.",
    help=helptext(
        "Toon de vastgelopen transacties, met wat erin zit en wat de blockchain erover zei.",
        "List the stuck transactions, with what they carry and what the chain said.",
        "socialcoin outbox stuck --json",
    ),
)
@common
def outbox_stuck(settings: Settings) -> int:
    with settings.api() as api:
        found = api.get("/municipality/outbox/stuck")
    if settings.as_json:
        dump_json(found)
        return OK
    if not found:
        say("Er zit niets vast.", "nothing is stuck")
        return OK
    table(
        ["id", "status", "nonce", "pogingen / tries", "wat / what", "laatste fout / last error"],
        [
            [
                tx["id"],
                tx["status"],
                tx["nonce"],
                tx["send_failures"],
                ", ".join(f"{item['origin']} {item['subject_id'] or ''}".strip() for item in tx["items"]),
                tx["last_error"] or "-",
            ]
            for tx in found
        ],
    )
    return OK


def _outbox_action(settings: Settings, tx_id: int, action: str) -> int:
    with settings.api() as api:
        answer = api.post(f"/municipality/outbox/transactions/{tx_id}/{action}", {})
    if settings.as_json:
        dump_json(answer)
    else:
        pairs([("transactie / transaction", answer.get("id")), ("status", answer.get("status"))])
    return OK


@outbox.command(
    "retry",
    context_settings=CONTEXT,
    short_help="Probeer opnieuw / try again.",
    help=helptext(
        "Probeer vastgelopen transactie TX opnieuw, opnieuw ondertekend met de kosten die de blockchain "
        "nu vraagt. Doe dit als de oorzaak weg is.",
        "Try stuck transaction TX again, signed anew with the fee the chain asks now. Do this once the "
        "cause is gone.",
        "socialcoin outbox retry 12",
    ),
)
@click.argument("tx_id", type=int, metavar="TX")
@common
def outbox_retry(settings: Settings, tx_id: int) -> int:
    return _outbox_action(settings, tx_id, "retry")


@outbox.command(
    "cancel",
    context_settings=CONTEXT,
    short_help="Annuleer / cancel.",
    help=helptext(
        "Annuleer vastgelopen transactie TX: een lege transactie neemt haar plaats in, zodat latere "
        "transacties doorgaan. Wat erin zat (een betaling, een beloning) is dan niet gebeurd.",
        "Cancel stuck transaction TX: an empty transaction takes its place, so that later ones flow. "
        "What it carried (a payment, a reward) then did not happen.",
        "socialcoin outbox cancel 12",
    ),
)
@click.argument("tx_id", type=int, metavar="TX")
@common
def outbox_cancel(settings: Settings, tx_id: int) -> int:
    return _outbox_action(settings, tx_id, "cancel")


cli.add_command(research)
# Imported last, by name: the command builds on `common` and `helptext` above (an import cycle otherwise).
report.add_command(importlib.import_module(".effect", __package__).effect)


def main() -> None:
    cli(prog_name="socialcoin")
