package chat_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wedge-run/wedge/internal/kv"
	"github.com/wedge-run/wedge/internal/testutil"
)

// TestChat is the founding scenario: two users register and log in,
// meet in a room, exchange messages, see each other's messages and are
// told of unread ones by the notify function, and page through history.
func TestChat(t *testing.T) {
	a := startChat(t)
	alice := a.register(t, "alice", "correct horse battery")
	bob := a.register(t, "bob", "tr0ub4dor&3 is weak")
	carol := a.register(t, "carol", "another long password")

	// The UI is served on /, with a strict CSP; API paths nothing serves
	// are JSON 404s, not the page.
	r := want(t, a.call(t, "GET", "/", "", nil), 200, "the page")
	testutil.Contains(t, string(r.body), `<script src="/app.js"`, `id="messages"`)
	testutil.Contains(t, r.header.Get("Content-Security-Policy"), "script-src 'self'")
	want(t, a.call(t, "GET", "/app.js", "", nil), 200, "the script")
	if r := want(t, a.call(t, "GET", "/api/nothing", "", nil), 404, "unknown API path"); !strings.Contains(r.errorText(t), "no such API endpoint") {
		t.Fatalf("%s", r.body)
	}

	// Who am I; a taken name.
	var me struct{ Username string }
	want(t, a.call(t, "GET", "/api/auth/me", bob, nil), 200, "me").decode(t, &me)
	if me.Username != "bob" {
		t.Fatalf("me: %+v", me)
	}
	want(t, a.call(t, "POST", "/api/auth/register", "", credentials{"alice", "some other password"}), 409, "taken name")

	// Alice creates the room and is in it; bob must join first.
	want(t, a.call(t, "POST", "/api/rooms", alice, map[string]string{"name": "lobby"}), 201, "create room")
	want(t, a.call(t, "POST", "/api/rooms", bob, map[string]string{"name": "lobby"}), 409, "create a room twice")
	want(t, a.call(t, "PUT", "/api/rooms/lobby", bob, nil), 409, "create a room twice, by PUT")
	want(t, a.call(t, "GET", "/api/rooms/lobby/messages", bob, nil), 403, "read before joining")
	want(t, a.call(t, "POST", "/api/rooms/lobby/join", bob, nil), 200, "join")
	want(t, a.call(t, "POST", "/api/rooms/lobby/join", bob, nil), 200, "join again")

	var rooms struct {
		Rooms []struct {
			Name    string `json:"name"`
			Creator string `json:"creator"`
			Joined  bool   `json:"joined"`
		} `json:"rooms"`
	}
	want(t, a.call(t, "GET", "/api/rooms", carol, nil), 200, "rooms").decode(t, &rooms)
	if len(rooms.Rooms) != 1 || rooms.Rooms[0].Name != "lobby" || rooms.Rooms[0].Creator != "alice" || rooms.Rooms[0].Joined {
		t.Fatalf("carol's rooms: %+v", rooms)
	}
	want(t, a.call(t, "GET", "/api/rooms", bob, nil), 200, "rooms").decode(t, &rooms)
	if len(rooms.Rooms) != 1 || !rooms.Rooms[0].Joined {
		t.Fatalf("bob's rooms: %+v", rooms)
	}
	var info struct{ Members []string }
	want(t, a.call(t, "GET", "/api/rooms/lobby", alice, nil), 200, "room").decode(t, &info)
	if !slices.Equal(info.Members, []string{"alice", "bob"}) {
		t.Fatalf("members %v", info.Members)
	}

	// They talk; each sees both messages, in order.
	m1 := a.post(t, alice, "lobby", "  hello bob  ")
	m2 := a.post(t, bob, "lobby", "hi alice\nhow are you?")
	if m1.ID != 1 || m1.Text != "hello bob" || m1.User != "alice" || m2.ID != 2 || m2.User != "bob" || m2.Room != "lobby" {
		t.Fatalf("posted %+v %+v", m1, m2)
	}
	for name, tok := range map[string]string{"alice": alice, "bob": bob} {
		p := a.messages(t, tok, "lobby", "")
		if !slices.Equal(ids(p.Messages), []int64{1, 2}) || p.Messages[1].Text != "hi alice\nhow are you?" || p.More || p.LastID != 2 {
			t.Fatalf("%s sees %+v", name, p)
		}
		if p := a.messages(t, tok, "lobby", "after=1"); !slices.Equal(ids(p.Messages), []int64{2}) {
			t.Fatalf("%s after=1: %+v", name, p)
		}
	}

	// The notify function counts unread messages for everyone but the
	// author; reading a room resets its count.
	testutil.Eventually(t, 10*time.Second, "unread counts of alice and bob", func() bool {
		return a.unread(t, alice)["lobby"] == 1 && a.unread(t, bob)["lobby"] == 1
	})
	want(t, a.call(t, "POST", "/api/rooms/lobby/read", bob, nil), 200, "mark read")
	if u := a.unread(t, bob); len(u) != 0 {
		t.Fatalf("bob's unread after reading: %v", u)
	}
	if u := a.unread(t, carol); len(u) != 0 {
		t.Fatalf("carol is in no room but has unread %v", u)
	}

	// Paging through 27 messages.
	for i := 3; i <= 27; i++ {
		a.post(t, alice, "lobby", fmt.Sprintf("message %d", i))
	}
	p := a.messages(t, bob, "lobby", "after=0&limit=10")
	if !slices.Equal(ids(p.Messages), span(1, 10)) || !p.More || p.LastID != 27 {
		t.Fatalf("first page: %v more=%v last=%d", ids(p.Messages), p.More, p.LastID)
	}
	p = a.messages(t, bob, "lobby", "after=10&limit=10")
	if !slices.Equal(ids(p.Messages), span(11, 20)) || !p.More {
		t.Fatalf("second page: %v more=%v", ids(p.Messages), p.More)
	}
	p = a.messages(t, bob, "lobby", "after=20&limit=10")
	if !slices.Equal(ids(p.Messages), span(21, 27)) || p.More || p.Messages[6].Text != "message 27" {
		t.Fatalf("last page: %v more=%v", ids(p.Messages), p.More)
	}
	if p := a.messages(t, bob, "lobby", "after=27"); len(p.Messages) != 0 || p.More {
		t.Fatalf("after the last: %+v", p)
	}
	p = a.messages(t, bob, "lobby", "limit=5") // the newest page
	if !slices.Equal(ids(p.Messages), span(23, 27)) || !p.More {
		t.Fatalf("newest page: %v more=%v", ids(p.Messages), p.More)
	}
	p = a.messages(t, bob, "lobby", "before=23&limit=5")
	if !slices.Equal(ids(p.Messages), span(18, 22)) || !p.More {
		t.Fatalf("older page: %v more=%v", ids(p.Messages), p.More)
	}
	p = a.messages(t, bob, "lobby", "before=3&limit=5")
	if !slices.Equal(ids(p.Messages), span(1, 2)) || p.More {
		t.Fatalf("oldest page: %v more=%v", ids(p.Messages), p.More)
	}
	if p := a.messages(t, bob, "lobby", "limit=100"); len(p.Messages) != 27 {
		t.Fatalf("limit=100: %d messages", len(p.Messages))
	}
	for _, q := range []string{"limit=0", "limit=101", "after=x", "after=-1", "after=1&before=5"} {
		want(t, a.call(t, "GET", "/api/rooms/lobby/messages?"+q, bob, nil), 400, q)
	}
	testutil.Eventually(t, 20*time.Second, "bob's 25 unread", func() bool { return a.unread(t, bob)["lobby"] == 25 })

	// A second room: the counts are per room.
	want(t, a.call(t, "POST", "/api/rooms", bob, map[string]string{"name": "side-room"}), 201, "create a second room")
	want(t, a.call(t, "POST", "/api/rooms/side-room/join", alice, nil), 200, "join the second room")
	a.post(t, bob, "side-room", "psst")
	testutil.Eventually(t, 10*time.Second, "alice's unread in two rooms", func() bool {
		u := a.unread(t, alice)
		return u["lobby"] == 1 && u["side-room"] == 1
	})

	// What the store holds follows the documented schema.
	checkSchema(t, a, alice)
}

// checkSchema looks at the "chat" namespace directly.
func checkSchema(t *testing.T, a *chatApp, aliceToken string) {
	t.Helper()
	get := func(key string) kv.Entry {
		t.Helper()
		e, err := a.n.KV.Get(ns, key)
		if err != nil {
			t.Fatalf("key %q: %v", key, err)
		}
		return e
	}
	var u struct{ Username, Hash string }
	if err := json.Unmarshal(get("user/alice").Value, &u); err != nil || u.Username != "alice" || !strings.HasPrefix(u.Hash, "$2a$10$") {
		t.Fatalf("user/alice: %+v %v", u, err)
	}
	if !strings.Contains(string(get("msg/lobby/00000000000000000001").Value), `"text":"hello bob"`) {
		t.Fatal("message 1 is not where the schema says")
	}
	if string(get("seq/lobby").Value) != "27" {
		t.Fatal("seq/lobby")
	}
	get("member/lobby/bob")
	get("rooms/bob/lobby")
	get("room/side-room")
	if e := get("inbox/bob/lobby/00000000000000000027"); e.Expires.IsZero() {
		t.Fatal("inbox entries must expire")
	}
	// Sessions: keyed by the token's hash, never the token, with a
	// 24-hour TTL.
	page, err := a.n.KV.List(ns, kv.ListOptions{Prefix: "session/", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 3 {
		t.Fatalf("%d sessions, want 3", len(page.Entries))
	}
	for _, e := range page.Entries {
		if strings.Contains(e.Key, aliceToken) {
			t.Fatal("a session key holds the token itself")
		}
		e := get(e.Key)
		if left := time.Until(e.Expires); left < 23*time.Hour || left > 24*time.Hour {
			t.Fatalf("session %s expires in %v", e.Key, left)
		}
	}
	// Nothing outside the schema's prefixes.
	all, err := a.n.KV.List(ns, kv.ListOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	prefixes := []string{"user/", "session/", "fail/", "room/", "member/", "rooms/", "seq/", "msg/", "unread/", "inbox/"}
	for _, e := range all.Entries {
		if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(e.Key, p) }) {
			t.Errorf("key %q is not in the documented schema", e.Key)
		}
	}
}

// TestChatAbuse: wrong passwords, the failed-login limit, bad and
// expired sessions, rooms one is not in, oversized and malformed
// messages, and markup in a message.
func TestChatAbuse(t *testing.T) {
	a := startChat(t)
	alice := a.register(t, "alice", "correct horse battery")
	bob := a.register(t, "bob", "bob's long password")
	want(t, a.call(t, "PUT", "/api/rooms/private", alice, nil), 201, "create room (PUT)")
	want(t, a.call(t, "PUT", "/api/rooms/Bad%20Name", alice, nil), 400, "a bad room name by PUT")

	t.Run("registration rules", func(t *testing.T) {
		for _, c := range []struct {
			user, pass, text string
		}{
			{"ab", "long enough pw", "3 to 32"},
			{"has space", "long enough pw", "3 to 32"},
			{"über", "long enough pw", "3 to 32"},
			{strings.Repeat("x", 33), "long enough pw", "3 to 32"},
			{"shortpass", "1234567", "at least 8"},
			{"longpass", strings.Repeat("p", 129), "at most 128"},
		} {
			r := want(t, a.call(t, "POST", "/api/auth/register", "", credentials{c.user, c.pass}), 400, "register "+c.user)
			testutil.Contains(t, r.errorText(t), c.text)
		}
		want(t, a.call(t, "POST", "/api/auth/register", "", `{"username":"x"`), 400, "broken JSON")
		want(t, a.call(t, "POST", "/api/auth/register", "", `{"username":"dave","password":"12345678","admin":true}`), 400, "unknown field")
		// 128 characters are fine (bcrypt alone would stop at 72 bytes).
		long := strings.Repeat("é", 128)
		want(t, a.call(t, "POST", "/api/auth/register", "", credentials{"longpw", long}), 201, "128-character password")
		a.login(t, "longpw", long)
		want(t, a.call(t, "POST", "/api/auth/login", "", credentials{"longpw", long[:len(long)-2] + "e"}), 401, "last character differs")
	})

	t.Run("wrong password and the failed-login limit", func(t *testing.T) {
		// The limit counts in fixed 15-minute windows: should the window
		// turn during the check, the count restarts, so try again once
		// with a fresh user.
		for try := 0; ; try++ {
			user := "victim" + strconv.Itoa(try)
			a.register(t, user, "the real password")
			window := time.Now().Unix() / 900
			for i := 1; i <= 5; i++ {
				r := want(t, a.call(t, "POST", "/api/auth/login", "", credentials{user, "a wrong password " + strconv.Itoa(i)}), 401, "wrong password")
				testutil.Contains(t, r.errorText(t), "wrong username or password")
			}
			// Locked now, even with the right password; other users are not.
			r := a.call(t, "POST", "/api/auth/login", "", credentials{user, "the real password"})
			if time.Now().Unix()/900 != window && try == 0 {
				continue
			}
			want(t, r, 429, "sixth login in the window")
			testutil.Contains(t, r.errorText(t), "too many failed logins")
			secs, err := strconv.Atoi(r.header.Get("Retry-After"))
			if err != nil || secs < 1 || secs > 901 {
				t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
			}
			a.login(t, "bob", "bob's long password")
			break
		}
		// A burst of concurrent guesses: attempts are counted before the
		// password is checked, so at most 5 of them get as far as a 401.
		for try := 0; ; try++ {
			user := "burst" + strconv.Itoa(try)
			want(t, a.call(t, "POST", "/api/auth/register", "", credentials{user, "the real password"}), 201, "register")
			window := time.Now().Unix() / 900
			statuses := make([]int, 12)
			var wg sync.WaitGroup
			for i := range statuses {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses[i] = a.call(t, "POST", "/api/auth/login", "", credentials{user, "wrong guess number " + strconv.Itoa(i)}).status
				}()
			}
			wg.Wait()
			if time.Now().Unix()/900 != window && try == 0 {
				continue
			}
			// 503: the gateway turned a request away, since wedge.toml caps
			// auth at 8 concurrent invocations (bcrypt is CPU-bound).
			var n401, n429, n503 int
			for _, st := range statuses {
				switch st {
				case 401:
					n401++
				case 429:
					n429++
				case 503:
					n503++
				}
			}
			if n401 > 5 || n429 == 0 || n401+n429+n503 != len(statuses) {
				t.Fatalf("12 concurrent wrong passwords: statuses %v", statuses)
			}
			t.Logf("12 concurrent wrong passwords: %d x 401, %d x 429, %d x 503", n401, n429, n503)
			break
		}

		// An unknown user gets the same answer as a wrong password.
		r := want(t, a.call(t, "POST", "/api/auth/login", "", credentials{"nobody", "whatever you like"}), 401, "unknown user")
		testutil.Contains(t, r.errorText(t), "wrong username or password")
	})

	t.Run("invalid and expired sessions", func(t *testing.T) {
		random := make([]byte, 32)
		rand.Read(random)
		for _, tok := range []string{"", "garbage", hex.EncodeToString(random), strings.ToUpper(alice)} {
			r := want(t, a.call(t, "GET", "/api/rooms", tok, nil), 401, "token "+tok)
			if r.header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
			want(t, a.call(t, "GET", "/api/auth/me", tok, nil), 401, "me with token "+tok)
		}
		// Expiry: the session key carries a TTL. Rather than wait 24
		// hours, shorten the TTL of a live session in the store.
		tok := a.login(t, "bob", "bob's long password")
		want(t, a.call(t, "GET", "/api/inbox", tok, nil), 200, "fresh session")
		page, err := a.n.KV.List(ns, kv.ListOptions{Prefix: "session/", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var expiring []string
		for _, e := range page.Entries {
			v, err := a.n.KV.Get(ns, e.Key)
			if err != nil || string(v.Value) != "bob" {
				continue
			}
			if _, err := a.n.KV.Put(context.Background(), ns, e.Key, v.Value, kv.PutOptions{TTL: 200 * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
			expiring = append(expiring, e.Key)
		}
		if len(expiring) < 2 {
			t.Fatalf("expired %d of bob's sessions", len(expiring))
		}
		testutil.Eventually(t, 10*time.Second, "bob's sessions to expire", func() bool {
			for _, k := range expiring {
				if _, err := a.n.KV.Get(ns, k); err == nil {
					return false
				}
			}
			return true
		})
		r := want(t, a.call(t, "GET", "/api/inbox", tok, nil), 401, "expired session")
		testutil.Contains(t, r.errorText(t), "expired")
		want(t, a.call(t, "POST", "/api/rooms/private/messages", bob, map[string]string{"text": "hi"}), 401, "bob's other expired session")
		bob = a.login(t, "bob", "bob's long password")

		// Logging out ends the session at once.
		tok = a.login(t, "alice", "correct horse battery")
		want(t, a.call(t, "POST", "/api/auth/logout", tok, nil), 204, "logout")
		want(t, a.call(t, "GET", "/api/auth/me", tok, nil), 401, "me after logout")
		want(t, a.call(t, "POST", "/api/auth/logout", tok, nil), 401, "logout twice")
		want(t, a.call(t, "GET", "/api/auth/me", alice, nil), 200, "alice's other session")
	})

	t.Run("rooms one is not in", func(t *testing.T) {
		r := want(t, a.call(t, "POST", "/api/rooms/private/messages", bob, map[string]string{"text": "let me in"}), 403, "post as a non-member")
		testutil.Contains(t, r.errorText(t), "not a member")
		want(t, a.call(t, "GET", "/api/rooms/private/messages", bob, nil), 403, "read as a non-member")
		want(t, a.call(t, "GET", "/api/rooms/private", bob, nil), 403, "members as a non-member")
		want(t, a.call(t, "POST", "/api/rooms/private/read", bob, nil), 403, "mark read as a non-member")
		want(t, a.call(t, "POST", "/api/rooms/nowhere/messages", bob, map[string]string{"text": "x"}), 404, "no such room")
		want(t, a.call(t, "POST", "/api/rooms/nowhere/join", bob, nil), 404, "join no such room")
		want(t, a.call(t, "POST", "/api/rooms/Bad%20Name/join", bob, nil), 400, "bad room name")
		want(t, a.call(t, "POST", "/api/rooms", bob, map[string]string{"name": "../etc"}), 400, "room name with a slash")
		want(t, a.call(t, "POST", "/api/rooms", bob, map[string]string{"name": strings.Repeat("r", 33)}), 400, "long room name")
		if p := a.messages(t, alice, "private", ""); len(p.Messages) != 0 {
			t.Fatalf("private room got messages: %+v", p)
		}
	})

	t.Run("oversized and malformed messages", func(t *testing.T) {
		post := func(body any) reply {
			return a.call(t, "POST", "/api/rooms/private/messages", alice, body)
		}
		r := want(t, post(map[string]string{"text": strings.Repeat("あ", 2001)}), 400, "2001 characters")
		testutil.Contains(t, r.errorText(t), "at most 2000")
		want(t, post(map[string]string{"text": strings.Repeat("あ", 2000)}), 201, "2000 characters")
		want(t, post(map[string]string{"text": strings.Repeat("x", 20<<10)}), 413, "a 20 KiB body")
		want(t, post(map[string]string{"text": " \n\t "}), 400, "only spaces")
		want(t, post(map[string]string{"text": ""}), 400, "empty")
		want(t, post(`{"text":"bad `+"\xff\xfe"+` bytes"}`), 400, "invalid UTF-8")
		want(t, post(`{"text":"lone surrogate \ud800"}`), 400, "a lone surrogate")
		want(t, post(`{"text":"nul \u0000 byte"}`), 400, "NUL")
		want(t, post(`{"text":1}`), 400, "a number")
		want(t, post(`{"text":"a","user":"bob"}`), 400, "forging the author")
		want(t, post(`{"text":"a"} {"text":"b"}`), 400, "two objects")
		r = a.call(t, "POST", "/api/rooms/private/messages", alice, nil)
		want(t, r, 400, "no body")
		// The gateway's own limit, far above the function's.
		big := testutil.Oversized(t, strings.TrimPrefix(a.url, "http://"), "POST", "/api/rooms/private/messages", 64<<20,
			map[string]string{"Authorization": "Bearer " + alice, "Content-Type": "application/json"})
		if big.Status != 413 {
			t.Fatalf("64 MiB body: %d %s", big.Status, big.Body)
		}
	})

	t.Run("markup in a message stays text", func(t *testing.T) {
		evil := `<img src=x onerror=alert(1)><script>alert("x")</script> & "quotes" 'too'`
		m := a.post(t, alice, "private", evil)
		if m.Text != evil {
			t.Fatalf("stored %q", m.Text)
		}
		r := want(t, a.call(t, "GET", fmt.Sprintf("/api/rooms/private/messages?after=%d", m.ID-1), alice, nil), 200, "read it back")
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("served as %q, nosniff %q", ct, r.header.Get("X-Content-Type-Options"))
		}
		if strings.Contains(string(r.body), "<img") || strings.Contains(string(r.body), "<script") {
			t.Fatalf("raw markup in the JSON: %s", r.body)
		}
		var p msgPage
		r.decode(t, &p)
		if len(p.Messages) != 1 || p.Messages[0].Text != evil {
			t.Fatalf("read back %+v", p.Messages)
		}
	})

	t.Run("method and path errors are JSON", func(t *testing.T) {
		r := want(t, a.call(t, "DELETE", "/api/rooms", alice, nil), 405, "DELETE rooms")
		if r.header.Get("Allow") == "" {
			t.Fatal("405 without Allow")
		}
		r.errorText(t)
		want(t, a.call(t, "GET", "/api/auth/login", "", nil), 405, "GET login").errorText(t)
		want(t, a.call(t, "GET", "/api/rooms/private/nothing", alice, nil), 404, "unknown room path").errorText(t)
	})
}

// TestPasswordHashingTime measures what a password costs in a wedge
// instance: registering (a bcrypt hash) and logging in (a comparison)
// must finish within the function's time limit (a 504 fails the test).
// The times are logged; their speed target is the benchmark suite's (the
// chat scenario's registration step), not a threshold under -race here.
func TestPasswordHashingTime(t *testing.T) {
	a := startChat(t)
	var reg, login []time.Duration
	for i := 0; i < 3; i++ {
		user := "timing" + strconv.Itoa(i)
		start := time.Now()
		want(t, a.call(t, "POST", "/api/auth/register", "", credentials{user, "a password to hash"}), 201, "register")
		reg = append(reg, time.Since(start))
		start = time.Now()
		a.login(t, user, "a password to hash")
		login = append(login, time.Since(start))
	}
	start := time.Now()
	want(t, a.call(t, "GET", "/api/auth/me", "", nil), 401, "a request without bcrypt")
	plain := time.Since(start)
	median := func(d []time.Duration) time.Duration {
		s := slices.Clone(d)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return s[len(s)/2]
	}
	t.Logf("bcrypt cost 10 in wasm: register median %v %v, login median %v %v (a request without bcrypt: %v)",
		median(reg), reg, median(login), login, plain)
}
