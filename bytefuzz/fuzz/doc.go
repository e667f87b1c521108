// Package fuzz holds the byte-driven fuzz targets, one per stack, in
// fuzz_test.go alone: go-118-fuzz-build compiles that file into a
// libFuzzer binary as a non-test file, so it uses nothing from other test
// files. See package bytefuzz for the encoding and docs/libfuzzer.md for
// how to run them.
package fuzz
