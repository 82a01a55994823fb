// Package logs keeps every function's log history: WASI stdout and stderr
// and the ABI's log calls, each line with a timestamp, the request id and
// a sequence number, in a bounded ring per function. Followers receive new
// lines as they arrive (wedge logs --follow); a slow follower loses lines
// rather than slowing the function, and is told how many it missed.
package logs
