# The website widget and demo page (web/): npm packages, Chromium for the browser
# tests, and `make web` to serve the page alone. `make run` starts it with the bot.

WEB_HOST ?= 127.0.0.1
WEB_PORT ?= 8080
WIDGET_RASA_URL ?= http://$(RASA_HOST_OR_DEFAULT):$(RASA_PORT_OR_DEFAULT)
RASA_HOST_OR_DEFAULT = $(or $(RASA_HOST),127.0.0.1)
RASA_PORT_OR_DEFAULT = $(or $(RASA_PORT),5005)
WEB_STAMP := node_modules/.web-setup.stamp
CHROMIUM_BIN ?= /usr/bin/chromium
CHROMEDRIVER_BIN ?= /usr/bin/chromedriver

SETUP_EXTRA += web-setup
.PHONY: web-setup web

# Cheap when nothing changed: the stamp is newer than the lock file and the set-up
# script, and the browser is still there.
$(WEB_STAMP): package.json package-lock.json scripts/setup_web.sh
	@bash scripts/setup_web.sh
	@mkdir -p node_modules && touch $@

web-setup: $(WEB_STAMP) ## npm packages for the widget (npm ci) and Chromium for its tests
	@if [ ! -x "$(CHROMIUM_BIN)" ] || [ ! -x "$(CHROMEDRIVER_BIN)" ]; then bash scripts/setup_web.sh; fi

web: setup ## Serve only the demo page with the chat widget (Rasa must run separately)
	$(PY) -m web --host $(WEB_HOST) --port $(WEB_PORT) --rasa-url $(WIDGET_RASA_URL)
