//go:build !(windows && (amd64 || arm64))

package main

import (
	"fmt"
	"runtime"
)

// openStack fails: the IP Helper API exists only on Windows, and the
// structure layouts of layout.go are those of 64-bit Windows.
func openStack() (Stack, error) {
	return nil, fmt.Errorf("runs only on 64-bit Windows (amd64, arm64), not %s/%s", runtime.GOOS, runtime.GOARCH)
}
