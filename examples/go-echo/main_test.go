package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

func do(method, target, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	newMux().ServeHTTP(rec, httptest.NewRequest(method, target, strings.NewReader(body)))
	return rec
}

func TestEcho(t *testing.T) {
	body := "some body"
	rec := do("POST", "/echo/x?a=1&a=2&b=", body)
	var d Description
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	if d.Method != "POST" || d.Path != "/echo/x" || strings.Join(d.Query["a"], ",") != "1,2" ||
		d.BodyLength != int64(len(body)) || d.BodySHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("description %+v", d)
	}
}

func TestStream(t *testing.T) {
	rec := do("GET", "/echo/stream?n=3", "")
	if rec.Body.String() != "chunk 1 of 3\nchunk 2 of 3\nchunk 3 of 3\n" || !rec.Flushed {
		t.Errorf("body %q, flushed %v", rec.Body.String(), rec.Flushed)
	}
	if rec := do("GET", "/echo/stream?n=0", ""); rec.Code != 400 {
		t.Errorf("n=0: %d", rec.Code)
	}
}

func TestStatus(t *testing.T) {
	rec := do("GET", "/echo/status?code=418", "")
	if rec.Code != 418 || rec.Header().Get("X-Echo-Status") != "418" {
		t.Errorf("%d %v", rec.Code, rec.Header())
	}
	if rec := do("GET", "/echo/status?code=42", ""); rec.Code != 400 {
		t.Errorf("code=42: %d", rec.Code)
	}
}

func TestPanic(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	do("GET", "/echo/panic", "")
}
