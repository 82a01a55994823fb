package manifest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/manifest"
)

const secretsManifest = `[app]
name = "vault"

[functions.web]
module = "web.wasm"
routes = ["/"]

[functions.web.secrets]
FROM_ENV = { env = "VAULT_FROM_ENV" }
OTHER = { env = "VAULT_OTHER" }
LITERAL = "in-the-file"
`

func TestSecretsFromEnv(t *testing.T) {
	t.Run("present", func(t *testing.T) {
		app := mustParse(t, secretsManifest)
		env := map[string]string{"VAULT_FROM_ENV": "s3cret", "VAULT_OTHER": "other"}
		if err := app.ResolveSecrets(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
			t.Fatal(err)
		}
		f, _ := app.Function("web")
		want := map[string]manifest.Secret{
			"FROM_ENV": {Env: "VAULT_FROM_ENV", Value: "s3cret"},
			"OTHER":    {Env: "VAULT_OTHER", Value: "other"},
			"LITERAL":  {Value: "in-the-file"},
		}
		if len(f.Secrets) != len(want) {
			t.Fatalf("%d secrets, want %d", len(f.Secrets), len(want))
		}
		for k, w := range want {
			if got := f.Secrets[k]; got.Env != w.Env || got.Value != w.Value {
				t.Errorf("%s = {Env %q, Value %q}, want {Env %q, Value %q}", k, got.Env, got.Value, w.Env, w.Value)
			}
		}
	})
	t.Run("absent", func(t *testing.T) {
		app := mustParse(t, secretsManifest)
		env := map[string]string{"VAULT_OTHER": ""}
		err := app.ResolveSecrets(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		list := asList(t, err)
		got := list.Error()
		want := "wedge.toml:9: functions.web.secrets.FROM_ENV: environment variable VAULT_FROM_ENV is not set\n" +
			"wedge.toml:10: functions.web.secrets.OTHER: environment variable VAULT_OTHER is empty"
		if got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
		if !errorsIs(err, manifest.ErrSecretUnset) {
			t.Error("does not wrap ErrSecretUnset")
		}
		// Unresolved secrets keep Spec from running.
		_, err = app.Spec()
		if !errorsIs(err, manifest.ErrSecretUnresolved) {
			t.Fatalf("Spec: %v, want ErrSecretUnresolved", err)
		}
		if !strings.Contains(err.Error(), "wedge.toml:9: functions.web.secrets.FROM_ENV: not resolved") {
			t.Errorf("Spec error: %v", err)
		}
	})
	t.Run("process environment", func(t *testing.T) {
		t.Setenv("VAULT_FROM_ENV", "from-os")
		t.Setenv("VAULT_OTHER", "x")
		app := mustParse(t, secretsManifest)
		if err := app.ResolveSecrets(nil); err != nil {
			t.Fatal(err)
		}
		f, _ := app.Function("web")
		if got := f.Secrets["FROM_ENV"].Value; got != "from-os" {
			t.Errorf("FROM_ENV = %q", got)
		}
	})
	t.Run("Secret.Resolve", func(t *testing.T) {
		s := manifest.Secret{Env: "NOPE"}
		if err := s.Resolve(func(string) (string, bool) { return "", false }); !errorsIs(err, manifest.ErrSecretUnset) {
			t.Errorf("Resolve = %v", err)
		}
		lit := manifest.Secret{Value: "v"}
		if err := lit.Resolve(nil); err != nil || lit.Value != "v" {
			t.Errorf("literal: %v %q", err, lit.Value)
		}
	})
}

// TestSecretValuesNeverPrinted: formatting, logging or encoding a
// Function (rather than calling Spec) never shows a secret's value.
func TestSecretValuesNeverPrinted(t *testing.T) {
	app := mustParse(t, secretsManifest)
	if err := app.ResolveSecrets(func(string) (string, bool) { return "TOPSECRET", true }); err != nil {
		t.Fatal(err)
	}
	f, _ := app.Function("web")
	var out bytes.Buffer
	fmt.Fprintf(&out, "%v %+v %#v %s\n", *f, *f, *f, f.Secrets)
	slog.New(slog.NewTextHandler(&out, nil)).Info("deploy", "secret", f.Secrets["FROM_ENV"], "function", f.Name)
	b, err := json.Marshal(app)
	if err != nil {
		t.Fatal(err)
	}
	out.Write(b)
	for _, v := range []string{"TOPSECRET", "in-the-file"} {
		if strings.Contains(out.String(), v) {
			t.Errorf("%q printed:\n%s", v, out.String())
		}
	}
	if !strings.Contains(out.String(), "VAULT_FROM_ENV") {
		t.Errorf("the variable's name should show:\n%s", out.String())
	}
}
