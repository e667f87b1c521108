package model

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The results an operation can give besides success. Every stack, the model
// included, returns an error that wraps exactly one of these; callers test
// with errors.Is.
var (
	// ErrExists: the address is already on the adapter (EEXIST).
	ErrExists = errors.New("exists")
	// ErrNotFound: the address to delete is not on the adapter (EADDRNOTAVAIL).
	ErrNotFound = errors.New("notfound")
	// ErrInvalid: the operation is malformed or names an unknown adapter
	// or an unplugged one (ENODEV on the kernel, which tells them not apart).
	ErrInvalid = errors.New("invalid")
	// ErrUnreachable: a route's gateway is not on link by its adapter
	// (the kernel's ENETUNREACH for IPv4, EHOSTUNREACH for IPv6).
	ErrUnreachable = errors.New("unreachable")
	// ErrBadSource: a route's preferred source is no adapter's address
	// (EINVAL, "Invalid prefsrc address" or "Invalid source address").
	ErrBadSource = errors.New("badsrc")
	// ErrNetDown: a route's adapter is administratively down (ENETDOWN).
	ErrNetDown = errors.New("netdown")
)

// Result is the outcome of an operation, for comparing stacks.
type Result uint8

const (
	OK Result = iota
	Exists
	NotFound
	Invalid
	GatewayUnreachable
	BadSource
	NetDown
)

var resultNames = [...]string{"ok", "exists", "notfound", "invalid", "unreachable", "badsrc", "netdown"}

// results holds each Result's sentinel, indexed by Result.
var results = [...]error{nil, ErrExists, ErrNotFound, ErrInvalid, ErrUnreachable, ErrBadSource, ErrNetDown}

// String returns "ok", "exists", "notfound", "invalid", "unreachable",
// "badsrc" or "netdown".
func (r Result) String() string {
	if int(r) < len(resultNames) {
		return resultNames[r]
	}
	return "Result(" + strconv.Itoa(int(r)) + ")"
}

// ParseResult parses the String form of a Result.
func ParseResult(s string) (Result, error) {
	for i, n := range resultNames {
		if n == s {
			return Result(i), nil
		}
	}
	return 0, fmt.Errorf("unknown result %q (want %s)", s, strings.Join(resultNames[:], ", "))
}

// Err returns the sentinel error for r, nil for OK.
func (r Result) Err() error {
	if int(r) < len(results) {
		return results[r]
	}
	return nil
}

// ResultOf classifies an error returned by an operation. ok is false when
// err is not nil and wraps none of the result sentinels: the operation
// failed for a reason outside the stack's semantics (I/O, a dead process),
// which is never a divergence.
func ResultOf(err error) (r Result, ok bool) {
	if err == nil {
		return OK, true
	}
	for i, e := range results[1:] {
		if errors.Is(err, e) {
			return Result(i + 1), true
		}
	}
	return 0, false
}

// OpError is the error an operation gives: which op, which result, and a
// message for people.
type OpError struct {
	Op     Op
	Result Result // any but OK
	Msg    string
}

func (e *OpError) Error() string {
	if e.Msg == "" {
		return e.Op.String() + ": " + e.Result.String()
	}
	return e.Op.String() + ": " + e.Result.String() + ": " + e.Msg
}

// Unwrap returns the sentinel for e.Result.
func (e *OpError) Unwrap() error { return e.Result.Err() }

func opErr(op Op, r Result, format string, args ...any) error {
	return &OpError{Op: op, Result: r, Msg: fmt.Sprintf(format, args...)}
}
