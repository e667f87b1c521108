package stacks

import (
	"github.com/routefuzz/routefuzz/sut"
	"github.com/routefuzz/routefuzz/sut/gvisor"
)

func init() {
	Register("gvisor", "gVisor's netstack in process, with its sentry's subnet routes, checked against the gVisor profile of the model (docs/gvisor.md)",
		func(Options) (sut.Stack, error) { return gvisor.NewProfiled(gvisor.Sentry), nil })
	Register("gvisor-raw", "gVisor's netstack API alone in process (an address brings no route), checked against the gVisor profile of the model",
		func(Options) (sut.Stack, error) { return gvisor.NewProfiled(gvisor.Raw), nil })
}
