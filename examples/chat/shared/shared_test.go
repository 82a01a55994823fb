package shared

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestKeys(t *testing.T) {
	if MsgKey("lobby", 9) >= MsgKey("lobby", 10) || MsgKey("lobby", 10) >= MsgKey("lobby", 1<<62) {
		t.Error("message keys do not sort by id")
	}
	if k := MsgKey("lobby", 7); k != "msg/lobby/00000000000000000007" {
		t.Errorf("MsgKey = %q", k)
	}
	room, id, ok := ParseMsgKey(MsgKey("side-room", 42))
	if !ok || room != "side-room" || id != 42 {
		t.Errorf("ParseMsgKey = %q %d %v", room, id, ok)
	}
	for _, bad := range []string{"msg/lobby/42", "msg/lobby", "msg/Lobby/00000000000000000001", "msg/lobby/0000000000000000000x", "msg/lobby/00000000000000000000", "room/lobby"} {
		if _, _, ok := ParseMsgKey(bad); ok {
			t.Errorf("ParseMsgKey(%q) accepted", bad)
		}
	}
	tok := strings.Repeat("ab", 32)
	if k := SessionKey(tok); strings.Contains(k, tok) || len(k) != len("session/")+64 {
		t.Errorf("SessionKey = %q", k)
	}
	now := time.Unix(1_800_000_123, 0)
	b := FailBucket(now)
	if FailKey("alice", b) != "fail/alice/2000000" || !FailBucketEnd(b).After(now) || FailBucketEnd(b).Sub(now) > FailWindow {
		t.Errorf("fail window %d ends %v", b, FailBucketEnd(b))
	}
	if InboxKey("bob", "lobby", 3) != "inbox/bob/lobby/00000000000000000003" || UnreadKey("bob", "lobby") != "unread/bob/lobby" {
		t.Error("inbox keys")
	}
}

func TestValidation(t *testing.T) {
	for s, want := range map[string]bool{"abc": true, "a_b_9": true, "ab": false, "Abc": false, "a-b": false, "a/b": false, strings.Repeat("a", 32): true, strings.Repeat("a", 33): false} {
		if ValidUsername(s) != want {
			t.Errorf("ValidUsername(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]bool{"r": true, "side-room": true, "a_b": true, "-a": false, "_a": false, "a/b": false, "A": false, "": false, strings.Repeat("r", 33): false} {
		if ValidRoom(s) != want {
			t.Errorf("ValidRoom(%q) = %v", s, !want)
		}
	}
	if !ValidToken(strings.Repeat("0f", 32)) || ValidToken(strings.Repeat("0F", 32)) || ValidToken("abc") {
		t.Error("ValidToken")
	}
	for in, want := range map[string]string{"  hi \n": "hi", "a\nb\tc": "a\nb\tc", "<b>x</b>": "<b>x</b>"} {
		if got, problem := CleanMessage(in); got != want || problem != "" {
			t.Errorf("CleanMessage(%q) = %q %q", in, got, problem)
		}
	}
	for _, bad := range []string{"", "   ", "a\x00b", "bell\a", "\xff", strings.Repeat("é", 2001)} {
		if _, problem := CleanMessage(bad); problem == "" {
			t.Errorf("CleanMessage(%q) accepted", bad)
		}
	}
	if _, problem := CleanMessage(strings.Repeat("é", 2000)); problem != "" {
		t.Error("2000 characters refused")
	}
	if CheckPassword("1234567") == "" || CheckPassword(strings.Repeat("é", 128)) != "" || CheckPassword(strings.Repeat("p", 129)) == "" {
		t.Error("CheckPassword")
	}
}

func TestDecodeJSON(t *testing.T) {
	cases := map[string]int{
		`{"text":"hi"}`:       0,
		`{"text":"hi","x":1}`: 400,
		`{"text":`:            400,
		`{"text":"a"} {}`:     400,
		"{\"text\":\"\xff\"}": 400,
		`{"text":"` + strings.Repeat("x", MaxBodyBytes) + `"}`: 413,
	}
	for body, status := range cases {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		var v struct{ Text string }
		ok := DecodeJSON(w, r, &v)
		if (status == 0) != ok || (status != 0 && w.Code != status) {
			t.Errorf("%.40q: ok=%v status %d, want %d", body, ok, w.Code, status)
		}
	}
	r := httptest.NewRequest("POST", "/", strings.NewReader("text=hi"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	if DecodeJSON(w, r, &struct{}{}) || w.Code != http.StatusUnsupportedMediaType {
		t.Errorf("a form: %d", w.Code)
	}
}

func TestAuthenticateWithoutHost(t *testing.T) {
	for _, h := range []string{"", "Basic abc", "Bearer short"} {
		r := httptest.NewRequest("GET", "/", nil)
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		w := httptest.NewRecorder()
		if _, ok := Authenticate(w, r); ok || w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%q: %d", h, w.Code)
		}
	}
	// A well-formed token reaches the store, which is missing natively.
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+strings.Repeat("ab", 32))
	w := httptest.NewRecorder()
	if _, ok := Authenticate(w, r); ok || w.Code != 503 {
		t.Errorf("no store: %d", w.Code)
	}
}
