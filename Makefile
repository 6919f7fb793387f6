# reloadlab: every target is one entry point; the logic lives in the Go code.
# Run `go run ./harness/cmd/lab <command> -h` for what each flag means.

STRATEGY     ?= atomic
STORE        ?=
TRIGGER      ?=
KEYS         ?= 10000
RELOAD_EVERY ?= 500ms
PATTERN      ?= rename
RATE         ?= 0
DURATION     ?= 0
OUT          ?=
QUICK        ?=

LAB = go run ./harness/cmd/lab

.PHONY: test bench micro fuzz list

## test: vet, then every test with the race detector
test:
	go vet ./...
	go test -race ./...

## bench: one strategy under load while its config changes → results/$(STRATEGY)
bench:
	$(LAB) bench -strategy=$(STRATEGY) -store=$(STORE) -trigger=$(TRIGGER) -keys=$(KEYS) \
		-reload-every=$(RELOAD_EVERY) -pattern=$(PATTERN) -rate=$(RATE) -duration=$(DURATION) \
		-out=$(OUT) -quick=$(if $(filter 1 true yes,$(QUICK)),true,false)

## micro: store micro benchmarks → results/micro/{bench,benchstat}.txt
micro:
	$(LAB) micro

## list: presets, stores, triggers, write patterns
list:
	$(LAB) list

## fuzz: fuzz the config parser (FUZZTIME=1m)
fuzz:
	scripts/fuzz.sh $(FUZZTIME)
