# Admin console (www/): serve it, test it in a real browser. Included by the top Makefile.
#   make console        serve www/ (and pkg/) on 127.0.0.1:$(PORT), default 8080; prints the URL
#   make console-test   browser tests (Debian chromium + playwright-core); screenshots in tests/out/
# Both need the built package (pkg/index.mjs, from `make build`).

PORT ?= 8080
CONSOLE_PKG := pkg/index.mjs

.PHONY: console console-test console-check-pkg

console-check-pkg:
	@test -f $(CONSOLE_PKG) || { echo "$(CONSOLE_PKG) is missing: run 'make build' first" >&2; exit 1; }

console: console-check-pkg
	PORT=$(PORT) node www/serve.mjs

console-test: console-check-pkg
	@mkdir -p tests/out
	node --test tests/browser/
