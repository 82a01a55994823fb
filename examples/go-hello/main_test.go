package main

import (
	"net/http/httptest"
	"testing"
)

func TestHello(t *testing.T) {
	cases := []struct {
		method, target string
		status         int
		body           string
	}{
		{"GET", "/", 200, "hello from wedge\n"},
		{"GET", "/?name=Ada", 200, "hello from wedge, Ada\n"},
		{"POST", "/", 405, "method not allowed\n"},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		hello(rec, httptest.NewRequest(c.method, c.target, nil))
		if rec.Code != c.status || rec.Body.String() != c.body {
			t.Errorf("%s %s = %d %q", c.method, c.target, rec.Code, rec.Body.String())
		}
	}
}
