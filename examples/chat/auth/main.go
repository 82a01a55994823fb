// Command auth is the chat app's account function, deployed on
// /api/auth/...:
//
//	POST /api/auth/register  {"username", "password"}  -> 201 {"username", "created"}
//	POST /api/auth/login     {"username", "password"}  -> 200 {"token", "expires", "username"}
//	POST /api/auth/logout    Authorization: Bearer <token> -> 204
//	GET  /api/auth/me        Authorization: Bearer <token> -> 200 {"username"}
//
// Passwords are stored as bcrypt hashes; a session is a random 32-byte
// token that the store keeps (hashed) under session/ with a TTL. Login
// attempts are counted per user in 15-minute windows, and a successful
// login clears the count: after 5 failed ones, logins for that user
// answer 429 until the window ends. See ../README.md for the
// key schema.
package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wedge-run/wedge/examples/chat/shared"
	wedge "github.com/wedge-run/wedge/sdk/go"
	"golang.org/x/crypto/bcrypt"
)

func init() {
	wedge.Handle(newAuth())
}

func main() {} // never run in a -buildmode=c-shared module

const (
	// bcryptCost: at cost 10 a hash or a comparison takes 0.1-0.5 s in
	// a wedge instance on a small, busy machine (../README.md has the
	// measurement), far below the 5 s default time limit. Each request
	// does at most one.
	bcryptCost = 10
	// maxFailures failed logins in one window lock the user's logins
	// until the window ends.
	maxFailures = 5
	// defaultSessionTTL is how long a session lasts unless the
	// SESSION_TTL configuration variable says otherwise.
	defaultSessionTTL = 24 * time.Hour
)

// dummyHash is compared against when the user does not exist, so that a
// login takes as long for an unknown user as for a wrong password. It is
// the cost-10 hash of a password nobody has (the pre-hash of "x").
var dummyHash = []byte("$2a$10$ZErbGHZVuSpxk1T/CoNNGe33HFRNbfQWh.moh23zITaY.7Ue9qqHC")

type auth struct {
	mux shared.JSONMux
	kv  *wedge.Store
	now func() time.Time
}

func newAuth() *auth {
	a := &auth{mux: shared.NewJSONMux(), kv: wedge.KV(""), now: time.Now}
	a.mux.HandleFunc("POST /api/auth/register", a.register)
	a.mux.HandleFunc("POST /api/auth/login", a.login)
	a.mux.HandleFunc("POST /api/auth/logout", a.logout)
	a.mux.HandleFunc("GET /api/auth/me", a.me)
	return a
}

func (a *auth) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// prehash turns a password of up to 128 characters (512 bytes) into 44
// bytes for bcrypt, which reads at most 72 bytes and stops at none: the
// base64 of its SHA-256.
func prehash(password string) []byte {
	sum := sha256.Sum256([]byte(password))
	return []byte(base64.StdEncoding.EncodeToString(sum[:]))
}

func normalize(username string) string { return strings.ToLower(strings.TrimSpace(username)) }

func (a *auth) register(w http.ResponseWriter, r *http.Request) {
	var in credentials
	if !shared.DecodeJSON(w, r, &in) {
		return
	}
	name := normalize(in.Username)
	if !shared.ValidUsername(name) {
		shared.WriteError(w, http.StatusBadRequest, "the username must be 3 to 32 characters of a-z, 0-9 and _")
		return
	}
	if msg := shared.CheckPassword(in.Password); msg != "" {
		shared.WriteError(w, http.StatusBadRequest, msg)
		return
	}
	// Fail fast on a taken name before paying for the hash; the
	// conditional Put below settles a race between two registrations.
	if _, _, err := a.kv.Get(shared.UserKey(name)); err == nil {
		shared.WriteError(w, http.StatusConflict, "that username is taken")
		return
	} else if !errors.Is(err, wedge.ErrNotFound) {
		shared.StoreError(w, err)
		return
	}
	hash, err := bcrypt.GenerateFromPassword(prehash(in.Password), bcryptCost)
	if err != nil {
		wedge.Logger().Error("hashing a password failed", "err", err)
		shared.WriteError(w, http.StatusInternalServerError, "registration failed")
		return
	}
	u := shared.User{Username: name, Hash: string(hash), Created: a.now().UTC().Truncate(time.Second)}
	val, _ := json.Marshal(u)
	if _, err := a.kv.Put(shared.UserKey(name), val, wedge.IfAbsent()); err != nil {
		if errors.Is(err, wedge.ErrConflict) {
			shared.WriteError(w, http.StatusConflict, "that username is taken")
			return
		}
		shared.StoreError(w, err)
		return
	}
	wedge.Logger().Info("user registered", "user", name)
	shared.WriteJSON(w, http.StatusCreated, map[string]any{"username": name, "created": u.Created})
}

func (a *auth) login(w http.ResponseWriter, r *http.Request) {
	var in credentials
	if !shared.DecodeJSON(w, r, &in) {
		return
	}
	name := normalize(in.Username)
	if !shared.ValidUsername(name) || shared.CheckPassword(in.Password) != "" {
		// No account can match: nothing to count or compare.
		shared.WriteError(w, http.StatusUnauthorized, "wrong username or password")
		return
	}
	// Count the attempt before checking the password, not after a
	// failure: the increment is atomic, so a burst of concurrent guesses
	// cannot all slip under the limit. A successful login clears the count.
	now := a.now()
	bucket := shared.FailBucket(now)
	failKey := shared.FailKey(name, bucket)
	attempt, err := a.countAttempt(failKey)
	if err != nil {
		shared.StoreError(w, err)
		return
	}
	if attempt > maxFailures {
		a.tooMany(w, bucket, now)
		return
	}

	var hash []byte
	val, _, err := a.kv.Get(shared.UserKey(name))
	switch {
	case err == nil:
		var u shared.User
		if json.Unmarshal(val, &u) != nil || u.Hash == "" {
			wedge.Logger().Error("corrupt user record", "user", name)
			shared.WriteError(w, http.StatusInternalServerError, "login failed")
			return
		}
		hash = []byte(u.Hash)
	case errors.Is(err, wedge.ErrNotFound):
		hash = nil
	default:
		shared.StoreError(w, err)
		return
	}
	if hash == nil {
		bcrypt.CompareHashAndPassword(dummyHash, prehash(in.Password)) // same time as a real check
	}
	if hash == nil || bcrypt.CompareHashAndPassword(hash, prehash(in.Password)) != nil {
		wedge.Logger().Info("login failed", "user", name, "attempts_in_window", attempt)
		shared.WriteError(w, http.StatusUnauthorized, "wrong username or password")
		return
	}

	// A successful login clears the user's failures of this window.
	if err := a.kv.Delete(failKey); err != nil {
		wedge.Logger().Warn("clearing failed logins", "user", name, "err", err)
	}
	ttl := sessionTTL()
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		shared.WriteError(w, http.StatusInternalServerError, "login failed")
		return
	}
	token := hex.EncodeToString(raw[:])
	if _, err := a.kv.Put(shared.SessionKey(token), []byte(name), wedge.WithTTL(ttl), wedge.IfAbsent()); err != nil {
		shared.StoreError(w, err)
		return
	}
	wedge.Logger().Info("user logged in", "user", name)
	shared.WriteJSON(w, http.StatusOK, map[string]any{
		"token":    token,
		"expires":  now.Add(ttl).UTC().Truncate(time.Second),
		"username": name,
	})
}

// countAttempt counts one login attempt under key and returns the
// count, this attempt included. The key is created with a TTL just past
// its window (an increment keeps the expiry it finds), so old windows
// clean themselves up.
func (a *auth) countAttempt(key string) (int64, error) {
	_, err := a.kv.Put(key, []byte("0"), wedge.IfAbsent(), wedge.WithTTL(shared.FailWindow+time.Minute))
	if err != nil && !errors.Is(err, wedge.ErrConflict) {
		return 0, err
	}
	return a.kv.Increment(key, 1)
}

func (a *auth) tooMany(w http.ResponseWriter, bucket int64, now time.Time) {
	wait := int64(shared.FailBucketEnd(bucket).Sub(now).Seconds()) + 1
	w.Header().Set("Retry-After", strconv.FormatInt(wait, 10))
	shared.WriteJSON(w, http.StatusTooManyRequests, map[string]any{
		"error":       "too many failed logins for this user: try again in " + humanSeconds(wait),
		"retry_after": wait,
	})
}

func humanSeconds(s int64) string {
	if s < 90 {
		return strconv.FormatInt(s, 10) + " seconds"
	}
	return strconv.FormatInt((s+59)/60, 10) + " minutes"
}

func (a *auth) logout(w http.ResponseWriter, r *http.Request) {
	if _, ok := shared.Authenticate(w, r); !ok {
		return
	}
	if err := a.kv.Delete(shared.SessionKey(shared.BearerToken(r))); err != nil {
		shared.StoreError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (a *auth) me(w http.ResponseWriter, r *http.Request) {
	user, ok := shared.Authenticate(w, r)
	if !ok {
		return
	}
	shared.WriteJSON(w, http.StatusOK, map[string]string{"username": user})
}

// sessionTTL is SESSION_TTL (a Go duration between 1 minute and 30 days)
// or 24 hours.
func sessionTTL() time.Duration {
	if s, ok := wedge.Config("SESSION_TTL"); ok {
		if d, err := time.ParseDuration(s); err == nil && d >= time.Minute && d <= 30*24*time.Hour {
			return d
		}
		wedge.Logger().Warn("ignoring an invalid SESSION_TTL", "value", s)
	}
	return defaultSessionTTL
}
