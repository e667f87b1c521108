package gvisor

import (
	"github.com/routefuzz/routefuzz/model"
)

// Documented says whether op, applied to a stack in mode m whose model
// state is st, falls under one of the documented differences of gVisor
// from the Linux model (docs/gvisor.md), and which: its name, or "".
// A hunt excludes these ops to find what is left.
func Documented(m Mode, st *model.State, op model.Op) string {
	return ""
}
