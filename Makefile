# groundtruth: build, demo, tests and benchmarks.
GO   ?= go
NPM  ?= npm
NODE ?= node
BIN  := bin/groundtruth

.PHONY: build assets demo test browser-test vet fmt-check bench fuzz clean

# Where the matching evaluation's photographs are kept (scripts/evalset.sh).
EVALSET ?= $(HOME)/.cache/groundtruth/evalset

build: assets
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/groundtruth

# The map's and dashboard's front-end libraries, from npm at the versions
# web/package-lock.json pins, copied into internal/web/static/vendor
# (generated, not committed), which the binary embeds.
assets: web/node_modules/.package-lock.json
	./web/build.sh

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && $(NPM) ci --no-audit --no-fund
	touch $@

# A fresh temporary data directory with the built-in case, served on
# http://127.0.0.1:8080/.
demo: build
	./$(BIN) demo

test: vet fmt-check web/node_modules/.package-lock.json
	$(GO) test -race -count=1 -timeout 40m ./...
	# Matching quality on real photographs (fetched from Debian packages,
	# never committed), without the race detector, which makes it slow.
	./scripts/evalset.sh $(EVALSET)
	GROUNDTRUTH_EVALSET=$(EVALSET) GROUNDTRUTH_EVALSET_REQUIRED=1 $(GO) test -count=1 -run TestEvaluation ./internal/media/match
	# A bounded run of the engine fuzzer: every case file the loader accepts.
	$(GO) test ./internal/verification -run '^$$' -fuzz FuzzEngine -fuzztime 15s
	$(MAKE) browser-test

# Browser tests: the built binary serves the demo case and Debian's
# Chromium (/usr/bin/chromium, or CHROMIUM=PATH) walks the map, the
# timeline, sign-in, a logged reveal and the dashboard. Screenshots go to
# test-results/.
browser-test: build
	cd web && GROUNDTRUTH_BIN=$(CURDIR)/$(BIN) $(NODE) --test e2e/*.test.mjs

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l cmd internal); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Benchmarks and long fuzzing runs; results go to docs/benchmarks.md.
bench: build
	./scripts/bench.sh

# Longer fuzzing of every parser of outside data (FUZZTIME per target).
FUZZTIME ?= 60s
fuzz:
	$(GO) test ./internal/casefile -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./internal/evidence -run '^$$' -fuzz FuzzSniff -fuzztime $(FUZZTIME)
	$(GO) test ./internal/evidence -run '^$$' -fuzz FuzzPlatformOf -fuzztime $(FUZZTIME)
	$(GO) test ./internal/record -run '^$$' -fuzz FuzzParseTime -fuzztime $(FUZZTIME)
	$(GO) test ./internal/ledger -run '^$$' -fuzz FuzzVerifyReceipt -fuzztime $(FUZZTIME)
	$(GO) test ./internal/ledger -run '^$$' -fuzz FuzzParseLeaf -fuzztime $(FUZZTIME)
	$(GO) test ./internal/timestamp -run '^$$' -fuzz FuzzVerify -fuzztime $(FUZZTIME)
	$(GO) test ./internal/verification -run '^$$' -fuzz FuzzEngine -fuzztime $(FUZZTIME)
	$(GO) test ./internal/media/pdq -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./internal/ledger -run '^$$' -fuzz '^FuzzParseVerifierKey$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/ledger -run '^$$' -fuzz '^FuzzParseAddCheckpoint$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/ledger -run '^$$' -fuzz '^FuzzParseWitnesses$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/ledger -run '^$$' -fuzz '^FuzzOldCheckpoint$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/media/photo -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/media/photo -run '^$$' -fuzz '^FuzzDecodeReduced$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/media/photo -run '^$$' -fuzz '^FuzzReadEXIF$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/media/video -run '^$$' -fuzz '^FuzzParseReference$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/media/video -run '^$$' -fuzz '^FuzzParseProbe$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/media/video -run '^$$' -fuzz '^FuzzParseSceneLog$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/media/video -run '^$$' -fuzz '^FuzzReadPPM$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/media/match -run '^$$' -fuzz '^FuzzRegions$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/media/match -run '^$$' -fuzz '^FuzzThumbUnmarshal$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/media/index -run '^$$' -fuzz '^FuzzSearch$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/capture -run '^$$' -fuzz '^FuzzParsePage$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/capture -run '^$$' -fuzz '^FuzzParseTelegramEmbed$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/capture -run '^$$' -fuzz '^FuzzParseViews$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/capture/warc -run '^$$' -fuzz '^FuzzIndex$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/store -run '^$$' -fuzz '^FuzzSearch$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/web -run '^$$' -fuzz '^FuzzParseForwarded$$' -fuzztime $(FUZZTIME)

clean:
	rm -rf bin internal/web/static/vendor web/node_modules test-results
