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
    append_rows,
    key_frame,
    registered,
    column_schema,
    markdown_table,
    table_description,
    table_spec,
)
from pipelines.assets.extract import EXTRACTED_RECORDS
from pipelines.extraction import trial_id_for
from pipelines.parallel import map_in_batches
from pipelines.resources import WarehouseResource
from schemas.records import CORE_MODELS
from warehouse.models import latest_generation

# Identifiers taken from metadata become trial ids (and file names of plots): only these shapes.
_NCT = re.compile(r"^NCT\d{8}$")
_TRIAL_KEY = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")

QUARANTINE = dg.AssetKey(["quarantine", "rejected_records"])
CORE_KEYS = {table: dg.AssetKey(["core", table]) for table in CORE_MODELS}
ARTICLE_TABLES = [table for table in CORE_MODELS if table != "trials"]
# Bump whenever the core rows built from the same extractor output could change (models, ids,
# fields): every article is then built again.
CORE_VERSION = "1"
# Articles built per chunk: memory holds a few chunks' records, not the corpus's.
CHUNK_ARTICLES = 2500
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
FACT_FIELDS = ["acronym", "nct_id", "condition", "phase", "design", "evidence_rating"]


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


def article_frames(extracted: pd.DataFrame, articles: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Typed frames of the per-article core tables from the cached extractor output, for the
    given articles; ``trial_id`` is left empty, since it depends on every article (see
    ``resolve_trials``)."""
    facts = []
    per_type: dict[str, list[dict]] = {"estimate": [], "arm_result": [], "arm": []}
    for row in extracted.itertuples():
        record = json.loads(row.record)
        if row.record_type == "article_facts":
            facts.append({"article_id": row.article_id, **record})
        elif row.record_type in per_type:
            per_type[row.record_type].append({"article_id": row.article_id, **record})

    facts_df = pd.DataFrame(facts, columns=["article_id", *FACT_FIELDS])
    meta = articles.merge(facts_df, on="article_id", how="left")
    # What the article's metadata says of the trial beats what the extractor read in its text.
    meta["acronym"] = meta["trial_hint"].where(meta["trial_hint"].notna(), meta["acronym"])
    meta["nct_id"] = meta["nct_id_hint"].where(meta["nct_id_hint"].notna(), meta["nct_id"])
    meta = meta.astype(object).where(meta.notna(), None)

    def rows(kind: str, id_column: str, fields: list[str]) -> pd.DataFrame:
        out = [
            {
                id_column: _record_id(record["article_id"], record),
                "article_id": record["article_id"],
                "trial_id": None,
                **{f: record.get(f) for f in fields + EVIDENCE_FIELDS},
            }
            for record in per_type[kind]
        ]
        columns = [id_column, "article_id", "trial_id", *fields, *EVIDENCE_FIELDS]
        return pd.DataFrame(out, columns=columns).drop_duplicates(subset=[id_column])

    article_facts = meta[["article_id", *FACT_FIELDS]].copy()
    article_facts.insert(1, "trial_id", None)
    return {
        "effect_estimates": rows("estimate", "estimate_id", ESTIMATE_FIELDS),
        "arm_results": rows("arm_result", "result_id", ARM_RESULT_FIELDS),
        "arms": rows("arm", "arm_id", ["arm", "n"]),
        "article_facts": article_facts,
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
            description=f"The rows of core.{table} this run wrote, read back from the warehouse, pass its "
            "pandera model (types, vocabularies, row rules); core.trials is checked whole.",
        ),
        dg.AssetCheckSpec(
            "no_rows_quarantined",
            asset=key,
            description=f"No extracted row of core.{table} is in quarantine for failing validation.",
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
    to quarantine.rejected_records with the check that failed. Only articles whose text,
    metadata or extractor output changed are built again; trial ids are then brought up to date
    for every article."""
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    with warehouse.warehouse.connect() as con:
        build = CoreBuild(con, now)
        build.run()
        counts = {table: con.execute(f"select count(*) from core.{table}").fetchone()[0] for table in CORE_MODELS}
        quarantined = dict(
            con.execute("select table_name, count(*) from quarantine.rejected_records group by 1").fetchall()
        )
        samples = {
            table: con.execute(
                "select article_id, check_name, reason from quarantine.rejected_records "
                "where table_name = ? order by all limit 10",
                [f"core.{table}"],
            ).df()
            for table in CORE_MODELS
        }
        stored = build.check_stored()
        by_check = dict(
            con.execute("select check_name, count(*) from quarantine.rejected_records group by 1 order by 1").fetchall()
        )
    context.log.info(f"built {len(build.built)} articles, dropped {len(build.dropped)} (the rest unchanged)")
    for entry in build.rejected:
        context.log.warning(f"quarantined from {entry['table_name']} ({entry['article_id']}): {entry['reason']}")

    for table, key in CORE_KEYS.items():
        in_quarantine = int(quarantined.get(f"core.{table}", 0))
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "dagster/row_count": int(counts[table]),
                "rejected_rows": in_quarantine,
                "articles_built": len(build.built),
            },
        )
        yield _schema_check(key, stored[table])
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name="no_rows_quarantined",
            passed=in_quarantine == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"rejected_rows": in_quarantine, "sample": dg.MetadataValue.md(markdown_table(samples[table]))},
        )
    yield dg.MaterializeResult(
        asset_key=QUARANTINE,
        metadata={
            "dagster/row_count": int(sum(quarantined.values())),
            "by_check": dg.MetadataValue.json({k: int(v) for k, v in by_check.items()}),
        },
    )


class CoreBuild:
    """One incremental build of the core tables in an open warehouse build.

    An article's rows depend on its text hash, its metadata hints and the extractor version;
    staging.core_built records what each article was last built from. Changed articles are
    built again in chunks (bounded memory, pandera on the new rows only), rows of removed
    articles are dropped, and trial ids, which depend on every article, are then resolved again
    over core.article_facts and updated where they differ.
    """

    def __init__(self, con, now: dt.datetime) -> None:
        self.con, self.now = con, now
        self.built: list[str] = []
        self.dropped: list[str] = []
        self.rejected: list[dict] = []

    def run(self) -> None:
        con = self.con
        self.built = [
            article_id
            for (article_id,) in con.execute(
                """
                select a.article_id
                from raw.articles as a
                left join staging.extraction_runs as r using (article_id)
                left join staging.core_built as b
                  on b.article_id = a.article_id
                 and b.content_sha256 = a.content_sha256
                 and b.extractor_version = coalesce(r.extractor_version, '')
                 and b.core_version = ?
                 and b.trial_hint is not distinct from a.trial_hint
                 and b.nct_id_hint is not distinct from a.nct_id_hint
                where b.article_id is null
                order by a.article_id
                """,
                [CORE_VERSION],
            ).fetchall()
        ]
        self.dropped = [
            article_id
            for (article_id,) in con.execute(
                "select article_id from staging.core_built "
                "where article_id not in (select article_id from raw.articles) order by 1"
            ).fetchall()
        ]
        if not self.built and not self.dropped:
            return
        con.execute("begin")
        try:
            before = self._trial_ids()
            first_seen = self._drop(self.built + self.dropped)
            # Chunks are read here, turned into validated frames on every core, and written here.
            built = self._over_built_chunks(self._chunk_inputs, validate_chunks)
            for articles, tables in built:
                self._write_chunk(articles, tables, first_seen)
            self._resolve_trials(first_seen)
            self._record_changes(before, self._trial_ids())
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise

    def _over_built_chunks(self, read, work):
        """``work`` (module level, so a worker can run it) over what ``read`` gives for each chunk of
        CHUNK_ARTICLES built articles: read here, one chunk at a time, worked on every core, in order."""
        ids = self.built
        chunks = (ids[start : start + CHUNK_ARTICLES] for start in range(0, len(ids), CHUNK_ARTICLES))
        return map_in_batches(work, map(read, chunks), batch_size=1, threshold=2)

    def _trial_ids(self) -> dict[str, str | None]:
        return dict(self.con.execute("select article_id, trial_id from core.article_facts").fetchall())

    def _record_changes(self, before: dict[str, str | None], after: dict[str, str | None]) -> None:
        """A new generation of staging.changed_keys: every article built, dropped or moved to
        another trial, with its trial key before and after, for the incremental SQL models."""
        con = self.con
        moved = {a for a in before.keys() | after.keys() if before.get(a) != after.get(a)}
        keys = set()
        for article_id in set(self.built) | set(self.dropped) | moved:
            for trial_of in (before, after):
                if article_id in trial_of:
                    keys.add((article_id, trial_of[article_id] or f"article:{article_id}"))
        latest = latest_generation(con)
        frame = pd.DataFrame(sorted(keys), columns=["article_id", "trial_key"], dtype="string")
        frame.insert(0, "generation", latest + 1)
        append_rows(con, "staging.changed_keys", frame)

    def _drop(self, article_ids: list[str]) -> dict[tuple, dt.datetime]:
        """Delete the rows of these articles; return when each of their quarantined rows was first seen."""
        con = self.con
        with registered(con, "_articles", key_frame("article_id", article_ids)):
            first_seen = {
                tuple(row[:4]): row[4]
                for row in con.execute(
                    "select table_name, article_id, check_name, reason, rejected_at from quarantine.rejected_records "
                    "where article_id in (select article_id from _articles) or table_name = 'core.trials'"
                ).fetchall()
            }
            for table in [*(f"core.{t}" for t in ARTICLE_TABLES), "quarantine.rejected_records", "staging.core_built"]:
                con.execute(f"delete from {table} where article_id in (select article_id from _articles)")
        return first_seen

    def _chunk_inputs(self, article_ids: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The cached extractor output and the metadata of a chunk of articles."""
        con = self.con
        # Chunks are runs of sorted ids, and rows are stored roughly in id order: the range lets
        # DuckDB skip the blocks of other chunks instead of scanning the whole table each time.
        span = [article_ids[0], article_ids[-1]]
        with registered(con, "_chunk", key_frame("article_id", article_ids)):
            return self._chunk_rows(span)

    def _chunk_rows(self, span: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
        con = self.con
        extracted = con.execute(
            """
            select e.article_id, e.record_type, e.record
            from staging.extracted_records as e
            where e.article_id between ? and ? and e.article_id in (select article_id from _chunk)
            order by e.article_id, e.record_index
            """,
            span,
        ).df()
        articles = con.execute(
            """
            select a.article_id, a.title, a.trial_hint, a.nct_id_hint, a.content_sha256,
                   coalesce(r.extractor_version, '') as extractor_version
            from raw.articles as a
            left join staging.extraction_runs as r using (article_id)
            where a.article_id between ? and ? and a.article_id in (select article_id from _chunk)
            order by a.article_id
            """,
            span,
        ).df()
        return extracted, articles

    def _write_chunk(self, articles: pd.DataFrame, tables: dict[str, tuple[pd.DataFrame, list[dict]]],
                     first_seen: dict) -> None:
        for table, (valid, rejected) in tables.items():
            append_rows(self.con, f"core.{table}", valid)
            self._quarantine(rejected, first_seen)
        built = articles[["article_id", "content_sha256", "extractor_version", "trial_hint", "nct_id_hint"]].copy()
        built["core_version"], built["built_at"] = CORE_VERSION, self.now
        append_rows(self.con, "staging.core_built", built)

    def _resolve_trials(self, first_seen: dict) -> None:
        """Trial ids for every article from core.article_facts; update rows whose id changed."""
        con = self.con
        facts = con.execute(
            "select article_id, acronym, nct_id, condition from core.article_facts order by article_id"
        ).df()
        trial_of, trials = resolve_trials(facts.astype(object).where(facts.notna(), None))
        mapping = key_frame("article_id", trial_of).assign(trial_id=pd.Series(list(trial_of.values()), dtype="string"))
        with registered(con, "_trial_of", mapping):
            for table in ARTICLE_TABLES:
                con.execute(
                    f"""
                    update core.{table} as t set trial_id = m.trial_id
                    from _trial_of as m
                    where t.article_id = m.article_id and t.trial_id is distinct from m.trial_id
                    """
                )
        valid, rejected = split_valid("trials", CORE_MODELS["trials"], trials)
        con.execute("delete from core.trials")
        append_rows(con, "core.trials", valid)
        con.execute("delete from quarantine.rejected_records where table_name = 'core.trials'")
        self._quarantine(rejected, first_seen)

    def _quarantine(self, rejected: list[dict], first_seen: dict) -> None:
        rows = [
            {**entry, "rejected_at": first_seen.get(
                (entry["table_name"], entry["article_id"], entry["check_name"], entry["reason"]), self.now)}
            for entry in rejected
        ]
        self.rejected += rejected
        append_rows(self.con, "quarantine.rejected_records", pd.DataFrame(rows, columns=QUARANTINE_COLUMNS))

    def check_stored(self) -> dict[str, "StoredCheck"]:
        """Read back the rows this build wrote (core.trials whole) and validate them as stored: catches
        types the database changed on the way. Chunk by chunk and on every core, like the build, so a
        full build never holds the whole of core in memory."""
        con = self.con
        checks = {table: StoredCheck() for table in CORE_MODELS}
        for chunk in self._over_built_chunks(self._stored_rows, validate_stored):
            for table, (rows, failures) in chunk.items():
                checks[table].add(rows, failures)
        (trials,) = validate_stored([{"trials": con.execute("select * from core.trials").df()}])
        checks["trials"].add(*trials["trials"])
        return checks

    def _stored_rows(self, article_ids: list[str]) -> dict[str, pd.DataFrame]:
        with registered(self.con, "_built", key_frame("article_id", article_ids)):
            return {
                table: self.con.execute(
                    f"select * from core.{table} where article_id in (select article_id from _built)"
                ).df()
                for table in ARTICLE_TABLES
            }


# Failure cases kept per table for the check's metadata; the count covers all of them.
_FAILURES_KEPT = 20


class StoredCheck:
    """What validating one core table as stored found: rows checked, failures counted, the first few kept."""

    def __init__(self) -> None:
        self.rows, self.n_failures, self.failures = 0, 0, pd.DataFrame()

    def add(self, rows: int, failures: pd.DataFrame | None) -> None:
        self.rows += rows
        if failures is not None and len(failures):
            self.n_failures += len(failures)
            if len(self.failures) < _FAILURES_KEPT:
                kept = pd.concat([self.failures, failures], ignore_index=True) if len(self.failures) else failures
                self.failures = kept.head(_FAILURES_KEPT)


def validate_stored(chunks: list[dict[str, pd.DataFrame]]) -> list[dict[str, tuple[int, pd.DataFrame | None]]]:
    """For each chunk of stored rows (table -> frame): per table, the rows checked and pandera's
    failure cases (None when every row passes)."""
    out = []
    for tables in chunks:
        found = {}
        for table, frame in tables.items():
            try:
                CORE_MODELS[table].validate(frame, lazy=True)
                found[table] = (len(frame), None)
            except pa.errors.SchemaErrors as exc:
                found[table] = (len(frame), exc.failure_cases.reset_index(drop=True))
        out.append(found)
    return out


def validate_chunks(
    chunks: list[tuple[pd.DataFrame, pd.DataFrame]],
) -> list[tuple[pd.DataFrame, dict[str, tuple[pd.DataFrame, list[dict]]]]]:
    """For each chunk of (extracted records, article metadata): the articles, and per table the
    rows that pass its pandera model and the quarantine entries of those that fail."""
    out = []
    for extracted, articles in chunks:
        frames = article_frames(extracted, articles[["article_id", "title", "trial_hint", "nct_id_hint"]])
        out.append((articles, {table: split_valid(table, CORE_MODELS[table], frames[table]) for table in ARTICLE_TABLES}))
    return out



def _schema_check(key: dg.AssetKey, stored: StoredCheck) -> dg.AssetCheckResult:
    """The read-back validation of one table as a check on its asset."""
    metadata: dict = {"rows": stored.rows}
    if stored.n_failures:
        metadata["failure_cases"] = stored.n_failures
        metadata["failures"] = dg.MetadataValue.md(markdown_table(stored.failures, limit=_FAILURES_KEPT))
    return dg.AssetCheckResult(
        asset_key=key, check_name="matches_pandera_schema", passed=not stored.n_failures, metadata=metadata
    )
