// Command decode turns a fuzz input of the bytefuzz targets (a libFuzzer
// crash-<sha1> file, or a go test -fuzz testdata/fuzz/FuzzX/<hash> file)
// into a corpus case, for routefuzz minimize and promote:
//
//	go run ./bytefuzz/cmd/decode -sut legacy crash-378690ac… > case.txtar
//	go run ./cmd/routefuzz minimize -sut legacy case.txtar
//
// It decodes the input for the stack's limits (package bytefuzz), replays
// it on the stack, and writes the case to standard output: up to the first
// divergence, with the stack's verdict, when the stack diverges; all the
// ops, with no verdict, when it agrees (and exits 1, saying so). -exec
// and -timeout name the program for -sut exec, as routefuzz's do.
//
//	go run ./bytefuzz/cmd/decode -seeds DIR
//
// writes the seed corpus (bytefuzz.Seeds), one file per input, for
// libFuzzer's corpus directory or a ClusterFuzzLite seed corpus zip.
//
// Exit status: 0 the case diverges (or the seeds were written), 1 the
// stack agrees with the model on the input, 2 an error.
package main

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/routefuzz/routefuzz/bytefuzz"
	"github.com/routefuzz/routefuzz/corpus"
	"github.com/routefuzz/routefuzz/props"
	"github.com/routefuzz/routefuzz/stacks"
)

func main() { os.Exit(run()) }

func run() int {
	sutName := flag.String("sut", "", "the stack the input ran on: "+strings.Join(stacks.Names(), ", "))
	execCmd := flag.String("exec", os.Getenv("ROUTEFUZZ_EXEC"), "the program's command line, for -sut exec (default $ROUTEFUZZ_EXEC)")
	timeout := flag.Duration("timeout", 0, "bound on each request to the program, for -sut exec (0: the default)")
	seeds := flag.String("seeds", "", "write the seed corpus into this directory instead")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: decode -sut NAME [-exec CMD] INPUT > case.txtar\n       decode -seeds DIR\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *seeds != "" {
		if err := writeSeeds(*seeds); err != nil {
			fmt.Fprintf(os.Stderr, "decode: %v\n", err)
			return 2
		}
		return 0
	}
	if *sutName == "" || flag.NArg() != 1 {
		flag.Usage()
		return 2
	}
	path := flag.Arg(0)
	data, err := readInput(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "decode: %v\n", err)
		return 2
	}
	tg, err := bytefuzz.Shared(*sutName, stacks.Options{Exec: *execCmd, Timeout: *timeout}, func(t *bytefuzz.Target) error {
		// As the fuzz targets run: past the stack's recorded divergences.
		ex, err := props.ExclusionsFor(t.Name, []string{"known"})
		t.Exclude = ex
		return err
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "decode: %v\n", err)
		return 2
	}
	defer tg.Close()
	cfg, ops, d, err := tg.Replay(data)
	if err != nil {
		fmt.Fprintf(os.Stderr, "decode: %s: replaying on %s: %v\n", path, *sutName, err)
		return 2
	}
	from := fmt.Sprintf("# Decoded by bytefuzz/cmd/decode (encoding %d) from %s.", bytefuzz.Encoding, filepath.Base(path))
	if d != nil {
		os.Stdout.Write(corpus.FromDivergence(d, from).Format())
		fmt.Fprint(os.Stderr, d.Report())
		return 0
	}
	c := &corpus.Case{Comment: from + "\n# " + *sutName + " agreed with the model on it.", Adapters: cfg.Adapters,
		Promote: cfg.Promote, KeepAddrOnDown: cfg.KeepAddrOnDown, Ops: ops}
	if w, err := corpus.ModelWant(c); err == nil {
		c.Want = w
	}
	os.Stdout.Write(c.Format())
	fmt.Fprintf(os.Stderr, "decode: %s: %s agrees with the model on its %d ops\n", path, *sutName, len(ops))
	return 1
}

// readInput returns the bytes of a libFuzzer input (the file as it is) or
// of a go test -fuzz corpus file ("go test fuzz v1" and one []byte(...)
// line).
func readInput(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	const header = "go test fuzz v1\n"
	if !bytes.HasPrefix(b, []byte(header)) {
		return b, nil
	}
	line := strings.TrimSpace(strings.TrimPrefix(string(b), header))
	lit, ok := strings.CutPrefix(line, "[]byte(")
	if lit, ok2 := strings.CutSuffix(lit, ")"); ok && ok2 {
		if s, err := strconv.Unquote(lit); err == nil {
			return []byte(s), nil
		}
	}
	return nil, fmt.Errorf("%s: a go test fuzz v1 file, but not one []byte(\"...\") value", path)
}

func writeSeeds(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, s := range bytefuzz.Seeds() {
		sum := sha1.Sum(s)
		if err := corpus.WriteFile(filepath.Join(dir, hex.EncodeToString(sum[:])), s); err != nil {
			return err
		}
	}
	return nil
}
