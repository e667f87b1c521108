# routefuzz: the two commands a newcomer runs are `make hunt` and `make test`.
GO       ?= go
BIN      := bin/routefuzz
SUT      ?=
CHECKS   ?= 100
SEED     ?= 0
STEPS    ?= 30
ADAPTERS ?= 3
PROMOTE  ?= auto
SAVE     ?=
EXEC     ?=
EXCLUDE  ?=
TIMEOUT  ?=
CORPUS   ?= corpus
FILE     ?=
FUZZTIME ?= 60s
TARGET   ?= FuzzLegacy
# The external program's command line reaches routefuzz through the
# environment, so it may hold any quotes.
export ROUTEFUZZ_EXEC := $(EXEC)

.PHONY: all build lwip hunt test stress-test check replay minimize promote fuzz libfuzzer bench vet fmt clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/routefuzz
	$(GO) build -o bin/fixedstack ./examples/fixedstack

## lwip: build the lwIP adapter (examples/lwip, docs/lwip.md) to bin/lwipstack, installing
## liblwip-dev with apt-get when it is missing; the lwip stack runs it: make check SUT=lwip EXCLUDE=known
lwip:
	./examples/lwip/build.sh bin/lwipstack

## hunt: reproduce KB287032 on the simulated legacy stack (exit 0 when found).
hunt: build
	./$(BIN) hunt -seed $(SEED) $(if $(SAVE),-save $(SAVE))

## test: the full suite: vet, formatting, every package (kernel tests need root), corpus replay.
test: vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) test -count=1 ./...
	@# The Windows adapter (examples/windows) and routefuzz itself cross-compile.
	GOOS=windows GOARCH=amd64 $(GO) vet ./examples/windows/
	GOOS=windows GOARCH=arm64 $(GO) vet ./examples/windows/
	GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null ./examples/windows/ ./cmd/routefuzz
	GOOS=windows GOARCH=arm64 $(GO) build -o /dev/null ./examples/windows/

## stress-test: the kernel and process tests, -count=5, then go test -race ./..., with a CPU hog on every core.
stress-test:
	./scripts/stress.sh

## check: run the state machine against one stack: make check SUT=fixed CHECKS=1000
check: build
	@test -n "$(SUT)" || { echo "usage: make check SUT=<$$(./$(BIN) stacks | cut -d' ' -f1 | tr '\n' ' ')> [CHECKS=n] [SEED=n] [STEPS=n] [ADAPTERS=n] [PROMOTE=on|off] [SAVE=dir] [EXEC='cmd' [TIMEOUT=5s]] [EXCLUDE=a,b] [VS=stack]"; exit 2; }
	./$(BIN) check -sut $(SUT) -checks $(CHECKS) -seed $(SEED) -steps $(STEPS) -adapters $(ADAPTERS) -promote $(PROMOTE) \
		$(if $(SAVE),-save $(SAVE)) $(if $(EXCLUDE),-exclude $(EXCLUDE)) $(if $(TIMEOUT),-timeout $(TIMEOUT)) $(if $(VS),-vs $(VS))

## replay: replay the corpus against every stack available here, or SUT.
replay: build
	./$(BIN) replay $(if $(SUT),-sut $(SUT)) $(if $(TIMEOUT),-timeout $(TIMEOUT)) $(CORPUS)

## minimize: shrink a failing case by delta debugging: make minimize FILE=x.txtar SUT=legacy
minimize: build
	./$(BIN) minimize $(if $(SUT),-sut $(SUT)) $(FILE)

## promote: move a found case into corpus/: make promote FILE=out/found/legacy-bad-....txtar
promote: build
	./$(BIN) promote -corpus $(CORPUS) $(FILE)

## fuzz: go test -fuzz on one stack's rapid target: make fuzz SUT=legacy FUZZTIME=60s
## (the script exits 1 when it finds a divergence, 2 on an error; make turns either into its 2)
fuzz:
	./scripts/fuzz.sh "$(SUT)" "$(FUZZTIME)"

## libfuzzer: build the byte-driven targets as libFuzzer binaries (as .clusterfuzzlite/build.sh does)
## and run one: make libfuzzer TARGET=FuzzLegacy FUZZTIME=60s (installs clang-14, libFuzzer and
## go-118-fuzz-build when missing; exits 1 when it finds a divergence, minimized into out/found/)
libfuzzer:
	./scripts/libfuzzer.sh run "$(TARGET)" "$(FUZZTIME)"

## bench: steps per second and model cost per step.
bench:
	./scripts/bench.sh

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin out
