# Entry points: `make run` (set up and build the warehouse from data/articles), `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
CORPUS ?= ../shared/corpus

export TRIALFX_ARTICLES ?= data/articles
export TRIALFX_WAREHOUSE ?= warehouse/trialfx.duckdb
export DAGSTER_HOME ?= $(CURDIR)/.dagster

.PHONY: run test ui score bench install compiled clean

install: $(STAMP)

# The environment is rebuilt only when the dependencies change; requirements.lock pins every
# package so each install resolves the same versions. Bytecode is compiled at install time
# because PYTHONDONTWRITEBYTECODE would otherwise make every start recompile Dagster.
$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install --quiet --python $(PY) --compile-bytecode \
		-c requirements.lock -e '.[test]'
	touch $(STAMP)

# The extractor compiled with mypyc (pipelines/extraction/_compiled.py), about 50 s when its sources
# changed and nothing otherwise. It is used only while it matches the sources; if it cannot be
# built, everything still runs, as plain Python. The project's own bytecode is written here too:
# under PYTHONDONTWRITEBYTECODE every start would otherwise compile its modules from source
# (12 ms of the 0.13 s start-up of `trialfx extract`).
# The regex cache (pipelines/regex_cache.py) is made again only when the extractor's sources, its
# vocabularies or the environment changed; a cache that cannot be made leaves no stamp, so the next
# make tries again.
REGEX_CACHE_STAMP := build/regex-cache/.made
compiled: $(STAMP) $(REGEX_CACHE_STAMP)
	@$(PY) -c "from pipelines.extraction._compiled import main; main()" \
		|| echo "warning: the extractor could not be compiled; it runs as plain Python"
	@$(PY) -m compileall -q pipelines warehouse \
		|| echo "warning: the project's bytecode could not be written; its modules compile at each start"

$(REGEX_CACHE_STAMP): $(STAMP) pipelines/regex_cache.py $(wildcard pipelines/extraction/*.py schemas/*.toml)
	@$(PY) -m pipelines.regex_cache && touch $@ \
		|| echo "warning: the regex cache could not be made; regexes are compiled at start-up"

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

run: $(STAMP) compiled $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/trialfx run --articles $(TRIALFX_ARTICLES) --warehouse $(TRIALFX_WAREHOUSE)

# Tests use throwaway Dagster instances, never the one `make run` and `make ui` share.
test: $(STAMP) compiled
	env -u DAGSTER_HOME $(VENV)/bin/pytest -q

ui: $(STAMP) compiled $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

score: $(STAMP) compiled
	$(VENV)/bin/trialfx extract --quiet $(CORPUS)/articles > $(VENV)/corpus-pred.jsonl
	$(PY) $(CORPUS)/score.py $(CORPUS)/gold.jsonl $(VENV)/corpus-pred.jsonl

# Medians of repeated runs: extraction against its floor, plots, then whole pipeline runs
# (start-up, full, no-op rerun, no-op with --if-changed, +1%, peak memory) at 1k and 10k articles three
# times and at 100k once: about 25 minutes on a 2-core machine. For a quick look:
# make bench BENCH_SIZES=1000 BENCH_ARGS=
BENCH_SIZES ?= 1000 10000
BENCH_ARGS ?= --full
bench: $(STAMP) compiled
	env -u DAGSTER_HOME $(PY) -m tests.bench.bench_extract --articles 1000 --repeats 5
	env -u DAGSTER_HOME $(PY) -m tests.bench.bench_plots --trials 1000
	env -u DAGSTER_HOME $(PY) -m tests.bench.bench_pipeline --sizes $(BENCH_SIZES) --repeats 3 $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .dagster warehouse/*.duckdb* warehouse/reports build/mypyc build/regex-cache
