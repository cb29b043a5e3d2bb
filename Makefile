# zoopark: `make serve` and `make test` are all a fresh machine needs.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
ZK_JAR  := /usr/share/java/zookeeper.jar
PYTEST_ARGS ?=
CHARTJS := 4.5.1
VENDORED := src/zoopark/admin/static/chart.umd.min.js

.PHONY: serve test venv zookeeper test-packages lint unit bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP) $(VENDORED)

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
	@$(BIN)/python -c "import gssapi, kerberos" 2>/dev/null || $(BIN)/pip install -q -e '.[test,kerberos]'

serve: $(STAMP) $(VENDORED)
	mkdir -p data
	$(BIN)/zoopark server conf/zoo.cfg

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests bench examples

test: $(STAMP) $(VENDORED) zookeeper test-packages lint
	ZOOPARK_REQUIRE_REFERENCES=1 $(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

bench: $(STAMP) zookeeper
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) data .pytest_cache build $(VENDORED)
