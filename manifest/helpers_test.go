package manifest_test

import (
	"errors"
	"testing"

	"github.com/wedge-run/wedge/manifest"
)

func asList(t *testing.T, err error) *manifest.ErrorList {
	t.Helper()
	var list *manifest.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, not *manifest.ErrorList: %v", err, err)
	}
	if len(list.Errors) == 0 {
		t.Fatal("empty ErrorList")
	}
	return list
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// mustParse parses src, failing the test on error.
func mustParse(t *testing.T, src string) *manifest.App {
	t.Helper()
	app, err := manifest.Parse("wedge.toml", []byte(src))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return app
}
