package shared

import (
	"strings"
	"unicode/utf8"
)

// Limits of the API.
const (
	MinUsername   = 3
	MaxUsername   = 32
	MinPassword   = 8   // characters
	MaxPassword   = 128 // characters
	MaxRoomName   = 32
	MaxMessage    = 2000     // characters, after trimming
	MaxBodyBytes  = 16 << 10 // any JSON request body; larger: 413
	TokenHexBytes = 64       // a session token: 32 random bytes in hex
)

// ValidUsername reports whether s is 3 to 32 of [a-z0-9_].
func ValidUsername(s string) bool {
	if len(s) < MinUsername || len(s) > MaxUsername {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// ValidRoom reports whether s is 1 to 32 of [a-z0-9_-], starting with a
// letter or digit. A room's name is its id, in keys and in URLs.
func ValidRoom(s string) bool {
	if len(s) < 1 || len(s) > MaxRoomName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// ValidToken reports whether s looks like a session token (64 lower-case
// hex digits), so that garbage never reaches the store.
func ValidToken(s string) bool {
	if len(s) != TokenHexBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// CheckPassword returns what is wrong with a password, or "".
func CheckPassword(p string) string {
	if !utf8.ValidString(p) {
		return "the password must be valid UTF-8"
	}
	switch n := utf8.RuneCountInString(p); {
	case n < MinPassword:
		return "the password must have at least 8 characters"
	case n > MaxPassword:
		return "the password must have at most 128 characters"
	}
	return ""
}

// CleanMessage trims text and returns it with what is wrong with it, or "".
// Text must be valid UTF-8 (the JSON decoder would otherwise have replaced
// bad bytes silently: DecodeJSON rejects them first) and 1 to 2000
// characters long once trimmed. NUL and other C0 controls except tab and
// newline are refused, since they only hide text.
func CleanMessage(text string) (string, string) {
	if !utf8.ValidString(text) {
		return "", "the message must be valid UTF-8"
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return "", "the message is empty"
	}
	if utf8.RuneCountInString(text) > MaxMessage {
		return "", "a message has at most 2000 characters"
	}
	for _, r := range text {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || r == utf8.RuneError {
			return "", "the message contains control characters or invalid text"
		}
	}
	return text, ""
}
