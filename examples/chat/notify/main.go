// Command notify is the chat app's notification function. It has no
// routes: a kv trigger on namespace "chat", prefix "msg/", runs it once
// for every message the messages function stores. For each member of the
// message's room except its author it
//
//   - records the notification as inbox/<user>/<room>/<id> (TTL 24 h), and
//   - if that entry is new, increments unread/<user>/<room>,
//
// which GET /api/inbox (the messages function) reports and
// POST /api/rooms/{room}/read resets. If the room has a webhook (set by
// its creator), the message is then posted there as JSON; the webhook's
// host must be in the function's allowed_hosts.
//
// Events are delivered at least once: a failed or interrupted run is
// retried. The inbox entry, written only if absent, makes the increment
// happen once per member and message even then.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/wedge-run/wedge/examples/chat/shared"
	wedge "github.com/wedge-run/wedge/sdk/go"
)

func init() {
	wedge.OnKVChange(notify)
}

func main() {} // never run in a -buildmode=c-shared module

func notify(ctx context.Context, c wedge.KVChange) error {
	if c.Op != wedge.OpPut {
		return nil // messages are never deleted by the app; an operator's delete needs nothing
	}
	room, id, ok := shared.ParseMsgKey(c.Key)
	if !ok {
		wedge.Logger().Warn("ignoring a key that is not a message", "key", c.Key)
		return nil
	}
	val, err := c.LoadValue()
	if errors.Is(err, wedge.ErrNotFound) {
		return nil // deleted since
	}
	if err != nil {
		return err
	}
	var msg shared.Message
	if err := json.Unmarshal(val, &msg); err != nil {
		wedge.Logger().Warn("ignoring a message that is not JSON", "key", c.Key)
		return nil // retrying would not help
	}
	kv := wedge.KV("")
	entry, _ := json.Marshal(shared.InboxEntry{Room: room, ID: id, From: msg.User, Time: msg.Time})
	prefix := shared.MemberPrefix(room)
	notified := 0
	for key, err := range kv.List(prefix) {
		if err != nil {
			return err
		}
		user := key[len(prefix):]
		if user == msg.User || !shared.ValidUsername(user) {
			continue
		}
		_, err := kv.Put(shared.InboxKey(user, room, id), entry, wedge.IfAbsent(), wedge.WithTTL(shared.InboxTTL))
		if errors.Is(err, wedge.ErrConflict) {
			continue // counted by an earlier delivery of this event
		}
		if err != nil {
			return fmt.Errorf("inbox of %s: %w", user, err)
		}
		if _, err := kv.Increment(shared.UnreadKey(user, room), 1); err != nil {
			return fmt.Errorf("unread counter of %s: %w", user, err)
		}
		notified++
	}
	wedge.Logger().Debug("message delivered", "room", room, "id", id, "notified", notified)
	return postWebhook(ctx, room, id, msg)
}

// postWebhook posts the message as JSON to the room's webhook, if it has
// one. A failure fails the delivery, which the event machinery retries
// with backoff (the inbox writes above are idempotent); the
// Idempotency-Key header lets the receiver drop the repeats of a message
// it already took.
func postWebhook(ctx context.Context, room string, id int64, msg shared.Message) error {
	hook, _, err := wedge.KV("").Get(shared.WebhookKey(room))
	if errors.Is(err, wedge.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	body, _ := json.Marshal(msg)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, string(hook), bytes.NewReader(body))
	if err != nil {
		wedge.Logger().Warn("ignoring an invalid webhook", "room", room)
		return nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", fmt.Sprintf("%s/%d", room, id))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("webhook of %s: %w", room, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook of %s answered %d", room, resp.StatusCode)
	}
	return nil
}
