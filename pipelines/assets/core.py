"""Core assets: extracted records as typed, pandera-validated tables; failing rows to quarantine."""

import datetime as dt
import hashlib
import json
import re
from collections import Counter

import dagster as dg
import pandas as pd
import pandera.pandas as pa

from pipelines.assets.common import (
    WAREHOUSE_POOL,
    column_schema,
    keep_first_seen,
    markdown_table,
    replace_rows,
    table_description,
    table_spec,
)
from pipelines.assets.extract import EXTRACTED_RECORDS
from pipelines.extraction import trial_id_for
from pipelines.resources import WarehouseResource
from schemas.records import CORE_MODELS

# Identifiers taken from metadata become trial ids (and file names of plots): only these shapes.
_NCT = re.compile(r"^NCT\d{8}$")
_TRIAL_KEY = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")

QUARANTINE = dg.AssetKey(["quarantine", "rejected_records"])
CORE_KEYS = {table: dg.AssetKey(["core", table]) for table in CORE_MODELS}
QUARANTINE_COLUMNS = ["table_name", "article_id", "check_name", "reason", "record", "rejected_at"]

ESTIMATE_FIELDS = [
    "endpoint", "endpoint_text", "population", "subgroup", "subgroup_variable", "subgroup_level",
    "comparison", "experimental_arm", "comparator_arm", "measure", "value", "ci_low", "ci_high",
    "ci_level", "p", "p_relation", "claimed_significance",
]
ARM_RESULT_FIELDS = [
    "endpoint", "endpoint_text", "population", "subgroup", "subgroup_variable", "subgroup_level",
    "arm", "statistic", "value", "unit", "ci_low", "ci_high", "n",
]
EVIDENCE_FIELDS = ["evidence", "span_start", "span_end"]


def _record_id(article_id: str, record: dict) -> str:
    """Stable id of a record: the same figure at the same place gets the same id on every run."""
    key = json.dumps(
        [article_id, record.get("type"), record.get("span_start"), record.get("span_end"),
         record.get("value"), record.get("ci_low"), record.get("ci_high"), record.get("arm"),
         record.get("n"), record.get("subgroup"), record.get("statistic"), record.get("measure")],
        default=str,
    )
    return hashlib.sha1(key.encode()).hexdigest()[:16]


class _TrialIdentity:
    """Articles naming the same acronym or NCT number belong to one trial (union-find)."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def _find(self, node: str) -> str:
        self.parent.setdefault(node, node)
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def link(self, nodes: list[str]) -> None:
        roots = sorted({self._find(n) for n in nodes})
        for root in roots[1:]:
            self.parent[root] = roots[0]

    def root(self, node: str) -> str:
        return self._find(node)


def resolve_trials(articles: pd.DataFrame) -> tuple[dict[str, str | None], pd.DataFrame]:
    """Map article_id → trial_id and build core.trials from per-article acronym/NCT/condition."""
    identity = _TrialIdentity()
    nodes_of: dict[str, list[str]] = {}
    for row in articles.itertuples():
        nodes = []
        key = trial_id_for(row.acronym, None) if row.acronym else None
        if key and _TRIAL_KEY.match(key):
            nodes.append("a:" + key)
        nct = (row.nct_id or "").strip().upper()
        if _NCT.match(nct):
            nodes.append("n:" + nct)
        nodes_of[row.article_id] = nodes
        if nodes:
            identity.link(nodes)

    # Name each trial after an acronym key when one is known (readable), else its NCT number.
    members: dict[str, set[str]] = {}
    for nodes in nodes_of.values():
        for node in nodes:
            members.setdefault(identity.root(node), set()).add(node)
    trial_name = {
        root: min((n for n in group if n.startswith("a:")), default=min(group))[2:]
        for root, group in members.items()
    }
    trial_of = {
        article_id: (trial_name[identity.root(nodes[0])] if nodes else None)
        for article_id, nodes in nodes_of.items()
    }

    rows = []
    by_trial: dict[str, list] = {}
    for row in articles.itertuples():
        if trial_of[row.article_id]:
            by_trial.setdefault(trial_of[row.article_id], []).append(row)
    for trial_id, group in sorted(by_trial.items()):
        rows.append(
            {
                "trial_id": trial_id,
                "acronym": _most_common(r.acronym for r in group),
                "nct_id": _most_common(
                    r.nct_id.strip().upper() for r in group if r.nct_id and _NCT.match(r.nct_id.strip().upper())
                ),
                "condition": _most_common(r.condition for r in group),
                "n_articles": len(group),
            }
        )
    return trial_of, pd.DataFrame(rows, columns=list(CORE_MODELS["trials"].to_schema().columns))


def _most_common(values) -> str | None:
    counts = Counter(v for v in values if v)
    return min(counts, key=lambda v: (-counts[v], v)) if counts else None


def build_frames(extracted: pd.DataFrame, articles: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Typed frames for every core table from the cached extractor output."""
    facts = []
    per_type: dict[str, list[dict]] = {"estimate": [], "arm_result": [], "arm": []}
    for row in extracted.itertuples():
        record = json.loads(row.record)
        if row.record_type == "article_facts":
            facts.append({"article_id": row.article_id, **record})
        elif row.record_type in per_type:
            per_type[row.record_type].append({"article_id": row.article_id, **record})

    facts_df = pd.DataFrame(facts, columns=["article_id", "acronym", "nct_id", "condition", "phase",
                                            "design", "evidence_rating"])
    meta = articles.merge(facts_df, on="article_id", how="left")
    meta["acronym"] = meta["trial_hint"].where(meta["trial_hint"].notna(), meta["acronym"])
    meta["nct_id"] = meta["nct_id_hint"].where(meta["nct_id_hint"].notna(), meta["nct_id"])
    meta = meta.astype(object).where(meta.notna(), None)
    trial_of, trials = resolve_trials(meta)

    def rows(kind: str, id_column: str, fields: list[str]) -> pd.DataFrame:
        out = []
        for record in per_type[kind]:
            article_id = record["article_id"]
            out.append(
                {
                    id_column: _record_id(article_id, record),
                    "article_id": article_id,
                    "trial_id": trial_of.get(article_id),
                    **{f: record.get(f) for f in fields + EVIDENCE_FIELDS},
                }
            )
        columns = [id_column, "article_id", "trial_id", *fields, *EVIDENCE_FIELDS]
        return pd.DataFrame(out, columns=columns).drop_duplicates(subset=[id_column])

    article_facts = meta[["article_id", "acronym", "nct_id", "condition", "phase", "design",
                          "evidence_rating"]].copy()
    article_facts.insert(1, "trial_id", article_facts["article_id"].map(trial_of))
    return {
        "effect_estimates": rows("estimate", "estimate_id", ESTIMATE_FIELDS),
        "arm_results": rows("arm_result", "result_id", ARM_RESULT_FIELDS),
        "arms": rows("arm", "arm_id", ["arm", "n"]),
        "article_facts": article_facts,
        "trials": trials,
    }


def split_valid(
    table: str, model: type[pa.DataFrameModel], frame: pd.DataFrame
) -> tuple[pd.DataFrame, list[dict]]:
    """Validate lazily; return the valid rows and one quarantine entry per failing row."""
    try:
        return model.validate(frame, lazy=True), []
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    row_cases = cases[cases["index"].notna()]
    if len(row_cases) < len(cases):
        # A failure not tied to a row (a missing column, a wrong dtype) is a bug, not bad input.
        raise ValueError(f"core.{table}: frame does not fit its schema:\n{cases[cases['index'].isna()]}")
    rejected = []
    for index, group in row_cases.groupby("index"):
        checks = sorted(set(group["check"].astype(str)))
        reason = "; ".join(sorted({_describe_failure(c) for c in group.itertuples()}))
        rejected.append(
            {
                "table_name": f"core.{table}",
                "article_id": frame.loc[index, "article_id"] if "article_id" in frame else None,
                "check_name": ",".join(checks),
                "reason": reason,
                "record": frame.loc[index].to_json(default_handler=str),
            }
        )
    valid = frame.drop(index=row_cases["index"].unique())
    return model.validate(valid, lazy=True), rejected


def _describe_failure(case) -> str:
    # A row rule (dataframe check) fails on every column of the row; name the rule once.
    if case.schema_context == "DataFrameSchema":
        return f"row rule {case.check} failed"
    return f"{case.check} failed on {case.column} = {case.failure_case}"


_CHECKS = [
    spec
    for table, key in CORE_KEYS.items()
    for spec in (
        dg.AssetCheckSpec(
            "matches_pandera_schema",
            asset=key,
            blocking=True,
            description=f"core.{table} as stored passes its pandera model (types, vocabularies, row rules).",
        ),
        dg.AssetCheckSpec(
            "no_rows_quarantined",
            asset=key,
            description=f"No extracted row of core.{table} failed validation (failures are in quarantine).",
        ),
    )
]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            description=table_description(f"core.{table}"),
            group_name="core",
            kinds={"pandas", "duckdb"},
            deps=[EXTRACTED_RECORDS, dg.AssetKey(["raw", "articles"])],
            metadata={"dagster/column_schema": column_schema(CORE_MODELS[table])},
        )
        for table, key in CORE_KEYS.items()
    ]
    + [
        table_spec("quarantine.rejected_records", "core", {"pandas", "duckdb"}, deps=[EXTRACTED_RECORDS])
    ],
    check_specs=_CHECKS,
    pool=WAREHOUSE_POOL,
)
def core_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Validate the extracted records with pandera and write the core tables; rows that fail go
    to quarantine.rejected_records with the check that failed."""
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    with warehouse.warehouse.connect() as con:
        extracted = con.execute(
            """
            select e.article_id, e.record_type, e.record
            from staging.extracted_records as e
            join raw.articles as a using (article_id)
            order by e.article_id, e.record_index
            """
        ).df()
        articles = con.execute(
            "select article_id, title, trial_hint, nct_id_hint from raw.articles order by article_id"
        ).df()
        frames = build_frames(extracted, articles)

        quarantined: list[dict] = []
        written: dict[str, pd.DataFrame] = {}
        rejected_by_table: dict[str, int] = {}
        for table, model in CORE_MODELS.items():
            valid, rejected = split_valid(table, model, frames[table])
            for entry in rejected:
                context.log.warning(f"quarantined from core.{table} ({entry['article_id']}): {entry['reason']}")
            quarantined += rejected
            rejected_by_table[table] = len(rejected)
            replace_rows(con, f"core.{table}", valid)
            written[table] = con.execute(f"select * from core.{table}").df()

        quarantine_df = keep_first_seen(
            con,
            "quarantine.rejected_records",
            pd.DataFrame([{**q, "rejected_at": now} for q in quarantined], columns=QUARANTINE_COLUMNS),
            ["table_name", "article_id", "check_name", "reason"],
            "rejected_at",
        )
        replace_rows(con, "quarantine.rejected_records", quarantine_df)

    for table, key in CORE_KEYS.items():
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "dagster/row_count": len(written[table]),
                "rejected_rows": rejected_by_table[table],
            },
        )
        yield _schema_check(table, key, written[table])
        sample = quarantine_df[quarantine_df["table_name"] == f"core.{table}"]
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name="no_rows_quarantined",
            passed=rejected_by_table[table] == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "rejected_rows": rejected_by_table[table],
                "sample": dg.MetadataValue.md(markdown_table(sample[["article_id", "check_name", "reason"]])),
            },
        )
    yield dg.MaterializeResult(
        asset_key=QUARANTINE,
        metadata={
            "dagster/row_count": len(quarantine_df),
            "by_check": dg.MetadataValue.json(quarantine_df["check_name"].value_counts().to_dict()),
        },
    )


def _schema_check(table: str, key: dg.AssetKey, stored: pd.DataFrame) -> dg.AssetCheckResult:
    """Read back what was written and validate it: catches types the database changed on the way."""
    try:
        CORE_MODELS[table].validate(stored, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return dg.AssetCheckResult(
            asset_key=key,
            check_name="matches_pandera_schema",
            passed=False,
            metadata={"failures": dg.MetadataValue.md(markdown_table(exc.failure_cases))},
        )
    return dg.AssetCheckResult(
        asset_key=key, check_name="matches_pandera_schema", passed=True, metadata={"rows": len(stored)}
    )
