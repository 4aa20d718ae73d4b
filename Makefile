# Omnicase: `make run` brings the suite up on the embedded defaults, `make test` passes.
# Every target installs what it needs first; a second `make install` is a no-op.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVICES := case-core intake-email intake-web routing sla-engine knowledge reporting collaboration gateway
# Services whose tests need more than the kit's dev tools (their `test` extra). Tests that
# run another service's app as a real peer (case-core calls routing and intake-web) find it
# installed here with every service.
TEST_EXTRAS := intake-web gateway
PYPROJECTS := services/pyproject.toml devtools/pyproject.toml $(foreach s,$(SERVICES),$(s)/pyproject.toml)
STAMP := $(VENV)/.installed
# The tests wait far more than they compute (real servers, polls, timeouts: a serial run keeps a
# 2-core host about a sixth busy), so TEST_WORKERS=4, each worker with its own PostgreSQL and
# broker, takes a 2-core machine's pytest from 34 minutes to 16-17 (clean-clone CI runs). A test
# file runs whole on one worker (its module fixtures are set up once). Serial by default for now:
# one of three four-worker runs failed on two timeouts of load (a readiness probe's database
# check, an e2e request), which must be made to wait on the work, not on the clock, first.
TEST_WORKERS ?= 0
PYTEST_ARGS ?= $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)
# Debian packages the tests drive for real: a browser for the web forms, an IMAP server
# for mailbox polling, openssl for the test certificates (STARTTLS, IMAPS).
SYSTEM_PACKAGES := chromium dovecot-imapd openssl

# The TypeScript client (clients/typescript): its npm packages, pinned by its package-lock.json.
TS_CLIENT := clients/typescript
TS_STAMP := $(TS_CLIENT)/node_modules/.installed
# axe-core, which the browser tests inject to scan customer-facing pages (tests/a11y), pinned by its lock file.
A11Y := tests/a11y
A11Y_STAMP := $(A11Y)/node_modules/.installed

.PHONY: install system-packages ts-client-install a11y-install ts-client run demo contract test lint bench lock clean

install: $(STAMP)

$(STAMP): constraints.txt $(PYPROJECTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt \
		-e ./services -e './devtools[dev]' $(foreach s,$(SERVICES),-e './$(s)$(if $(filter $(s),$(TEST_EXTRAS)),[test])')
	@touch $@

# Installs only what is missing; needs root (or sudo) and Debian's apt on a machine without them.
system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# Node.js and npm come with the machine (or Debian's nodejs and npm where they are missing);
# `npm ci` installs exactly the lock file, again only when package.json or the lock changes.
ts-client-install: $(TS_STAMP)

$(TS_STAMP): $(TS_CLIENT)/package.json $(TS_CLIENT)/package-lock.json
	@command -v npm >/dev/null || { \
		echo "installing Debian packages: nodejs npm"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; \
	}
	cd $(TS_CLIENT) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The same way for axe-core: `npm ci` of tests/a11y's lock file, again only when it changes.
a11y-install: $(A11Y_STAMP)

# After the client's install, which brings npm where the machine has none.
$(A11Y_STAMP): $(A11Y)/package.json $(A11Y)/package-lock.json $(TS_STAMP)
	cd $(A11Y) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Regenerate the client's types from the merged OpenAPI document (no running suite needed) and build it.
ts-client: install ts-client-install
	$(BIN)/omnicase openapi --output $(TS_CLIENT)/build/openapi.json
	cd $(TS_CLIENT) && npm run --silent generate && npm run --silent build

run: install
	$(BIN)/omnicase up

# The API contract at length: every check schemathesis has, 40 examples an operation, then ten
# minutes of the stateful phase along the links (make test runs the same with 4 and two minutes).
contract: install
	OMNICASE_CONTRACT_EXAMPLES=40 OMNICASE_CONTRACT_STATEFUL_SECONDS=600 $(BIN)/pytest tests/test_e2e_contract.py

# A working demo desk on the suite `make run` started (in another terminal); twice changes nothing.
demo: install
	$(BIN)/omnicase demo

test: install system-packages deploy-tools ts-client-install a11y-install
	$(MAKE) --no-print-directory deploy-test
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# One run per folder: each folder's tests/conftest.py is a module named `conftest`.
	$(BIN)/mypy services/src devtools/src $(foreach s,$(SERVICES),$(s)/src)
	@for d in services devtools $(SERVICES); do $(BIN)/mypy $$d/tests || exit 1; done
	$(BIN)/mypy tests

bench: install
	$(BIN)/omnicase bench

# Re-pin every third-party dependency to what is installed now.
lock: install
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) $(DEPLOY_VENV) .mypy_cache .ruff_cache .pytest_cache $(TS_CLIENT)/node_modules $(A11Y)/node_modules $(TS_CLIENT)/dist $(TS_CLIENT)/build

# deploy-tools, deploy-test, deploy-render (the manifests' own toolchain and tests)
include deploy/deploy.mk
