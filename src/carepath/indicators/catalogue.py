"""The indicator catalogue, generated from the definitions (docs/indicators.md and the web)."""

from __future__ import annotations

from carepath.indicators.definition import Count, Definition, Population
from carepath.indicators.library import builtin

POLARITY_TEXT = {"high_is_good": "higher is better", "low_is_good": "lower is better",
                 "no_judgement": "no judgement"}


def describe_part(part: Count | Population | None) -> str:
    if part is None:
        return "none"
    if isinstance(part, Population):
        ages = f", ages {part.min_age}+" if part.min_age else ""
        return f"registered population ({'/'.join(part.sex)}{ages}), mean over the period"
    text = f"{part.value} of `{part.table}` by `{part.date}`"
    if part.where:
        text += f" where `{part.where}`"
    for rel in part.require:
        text += f"; with a `{rel.table}` row on `{rel.on}`" + (f" where `{rel.where}`"
                                                                if rel.where else "")
    for rel in part.exclude:
        text += f"; without a `{rel.table}` row on `{rel.on}`" + (f" where `{rel.where}`"
                                                                   if rel.where else "")
    return text


def entry_md(d: Definition) -> str:
    lines = [
        f"### {d.title}", "",
        (f"`{d.id}` version {d.version} · {d.domain.replace('_', ' ')} · {d.statistic} "
        f"({d.unit or 'no unit'}) · {POLARITY_TEXT[d.polarity]} · {d.period.replace('_', ' ')}"
        f" · attributed to {d.attribution}"), "",
        d.why, "",
        f"- **Numerator:** {describe_part(d.numerator)}",
        f"- **Denominator:** {describe_part(d.denominator)}",
    ]
    if d.breakdowns:
        lines.append(f"- **Breakdowns:** {', '.join(d.breakdowns)}")
    if d.targets:
        lines.append("- **Targets:** " + "; ".join(f"{t.value:g} ({t.label})" for t in d.targets))
    lines += [
        (f"- **Comparison:** {d.comparator.method.replace('_', ' ')} at "
        f"{d.comparator.confidence:.1%}"),
        f"- **Source:** {d.governance.source}",
        (f"- **Governance:** authored by {d.governance.authored_by}, checked by "
        f"{d.governance.checked_by}, reviewed {d.governance.reviewed}, next review "
        f"{d.governance.next_review}"), "",
    ]
    return "\n".join(lines)


def catalogue_md() -> str:
    library = builtin()
    by_domain: dict[str, list[Definition]] = {}
    for d in library.values():
        by_domain.setdefault(d.domain, []).append(d)
    out = ["# Indicator catalogue", "",
           ("Generated from `src/carepath/indicators/library/*.yaml` by `make docs`; a test "
           f"fails when this file is out of date. {len(library)} indicators."), ""]
    for domain in sorted(by_domain):
        out += [f"## {domain.replace('_', ' ').capitalize()}", ""]
        out += [entry_md(d) for d in sorted(by_domain[domain], key=lambda d: d.id)]
    return "\n".join(out).rstrip() + "\n"
