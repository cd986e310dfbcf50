# gridstudy: the targets a contributor needs. No logic hides here; the
# scripts under .ci/ and bench/ say what they do.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN     := bin/gridstudy

.PHONY: build demo test test-slurm lint bench fuzz clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gridstudy

# The main job: the example study end to end on the local executor, then
# collected into studies/photon_dose/{data,visualizations,reports}.
demo: build
	$(GO) build -o bin/photon_dose ./examples/photon_dose
	PATH="$(CURDIR)/bin:$$PATH" bin/gridstudy run examples/photon_dose/study.toml -o studies/photon_dose

test:
	$(GO) test ./...

# The private single-node SLURM test cluster of .ci/slurm-up.sh: its folder
# (configuration, state, logs) and the slurm.conf that every SLURM command
# of test-slurm reads, the tests' sbatch, squeue and scontrol calls
# included, whatever SLURM_CONF the caller has.
GRIDSTUDY_SLURM_DIR ?= /var/tmp/gridstudy-slurm

# Starts (or checks) that cluster, as root, and runs the tests that submit
# to it. slurm-up.sh refuses to touch a machine where another SLURM runs.
test-slurm: export GRIDSTUDY_SLURM_DIR := $(GRIDSTUDY_SLURM_DIR)
test-slurm: export SLURM_CONF := $(GRIDSTUDY_SLURM_DIR)/slurm.conf
test-slurm:
	bash .ci/slurm-up.sh
	GRIDSTUDY_SLURM=1 $(GO) test -count=1 -run 'Slurm' -v ./cmd/gridstudy/
	SLURM_MAX_ARRAY_SIZE=5 bash .ci/slurm-up.sh
# The cluster goes back to its defaults even when this test fails.
	GRIDSTUDY_SLURM=1 GRIDSTUDY_SLURM_MAX_ARRAY_SIZE=5 $(GO) test -count=1 -run 'SlurmClusterMaxArraySize' -v ./cmd/gridstudy/; \
		rc=$$?; bash .ci/slurm-up.sh && exit $$rc

# staticcheck at a pinned version, built by go run from the module proxy
# (cached after the first run).
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint:
	@test -z "$$(gofmt -l .)" || (gofmt -l .; echo 'gofmt: run gofmt -w on the files above'; exit 1)
	$(GO) vet ./...
	$(GO) mod tidy -diff
	$(GO) run $(STATICCHECK) ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Each fuzz target for 30 s; `go test` alone runs their seed corpora.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 30s ./internal/study/
	$(GO) test -run '^$$' -fuzz FuzzParseParamFlag -fuzztime 30s ./internal/study/
	$(GO) test -run '^$$' -fuzz FuzzParseIndexList -fuzztime 30s ./internal/slurm/
	$(GO) test -run '^$$' -fuzz FuzzParseLine -fuzztime 30s ./internal/metricslog/
	$(GO) test -run '^$$' -fuzz FuzzReadLimited -fuzztime 30s ./internal/metricslog/
	$(GO) test -run '^$$' -fuzz FuzzDecide -fuzztime 30s ./internal/lifecycle/
	$(GO) test -run '^$$' -fuzz FuzzReadNPY -fuzztime 30s ./internal/metrics/
	$(GO) test -run '^$$' -fuzz FuzzQuoting -fuzztime 30s ./internal/command/

clean:
	rm -rf bin studies
