"""`socialcoin report effect`: the council's monthly effect report (figures per wijk and programme, compared
with another month if asked) from the backend, as PDF, CSV or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .main import CONTEXT, Settings, common, helptext
from .output import OK, dump_json, euro, pairs

PATHS = {"pdf": "/municipality/reports/effect.pdf", "csv": "/municipality/reports/effect.csv"}


@click.command(
    "effect",
    context_settings=CONTEXT,
    short_help="Effectmeting per wijk en programma / effect report per wijk and programme.",
    help=helptext(
        "Het maandrapport voor de raad: per wijk (en programma) de inwoners die meededen, uren en sociale "
        "waarde, verdiende munten en waaraan ze zijn besteed (lokaal, diensten, schulden), aflossing per "
        "inwoner en totaal, en bereikte ondernemers. Met --compare-month ernaast een eerdere maand, ook een "
        "nulmeting van voor de start van het programma. Als PDF, als CSV (zoals Nederlandse Excel het "
        "opent) of als JSON.",
        "The council's monthly report: per wijk (and programme) the residents taking part, hours and social "
        "value, coins earned and how they were used (locally, services, debts), debt reduced per resident "
        "and in total, and merchants reached. With --compare-month an earlier month beside it, a baseline "
        "before the programme's start too. As PDF, as CSV (as Dutch Excel opens it) or as JSON.",
        """
socialcoin report effect --month 2026-11 --format pdf --out effect-2026-11.pdf
socialcoin report effect --month 2026-11 --compare-month 2026-10 --area WK020201 --format csv --out wijk.csv
""",
    ),
)
@click.option("--month", required=True, metavar="YYYY-MM", help="De maand / the month.")
@click.option("--compare-month", metavar="YYYY-MM", help="Vergelijken met / compare with this month.")
@click.option("--area", metavar="WK......", help="Alleen deze wijk / only this wijk (e.g. WK020201).")
@click.option("--programme", type=click.IntRange(1), help="Alleen dit programma / only this programme (id).")
@click.option(
    "--format", "file_format", type=click.Choice(["pdf", "csv", "json"]), default="pdf", show_default=True
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Waar het bestand heen gaat ('-': standaarduitvoer) / where the file goes ('-': stdout) "
    "[default: effectmeting-<MONTH>.<FORMAT>].",
)
@common
def effect(
    settings: Settings,
    month: str,
    compare_month: str | None,
    area: str | None,
    programme: int | None,
    file_format: str,
    out: Path | None,
) -> int:
    params = {"month": month, "compare_month": compare_month, "area": area, "programme_id": programme}
    with settings.api() as api:
        found = api.get("/municipality/reports/effect", **params)
        content = (
            (json.dumps(found, indent=2, ensure_ascii=False) + "\n").encode()
            if file_format == "json"
            else api.get_bytes(PATHS[file_format], **params)
        )
    target = out or Path(f"effectmeting-{month}.{file_format}")
    if str(target) == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return OK
    target.write_bytes(content)
    total = found["report"]["total"]
    if settings.as_json:
        dump_json({"file": str(target), "format": file_format, "month": month, "total": total})
    else:
        pairs(
            [
                ("bestand / file", str(target)),
                ("inwoners / residents", total["residents"]),
                ("uren / hours", total["hours"]),
                ("sociale waarde / social value", euro(total["social_value_cents"])),
                ("schulden afgelost / debts settled", euro(total["debts_settled_cents"])),
            ]
        )
    return OK
