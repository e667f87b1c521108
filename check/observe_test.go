package check

import "testing"

// The named aspects are the observables' places in Observables, and
// crashes and hangs stay clear of any observable added after them.
func TestObservableAspects(t *testing.T) {
	if Routes.Aspect() != RoutesAspect || Addrs.Aspect() != AddrsAspect {
		t.Fatalf("aspects %v %v", Routes.Aspect(), Addrs.Aspect())
	}
	var all Aspect
	for _, o := range Observables {
		if a := o.Aspect(); a == 0 || a&(all|ResultAspect|CrashAspect|HangAspect) != 0 {
			t.Errorf("%s: aspect %b overlaps another", o, a)
		}
		all |= o.Aspect()
	}
	if s := (ResultAspect | RoutesAspect | AddrsAspect).String(); s != "result+routes+addresses" {
		t.Errorf("String = %q", s)
	}
}
