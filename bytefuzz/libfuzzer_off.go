//go:build !libfuzzer

package bytefuzz

// LibFuzzer says the package was built by go-118-fuzz-build (its build
// tag libfuzzer), as a libFuzzer binary: there F.Fatal and F.Skip do
// nothing or skip every input silently, so the targets panic instead.
const LibFuzzer = false

// Engine names the engine that runs the targets, for saved cases.
const Engine = "go test -fuzz"
