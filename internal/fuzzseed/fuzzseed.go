// Package fuzzseed gives fuzz targets a seed corpus made by the real
// encoders. Add passes each seed to f.Add; with WEDGE_FUZZ_WRITE_SEEDS=1
// in the environment it also writes it under testdata/fuzz/<target>/ in
// Go's corpus file format, so the committed corpus is regenerated from the
// encoders rather than edited by hand:
//
//	WEDGE_FUZZ_WRITE_SEEDS=1 go test -run '^FuzzX$' ./pkg/
//
// Seed files are named seed-<hash>; files the fuzzer itself adds (the
// crashers it found, kept as regression inputs) have bare hash names.
// The package imports only the standard library so that a decoder's fuzz
// test does not pull in the runtime or the node.
package fuzzseed

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// WriteEnv is the environment variable that makes Add write seed files.
const WriteEnv = "WEDGE_FUZZ_WRITE_SEEDS"

// Add adds one seed (the fuzz function's arguments, in order) to f.
func Add(f *testing.F, args ...any) {
	f.Helper()
	f.Add(args...)
	if os.Getenv(WriteEnv) != "1" {
		return
	}
	data, err := Encode(args...)
	if err != nil {
		f.Fatal(err)
	}
	dir := filepath.Join("testdata", "fuzz", f.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	name := fmt.Sprintf("seed-%x", sha256.Sum256(data))[:21]
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		f.Fatal(err)
	}
}

// Encode returns args in Go's corpus file format ("go test fuzz v1").
// It handles the types fuzz targets here take.
func Encode(args ...any) ([]byte, error) {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%s)\n", strconv.Quote(string(v)))
		case string:
			fmt.Fprintf(&b, "string(%s)\n", strconv.Quote(v))
		case int:
			fmt.Fprintf(&b, "int(%d)\n", v)
		case int64:
			fmt.Fprintf(&b, "int64(%d)\n", v)
		case uint32:
			fmt.Fprintf(&b, "uint32(%d)\n", v)
		case uint64:
			fmt.Fprintf(&b, "uint64(%d)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%t)\n", v)
		default:
			return nil, fmt.Errorf("fuzzseed: unsupported type %T", a)
		}
	}
	return []byte(b.String()), nil
}
