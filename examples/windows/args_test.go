package main

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	for _, c := range []struct {
		args     []string
		adapters []string
		families string
	}{
		{[]string{"-adapter", "Ethernet 2"}, []string{"Ethernet 2"}, "4,6"},
		{[]string{"-adapter", "Ethernet 2", "--adapter=Ethernet 3", "-families", "6"}, []string{"Ethernet 2", "Ethernet 3"}, "6"},
		{[]string{"-families=4", "-adapter=KM-TEST Loopback"}, []string{"KM-TEST Loopback"}, "4"},
		{[]string{"-adapter", "Wi-Fi", "-families", "6,4"}, []string{"Wi-Fi"}, "4,6"},
		{[]string{"-adapter", "-families"}, []string{"-families"}, "4,6"}, // a value is taken as it is
	} {
		a, err := ParseArgs(c.args)
		if err != nil {
			t.Errorf("ParseArgs(%q): %v", c.args, err)
			continue
		}
		if !slices.Equal(a.Adapters, c.adapters) || a.Families() != c.families {
			t.Errorf("ParseArgs(%q) = %q families=%s, want %q families=%s", c.args, a.Adapters, a.Families(), c.adapters, c.families)
		}
	}
}

func TestParseArgsErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string // every word must be in the error
	}{
		{nil, "no -adapter given"},
		{[]string{"-families", "4"}, "no -adapter given"},
		{[]string{"-adapter", "Ethernet 2", "-adapter", "ethernet 2"}, `argument 3: -adapter "ethernet 2" names the interface argument 1 already named`},
		{[]string{"-adapter=A", "-adapter=B", "-adapter=A"}, "argument 3:|argument 1"},
		{[]string{"-adapter"}, "argument 1: -adapter needs a value"},
		{[]string{"-adapter", "X", "-families"}, "argument 3: -families needs a value"},
		{[]string{"-adapter", ""}, `argument 1: -adapter "": empty alias`},
		{[]string{"-adapter=", "x"}, `argument 1: -adapter "": empty alias`},
		{[]string{"-adapter", " Ethernet"}, "begins or ends with space"},
		{[]string{"-adapter", "Eth\x1b[31m"}, `argument 1:|'\x1b'`},
		{[]string{"-adapter", strings.Repeat("x", 257)}, "257 characters"},
		{[]string{"-adapter", "X", "Ethernet 3"}, `argument 3: unexpected "Ethernet 3"`},
		{[]string{"-adapter", "X", "-iface", "Y"}, `argument 3: unknown flag "-iface"`},
		{[]string{"-adapter", "X", "-families", "4,4"}, `argument 3: -families "4,4": want 4, 6 or 4,6`},
		{[]string{"-adapter", "X", "-families", "4", "-families=6"}, "argument 5: -families given again (first at argument 3)"},
	} {
		_, err := ParseArgs(c.args)
		if err == nil {
			t.Errorf("ParseArgs(%q) succeeded, want an error saying %q", c.args, c.want)
			continue
		}
		for _, w := range strings.Split(c.want, "|") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ParseArgs(%q) = %v\nwant it to say %q", c.args, err, w)
			}
		}
	}
	if _, err := ParseArgs([]string{"-adapter", "X", "-h"}); !errors.Is(err, errHelp) {
		t.Errorf("-h: %v, want errHelp", err)
	}
}
