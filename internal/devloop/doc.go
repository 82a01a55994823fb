// Package devloop is `wedge dev`: the inner loop of writing a function,
// as `spin watch` and `wrangler dev` offer it. Run starts a node of its
// own (or uses the one it is given), builds and deploys a project, then
// watches the project's files and, on every change, rebuilds and
// redeploys only the functions the change concerns, printing how long
// the loop took from the change to the new version serving. The
// functions' logs stream to the terminal as they are written. A build or
// deploy that fails is reported and changes nothing on the node: the last
// good version keeps serving.
//
// A project is either an app (a directory holding wedge.toml, built and
// deployed as `wedge deploy DIR` does it) or a single function directory
// as `wedge init` makes it (project.go). One file per idea:
//
//   - project.go: what the directory holds, its functions and their builders;
//   - build.go, build_wat.go, build_go.go: a builder per kind of source:
//     a file deployed as it is (JavaScript, or a module built elsewhere), a
//     shell command (the manifest's build, or make), WAT (converted in
//     process), Go (go build for wasip1);
//   - node.go: the node the loop deploys to: one it starts, with its own
//     data directory and free ports on 127.0.0.1, or an existing one;
//   - deploy.go: uploads what changed and remembers the last good versions;
//   - watch.go and debounce.go: fsnotify over the directory tree, and the
//     batching of an editor's burst of events into one change;
//   - logs.go: one log follower per function;
//   - loop.go: the rounds of build and deploy that tie these together;
//   - output.go: the one writer every goroutine prints through.
package devloop
