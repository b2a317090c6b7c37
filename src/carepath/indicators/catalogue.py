"""The indicator catalogue, generated from the definitions (docs/indicators.md and the web)."""

from __future__ import annotations

from carepath.disclosure.releases import Link
from carepath.indicators.definition import Count, Definition, Population
from carepath.indicators.library import builtin
from carepath.indicators.links import shared_counts

POLARITY_TEXT = {"high_is_good": "higher is better", "low_is_good": "lower is better",
                 "no_judgement": "no judgement"}
MODE_TEXT = {"in_period": "rows dated in the period",
             "snapshot": "rows as they stand at the period's end",
             "as_at_end": "rows current at the period's end (started, not yet ended)"}


# Words a unit's first words must be more than to count as said by the title ("per 1,000"
# is not said by a title with "per" in it).
CONNECTIVES = frozenset({"per", "of", "a", "per cent"})


def unit_beyond_title(title: str, unit: str | None) -> str:
    """What an indicator's unit adds to its title, to write after it: a pack read "New
    cancers per 100,000 registered patients per 100,000 per year" and "..., per 100
    deaths (per 100 deaths)" (a walkthrough). The unit's longest first words the title
    already says are left out ("per year"; "(workspace = 100)" after "... ratio")."""
    if not unit:
        return ""
    words = unit.split()
    said = title.lower()
    for k in range(len(words), 0, -1):
        first = " ".join(words[:k]).lower()
        if first in said and first not in CONNECTIVES:
            rest = " ".join(words[k:])
            return "" if rest.lower() in said else rest
    return unit


def unit_note(title: str, unit: str | None) -> str:
    """What the unit adds to the title, in brackets to follow it ("" for nothing): a
    unit that is bracketed already, "(workspace = 100)", is not bracketed again (a rug
    read "((workspace = 100))")."""
    extra = unit_beyond_title(title, unit)
    if not extra:
        return ""
    return extra if extra.startswith("(") and extra.endswith(")") else f"({extra})"


def describe_part(part: Count | Population | None, mode: str = "in_period") -> str:
    if part is None:
        return "none"
    if isinstance(part, Population):
        when = "mean over the period" if mode == "in_period" else "the period's last list"
        return f"registered population ({'/'.join(part.sex)}{_ages(part)}), {when}"
    text = f"{part.value} of `{part.table}` by `{part.date}`"
    if part.dated_by is not None:
        text = (f"{part.value} of `{part.table}` by `{part.dated_by.table}.{part.date}` "
                f"(on `{part.dated_by.on}`)")
    if part.until:
        text += f", counting until `{part.until}`"
    if part.where:
        text += f" where `{part.where}`"
    for word, related in (("with", part.require), ("without", part.exclude)):
        for rel in related:
            text += f"; {word} {_related(rel)}"
    return text


def _ages(part: Population) -> str:
    if part.max_age is not None:
        return f", ages {part.min_age}-{part.max_age}"
    return f", ages {part.min_age}+" if part.min_age else ""


def _related(rel) -> str:
    if rel.latest_by:
        text = f"the latest `{rel.table}` row by `{rel.latest_by}` on `{rel.on}`"
        if rel.among:
            text += f" (of rows where `{rel.among}`)"
        return text + (f" having `{rel.where}`" if rel.where else "")
    return f"a `{rel.table}` row on `{rel.on}`" + (f" where `{rel.where}`" if rel.where else "")


def _shared_text(shared: tuple[Link, ...]) -> str:
    """'its denominator is the numerator of `a`, `b` and the denominator of `c`'."""
    parts = []
    for column in ("numerator", "denominator"):
        theirs = {}
        for link in shared:
            if link.column == column:
                theirs.setdefault(link.other_column, []).append(f"`{link.other}`")
        if theirs:
            parts.append(f"its {column} is " + " and ".join(
                f"the {part} of {', '.join(ids)}" for part, ids in sorted(
                    theirs.items(), key=lambda item: item[0] != "numerator")))
    return "; ".join(parts)


def entry_md(d: Definition, shared: tuple[Link, ...] = ()) -> str:
    """One definition as Markdown; ``shared``: its links to indicators counting the same
    (``carepath.indicators.links.shared_counts``)."""
    lines = [
        f"### {d.title}", "",
        (f"`{d.id}` version {d.version} · {d.domain.replace('_', ' ')} · {d.statistic} "
        f"({d.unit or 'no unit'}) · {POLARITY_TEXT[d.polarity]} · {d.period.replace('_', ' ')}"
        f" · attributed to {d.attribution}"), "",
        d.why, "",
        f"- **Numerator:** {describe_part(d.numerator)}",
        f"- **Denominator:** {describe_part(d.denominator, d.mode)}",
    ]
    lines.append(f"- **Counts:** {MODE_TEXT[d.mode]}" + (
        f"; periods need {d.follow_up_days} days of follow-up after their end"
        if d.follow_up_days else ""))
    if d.suppressed_at_source:
        lines.append(f"- **Suppressed by the publisher:** rows flagged in "
                     f"`{d.suppressed_at_source}` (the practice's value is suppressed, and "
                     "each area says how many practices it leaves out)")
    if d.cohort is not None:
        lines.append(f"- **Who:** {cohort_words(d.cohort)}")
    if d.multiplier is not None:
        lines.append(f"- **Per:** {d.multiplier:,g}")
    if d.breakdowns:
        lines.append(f"- **Breakdowns:** {', '.join(d.breakdowns)}")
    if shared:
        lines.append(f"- **Same count as:** {_shared_text(shared)} (published, they are "
                     "protected together)")
    if d.targets:
        lines.append("- **Targets:** " + "; ".join(f"{t.value:g} ({t.label})" for t in d.targets))
    lines += [
        (f"- **Comparison:** {d.comparator.method.replace('_', ' ')} at "
        f"{d.comparator.confidence:.1%}"),
        *([f"- **Shown from a denominator of:** {d.disclosure.min_denominator:g}"]
          if d.disclosure.min_denominator else []),
        f"- **Source:** {d.governance.source}",
        (f"- **Governance:** authored by {d.governance.authored_by}, checked by "
        f"{d.governance.checked_by}, reviewed {d.governance.reviewed}, next review "
        f"{d.governance.next_review}"),
        *([f"- **References:** {'; '.join(d.references)}"] if d.references else []),
        "",
    ]
    return "\n".join(lines)


def cohort_words(cohort) -> str:
    """'women aged 53 to 70', 'people aged 60 to 74'."""
    who = {("F",): "women", ("M",): "men"}.get(tuple(cohort.sex or ()), "people")
    low = cohort.min_age or 0
    if cohort.max_age is None:
        return f"{who} aged {low} and over" if low else who
    return f"{who} aged {low} to {cohort.max_age}"


def catalogue_md() -> str:
    library = builtin()
    links = shared_counts(library)
    by_domain: dict[str, list[Definition]] = {}
    for d in library.values():
        by_domain.setdefault(d.domain, []).append(d)
    out = ["# Indicator catalogue", "",
           ("Generated from `src/carepath/indicators/library/*.yaml` by `make docs`; a test "
           f"fails when this file is out of date. {len(library)} indicators."), ""]
    for domain in sorted(by_domain):
        out += [f"## {domain.replace('_', ' ').capitalize()}", ""]
        out += [entry_md(d, links.get(d.id, ()))
                for d in sorted(by_domain[domain], key=lambda d: d.id)]
    return "\n".join(out).rstrip() + "\n"
