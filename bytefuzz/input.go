package bytefuzz

import "reflect"

// Input returns the raw input of a libFuzzer run: in a libFuzzer build,
// go-118-fuzz-build calls the fuzz target (FuzzX(f)) once per input with
// its own F, whose field Data holds the input as libFuzzer gave it. A
// target that reads it there runs on exactly the bytes libFuzzer saves in
// its crash-<sha1> file; through F.Fuzz, the bytes would first lose a
// length prefix (go-fuzz-headers' GetBytes) and the file would not decode
// to the ops that failed. ok is false outside a libFuzzer build, and when
// f has no Data field (another go-118-fuzz-build), in which case the
// target goes through F.Fuzz.
func Input(f any) (data []byte, ok bool) {
	if !LibFuzzer {
		return nil, false
	}
	v := reflect.ValueOf(f)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, false
	}
	d := v.Elem().FieldByName("Data")
	if !d.IsValid() || d.Type() != reflect.TypeFor[[]byte]() {
		return nil, false
	}
	return d.Bytes(), true
}
