# reloadlab: every target is one entry point; the logic lives in the Go code.
# Variables are passed to `go run ./harness/cmd/lab <command> -h` flags.

STRATEGY ?= atomic

.PHONY: test micro fuzz

## test: vet, then every test with the race detector
test:
	go vet ./...
	go test -race ./...

## micro: store micro benchmarks → results/micro/{bench,benchstat}.txt
micro:
	go run ./harness/cmd/lab micro

## fuzz: fuzz the config parser (FUZZTIME=1m)
fuzz:
	scripts/fuzz.sh $(FUZZTIME)
