# groundtruth: build, demo, tests and benchmarks.
GO  ?= go
BIN := bin/groundtruth

.PHONY: build demo test vet fmt-check bench fuzz clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/groundtruth

# A fresh temporary data directory with the built-in case, served on
# http://127.0.0.1:8080/.
demo: build
	./$(BIN) demo

test: vet fmt-check
	$(GO) test -race -count=1 ./...
	# A bounded run of the engine fuzzer: every case file the loader accepts.
	$(GO) test ./internal/verification -run '^$$' -fuzz FuzzEngine -fuzztime 15s

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

clean:
	rm -rf bin
