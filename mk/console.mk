# The staff console (console/, docs/console.md).
#   make console          run only the console (http://127.0.0.1:8081)
#   make staff-user       add a staff account (asks for name, role and password)
#   make console-bench    time the pages on 10,000 conversations (docs/console-benchmark.md)
# `make run` starts the console with everything else (scripts/run.sh); its pytest
# tests are under tests/console/ and run in `make test`.

CONSOLE_HOST ?= 127.0.0.1
CONSOLE_PORT ?= 8081

.PHONY: console staff-user console-bench console-purge console-audit

console: setup ## Run only the staff console (CONSOLE_HOST, CONSOLE_PORT)
	$(PY) -m console serve --host $(CONSOLE_HOST) --port $(CONSOLE_PORT)

staff-user: setup ## Add a staff account: make staff-user NAME=jo ROLE=coordinator
	@name="$(NAME)"; role="$(ROLE)"; \
	if [ -z "$$name" ]; then read -r -p "User name: " name; fi; \
	if [ -z "$$role" ]; then read -r -p "Role (reviewer or coordinator): " role; fi; \
	$(PY) -m console users add "$$name" --role "$$role"

console-purge: setup ## Delete conversations past CONSOLE_RETENTION_DAYS (default 365)
	$(PY) -m console purge

console-audit: setup ## Check the audit log's hash chain
	$(PY) -m console audit verify

console-bench: setup ## Console pages on 10,000 conversations / 200,000 events (docs/console-benchmark.md)
	$(PY) bench/console_bench.py
