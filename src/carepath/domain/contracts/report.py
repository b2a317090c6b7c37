"""Payment statements (CSV, HTML, PDF) and the assessment report (HTML) of a contract year."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from carepath import __version__
from carepath import charts as base_charts
from carepath.domain.contracts import charts
from carepath.domain.contracts import constants as K
from carepath.domain.contracts import formatting as fmt
from carepath.domain.contracts.assessment import Assessment
from carepath.domain.contracts.chance import ChanceResult
from carepath.errors import ValidationError
from carepath.safe_export import check_output_path, neutralise

_ENV = Environment(loader=PackageLoader("carepath.domain.contracts", "templates"),
                   autoescape=select_autoescape(["html"]))
_ENV.filters["share"] = fmt.share
# Money columns in pounds and pence. ``pot`` and ``not_paid``: a finance team reconciles
# the money at risk from the CSV alone (the pots withheld were only in the HTML: a check).
STATEMENT_COLUMNS = ["contract_id", "contract_year", "period", "line", "outcome_id",
                     "outcome", "indicator", "weight_pct", "value", "lower", "upper",
                     "target", "judgement", "data_quality", "status", "pot", "amount",
                     "not_paid", "reason", "warnings"]
MONEY_COLUMNS = ("pot", "amount", "not_paid")
OUTPUT_FORMATS = ("csv", "html", "pdf")


def statement_rows(a: Assessment) -> list[dict]:
    """Fee line, one line per outcome with the reason and warnings, outcome subtotal and
    total."""
    head = {"contract_id": a.contract.id, "contract_year": a.year, "period": a.period}
    rows = [{**head, "line": "fee", "status": K.FEE_BASED if a.fee_based else K.PAID,
             "amount": a.fee, "warnings": "; ".join(a.warnings),
             "reason": "fee-based year: whole value paid as fee" if a.fee_based else
             f"fee element: {fmt.share(1 - a.contract.share_at_risk[a.year])} of the annual value"}]
    for o in a.outcomes:
        rows.append({**head, "line": "outcome", "outcome_id": o.outcome_id, "outcome": o.title,
                     "indicator": o.indicator, "weight_pct": round(100 * o.weight, 4),
                     "pot": o.pot, "not_paid": round(o.pot - o.payment, 2),
                     "value": o.shown(o.point.value), "lower": o.shown(o.point.lower),
                     "upper": o.shown(o.point.upper), "target": o.target_text,
                     "judgement": o.judgement, "data_quality": o.dq_status,
                     "status": o.status, "amount": o.payment, "reason": o.reason,
                     "warnings": "; ".join(o.warnings)})
    # Lines and totals are in pennies already (assessment.pennies): they add up as printed.
    rows.append({**head, "line": "outcome_total", "pot": a.at_risk, "amount": a.outcome_total,
                 "not_paid": round(a.at_risk - a.outcome_total, 2),
                 "reason": f"of £{a.at_risk:,.2f} at risk"})
    rows.append({**head, "line": "total", "amount": a.total,
                 "reason": f"of an annual value of £{a.value:,.2f}"})
    return rows


def statement_csv(a: Assessment) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=STATEMENT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in statement_rows(a):  # titles and reasons come from a YAML file: neutralised
        writer.writerow({k: _pounds(row.get(k)) if k in MONEY_COLUMNS
                         else neutralise(row.get(k, "")) for k in STATEMENT_COLUMNS})
    return buf.getvalue()


def _pounds(amount) -> str:
    """Pounds and pence, as a statement is read: 58500000.0 was written (a walkthrough)."""
    return "" if amount is None or amount == "" else f"{float(amount):.2f}"


def statement_html(a: Assessment) -> str:
    return _ENV.get_template("statement.html").render(
        a=a, rows=statement_rows(a), version=__version__, labels=K.JUDGEMENT_LABELS,
        issued=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))


def assessment_html(a: Assessment, chance: ChanceResult | None = None, *,
                    svg_charts: bool = True) -> str:
    """Summary table of icons, then per outcome: chart, judgement, attribution, DQ."""
    chart_svgs = {}
    for o in a.outcomes:
        if svg_charts and any(r.get("value") is not None for r in o.spc_rows):
            spec = charts.spc_chart(o.spc_rows, title=o.title,
                                    y_title=f"{o.indicator_title} ({o.unit})".strip())
            chart_svgs[o.outcome_id] = base_charts.to_svg(spec)
    summary = charts.icon_summary(a)
    icons = {r["outcome_id"]: (charts.icon_svg("variation", r["variation"]),
                               charts.icon_svg("assurance", r["assurance"])) for r in summary}
    return _ENV.get_template("assessment.html").render(
        a=a, summary=summary, icons=icons, charts=chart_svgs, chance=chance,
        labels=K.JUDGEMENT_LABELS, version=__version__)


def too_early(a: Assessment) -> str | None:
    """Why a year has no statement yet: money at risk and none of its outcomes with a
    value (the data do not cover the period). A statement for year 5 before its data
    existed was issued and audited with every pot held back (a walkthrough)."""
    if a.fee_based or not a.outcomes or any(o.dq_status != K.DQ_NOT_YET for o in a.outcomes):
        return None
    return (f"no outcome of year {a.year} ({a.period}) has a value yet: the workspace's data "
            "do not cover that period; issue its statement once they do")


def refuse_too_early(a: Assessment) -> None:
    why = too_early(a)
    if why:
        raise ValidationError(f"{why} (`contract assess` shows what is missing)")


def write_statement(a: Assessment, out: Path) -> str:
    """Write by the file's suffix (.csv, .html or .pdf); returns the CSV text issued."""
    out = Path(out)
    check_output_path(out, tuple(f".{f}" for f in OUTPUT_FORMATS))
    refuse_too_early(a)
    fmt = out.suffix.lower().lstrip(".")
    text = statement_csv(a)
    if fmt == "csv":
        out.write_text(text, encoding="utf-8")
    elif fmt == "html":
        out.write_text(statement_html(a), encoding="utf-8")
    else:
        from carepath.pdf import write_pdf

        write_pdf(statement_html(a), out)
    return text
