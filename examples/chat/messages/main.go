// Command messages is the chat app's rooms and messages function,
// deployed on /api/rooms, /api/rooms/... and /api/inbox. Every request
// needs "Authorization: Bearer <token>" from the auth function.
//
//	GET  /api/rooms                      -> {"rooms": [{"name", "creator", "created", "joined"}]}
//	POST /api/rooms                      {"name"} -> 201 the room (the creator joins it)
//	GET  /api/rooms/{room}               -> the room and its members (members only)
//	POST /api/rooms/{room}/join          -> 200 the room
//	POST /api/rooms/{room}/messages      {"text"} -> 201 the message (members only)
//	GET  /api/rooms/{room}/messages      ?after=<id> | ?before=<id>, &limit=1..100 (default 50)
//	                                     -> {"messages": [...oldest first], "more", "last_id"}
//	POST /api/rooms/{room}/read          -> 200 {"room", "unread": 0}
//	GET  /api/inbox                      -> {"unread": {"<room>": n, ...}, "total": n}
//	PUT  /api/rooms/{room}/webhook       {"url"} -> 200 (the room's creator only; "" removes it):
//	                                     the notify function posts every new message there
//	                                     (the host must be in notify's allowed_hosts)
//
// Errors are JSON {"error": "..."}: 400 invalid input, 401 no valid
// session, 403 not a member, 404 no such room, 409 the room exists, 413
// body over 16 KiB. See ../README.md for the key schema.
package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/wedge-run/wedge/examples/chat/shared"
	wedge "github.com/wedge-run/wedge/sdk/go"
)

func init() {
	wedge.Handle(newAPI())
}

func main() {} // never run in a -buildmode=c-shared module

const (
	defaultPage = 50
	maxPage     = 100
	maxRooms    = 500 // rooms listed by GET /api/rooms
	// gapGrace: a message id that was allocated but whose message is not
	// stored yet (its Put is in flight) is waited for this long before a
	// reader skips it for good. See readRange.
	gapGrace = 3 * time.Second
)

type api struct {
	mux shared.JSONMux
	kv  *wedge.Store
}

func newAPI() *api {
	a := &api{mux: shared.NewJSONMux(), kv: wedge.KV("")}
	a.mux.HandleFunc("GET /api/rooms", a.authed(a.listRooms))
	a.mux.HandleFunc("POST /api/rooms", a.authed(a.createRoom))
	a.mux.HandleFunc("PUT /api/rooms/{room}", a.authed(a.putRoom))
	a.mux.HandleFunc("GET /api/rooms/{room}", a.member(a.getRoom))
	a.mux.HandleFunc("POST /api/rooms/{room}/join", a.authed(a.join))
	a.mux.HandleFunc("POST /api/rooms/{room}/messages", a.member(a.post))
	a.mux.HandleFunc("GET /api/rooms/{room}/messages", a.member(a.read))
	a.mux.HandleFunc("POST /api/rooms/{room}/read", a.member(a.markRead))
	a.mux.HandleFunc("GET /api/inbox", a.authed(a.inbox))
	a.mux.HandleFunc("PUT /api/rooms/{room}/webhook", a.member(a.putWebhook))
	return a
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

type handler func(w http.ResponseWriter, r *http.Request, user string)

// authed runs h with the user of the request's session, or answers 401.
func (a *api) authed(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if user, ok := shared.Authenticate(w, r); ok {
			h(w, r, user)
		}
	}
}

// member is authed plus a valid {room} the user is a member of: 400 for a
// bad name, 404 for no such room, 403 for a room the user has not joined.
func (a *api) member(h handler) http.HandlerFunc {
	return a.authed(func(w http.ResponseWriter, r *http.Request, user string) {
		room := r.PathValue("room")
		if !shared.ValidRoom(room) {
			shared.WriteError(w, http.StatusBadRequest, "invalid room name")
			return
		}
		_, _, err := a.kv.Get(shared.MemberKey(room, user))
		if errors.Is(err, wedge.ErrNotFound) {
			if _, _, err := a.kv.Get(shared.RoomKey(room)); errors.Is(err, wedge.ErrNotFound) {
				shared.WriteError(w, http.StatusNotFound, "no such room")
				return
			} else if err != nil {
				shared.StoreError(w, err)
				return
			}
			shared.WriteError(w, http.StatusForbidden, "you are not a member of this room: join it first")
			return
		}
		if err != nil {
			shared.StoreError(w, err)
			return
		}
		h(w, r, user)
	})
}

// roomView is a room as GET /api/rooms shows it.
type roomView struct {
	shared.Room
	Joined bool `json:"joined"`
}

func (a *api) listRooms(w http.ResponseWriter, r *http.Request, user string) {
	mine := map[string]bool{}
	prefix := shared.UserRoomsPrefix(user)
	for key, err := range a.kv.List(prefix) {
		if err != nil {
			shared.StoreError(w, err)
			return
		}
		mine[key[len(prefix):]] = true
	}
	out := []roomView{}
	for key, err := range a.kv.List(shared.PrefixRoom) {
		if err != nil {
			shared.StoreError(w, err)
			return
		}
		if len(out) == maxRooms {
			break
		}
		val, _, err := a.kv.Get(key)
		if errors.Is(err, wedge.ErrNotFound) {
			continue
		}
		if err != nil {
			shared.StoreError(w, err)
			return
		}
		var room shared.Room
		if json.Unmarshal(val, &room) != nil {
			continue
		}
		out = append(out, roomView{Room: room, Joined: mine[room.Name]})
	}
	shared.WriteJSON(w, http.StatusOK, map[string]any{"rooms": out})
}

// createRoom is POST /api/rooms {"name"}. In a cluster it is served
// wherever it arrives, not on the room's node (the name is not in the
// path): use putRoom there, so that the room's first post, on its node,
// finds the room and its creator's membership.
func (a *api) createRoom(w http.ResponseWriter, r *http.Request, user string) {
	var in struct {
		Name string `json:"name"`
	}
	if !shared.DecodeJSON(w, r, &in) {
		return
	}
	a.create(w, in.Name, user)
}

// putRoom is PUT /api/rooms/{room}: createRoom with the name in the path,
// where the app's affinity sends it to the room's node.
func (a *api) putRoom(w http.ResponseWriter, r *http.Request, user string) {
	a.create(w, r.PathValue("room"), user)
}

func (a *api) create(w http.ResponseWriter, name, user string) {
	in := struct{ Name string }{name}
	if !shared.ValidRoom(in.Name) {
		shared.WriteError(w, http.StatusBadRequest, "a room name is 1 to 32 characters of a-z, 0-9, _ and -, starting with a letter or digit")
		return
	}
	room := shared.Room{Name: in.Name, Creator: user, Created: time.Now().UTC().Truncate(time.Second)}
	val, _ := json.Marshal(room)
	if _, err := a.kv.Put(shared.RoomKey(room.Name), val, wedge.IfAbsent()); err != nil {
		if errors.Is(err, wedge.ErrConflict) {
			shared.WriteError(w, http.StatusConflict, "a room with that name exists: join it instead")
			return
		}
		shared.StoreError(w, err)
		return
	}
	if err := a.addMember(room.Name, user); err != nil {
		shared.StoreError(w, err)
		return
	}
	wedge.Logger().Info("room created", "room", room.Name, "user", user)
	w.Header().Set("Location", "/api/rooms/"+room.Name)
	shared.WriteJSON(w, http.StatusCreated, roomView{Room: room, Joined: true})
}

func (a *api) addMember(room, user string) error {
	val, _ := json.Marshal(shared.Membership{Joined: time.Now().UTC().Truncate(time.Second)})
	// Put only if absent: joining twice keeps the first join time.
	if _, err := a.kv.Put(shared.MemberKey(room, user), val, wedge.IfAbsent()); err != nil && !errors.Is(err, wedge.ErrConflict) {
		return err
	}
	if _, err := a.kv.Put(shared.UserRoomKey(user, room), val, wedge.IfAbsent()); err != nil && !errors.Is(err, wedge.ErrConflict) {
		return err
	}
	return nil
}

func (a *api) loadRoom(w http.ResponseWriter, name string) (shared.Room, bool) {
	val, _, err := a.kv.Get(shared.RoomKey(name))
	if errors.Is(err, wedge.ErrNotFound) {
		shared.WriteError(w, http.StatusNotFound, "no such room")
		return shared.Room{}, false
	}
	if err != nil {
		shared.StoreError(w, err)
		return shared.Room{}, false
	}
	var room shared.Room
	if err := json.Unmarshal(val, &room); err != nil {
		wedge.Logger().Error("corrupt room record", "room", name)
		shared.WriteError(w, http.StatusInternalServerError, "corrupt room record")
		return shared.Room{}, false
	}
	return room, true
}

func (a *api) join(w http.ResponseWriter, r *http.Request, user string) {
	name := r.PathValue("room")
	if !shared.ValidRoom(name) {
		shared.WriteError(w, http.StatusBadRequest, "invalid room name")
		return
	}
	room, ok := a.loadRoom(w, name)
	if !ok {
		return
	}
	if err := a.addMember(name, user); err != nil {
		shared.StoreError(w, err)
		return
	}
	shared.WriteJSON(w, http.StatusOK, roomView{Room: room, Joined: true})
}

func (a *api) getRoom(w http.ResponseWriter, r *http.Request, user string) {
	room, ok := a.loadRoom(w, r.PathValue("room"))
	if !ok {
		return
	}
	members := []string{}
	prefix := shared.MemberPrefix(room.Name)
	for key, err := range a.kv.List(prefix) {
		if err != nil {
			shared.StoreError(w, err)
			return
		}
		members = append(members, key[len(prefix):])
	}
	shared.WriteJSON(w, http.StatusOK, map[string]any{
		"name": room.Name, "creator": room.Creator, "created": room.Created, "members": members,
	})
}

func (a *api) post(w http.ResponseWriter, r *http.Request, user string) {
	var in struct {
		Text string `json:"text"`
	}
	if !shared.DecodeJSON(w, r, &in) {
		return
	}
	text, problem := shared.CleanMessage(in.Text)
	if problem != "" {
		shared.WriteError(w, http.StatusBadRequest, problem)
		return
	}
	room := r.PathValue("room")
	msg := shared.Message{Room: room, User: user, Text: text}
	// Number the message with the room's counter and store it under that
	// number. The conditional Put never overwrites a message: should a
	// number ever be handed out twice (a counter restored from an old
	// backup), the next one is taken.
	for attempt := 0; ; attempt++ {
		id, err := a.kv.Increment(shared.SeqKey(room), 1)
		if err != nil {
			shared.StoreError(w, err)
			return
		}
		msg.ID = id
		msg.Time = time.Now().UTC().Truncate(time.Millisecond)
		val, _ := json.Marshal(msg)
		_, err = a.kv.Put(shared.MsgKey(room, id), val, wedge.IfAbsent())
		if err == nil {
			break
		}
		if !errors.Is(err, wedge.ErrConflict) || attempt == 3 {
			shared.StoreError(w, err)
			return
		}
	}
	w.Header().Set("Location", "/api/rooms/"+room+"/messages?after="+strconv.FormatInt(msg.ID-1, 10)+"&limit=1")
	shared.WriteJSON(w, http.StatusCreated, msg)
}

// page is what GET messages returns.
type page struct {
	Messages []shared.Message `json:"messages"` // oldest first
	// More: with after, newer messages than these exist (ask again with
	// after = the last id); otherwise older ones exist (before = the
	// first id).
	More bool `json:"more"`
	// LastID is the id of the room's newest message (0: none yet).
	LastID int64 `json:"last_id"`
}

func (a *api) read(w http.ResponseWriter, r *http.Request, user string) {
	q := r.URL.Query()
	limit := defaultPage
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPage {
			shared.WriteError(w, http.StatusBadRequest, "limit must be 1 to 100")
			return
		}
		limit = n
	}
	after, okA := idParam(w, q.Get("after"), "after")
	before, okB := idParam(w, q.Get("before"), "before")
	if !okA || !okB {
		return
	}
	if after >= 0 && before >= 0 {
		shared.WriteError(w, http.StatusBadRequest, "use after or before, not both")
		return
	}
	room := r.PathValue("room")
	last, err := a.counter(shared.SeqKey(room))
	if err != nil {
		shared.StoreError(w, err)
		return
	}
	p := page{Messages: []shared.Message{}, LastID: last}
	switch {
	case after >= 0: // forward from after
		hi := last
		if after < last-int64(limit) {
			hi = after + int64(limit)
		}
		msgs, stoppedAt, err := a.readRange(room, after+1, hi)
		if err != nil {
			shared.StoreError(w, err)
			return
		}
		p.Messages = msgs
		p.More = stoppedAt < last
	default: // the newest page, or the page before `before`
		hi := last
		if before >= 0 {
			hi = min(last, before-1)
		}
		lo := max(1, hi-int64(limit)+1)
		msgs, _, err := a.readRange(room, lo, hi)
		if err != nil {
			shared.StoreError(w, err)
			return
		}
		p.Messages = msgs
		p.More = lo > 1
	}
	shared.WriteJSON(w, http.StatusOK, p)
}

// idParam parses an optional message id parameter; -1 when absent.
func idParam(w http.ResponseWriter, s, name string) (int64, bool) {
	if s == "" {
		return -1, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		shared.WriteError(w, http.StatusBadRequest, name+" must be a message id (a non-negative integer)")
		return 0, false
	}
	return n, true
}

// readRange returns the messages with ids lo..hi that exist, oldest
// first, and the id it read up to (hi, or less when it stopped early).
//
// Ids are handed out by an atomic counter before the message is stored,
// so a reader may see message n+1 while message n is still being
// written. A client that then asked for after=n+1 would never see n. So
// at the first missing id, if a later message is younger than gapGrace,
// the page ends before the gap and the client, asking again from there,
// gets n once it is stored. An older gap is a post that failed between
// the two writes: it is skipped.
func (a *api) readRange(room string, lo, hi int64) ([]shared.Message, int64, error) {
	out := []shared.Message{}
	gap := int64(0) // first missing id, if any
	for id := lo; id <= hi; id++ {
		val, _, err := a.kv.Get(shared.MsgKey(room, id))
		if errors.Is(err, wedge.ErrNotFound) {
			if gap == 0 {
				gap = id
			}
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		var m shared.Message
		if err := json.Unmarshal(val, &m); err != nil {
			wedge.Logger().Warn("skipping a corrupt message", "room", room, "id", id)
			continue
		}
		if gap != 0 && time.Since(m.Time) < gapGrace {
			// Drop what follows the gap; it is read again next time.
			for len(out) > 0 && out[len(out)-1].ID > gap {
				out = out[:len(out)-1]
			}
			return out, gap - 1, nil
		}
		out = append(out, m)
	}
	return out, hi, nil
}

// counter reads an integer key; an absent key is 0.
func (a *api) counter(key string) (int64, error) {
	v, _, err := a.kv.Get(key)
	if errors.Is(err, wedge.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, nil
	}
	return n, nil
}

func (a *api) markRead(w http.ResponseWriter, r *http.Request, user string) {
	room := r.PathValue("room")
	key := shared.UnreadKey(user, room)
	n, err := a.counter(key)
	if err != nil {
		shared.StoreError(w, err)
		return
	}
	if n != 0 {
		// Subtract what was seen rather than store 0, so that a message
		// counted by notify in the meantime stays unread.
		if _, err := a.kv.Increment(key, -n); err != nil {
			shared.StoreError(w, err)
			return
		}
	}
	shared.WriteJSON(w, http.StatusOK, map[string]any{"room": room, "unread": 0})
}

func (a *api) inbox(w http.ResponseWriter, r *http.Request, user string) {
	unread := map[string]int64{}
	var total int64
	prefix := shared.UnreadPrefix(user)
	for key, err := range a.kv.List(prefix) {
		if err != nil {
			shared.StoreError(w, err)
			return
		}
		n, err := a.counter(key)
		if err != nil {
			shared.StoreError(w, err)
			return
		}
		if n > 0 {
			unread[key[len(prefix):]] = n
			total += n
		}
	}
	shared.WriteJSON(w, http.StatusOK, map[string]any{"unread": unread, "total": total})
}

// putWebhook is PUT /api/rooms/{room}/webhook {"url"}: the room's creator
// sets (or, with "", removes) the URL every new message is posted to.
func (a *api) putWebhook(w http.ResponseWriter, r *http.Request, user string) {
	room, ok := a.loadRoom(w, r.PathValue("room"))
	if !ok {
		return
	}
	if room.Creator != user {
		shared.WriteError(w, http.StatusForbidden, "only the room's creator may set its webhook")
		return
	}
	var in struct {
		URL string `json:"url"`
	}
	if !shared.DecodeJSON(w, r, &in) {
		return
	}
	if in.URL == "" {
		if err := a.kv.Delete(shared.WebhookKey(room.Name)); err != nil {
			shared.StoreError(w, err)
			return
		}
		shared.WriteJSON(w, http.StatusOK, map[string]string{"room": room.Name, "url": ""})
		return
	}
	u, err := url.Parse(in.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(in.URL) > 512 {
		shared.WriteError(w, http.StatusBadRequest, "the webhook must be an http:// or https:// URL of at most 512 characters")
		return
	}
	if _, err := a.kv.Put(shared.WebhookKey(room.Name), []byte(in.URL)); err != nil {
		shared.StoreError(w, err)
		return
	}
	wedge.Logger().Info("webhook set", "room", room.Name, "user", user)
	shared.WriteJSON(w, http.StatusOK, map[string]string{"room": room.Name, "url": in.URL})
}
