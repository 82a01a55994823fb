package abi

// Version is the ABI revision this package describes. The import module
// name carries the major version; minor additions (new functions, new error
// codes) only append.
const Version = "1.0"

// ImportModule is the name of the host import module for ABI v1.
const ImportModule = "wedge_v1"

// WASIModule is the WASI preview 1 import module the host also provides.
const WASIModule = "wasi_snapshot_preview1"

// Exports a guest may provide.
const (
	// ExportMemory is the guest's linear memory; required by the native entry.
	ExportMemory = "memory"
	// ExportHandle is the native HTTP entry:
	//   (func (export "wedge_handle") (param $head_len i32) (param $body_len i32) (result i32))
	// It returns 0 on success; any other value makes the request fail with 500.
	ExportHandle = "wedge_handle"
	// ExportEvent is the native event entry (triggers):
	//   (func (export "wedge_event") (param $event_len i32) (result i32))
	ExportEvent = "wedge_event"
	// ExportStart is the WASI command entry, served CGI-style.
	ExportStart = "_start"
	// ExportInitialize is the WASI reactor initializer, run before any entry.
	ExportInitialize = "_initialize"
)

// Host functions in ImportModule. Signatures are given in WAT; every
// function returns i32 (or i64 where noted): a value >= 0 is success
// (usually a length), a value < 0 is the negation of an error code.
const (
	// (func (param $buf i32) (param $cap i32) (result i32))
	// Writes the encoded request head into buf if it fits; returns its length.
	FnRequestHead = "request_head"
	// (func (param $buf i32) (param $cap i32) (result i32))
	// Reads the next bytes of the request body; returns the count, 0 at end.
	FnRequestBody = "request_body"
	// (func (param $status i32) (param $headers i32) (param $headers_len i32) (result i32))
	// Sets the response status and replaces the response headers.
	FnResponseHead = "response_head"
	// (func (param $buf i32) (param $len i32) (result i32))
	// Appends to the response body; returns len.
	FnResponseWrite = "response_write"
	// (func (param $level i32) (param $msg i32) (param $len i32) (result i32))
	// Adds one line to the function's logs.
	FnLog = "log"
	// (func (param $key i32) (param $key_len i32) (param $buf i32) (param $cap i32) (result i32))
	// Reads a configuration variable of the function into buf if it fits;
	// returns its length, or -ErrNotFound.
	FnConfigGet = "config_get"
)

// Log levels for FnLog.
const (
	LogDebug int32 = 0
	LogInfo  int32 = 1
	LogWarn  int32 = 2
	LogError int32 = 3
)

// LevelName returns the lower-case name of a log level.
func LevelName(l int32) string {
	switch l {
	case LogDebug:
		return "debug"
	case LogInfo:
		return "info"
	case LogWarn:
		return "warn"
	case LogError:
		return "error"
	}
	return "info"
}

// Key-value host functions in ImportModule. A namespace of length 0 means
// the function's own namespace; any other namespace must be granted to the
// function, or the call returns -ErrDenied.
const (
	// (func (param $ns i32) (param $ns_len i32) (param $key i32) (param $key_len i32)
	//       (param $buf i32) (param $cap i32) (param $version_out i32) (result i32))
	// Copies the value into buf if it fits and returns its length
	// (size-needed protocol); writes the value's version as a u64 at
	// version_out unless version_out is 0. -ErrNotFound when absent.
	FnKVGet = "kv_get"
	// (func (param $ns i32) (param $ns_len i32) (param $key i32) (param $key_len i32)
	//       (param $val i32) (param $val_len i32) (param $ttl_ms i64) (param $if_version i64) (result i64))
	// Stores the value; ttl_ms 0 = no expiry; if_version -1 = unconditional,
	// 0 = only if absent, n > 0 = only if the current version is n
	// (else -ErrConflict). Returns the new version.
	FnKVPut = "kv_put"
	// (func (param $ns i32) (param $ns_len i32) (param $key i32) (param $key_len i32)
	//       (param $if_version i64) (result i32))
	// Deletes the key (if_version as for kv_put). Returns 0; deleting an
	// absent key is not an error unless if_version > 0.
	FnKVDelete = "kv_delete"
	// (func (param $ns i32) (param $ns_len i32) (param $key i32) (param $key_len i32)
	//       (param $delta i64) (param $out i32) (result i32))
	// Atomically adds delta to the integer counter at key (absent = 0),
	// writes the new value as an i64 at out, returns 0.
	FnKVIncrement = "kv_increment"
	// (func (param $ns i32) (param $ns_len i32) (param $prefix i32) (param $prefix_len i32)
	//       (param $cursor i32) (param $cursor_len i32) (param $limit i32)
	//       (param $buf i32) (param $cap i32) (result i32))
	// Lists up to limit keys (1..1000) under prefix in key order, starting
	// after cursor (empty = from the start). Writes the encoded page into buf
	// if it fits and returns its length (size-needed protocol). Page:
	// u32 count, count × string key, string next_cursor ("" = done).
	FnKVList = "kv_list"
)

// Event functions in ImportModule (triggers and asynchronous work).
const (
	// (func (param $buf i32) (param $cap i32) (result i32))
	// Copies the current event envelope (JSON, see README.md "Events")
	// into buf if it fits; returns its length (size-needed protocol), or
	// -ErrNotFound outside the event entry.
	FnEventGet = "event_get"
	// (func (param $queue i32) (param $queue_len i32) (param $body i32) (param $body_len i32) (result i32))
	// Publishes a message to a queue; returns 0 once it is durably
	// stored. Bodies are limited to MaxValueLen.
	FnQueuePublish = "queue_publish"
	// (func (param $bucket i32) (param $bucket_len i32) (param $name i32) (param $name_len i32)
	//       (param $offset i64) (param $buf i32) (param $cap i32) (result i64))
	// Reads up to cap bytes of an uploaded object from offset; returns the
	// number of bytes copied (0 at the end), -ErrNotFound, or -ErrDenied
	// for a bucket the function has no trigger on or grant for.
	FnObjectRead = "object_read"
)

// Outbound HTTP functions in ImportModule (abi/README.md, "Outbound
// HTTP"). A request goes only to destinations on the function's
// allowed_hosts.
const (
	// (func (param $req i32) (param $req_len i32) (param $body i32) (param $body_len i32) (result i32))
	// Sends the encoded outbound request (EncodeOutboundRequest) with the
	// body [body, body+body_len) and waits for the response head. Returns
	// a handle (>= 1) or -ErrDenied, -ErrInvalid, -ErrTooLarge, -ErrBusy,
	// -ErrTimedOut, -ErrNetwork, -ErrUnsupported.
	FnHTTPSend = "http_send"
	// (func (param $handle i32) (param $buf i32) (param $cap i32) (result i32))
	// Copies the response head (u32 status, header list) into buf if it
	// fits; returns its length (size-needed protocol).
	FnHTTPResponseHead = "http_response_head"
	// (func (param $handle i32) (param $buf i32) (param $cap i32) (result i32))
	// Reads the next bytes of the response body; returns the count, 0 at
	// the end.
	FnHTTPResponseRead = "http_response_read"
	// (func (param $handle i32) (result i32))
	// Releases the response; the handle is invalid afterwards.
	FnHTTPClose = "http_close"
)

// MaxOutboundHandles bounds the responses one invocation holds open.
const MaxOutboundHandles = 16
