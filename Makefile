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
STRATEGIES   ?=
REPEAT       ?= 0
SWEEP        ?=
TRIALS       ?= 10

LAB = go run ./harness/cmd/lab
quick = $(if $(filter 1 true yes,$(QUICK)),true,false)

.PHONY: test bench micro compare detect report reproduce list fuzz

## test: vet, lint the workflows, then every test with the race detector
test:
	go vet ./...
	go tool actionlint
	go test -race ./...

## bench: one strategy under load while its config changes → results/$(STRATEGY)
bench:
	$(LAB) bench -strategy=$(STRATEGY) -store=$(STORE) -trigger=$(TRIGGER) -keys=$(KEYS) \
		-reload-every=$(RELOAD_EVERY) -pattern=$(PATTERN) -rate=$(RATE) -duration=$(DURATION) \
		-out=$(OUT) -quick=$(quick)

## compare: every preset, repeated and interleaved, with an A/A noise floor → results/compare
compare:
	$(LAB) compare -strategies=$(STRATEGIES) -repeat=$(REPEAT) -quick=$(quick) -sweep=$(SWEEP) -out=$(OUT)

## detect: trigger × write pattern × file system matrix → results/detect
detect:
	$(LAB) detect -trials=$(TRIALS) -quick=$(quick)

## micro: store and traversal micro benchmarks → results/micro/{bench,benchstat}.txt
micro:
	$(LAB) micro

## report: REPORT.md and results/verdicts.json from the committed results
report:
	$(LAB) report

## reproduce: quick re-measurement checking every verdict of results/verdicts.json
reproduce:
	$(LAB) reproduce

## list: presets, stores, triggers, write patterns
list:
	$(LAB) list

## fuzz: fuzz the config parser (FUZZTIME=1m)
fuzz:
	scripts/fuzz.sh $(FUZZTIME)
