// Package browser runs a real headless browser (Chromium) on a local HTML
// file, for tests: to read the DOM it rendered and to take a screenshot.
// Tests skip, saying why, where no browser can be had (Find).
package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Names are the programs Find looks for in PATH, in order.
var Names = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Timeout bounds one run of the browser.
const Timeout = 60 * time.Second

// Find returns the path of a headless-capable browser, or an error that
// says why there is none and how to install one. $ROUTEFUZZ_BROWSER, when
// set, names the program to use.
func Find() (string, error) {
	if b := os.Getenv("ROUTEFUZZ_BROWSER"); b != "" {
		p, err := exec.LookPath(b)
		if err != nil {
			return "", fmt.Errorf("ROUTEFUZZ_BROWSER=%s: %w", b, err)
		}
		return p, nil
	}
	for _, n := range Names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no browser in PATH (looked for %v); on Debian: apt-get update && apt-get install -y chromium", Names)
}

// run runs the browser headless on the file at path with extra flags,
// with its own profile directory, and returns its standard output.
func run(ctx context.Context, bin, path string, flags ...string) ([]byte, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	profile, err := os.MkdirTemp("", "routefuzz-browser-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(profile)
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions",
		"--user-data-dir=" + profile, "--hide-scrollbars",
	}, flags...)
	args = append(args, "file://"+abs)
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %v", Timeout)
		}
		return nil, fmt.Errorf("%s: %w\n%s", bin, err, tail(stderr.Bytes()))
	}
	return out.Bytes(), nil
}

// Render renders the HTML file at path in a window of width×height pixels
// and returns the DOM as the browser serialises it once the page has
// loaded. With png not "", the same run writes a screenshot there, as a
// PNG: one start of the browser for both, which is most of the time.
func Render(ctx context.Context, bin, path, png string, width, height int) (string, error) {
	flags := []string{"--dump-dom", fmt.Sprintf("--window-size=%d,%d", width, height)}
	if png != "" {
		abs, err := filepath.Abs(png)
		if err != nil {
			return "", err
		}
		png = abs
		os.Remove(png)
		flags = append(flags, "--screenshot="+png)
	}
	out, err := run(ctx, bin, path, flags...)
	if err != nil {
		return "", err
	}
	if png != "" {
		fi, err := os.Stat(png)
		if err != nil {
			return "", fmt.Errorf("%s wrote no screenshot: %w", bin, err)
		}
		if fi.Size() == 0 {
			return "", fmt.Errorf("%s wrote an empty screenshot", bin)
		}
	}
	return string(out), nil
}

func tail(b []byte) []byte {
	const n = 2000
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
