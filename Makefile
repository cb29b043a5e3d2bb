# zoopark: `make serve` and `make test` are all a fresh machine needs.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
ZK_JAR  := /usr/share/java/zookeeper.jar
PYTEST_ARGS ?=
CHARTJS := 4.5.1
VENDORED := src/zoopark/admin/static/chart.umd.min.js

.PHONY: serve test venv compiled zookeeper test-packages lint unit bench clean

# The package, editable; its compiled core is built by the next rule (ZOOPARK_PURE=1: not twice).
$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	ZOOPARK_PURE=1 $(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

# The hot-path core compiled with mypyc (setup.py; the modules are listed in src/zoopark/_build.py), in place
# beside the sources and rebuilt when one changes. If it cannot be built, the pure source runs (a process
# also runs the pure source while any compiled module is older than its source, so a stale build never runs).
CORE_SOURCES := $(filter-out %/__init__.py %/schema.py,$(wildcard $(addprefix src/zoopark/core/,jute/*.py tree/*.py session/*.py server/*.py zab/*.py member/*.py)))
# setup.py writes the manifest of what it compiled only after a build that succeeded (so a failed or
# interrupted build is tried again next time).
COMPILED := src/zoopark/native.sources
$(COMPILED): $(STAMP) setup.py src/zoopark/_build.py $(CORE_SOURCES)
	$(BIN)/python setup.py -q build_ext --inplace 2>&1 | grep -v -e '^copying ' -e BetaConfiguration -e 'warnings.warn' || true

# Bytecode for every module, written once here: a process started with PYTHONDONTWRITEBYTECODE=1 (as test and
# bench harnesses often are) still reads it, where it would otherwise compile each import from source at every
# start (0.1 s of a server's start-up). A .pyc that does not match its source is ignored, so none is ever
# stale; compileall rewrites only those (a fraction of a second when all are current).
compiled: $(COMPILED)
	@$(BIN)/python -m compileall -q src/zoopark >/dev/null

venv: compiled $(VENDORED)

# The dashboard's chart library, from the npm registry, into the package (not committed).
$(VENDORED):
	rm -rf build/npm && mkdir -p build/npm
	cd build/npm && npm pack chart.js@$(CHARTJS) --silent >/dev/null && tar xzf chart.js-$(CHARTJS).tgz
	cp build/npm/package/dist/chart.umd.min.js $@

# Apache ZooKeeper 3.8 (server jars, zkCli.sh, zkServer.sh) and its C client (cli_mt, load_gen): the
# reference every differential test compares against. Curator's packages pull in the jar but not the
# scripts or the C client, so test for each.
zookeeper:
	@if [ ! -f $(ZK_JAR) ] || [ ! -x /usr/share/zookeeper/bin/zkCli.sh ] || [ ! -x /usr/lib/zookeeper/bin/cli_mt ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q zookeeper zookeeper-bin; \
	fi

# Headless Chromium and its WebDriver (the dashboard test), Curator's service discovery and a JDK (the
# Curator interop test), iptables (the partition tests cut links inside their own network namespaces), from
# Debian's packages.
test-packages: $(STAMP)
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null \
	    || [ ! -f /usr/share/java/curator-x-discovery.jar ] || ! command -v javac >/dev/null \
	    || ! command -v krb5kdc >/dev/null || ! command -v kadmin.local >/dev/null || ! command -v kinit >/dev/null \
	    || ! command -v krb5-config >/dev/null || ! command -v iptables >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium \
	    chromium-driver libcurator-discovery-java default-jdk-headless krb5-kdc krb5-admin-server krb5-user \
	    libkrb5-dev iptables; \
	fi
	@$(BIN)/python -c "import gssapi, kerberos" 2>/dev/null || ZOOPARK_PURE=1 $(BIN)/pip install -q -e '.[test,kerberos]'

serve: compiled $(VENDORED)
	mkdir -p data
	$(BIN)/zoopark server conf/zoo.cfg

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests bench examples

# Everything on the compiled core; then the pure core's own tests and the seeded simulators again on the pure
# source (ZOOPARK_PURE=1), so both builds keep the same behaviour.
PURE_TESTS ?= tests/test_build.py tests/test_typing.py tests/test_jutegen.py tests/test_codec_golden.py \
	tests/test_core_semantics.py tests/test_follower_core.py tests/test_fuzz.py tests/test_quotas_core.py \
	tests/test_sasl_core.py tests/test_quorum_sasl_core.py tests/test_quorum_wire.py tests/test_snapshot_format.py \
	tests/test_zab_scripts.py tests/test_zab_sim.py tests/test_member_sim.py tests/test_role_fence.py \
	tests/test_election.py tests/test_verifier.py tests/test_reconfig_core.py tests/test_native_codecs.py \
	tests/test_acl_vector_decode.py
test: compiled $(VENDORED) zookeeper test-packages lint
	ZOOPARK_REQUIRE_REFERENCES=1 ZOOPARK_REQUIRE_COMPILED=1 $(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)
	ZOOPARK_REQUIRE_REFERENCES=1 ZOOPARK_PURE=1 $(BIN)/python -m pytest -n 2 --dist loadgroup $(PURE_TESTS)

bench: compiled zookeeper
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) data .pytest_cache build $(VENDORED)
	find src -name '*.so' -delete
