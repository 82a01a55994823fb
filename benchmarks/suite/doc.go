// Package suite is wedge's benchmark suite: what `wedge bench` runs. It
// owns planning a session (which scenarios, servers, connection counts,
// durations and repetitions, for the quick or the full profile), starting
// the servers it measures as separate processes pinned to their own CPUs,
// driving them with benchmarks/loadgen, showing progress with an estimate
// of the time left, and assembling what was measured into a report.Run
// that benchmarks/report writes out (report.md, results.json, charts).
//
// # Scenarios
//
//   - HTTP hello (httpScenario): the same "hello from wedge\n" answer from
//     a wedge node running the WAT hello and the Go SDK hello examples in
//     a fresh instance per request (and the C, Rust and AssemblyScript SDK
//     examples, built with their Makefiles: sdkhellos.go), a bare fasthttp server (the baseline
//     series), a net/http server, the WAT hello in wazero with a fresh
//     instance per request (benchmarks/cmd/wazero-baseline) and, when
//     installed, Cloudflare's workerd serving a JS and a Wasm hello; at
//     several connection counts, closed loop, repetitions interleaved
//     across servers; latency percentiles of the 2xx answers with the
//     share of the others beside them.
//   - Invoke in process (microScenario): runtime.Module.Invoke (store,
//     instance, call, teardown) timed in this process for each example
//     guest, without HTTP; the Go guest both pre-initialized (as a node
//     serves it) and not.
//   - Deployed functions (scaleScenario): throughput with requests spread
//     over 1, 100, 1,000 (and 10,000 in the full profile) tiny functions
//     on distinct routes, with the node's start-up time and memory.
//   - Chat app and local cluster (chatScenario, clusterScenario): the
//     reference app on a 3-node cluster; propagation, gossip traffic and
//     failure detection of a local cluster.
//   - Overload (overloadScenario): open-loop load at multiples of a
//     node's capacity, fixed and adaptive limit, with the time to serve
//     again; a fast function's latency beside a flooded slow one.
//   - Event delivery (eventsScenario): cause-to-run latency of KV, upload
//     and queue triggers on a node in this process, and queue throughput.
//   - Outbound HTTP call (outboundScenario): one GET to a local server
//     from a guest through the host calls, against the same GET from
//     native Go (the node's outbound client and plain net/http) and an
//     invocation that sends nothing, in the same run, in this process.
//   - Per-request cost (costScenario): a node in this process under Go's
//     CPU profiler, its CPU per request split into HTTP, admission,
//     instantiate, reset, guest code, host calls and logging by the
//     functions on each sample's stack (cost.go, pprofread.go), for the
//     WAT hello, a minimal WASI command and the Go SDK hello.
//
// A step that fails, or a scenario that calls Env.Fail, makes Run return
// ErrFailed after the report is written.
//
// More scenarios (KV, cluster) plug in through Register: a Scenario plans
// its Steps before anything runs, so the progress display knows the whole
// session, and returns report.Scenarios afterwards.
//
// # Processes and pinning
//
// Servers run as child processes started with loadgen.PinnedCommand on
// the server half of the CPUs; the load generator runs in this process,
// pinned with loadgen.PinProcess to the other half (cpu 0 and cpu 1 on a
// 2-core machine) just before the first server starts, so that builds and
// the compilation of the Go guest before it use every CPU. When pinning is
// not possible the run goes on unpinned and report.Machine.Pinning says
// why. The process's previous CPU affinity is restored when Run returns,
// and children get SIGTERM if this process dies. With Options.IdlePoll
// the session holds the kernel's CPU latency limit at 0 (idlepoll.go), so
// that waking an idle load generator costs the server no interrupt, and
// report.Machine.CPUIdle says so.
//
// The session also accounts for CPU time it did not use (other processes,
// other virtual machines) and for a load generator running out of CPU,
// and says so in the report's notes.
package suite
