# The two commands that matter: `make run` (set up and start everything) and
# `make test` (set up and run every check). Everything else is a step of those.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/kyphoplasty.tar.gz
SPACY_MODEL := build/spacy/en_kyphoplasty
export PYTHONPATH := $(CURDIR)
# Quieter TensorFlow and SQLAlchemy start-up noise; errors still show.
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export SANIC_HOST ?= 127.0.0.1
# Nothing may be fetched from a model hub; the MiniLM weights are local (build/minilm).
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

# Each part of the product (widget, console, production, hardening) keeps its own
# targets in mk/<part>.mk. A part adds its set-up steps to SETUP_EXTRA and its
# checks to TEST_EXTRA, so `make setup` and `make test` cover everything.
SETUP_EXTRA :=
TEST_EXTRA :=
-include $(sort $(wildcard mk/*.mk))

TRAIN_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null) \
	$(wildcard nlp/*.py) $(SPACY_MODEL)/meta.json

.DEFAULT_GOAL := help
.PHONY: help setup spacy train run run-actions chat validate test test-unit test-stories \
	nlu-gate evaluate compare content-report clean

help: ## Show this help
	@echo "Balloon kyphoplasty patient assistant"
	@echo
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-15s %s\n", $$1, $$2}'

$(VENV)/.requirements.sha256: requirements.txt requirements-dev.txt constraints.txt scripts/setup.sh
	@bash scripts/setup.sh
	@touch $@

# Order-only on the venv: a new test tool must not force a spaCy rebuild and full retrain.
$(SPACY_MODEL)/meta.json: nlp/spacy_config.cfg nlp/entity_patterns.jsonl | $(VENV)/.requirements.sha256
	@echo "==> Assembling the spaCy pipeline into $(SPACY_MODEL)"
	@$(PY) -m spacy assemble nlp/spacy_config.cfg $(SPACY_MODEL) >/dev/null
	@touch $@

setup: $(VENV)/.requirements.sha256 $(SPACY_MODEL)/meta.json $(SETUP_EXTRA) ## Create .venv, install pins, build the spaCy pipeline

spacy: $(SPACY_MODEL)/meta.json ## Build the spaCy pipeline from nlp/spacy_config.cfg

# Retrain only when data, config or the spaCy pipeline changed. Rasa's own cache
# cannot see a rebuilt spaCy pipeline, so that case forces a full retrain.
$(MODEL): $(TRAIN_INPUTS) | setup
	@echo "==> Training the model (a few minutes on 2 cores)"
	@force=""; [ -f $(MODEL) ] && [ $(SPACY_MODEL)/meta.json -nt $(MODEL) ] && force="--force"; \
		$(RASA) train --fixed-model-name kyphoplasty --out models $$force
	@touch $@

train: $(MODEL) ## Train the model if data or config changed

run: setup $(MODEL) ## Set up what is missing, then start the assistant
	@bash scripts/run.sh

run-actions: setup ## Start only the action server
	$(PY) -m actions.server

chat: setup $(MODEL) ## Chat in the terminal (rasa shell; starts an action server if none is running)
	@bash scripts/chat.sh

validate: setup ## rasa data validate, with warnings treated as failures
	@$(PY) scripts/validate.py

# The parts' quick checks (audit, deploy files) run before pytest: they fail fast,
# and they fetch the validators that tests/test_infra_deploy.py also uses.
test: setup $(MODEL) ## Set up what is missing, then run every check
	@$(MAKE) --no-print-directory validate $(TEST_EXTRA) test-unit test-stories nlu-gate

test-unit: setup $(MODEL) ## pytest (unit, action server, end-to-end over REST)
	$(PY) -m pytest

test-stories: setup $(MODEL) ## rasa test on the test stories; a prediction error fails
	$(RASA) test core --model $(MODEL) --stories tests/test_stories.yml \
		--fail-on-prediction-errors --out results/stories

nlu-gate: setup $(MODEL) ## Intent macro-F1 on the held-out tests/nlu set (fails below 0.92)
	$(PY) scripts/nlu_eval.py --model $(MODEL)

evaluate: setup $(MODEL) ## rasa test nlu, held-out and cross-validation; plots under results/, summary in docs/nlu-evaluation.md
	$(PY) scripts/evaluate.py

compare: setup ## Our pipeline against Rasa's default on the held-out set (docs/pipeline-comparison.md)
	$(PY) scripts/compare_pipelines.py

content-report: setup ## Write docs/content-review.md (answers, quotes, readability, sign-off)
	$(PY) scripts/content_report.py

clean: ## Remove trained models, build output and results (keeps .venv and var/)
	rm -rf models/*.tar.gz build results .rasa
