"""`socialcoin research`: the public ledger for researchers, read from a chain's JSON-RPC endpoint alone
(no backend, no token)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..research.ledger import LedgerError, NotARegistry, RpcUnreachable
from ..research.rebuild import OutputRefused, rebuild
from ..settings import Settings
from .output import OK, REFUSED, UNREACHABLE, USAGE, progress, say

# The service's own default, so that the charts equal the dashboard's unless told otherwise.
DEFAULT_K = Settings.model_fields["research_k_anonymity"].default
EXAMPLE = "socialcoin research rebuild --rpc http://127.0.0.1:8545 --out export"


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
    short_help="Onderzoek / research.",
    help="Het openbare grootboek voor onderzoekers: zie socialcoin research rebuild --help.\n\nThe public "
    "ledger for researchers: see socialcoin research rebuild --help.\n\n\b\nVoorbeeld / example:\n"
    f"  {EXAMPLE}",
)
def research() -> None:
    pass


@research.command(
    "rebuild",
    short_help="Exports opnieuw uit de blockchain / exports rebuilt from the chain.",
    help="Leest alle transacties uit de logs van de blockchain (alleen het adres van de node is nodig) "
    "en schrijft ze als CSV en Parquet, met alle cijfers, de grafieken van /openbaar (PNG en SVG), het "
    "datawoordenboek en een manifest, naar --out. / Reads every transaction from the chain's logs (only the "
    "node's address is needed) and writes them as CSV and Parquet, with every figure, the charts of "
    "/openbaar (PNG and SVG), the data dictionary and a manifest, to --out.\n\n\b\nVoorbeeld / example:\n"
    f"  {EXAMPLE}",
)
@click.option("--rpc", "rpc_url", required=True, help="JSON-RPC-adres van een node / a node's JSON-RPC URL.")
@click.option(
    "--registry",
    help="Adres van het ParticipantRegistry; zonder: het ene register op de chain / the registry's address; "
    "without it: the one registry on the chain.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Map voor de export (nieuw, leeg of een eerdere export) / directory for the export (new, empty "
    "or an earlier export).",
)
@click.option(
    "--from-block", type=click.IntRange(0), help="Eerste blok / first block [default: the registry's]."
)
@click.option("--to-block", type=click.IntRange(0), help="Laatste blok / last block [default: the newest].")
@click.option(
    "--k",
    "k",
    type=click.IntRange(2),
    default=DEFAULT_K,
    show_default=True,
    help="De grafieken laten elk cijfer over minder dan k inwoners weg, zoals /openbaar / the charts "
    "withhold every figure over fewer than k residents, as /openbaar does.",
)
def rebuild_command(
    rpc_url: str, registry: str | None, out: Path, from_block: int | None, to_block: int | None, k: int
) -> None:
    bar = None

    def advance(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = progress(total, "Blokken gelezen", "blocks read", enabled=True)
            bar.unit = " blok/block"
        bar.update(done - bar.n)

    try:
        ledger = rebuild(
            rpc_url, registry, out, k=k, progress=advance, start_block=from_block, end_block=to_block
        )
    except RpcUnreachable as exc:
        say("Fout: de node antwoordt niet (controleer --rpc)", f"Error: {exc}")
        sys.exit(UNREACHABLE)
    except NotARegistry as exc:
        if registry is None:
            say(
                "Fout: op deze chain is niet één register van Socialcoin te vinden (geef --registry)",
                f"Error: {exc}",
            )
        else:
            say("Fout: dit adres is geen register van Socialcoin (controleer --registry)", f"Error: {exc}")
        sys.exit(REFUSED)
    except OutputRefused as exc:
        say("Fout: --out bevat iets anders dan een eerdere export", f"Error: {exc}")
        sys.exit(USAGE)
    except LedgerError as exc:
        say("Fout bij het lezen van de blockchain", f"Error: {exc}")
        sys.exit(REFUSED)
    finally:
        if bar is not None:
            bar.close()
    say(
        f"Klaar: {len(ledger.transfers)} transacties, {len(ledger.participants)} deelnemers, "
        f"{len(ledger.coins)} munten in {out}",
        f"Done: {len(ledger.transfers)} transfers, {len(ledger.participants)} participants, "
        f"{len(ledger.coins)} coins in {out}",
    )
    sys.exit(OK)
