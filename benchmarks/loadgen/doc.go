// Package loadgen is wedge's HTTP load generator library. It owns sending
// bounded load to a server on this machine and summarising what came back;
// it does not start servers, repeat runs or compare results (the
// benchmarks/report package does the statistics and rendering).
//
// # Modes
//
// Run drives one target URL with Config.Connections keep-alive
// connections, one fasthttp.HostClient per connection, so C connections
// really are C sockets and C workers.
//
//   - Closed loop (Config.Rate == 0): every worker sends its next request as
//     soon as the previous response arrived. Latency is measured from the
//     moment the request was sent.
//   - Open loop (Config.Rate > 0): requests follow a fixed schedule of
//     Rate requests per second shared by all workers; request i is due at
//     start + i/Rate. Latency is measured from that intended send time, not
//     from the moment a worker got round to sending it, so when the server
//     stalls the queueing delay shows up in the percentiles (the correction
//     for "coordinated omission"). When all Connections are busy, due
//     requests wait for a free connection and that wait is counted too;
//     slots still unsent when the window closes are reported as
//     Result.Unsent. Result.SendLag tells how late requests left the
//     generator. On Linux workers sleep on timerfds read through Go's
//     network poller, which wake within tens of microseconds; a Go timer
//     in an otherwise idle process can wake up to a millisecond late, and
//     that error would be counted as latency.
//
// # Bounds
//
// Every run is bounded in time: Config.Duration is required and is the
// measured window after Config.Warmup. Config.MaxRequests optionally ends
// the run earlier after that many measured requests. Requests still in
// flight when the window closes may finish within Config.Timeout; after
// that the connections are closed and those requests count as errors of
// kind "aborted". The whole call therefore returns by
// Warmup + Duration + Timeout plus a tenth of a second, or promptly after
// ctx is cancelled. Only
// loopback targets (127.0.0.0/8, ::1, localhost) over plain http are
// accepted.
//
// # Results
//
// Requests sent during the warmup are not recorded. Each worker records
// latencies in its own HDR histogram (nanosecond values, three significant
// digits, up to MaxLatency); the histograms are merged when the run ends.
// Result carries counts, status codes (200 and 503 counted separately),
// transport errors by kind, throughput, percentiles in microseconds of the
// 2xx answers (Latency: a fast 503 is not a served request) and of every
// answer (AllLatency), the share of non-2xx answers (Shed), and the merged
// histograms encoded in the standard HdrHistogram V2 compressed
// base64 form, so results of several runs or generators can be
// re-aggregated with Merge or DecodeHistogram. Throughput counts responses
// of any status per second; SuccessThroughput counts only 2xx, so a server
// that sheds load with fast 503s does not look faster than it is.
//
// # CPU pinning
//
// On a 2-core machine a fair benchmark puts the server on one core and the
// generator on the other, so they do not steal each other's CPU time.
// SplitCPUs divides the CPUs this process may use into a server set and a
// generator set (cpu 0 and cpu 1 on a 2-core machine). PinnedCommand builds
// an exec.Cmd for the server prefixed with `taskset -c <server set>`, and
// PinProcess (Linux only, sched_setaffinity) pins every thread of the
// generator process to the generator set; threads created later inherit it.
// Pinning applies to whole processes, so the server must run as its own
// process (started with PinnedCommand); an in-process server would share
// the generator's CPUs. When pinning is not possible (one CPU, taskset missing, not Linux, or the
// affinity call refused) these return an error saying why — ErrTooFewCPUs,
// ErrTasksetNotFound or ErrPinUnsupported — and the caller should record
// that the run was unpinned rather than fail. The Go runtime (1.25 and
// later) re-reads the affinity mask periodically and lowers its default
// GOMAXPROCS to match, unless GOMAXPROCS was set explicitly.
package loadgen
