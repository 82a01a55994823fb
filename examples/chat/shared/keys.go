// Package shared is the code the chat functions have in common: the
// key-value schema of the "chat" namespace, the validation rules, session
// lookup and the JSON helpers. Each function is its own module and links
// this one through a replace directive; nothing here keeps state between
// requests.
//
// # Key schema
//
// Every function of the app is deployed with kv_namespace = "chat", so
// wedge.KV("") is that namespace in all of them. User names and room
// names never contain '/', so the separators below are unambiguous.
//
//	user/<username>                 JSON User (bcrypt hash)           auth
//	session/<sha256(token) hex>     username, TTL = session lifetime  auth (read by messages)
//	fail/<username>/<unix/900>      login attempts, TTL 16 min        auth
//	room/<room>                     JSON Room                         messages
//	member/<room>/<username>        JSON {"joined": time}             messages (listed by notify)
//	rooms/<username>/<room>         JSON {"joined": time}             messages
//	seq/<room>                      message counter of the room       messages
//	msg/<room>/<id, 20 digits>      JSON Message                      messages (triggers notify)
//	unread/<username>/<room>        unread counter                    notify (+1), messages (reset)
//	inbox/<username>/<room>/<id>    JSON InboxEntry, TTL 24 h         notify
package shared

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Key prefixes of the schema.
const (
	PrefixUser    = "user/"
	PrefixSession = "session/"
	PrefixFail    = "fail/"
	PrefixRoom    = "room/"
	PrefixMember  = "member/"
	PrefixRooms   = "rooms/"
	PrefixSeq     = "seq/"
	PrefixMsg     = "msg/" // the notify function's trigger prefix
	PrefixUnread  = "unread/"
	PrefixInbox   = "inbox/"
	PrefixWebhook = "webhook/" // webhook/<room>: the room's webhook URL
)

// FailWindow is the fixed window failed logins are counted in.
const FailWindow = 15 * time.Minute

// InboxTTL is how long notify keeps an inbox entry (and so how long it
// recognizes a redelivered event as already handled).
const InboxTTL = 24 * time.Hour

// UserKey is the account record of username.
func UserKey(username string) string { return PrefixUser + username }

// SessionKey is where the session of token lives. The token itself is not
// stored: the key holds its SHA-256, so a copy of the store (a backup, the
// admin API's key listing, a replica) holds no usable bearer tokens.
func SessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return PrefixSession + hex.EncodeToString(sum[:])
}

// FailBucket is the number of the failed-login window holding t.
func FailBucket(t time.Time) int64 { return t.Unix() / int64(FailWindow/time.Second) }

// FailBucketEnd is when window bucket ends.
func FailBucketEnd(bucket int64) time.Time {
	return time.Unix((bucket+1)*int64(FailWindow/time.Second), 0)
}

// FailKey is the failed-login counter of username in window bucket.
func FailKey(username string, bucket int64) string {
	return PrefixFail + username + "/" + strconv.FormatInt(bucket, 10)
}

// RoomKey is the record of room.
func RoomKey(room string) string { return PrefixRoom + room }

// MemberKey marks username as a member of room; MemberPrefix lists a
// room's members.
func MemberKey(room, username string) string { return MemberPrefix(room) + username }

// MemberPrefix is the prefix of a room's member keys.
func MemberPrefix(room string) string { return PrefixMember + room + "/" }

// UserRoomKey is the reverse index of MemberKey: the rooms of a user.
func UserRoomKey(username, room string) string { return UserRoomsPrefix(username) + room }

// UserRoomsPrefix is the prefix of a user's room keys.
func UserRoomsPrefix(username string) string { return PrefixRooms + username + "/" }

// SeqKey is the counter that numbers a room's messages (1, 2, ...).
func SeqKey(room string) string { return PrefixSeq + room }

// MsgKey is where message id of room is stored. The id is zero-padded to
// 20 digits (any int64), so key order is id order.
func MsgKey(room string, id int64) string { return fmt.Sprintf("%s%s/%020d", PrefixMsg, room, id) }

// ParseMsgKey splits a message key into its room and id.
func ParseMsgKey(key string) (room string, id int64, ok bool) {
	rest, ok := strings.CutPrefix(key, PrefixMsg)
	if !ok {
		return "", 0, false
	}
	room, num, ok := strings.Cut(rest, "/")
	if !ok || !ValidRoom(room) || len(num) != 20 {
		return "", 0, false
	}
	id, err := strconv.ParseInt(num, 10, 64)
	if err != nil || id < 1 {
		return "", 0, false
	}
	return room, id, true
}

// UnreadKey counts the messages of room that username has not read.
func UnreadKey(username, room string) string { return UnreadPrefix(username) + room }

// UnreadPrefix is the prefix of a user's unread counters.
func UnreadPrefix(username string) string { return PrefixUnread + username + "/" }

// InboxKey records that username was notified of message id of room.
func InboxKey(username, room string, id int64) string {
	return fmt.Sprintf("%s%s/%s/%020d", PrefixInbox, username, room, id)
}

// User is the value of UserKey.
type User struct {
	Username string    `json:"username"`
	Hash     string    `json:"hash"` // bcrypt of the pre-hashed password (see the auth function)
	Created  time.Time `json:"created"`
}

// Room is the value of RoomKey.
type Room struct {
	Name    string    `json:"name"`
	Creator string    `json:"creator"`
	Created time.Time `json:"created"`
}

// Membership is the value of MemberKey and UserRoomKey.
type Membership struct {
	Joined time.Time `json:"joined"`
}

// Message is the value of MsgKey, and what the API returns.
type Message struct {
	ID   int64     `json:"id"`
	Room string    `json:"room"`
	User string    `json:"user"`
	Text string    `json:"text"`
	Time time.Time `json:"time"`
}

// InboxEntry is the value of InboxKey.
type InboxEntry struct {
	Room string    `json:"room"`
	ID   int64     `json:"id"`
	From string    `json:"from"`
	Time time.Time `json:"time"`
}

// WebhookKey holds the URL the notify function posts a room's messages to.
func WebhookKey(room string) string { return PrefixWebhook + room }
