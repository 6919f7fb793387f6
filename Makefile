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
WORK         ?= 500us
UTIL         ?= 0
RELOAD_BURN  ?= 0s
TARGET_CPUS  ?=
LOAD_CPUS    ?=
SHARED_CPUS  ?= 0-1
# A remote target (make bench TARGET_URL=http://host:port/ RELOAD_URL=… or RELOAD_CMD=…);
# RELOAD_CMD reaches the lab through the environment, so it may hold any quoting.
TARGET_URL     ?=
RELOAD_CMD     ?=
RELOAD_URL     ?=
RELOAD_SIGNAL  ?=
VERSION_HEADER ?= X-Config-Version

LAB = go run ./harness/cmd/lab
quick = $(if $(filter 1 true yes,$(QUICK)),true,false)

.PHONY: test bench anchors micro compare calibrate calibrate-loop utilization compare-shared detect fleet viperenv report reproduce list fuzz

## test: vet, lint the workflows, then every test with the race detector
test:
	go vet ./...
	GOOS=darwin go vet ./reload/... && GOOS=darwin go build ./strategies/...
	GOOS=windows go vet ./reload/... && GOOS=windows go build ./strategies/...
	go tool actionlint
	go test -race ./...

## bench: one strategy under load while its config changes → results/$(STRATEGY)
bench:
	$(LAB) bench -strategy=$(STRATEGY) -store=$(STORE) -trigger=$(TRIGGER) -keys=$(KEYS) \
		-reload-every=$(RELOAD_EVERY) -pattern=$(PATTERN) -rate=$(RATE) -duration=$(DURATION) \
		-utilization=$(UTIL) -work=$(WORK) -reload-burn=$(RELOAD_BURN) \
		-target-cpus=$(TARGET_CPUS) -load-cpus=$(LOAD_CPUS) -out=$(OUT) -quick=$(quick) \
		-target-url=$(TARGET_URL) -reload-cmd="$$RELOAD_CMD" -reload-url=$(RELOAD_URL) -reload-signal=$(RELOAD_SIGNAL) \
		-version-header=$(VERSION_HEADER)

## anchors: install nginx and build Caddy for STRATEGY=nginx|caddy (says why not, and exits 0, where it cannot)
anchors:
	$(LAB) anchors

## compare: every preset, repeated and interleaved, with an A/A noise floor → results/compare
compare:
	$(LAB) compare -strategies=$(STRATEGIES) -repeat=$(REPEAT) -quick=$(quick) -sweep=$(SWEEP) -work=$(WORK) \
		-target-cpus=$(TARGET_CPUS) -load-cpus=$(LOAD_CPUS) -out=$(OUT)

## calibrate: sham reloads of known cost: what the QPS-dip estimator resolves → results/calibrate
calibrate:
	$(LAB) calibrate -quick=$(quick) -work=$(WORK) -target-cpus=$(TARGET_CPUS) -load-cpus=$(LOAD_CPUS)

## calibrate-loop: the same with shams that spend their CPU in a calibrated loop, no locked thread → results/calibrate-loop
calibrate-loop:
	$(LAB) calibrate -burn-mode=loop -quick=$(quick) -work=$(WORK) -target-cpus=$(TARGET_CPUS) -load-cpus=$(LOAD_CPUS) -out=results/calibrate-loop

## utilization: atomic and lockparse at 25-90% of capacity, and at saturation → results/compare-sweep-util
utilization:
	$(LAB) compare -sweep=util -strategies=atomic,lockparse -repeat=3 -quick=$(quick) -work=$(WORK)

## compare-shared: the target on both CPUs, shared with the load generator → results/compare-shared-cpus
compare-shared:
	$(LAB) compare -strategies=atomic,lockmap,lockparse -quick=$(quick) -work=$(WORK) \
		-target-cpus=$(SHARED_CPUS) -load-cpus=$(SHARED_CPUS) -out=results/compare-shared-cpus

## detect: trigger × write pattern × file system matrix → results/detect
detect:
	$(LAB) detect -trials=$(TRIALS) -quick=$(quick)

## fleet: 16 replicas converging from one source (etcd watch, shared dir + robust, polling) at 1k and 10k keys, and etcd faults → results/fleet
fleet:
	$(LAB) fleet -quick=$(quick)

## viperenv: viper's AutomaticEnv against os.Setenv in the article's order and others → results/viperenv
viperenv:
	$(LAB) viperenv

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
