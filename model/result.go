package model

import (
	"errors"
	"fmt"
	"strconv"
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
)

// Result is the outcome of an operation, for comparing stacks.
type Result uint8

const (
	OK Result = iota
	Exists
	NotFound
	Invalid
)

var resultNames = [...]string{"ok", "exists", "notfound", "invalid"}

// String returns "ok", "exists", "notfound" or "invalid".
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
	return 0, fmt.Errorf("unknown result %q (want ok, exists, notfound or invalid)", s)
}

// Err returns the sentinel error for r, nil for OK.
func (r Result) Err() error {
	switch r {
	case Exists:
		return ErrExists
	case NotFound:
		return ErrNotFound
	case Invalid:
		return ErrInvalid
	}
	return nil
}

// ResultOf classifies an error returned by an operation. ok is false when
// err is not nil and wraps none of the result sentinels: the operation
// failed for a reason outside the stack's semantics (I/O, a dead process),
// which is never a divergence.
func ResultOf(err error) (r Result, ok bool) {
	switch {
	case err == nil:
		return OK, true
	case errors.Is(err, ErrExists):
		return Exists, true
	case errors.Is(err, ErrNotFound):
		return NotFound, true
	case errors.Is(err, ErrInvalid):
		return Invalid, true
	}
	return 0, false
}

// OpError is the error an operation gives: which op, which result, and a
// message for people.
type OpError struct {
	Op     Op
	Result Result // Exists, NotFound or Invalid
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
