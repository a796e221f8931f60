-- Tables the pipeline writes directly (raw, core, quarantine). SQL models in sql/ build the rest.
create schema if not exists raw;
create schema if not exists core;
create schema if not exists quarantine;
create schema if not exists staging;
create schema if not exists marts;

create table if not exists raw.articles (
    article_id      varchar primary key,
    source_path     varchar not null,
    source_format   varchar not null,
    title           varchar,
    url             varchar,
    outlet          varchar,
    published_on    date,
    text            varchar not null,
    content_sha256  varchar not null,
    ingested_at     timestamp not null,
    trial_hint      varchar,
    nct_id_hint     varchar
);

create table if not exists raw.ingest_errors (
    source_path  varchar not null,
    error        varchar not null,
    detail       varchar,
    seen_at      timestamp not null
);

create table if not exists core.article_facts (
    article_id       varchar primary key,
    trial_id         varchar,
    acronym          varchar,
    nct_id           varchar,
    condition        varchar,
    phase            varchar,
    design           varchar,
    evidence_rating  varchar
);

create table if not exists core.trials (
    trial_id    varchar primary key,
    acronym     varchar,
    nct_id      varchar,
    condition   varchar,
    n_articles  integer not null
);

create table if not exists core.arms (
    arm_id      varchar primary key,
    article_id  varchar not null,
    trial_id    varchar,
    arm         varchar not null,
    n           integer not null,
    evidence    varchar not null,
    span_start  integer not null,
    span_end    integer not null
);

create table if not exists core.effect_estimates (
    estimate_id           varchar primary key,
    article_id            varchar not null,
    trial_id              varchar,
    endpoint              varchar not null,
    endpoint_text         varchar,
    population            varchar not null,
    subgroup              varchar,
    subgroup_variable     varchar,
    subgroup_level        varchar,
    comparison            varchar,
    experimental_arm      varchar,
    comparator_arm        varchar,
    measure               varchar not null,
    value                 double not null,
    ci_low                double,
    ci_high               double,
    ci_level              double,
    p                     double,
    p_relation            varchar,
    claimed_significance  boolean,
    evidence              varchar not null,
    span_start            integer not null,
    span_end              integer not null
);

create table if not exists core.arm_results (
    result_id      varchar primary key,
    article_id     varchar not null,
    trial_id       varchar,
    endpoint       varchar not null,
    endpoint_text  varchar,
    population     varchar not null,
    subgroup       varchar,
    subgroup_variable varchar,
    subgroup_level varchar,
    arm            varchar,
    statistic      varchar not null,
    value          double not null,
    unit           varchar,
    ci_low         double,
    ci_high        double,
    n              integer,
    evidence       varchar not null,
    span_start     integer not null,
    span_end       integer not null
);

create table if not exists quarantine.rejected_records (
    table_name   varchar not null,
    article_id   varchar,
    check_name   varchar not null,
    reason       varchar not null,
    record       json not null,
    rejected_at  timestamp not null
);

-- Everything the extractor said about an article, as JSON: the cache that makes reruns
-- incremental (an article is extracted again only when its text or the extractor changes).
create table if not exists staging.extracted_records (
    article_id         varchar not null,
    content_sha256     varchar not null,
    extractor_version  varchar not null,
    record_index       integer not null,
    record_type        varchar not null,
    record             json not null
);

create table if not exists staging.extraction_runs (
    article_id         varchar primary key,
    content_sha256     varchar not null,
    extractor_version  varchar not null,
    n_records          integer not null,
    extracted_at       timestamp not null
);

-- Every article file the last ingest saw, with the signature it had when read: a rerun reads
-- only files whose signature changed and keeps the rows of the rest.
create table if not exists staging.source_files (
    source_path     varchar primary key,
    signature       varchar not null,
    reader_version  varchar not null,
    n_articles      integer not null,
    n_duplicates    integer not null,
    errors          json not null,
    read_at         timestamp not null
);

-- What each article's core rows were last built from: an article is built again only when one
-- of these changes.
create table if not exists staging.core_built (
    article_id         varchar primary key,
    content_sha256     varchar not null,
    extractor_version  varchar not null,
    trial_hint         varchar,
    nct_id_hint        varchar,
    core_version       varchar not null,
    built_at           timestamp not null
);

-- What the last build was made from: `trialfx run --if-changed` starts no run when both are unchanged.
create table if not exists staging.run_inputs (
    articles_root       varchar not null,
    folder_fingerprint  varchar not null,
    code_fingerprint    varchar not null
);

-- Keys whose core rows changed, one generation per core build that changed something: SQL
-- models with an incremental_key rebuild only these keys (see warehouse/models.py).
create table if not exists staging.changed_keys (
    generation  bigint not null,
    article_id  varchar not null,
    trial_key   varchar not null
);

-- For each incremental model: what it was built with (SQL and macros, or its input and code)
-- and, for SQL models, the last generation of staging.changed_keys it took in.
create table if not exists staging.model_state (
    relation    varchar primary key,
    digest      varchar not null,
    generation  bigint
);
