package main

import (
	"fmt"
	"strings"
	"unicode"
)

// Args is what the command line says.
type Args struct {
	// Adapters are the aliases of the Windows interfaces the user named,
	// in order. A reset binds its adapter names to them in this order:
	// "reset a0 a1" makes a0 the first and a1 the second. These are the
	// only interfaces this program touches.
	Adapters []string
	// IPv4 and IPv6 are the families to declare (-families).
	IPv4, IPv6 bool
}

// usage is printed for -h and after a bad command line.
const usage = `usage: routefuzz-windows -adapter ALIAS [-adapter ALIAS ...] [-families 4,6]

Serves routefuzz's external-process protocol (PROTOCOL.md) on standard
input and output, driving the Windows TCP/IP stack through the IP Helper
API. Run it as Administrator, from routefuzz:

  routefuzz check -sut exec -exec "routefuzz-windows.exe -adapter 'Ethernet 2' -adapter 'Ethernet 3'"

  -adapter ALIAS   an interface to test, by its alias (Get-NetAdapter's Name),
                   once per interface, at least once. reset binds the
                   protocol's adapter names to them in order (a0 to the
                   first, a1 to the second, ...). EVERY MANUAL ADDRESS ON
                   THEM IS DELETED at each reset. No other interface is
                   ever touched.
  -families LIST   the address families to test: 4, 6 or 4,6 (default 4,6)
`

// ParseArgs parses the command line, the program's name left out. Errors
// name the argument, counting from 1, and what is wrong with it.
func ParseArgs(args []string) (Args, error) {
	a := Args{IPv4: true, IPv6: true}
	seen := map[string]int{} // lower-case alias → argument number
	familiesAt := 0
	for i := 0; i < len(args); i++ {
		n := i + 1 // the argument's number
		arg := args[i]
		name, val, hasVal := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-"), "=")
		if !strings.HasPrefix(arg, "-") || arg == "-" || arg == "--" {
			return Args{}, fmt.Errorf("argument %d: unexpected %q (want -adapter ALIAS or -families LIST)", n, arg)
		}
		switch name {
		case "h", "help":
			return Args{}, errHelp
		case "adapter", "families":
		default:
			return Args{}, fmt.Errorf("argument %d: unknown flag %q (want -adapter ALIAS or -families LIST)", n, arg)
		}
		if !hasVal {
			if i+1 == len(args) {
				return Args{}, fmt.Errorf("argument %d: -%s needs a value", n, name)
			}
			i++
			val = args[i]
		}
		switch name {
		case "adapter":
			if err := checkAlias(val); err != nil {
				return Args{}, fmt.Errorf("argument %d: -adapter %q: %v", n, val, err)
			}
			// Windows compares aliases without regard to case.
			k := strings.ToLower(val)
			if m, ok := seen[k]; ok {
				return Args{}, fmt.Errorf("argument %d: -adapter %q names the interface argument %d already named", n, val, m)
			}
			seen[k] = n
			a.Adapters = append(a.Adapters, val)
		case "families":
			if familiesAt != 0 {
				return Args{}, fmt.Errorf("argument %d: -families given again (first at argument %d)", n, familiesAt)
			}
			familiesAt = n
			switch val {
			case "4":
				a.IPv4, a.IPv6 = true, false
			case "6":
				a.IPv4, a.IPv6 = false, true
			case "4,6", "6,4":
				a.IPv4, a.IPv6 = true, true
			default:
				return Args{}, fmt.Errorf("argument %d: -families %q: want 4, 6 or 4,6", n, val)
			}
		}
	}
	if len(a.Adapters) == 0 {
		return Args{}, fmt.Errorf("no -adapter given: name each interface to test with -adapter ALIAS (every manual address on it is deleted at each reset)")
	}
	return a, nil
}

// errHelp asks for the usage message.
var errHelp = fmt.Errorf("help requested")

// checkAlias says what is wrong with an interface alias, nil when nothing:
// Windows takes 1 to 256 characters (IF_MAX_STRING_SIZE), no control
// characters, and no leading or trailing space.
func checkAlias(s string) error {
	if s == "" {
		return fmt.Errorf("empty alias")
	}
	if n := len([]rune(s)); n > 256 {
		return fmt.Errorf("alias of %d characters: Windows allows 256", n)
	}
	for _, c := range s {
		if unicode.IsControl(c) || c == '\uFFFD' {
			return fmt.Errorf("alias holds the character %q", c)
		}
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("alias begins or ends with space")
	}
	return nil
}

// Families returns the hello's families= value.
func (a Args) Families() string {
	switch {
	case a.IPv4 && a.IPv6:
		return "4,6"
	case a.IPv4:
		return "4"
	}
	return "6"
}
