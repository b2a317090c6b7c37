"""What a definition means, checked against the data model: tables and columns exist and
have the types their use needs, filters parse and type-check, the statistic has the inputs
it needs, and nothing is accepted that the engine would ignore or count wrongly. Each
error names the file, the field and the offending token (``from_mapping`` calls this)."""

from __future__ import annotations

from carepath.errors import ValidationError
from carepath.indicators import expr
from carepath.indicators.definition import (
    CONF_95,
    CONF_998,
    PERIOD_COLUMNS,
    Count,
    Definition,
    Population,
    count_scope,
    recorded_age,
    table_scope,
)
from carepath.model import schema


def _check_count(defn: Definition, count: Count, field: str) -> None:
    where = f"{defn.source_file}: field {field}"
    filters = count_scope(count, where=where)
    # The period's bounds are for filters; a row's own date, value, attribution and
    # breakdowns must be its table's (or its person's) columns.
    own = set(schema.TABLES_BY_NAME[count.table].column_names) \
        if count.table in schema.TABLES_BY_NAME else set()
    scope = {k: v for k, v in filters.items() if k not in PERIOD_COLUMNS or k in own}
    if count.dated_by is not None:
        _check_dated_by(count, scope, where)
    elif scope.get(count.date) != "date":
        raise ValidationError(f"date column {count.date!r} is not a date column of "
                              f"{count.table}", where=f"{where}.date")
    if count.until and scope.get(count.until) != "date":
        raise ValidationError(f"{count.until!r} is not a date column of {count.table}",
                              where=f"{where}.until")
    if count.until and defn.mode != "as_at_end":
        # Accepted, it was ignored: the figures were those of the definition without it.
        raise ValidationError(f"until is for mode as_at_end (rows counted until a date); "
                              f"this definition's mode is {defn.mode}", where=f"{where}.until")
    if count.where:
        expr.parse_filter(count.where, filters, where=f"{where}.where")
    kind, _, col = count.value.partition(":")
    numeric = scope.get(col) in ("int", "float", "bool")
    if not ((kind == "rows" and not col) or (kind in ("distinct", "per") and col in scope)
            or (kind in ("sum", "mean") and numeric)):
        raise ValidationError(f"value {count.value!r}: use 'rows', 'distinct:<column>', "
                              "'per:<column>', 'sum:<numeric column>' or "
                              "'mean:<numeric column>'", where=f"{where}.value")
    if kind == "per" and (field != "numerator" or defn.statistic != "crude_rate"):
        raise ValidationError("'per:<column>' counts a crude rate's events, each person's "
                              "as one person's (non-independent events): a numerator's",
                              where=f"{where}.value")
    for kind_name, items in (("require", count.require), ("exclude", count.exclude)):
        for i, rel in enumerate(items):
            rwhere = f"{where}.{kind_name}.{i}"
            rscope = table_scope(rel.table, where=f"{rwhere}.table")
            if rel.on not in rscope or rel.on not in scope:
                raise ValidationError(f"key {rel.on!r} must be a column of both {count.table} "
                                      f"and {rel.table}", where=f"{rwhere}.on")
            if rel.latest_by is not None and rscope.get(rel.latest_by) != "date":
                raise ValidationError(f"latest_by {rel.latest_by!r} is not a date column of "
                                      f"{rel.table}", where=f"{rwhere}.latest_by")
            if rel.among is not None:
                if rel.latest_by is None:
                    raise ValidationError("among picks candidates for latest_by; give "
                                          "latest_by too", where=f"{rwhere}.among")
                expr.parse_filter(rel.among, rscope, where=f"{rwhere}.among")
            if rel.where:
                both = {**{f"{count.table}.{k}": v for k, v in filters.items()}, **rscope,
                        **PERIOD_COLUMNS}
                expr.parse_filter(rel.where, both, where=f"{rwhere}.where")
    if defn.attribution_col not in scope:
        raise ValidationError(f"{count.table} has no attribution column "
                              f"{defn.attribution_col!r}", where=f"{where}.table")
    if scope[defn.attribution_col] != "text":
        named_by = "attribution_column" if defn.attribution_column else "attribution"
        raise ValidationError(f"attribution column {defn.attribution_col!r} of {count.table} "
                              f"holds {scope[defn.attribution_col]}, not an organisation code",
                              where=f"{defn.source_file}: field {named_by}")
    for b in defn.breakdowns:
        if b == "age_band":
            ok = "year_of_birth" in scope
        else:
            ok = b in scope
        if not ok:
            raise ValidationError(f"breakdown {b!r} cannot be derived for {count.table}",
                                  where=f"{defn.source_file}: field breakdowns")


def _check_numerator_within(num: Count, den: Count, source: str | None) -> None:
    """A proportion's numerator is some of its denominator's rows: the same table, dated
    the same way, or rows of another table dated by them (people with an admission, dated
    by their death, of the deaths). A numerator of referrals over a denominator of tumours
    passed and gave values over 100% (found by a user test). Its filters cannot be proved
    narrower here; the compute warns of cells where the numerator exceeds the denominator."""
    def dated(count: Count) -> tuple[str, str]:  # dated_by: the dating table's rows
        return (count.dated_by.table if count.dated_by else count.table, count.date)

    if dated(num) != dated(den):
        raise ValidationError(
            f"a proportion counts some of its denominator's rows, so its numerator must "
            f"count {dated(den)[0]} by {den.date} as the denominator does (it counts "
            f"{dated(num)[0]} by {num.date}), or be dated by them (dated_by); for events "
            "of another table use a crude_rate", where=f"{source}: field numerator")


def _check_dated_by(count: Count, scope: dict[str, str], where: str) -> None:
    dated = count.dated_by
    other = table_scope(dated.table, where=f"{where}.dated_by.table")
    own = schema.TABLES_BY_NAME[count.table].column_names
    # The other table's key, so each row has one date: joined on a shared practice code,
    # every admission took the practice's latest death date.
    if schema.TABLES_BY_NAME[dated.table].key != (dated.on,) or dated.on not in own:
        raise ValidationError(
            f"key {dated.on!r} must be the key of {dated.table} "
            f"({', '.join(schema.TABLES_BY_NAME[dated.table].key)}) and a column of "
            f"{count.table}: each row takes the date of the one {dated.table} row it "
            "belongs to", where=f"{where}.dated_by.on")
    if other.get(count.date) != "date":
        raise ValidationError(f"date column {count.date!r} is not a date column of "
                              f"{dated.table} (dated_by)", where=f"{where}.date")
    if count.date in scope:  # a filter's plain name would then mean the counted table's
        raise ValidationError(f"{count.table} has a column {count.date!r} of its own; "
                              f"dated_by takes the date from {dated.table}",
                              where=f"{where}.date")
    if count.until:
        raise ValidationError("until (a row stops counting) needs the counted table's own "
                              "date, not dated_by", where=f"{where}.until")
    if scope.get(dated.own_date) != "date" or dated.own_date not in own:
        raise ValidationError(f"own_date {dated.own_date!r} is not a date column of "
                              f"{count.table}", where=f"{where}.dated_by.own_date")


# Columns a numerator's filter says a person's age by (through patients, year_of_birth).
AGE_COLUMNS = frozenset({"age_at_diagnosis", "age_at_death", "year_of_birth"})


def top_conditions(where: str | None) -> list:
    """The conditions every counted row meets: the filter's 'and' terms, those inside
    parentheses too (``a = 1 and (b = 2 and sex = 'F')``)."""
    if not where:
        return []
    found: list = []

    def walk(node) -> None:
        if isinstance(node, expr.BoolOp) and node.op == "and":
            for item in node.items:
                walk(item)
        else:
            found.append(node)

    walk(expr.parse(where))
    return found


def _says_ages(where: str | None) -> bool:
    """A top-level condition of the filter is on an age (which ages is not checked: the
    bounds may be written many ways)."""
    return any(c.table is None and c.name in AGE_COLUMNS
               for item in top_conditions(where)
               if not isinstance(item, expr.BoolOp)  # an "or" restricts nothing
               for c in expr.columns_used(item))


# Ages as recorded, compared with whole numbers: the bounds a filter says can be read.
RECORDED_AGE_COLUMNS = frozenset({"age_at_diagnosis", "age_at_death"})
# Bounds a comparison of an age with n keeps: (lowest, highest; None for no upper bound).
AGE_BOUNDS = {">=": lambda n: (n, None), ">": lambda n: (n + 1, None),
              "<=": lambda n: (0, n), "<": lambda n: (0, n - 1), "=": lambda n: (n, n)}
FLIPPED = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "=": "="}


def _is_recorded_age(node) -> bool:
    return isinstance(node, expr.ColumnRef) and node.table is None and \
        node.name in RECORDED_AGE_COLUMNS


def _whole(node) -> bool:
    return isinstance(node, expr.Literal) and node.type == "int"


def _age_bound(item) -> tuple[int, int | None] | None:
    """The ages one condition keeps, when it compares a recorded age with whole numbers."""
    if isinstance(item, expr.Between) and not item.negated and \
            _is_recorded_age(item.operand) and _whole(item.low) and _whole(item.high):
        return item.low.value, item.high.value
    if isinstance(item, expr.Compare) and item.op in AGE_BOUNDS:
        if _is_recorded_age(item.left) and _whole(item.right):
            return AGE_BOUNDS[item.op](item.right.value)
        if _is_recorded_age(item.right) and _whole(item.left):
            return AGE_BOUNDS[FLIPPED[item.op]](item.left.value)
    return None


def ages_counted(where: str | None) -> tuple[int, int | None] | None:
    """The ages a filter keeps by its top-level comparisons of a recorded age (None when
    it has none): ``age_at_diagnosis between 50 and 74`` keeps (50, 74)."""
    low, high, said = 0, None, False
    for item in top_conditions(where):
        bound = _age_bound(item)
        if bound is not None:
            said = True
            low = max(low, bound[0])
            high = bound[1] if high is None else high if bound[1] is None else \
                min(high, bound[1])
    return (low, high) if said else None


def sexes_kept(where: str | None) -> set[str] | None:
    """The sexes a filter keeps by one of its top-level conditions (``sex = 'F'``, ``sex in
    ('F')``), or None when it does not say."""
    kept: set[str] | None = None
    for item in top_conditions(where):
        found = None
        if isinstance(item, expr.Compare) and item.op == "=":
            for col, lit in ((item.left, item.right), (item.right, item.left)):
                if isinstance(col, expr.ColumnRef) and col.name == "sex" and \
                        col.table is None and isinstance(lit, expr.Literal):
                    found = {lit.value}
        elif isinstance(item, expr.InList) and not item.negated and \
                isinstance(item.operand, expr.ColumnRef) and item.operand.name == "sex" and \
                item.operand.table is None:
            found = {v.value for v in item.values}
        if found is not None:
            kept = found if kept is None else kept & found
    return kept


def _check_same_sexes(num: Count, den: Population, source: str | None) -> None:
    """A population of one sex divides that sex's events only: all tumours over women's
    list published twice the rate (a user test)."""
    if set(den.sex) == {"M", "F"}:
        return
    kept = sexes_kept(num.where)
    if kept is None or not kept <= set(den.sex):
        wanted = " or ".join(f"'{s}'" for s in den.sex)
        raise ValidationError(
            f"the population counts sex {wanted} only, so the numerator must count the "
            f"same people: add \"sex = {wanted.split(' or ')[0]}\" to numerator.where (or the "
            "other sex's events are divided by this population)",
            where=f"{source}: field numerator.where")


def _check_same_ages(defn: Definition, den: Population) -> None:
    """A population of some ages divides those ages' events only. A DSR finds events at
    other ages itself (its value is left missing, with a note); other statistics cannot:
    all tumours over the list aged 50-74 published an inflated rate, and so did tumours
    at 40-89 over it (1,840 per 100,000 for 960, a user test). Ages written as recorded
    ages are compared with the population's; by year of birth they cannot be here."""
    if defn.statistic == "dsr" or (den.min_age == 0 and den.max_age is None):
        return
    ages = _ages_text(den.min_age, den.max_age)
    where = f"{defn.source_file}: field numerator.where"
    counted = ages_counted(defn.numerator.where)
    if counted is not None:
        if counted != (den.min_age, den.max_age):
            raise ValidationError(
                f"the numerator counts ages {_ages_text(*counted)}, the population "
                f"{ages}: count the same ages (or events at other ages are divided by this "
                "population)", where=where)
        return
    if _says_ages(defn.numerator.where):
        return
    column = recorded_age(defn.numerator) or "year_of_birth"
    raise ValidationError(
        f"the population counts ages {ages} only, so the numerator must count the same "
        f"ages: add a condition on {column} to numerator.where (or events at other ages are "
        "divided by this population)", where=where)


def _ages_text(low: int, high: int | None) -> str:
    return f"{low}+" if high is None else f"{low}-{high}"


def _check_suppressed_at_source(defn: Definition) -> None:
    """The publisher's flag, a true/false column of the table both parts count, marks
    its suppressed cells of one data set (as screening coverage by practice is
    published)."""
    where = f"{defn.source_file}: field suppressed_at_source"
    num, den = defn.numerator, defn.denominator
    if isinstance(den, Population) or (isinstance(den, Count) and den.table != num.table):
        raise ValidationError("suppressed_at_source marks rows of one table both parts "
                              f"count; the denominator is not rows of {num.table}", where=where)
    if defn.breakdowns:  # a practice left out is left out of every category: not yet
        raise ValidationError("suppressed_at_source cannot be used with breakdowns yet",
                              where=where)
    if defn.attribution != "practice":
        raise ValidationError("suppressed_at_source is for practice-attributed counts",
                              where=where)
    column = defn.suppressed_at_source
    if count_scope(num, where=where).get(column) != "bool":
        raise ValidationError(f"suppressed_at_source names the publisher's true/false flag, a "
                              f"column of {num.table}; {column!r} is not one", where=where)


def check_semantics(defn: Definition) -> None:
    _check_count(defn, defn.numerator, "numerator")
    den = defn.denominator
    where = f"{defn.source_file}: field denominator"
    if isinstance(den, Count):
        _check_count(defn, den, "denominator")
    if defn.statistic in ("dsr", "isr", "isratio"):
        if not isinstance(den, Population):
            raise ValidationError(f"statistic {defn.statistic} needs a population denominator",
                                  where=where)
        if "age_band" in defn.breakdowns:
            raise ValidationError("a standardised statistic cannot be broken down by "
                                  "age_band", where=f"{defn.source_file}: field breakdowns")
    if defn.population_base == "resident":
        # Accepted and then ignored, it would publish registered-list figures as resident.
        raise ValidationError("a resident population base is not available yet (ONS "
                              "populations are loaded, but no engine attributes events to "
                              "where people live); use 'registered'",
                              where=f"{defn.source_file}: field population_base")
    if defn.comparator.method == "funnel" and defn.statistic != "proportion":
        raise ValidationError(f"funnel comparison is for proportions, not {defn.statistic}; "
                              "use ci_overlap or quantiles",
                              where=f"{defn.source_file}: field comparator.method")
    if defn.statistic == "count" and den is not None:
        raise ValidationError("a count has no denominator; remove it or choose a proportion "
                              "or rate", where=where)
    if defn.statistic == "crude_rate" and den is None:
        raise ValidationError("a crude rate needs a denominator", where=where)
    if defn.attribution == "provider" and isinstance(den, Population):
        raise ValidationError("a registered-population denominator needs practice "
                              "attribution", where=f"{defn.source_file}: field attribution")
    if defn.statistic == "proportion" and not isinstance(den, Count | Population):
        raise ValidationError("a proportion needs a denominator", where=where)
    if defn.statistic == "proportion" and isinstance(den, Count):
        _check_numerator_within(defn.numerator, den, defn.source_file)
    if defn.suppressed_at_source is not None:
        _check_suppressed_at_source(defn)
    if defn.statistic == "mean" and not defn.numerator.value.startswith("mean:"):
        raise ValidationError("statistic mean needs numerator value 'mean:<column>'",
                              where=f"{defn.source_file}: field numerator.value")
    for name, part in (("numerator", defn.numerator), ("denominator", den)):
        if isinstance(part, Count) and part.value.startswith("mean:") and (
                name == "denominator" or defn.statistic != "mean"):
            # Accepted, it was ignored: a crude rate counted rows as if it were not there.
            raise ValidationError(f"value {part.value!r} is for statistic mean's numerator; "
                                  "count 'rows', 'distinct:<column>' or 'sum:<column>'",
                                  where=f"{defn.source_file}: field {name}.value")
    if isinstance(den, Population):
        _check_same_sexes(defn.numerator, den, defn.source_file)
        _check_same_ages(defn, den)
        bad = [b for b in defn.breakdowns if b not in ("sex", "age_band")]
        if bad:
            raise ValidationError(f"breakdowns {bad} are not available for a registered "
                                  "population denominator", where=f"{defn.source_file}: "
                                  "field breakdowns")
    for level in defn.confidence:
        if level not in (CONF_95, CONF_998):
            raise ValidationError(f"confidence {level} must be {CONF_95} or {CONF_998}",
                                  where=f"{defn.source_file}: field confidence")
    if set(defn.confidence) != {CONF_95, CONF_998} or len(defn.confidence) != 2:
        # Accepted, a shorter list would be ignored: both levels are always stored.
        raise ValidationError(f"confidence lists both {CONF_95} and {CONF_998}: every value "
                              "carries both intervals, as Fingertips does; the level a "
                              "comparison uses is comparator.confidence",
                              where=f"{defn.source_file}: field confidence")
