# zoopark: `make serve` and `make test` are all a fresh machine needs.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
ZK_JAR  := /usr/share/java/zookeeper.jar
PYTEST_ARGS ?=

.PHONY: serve test venv zookeeper lint unit bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# Apache ZooKeeper 3.8 (the reference the tests compare against) from Debian's packages.
zookeeper:
	@if [ ! -f $(ZK_JAR) ] || [ ! -x /usr/lib/zookeeper/bin/cli_mt ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q zookeeper zookeeper-bin; \
	fi

serve: $(STAMP)
	mkdir -p data
	$(BIN)/zoopark server conf/zoo.cfg

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests bench

test: $(STAMP) zookeeper lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

bench: $(STAMP) zookeeper
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) data .pytest_cache
