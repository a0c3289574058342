# Hardening: bad input, faults and attacks (tests/hardening/). The tests run in
# `make test` with everything else; this target prints their report on its own.
.PHONY: hardening-report

hardening-report: setup $(MODEL) ## Bad inputs, fuzz cases and faults tried, and what was lost (must be nothing)
	$(PY) scripts/hardening_report.py
