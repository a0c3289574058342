# Dependency vulnerability audit (security/, docs/audit.md).
#   make audit          live OSV through pip-audit when reachable, else the databases
#                       shipped in security/advisory-db/; writes docs/audit.md
#   make audit-offline  the shipped databases only: deterministic, part of `make test`

.PHONY: audit audit-offline

audit: $(VENV)/.requirements.sha256 ## Known vulnerabilities in the pinned dependencies; writes docs/audit.md
	$(PY) -m security.audit --mode auto --report docs/audit.md

# `make test` must not change with the day's news or the network, so it checks the
# pins against the shipped databases only; `make audit` is the fuller, live check.
audit-offline: $(VENV)/.requirements.sha256 ## The audit against the shipped advisory databases only
	$(PY) -m security.audit --mode offline

TEST_EXTRA += audit-offline
