package browser

import (
	"strings"
	"testing"
)

func TestFindSaysWhy(t *testing.T) {
	t.Setenv("ROUTEFUZZ_BROWSER", "no-such-browser-routefuzz")
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), "ROUTEFUZZ_BROWSER=no-such-browser-routefuzz") {
		t.Errorf("Find: %v", err)
	}
	t.Setenv("ROUTEFUZZ_BROWSER", "")
	t.Setenv("PATH", t.TempDir())
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), "apt-get install -y chromium") {
		t.Errorf("Find with an empty PATH: %v", err)
	}
}
