package stacks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/process"
)

// LwipEnv names the environment variable that gives the path of the lwIP
// adapter (examples/lwip/lwipstack.c, built by make lwip) that the "lwip"
// stack runs.
const LwipEnv = "ROUTEFUZZ_LWIP"

// ErrLwipNotBuilt is wrapped by the error of opening "lwip" when its
// adapter binary is nowhere to be found.
var ErrLwipNotBuilt = errors.New("the lwIP adapter is not built: run `make lwip` (it builds bin/lwipstack from examples/lwip, installing liblwip-dev when missing), or set " + LwipEnv + " to its path")

func init() {
	Register("lwip", "lwIP 2.1.3 (Debian's liblwip-dev) through the line protocol: the adapter built by make lwip (bin/lwipstack, or $"+LwipEnv+"; docs/lwip.md)",
		func(o Options) (sut.Stack, error) {
			bin, err := LwipBinary()
			if err != nil {
				return nil, err
			}
			return process.Start(process.Quote(bin), process.Options{Timeout: o.Timeout})
		})
}

// LwipBinary returns the path of the lwIP adapter the "lwip" stack runs:
// $ROUTEFUZZ_LWIP when set; else bin/lwipstack in the working directory;
// else bin/lwipstack at the root of the module the working directory is
// in (the nearest directory up with a go.mod), so that tests, which run in
// their package's directory, find it. The error wraps ErrLwipNotBuilt.
func LwipBinary() (string, error) {
	if p := os.Getenv(LwipEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w (%w)", LwipEnv, p, ErrLwipNotBuilt, err)
		}
		return p, nil
	}
	const rel = "bin/lwipstack"
	tried := []string{rel}
	if _, err := os.Stat(rel); err == nil {
		return rel, nil
	}
	if dir, err := os.Getwd(); err == nil {
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				p := filepath.Join(dir, rel)
				if _, err := os.Stat(p); err == nil {
					return p, nil
				}
				tried = append(tried, p)
				break
			}
			up := filepath.Dir(dir)
			if up == dir {
				break
			}
			dir = up
		}
	}
	return "", fmt.Errorf("%w (looked for %q)", ErrLwipNotBuilt, tried)
}
