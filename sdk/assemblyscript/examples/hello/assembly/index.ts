// hello: the AssemblyScript SDK's example, and the AssemblyScript guest of
// the cross-language conformance suite (sdk/conformance). It dispatches on
// the last segment of the path, so it can be deployed under any route
// ending in "/...".
import {
  ANY_VERSION, Event, EventHandlers, IF_ABSENT, KV, KVChange, Message, Request, Response, Tick, Upload, codeName,
  config, info, lastCode, panic, publish, serve, serveEvent,
} from "../../../assembly/index";

function word(r: i64): string { return r >= 0 ? "ok" : codeName(<i32>r); }

function kv(): Response {
  const kv = new KV();
  const v1 = kv.putText("kv/a", "one");
  const v2 = kv.putText("kv/a", "two", 0, v1);
  const stale = kv.putText("kv/a", "three", 0, v1);
  const absent = kv.putText("kv/a", "four", 0, IF_ABSENT);
  kv.putText("kv/b", "ttl", 60000, ANY_VERSION);
  const e = kv.get("kv/a");
  const value = e ? e.text : "";
  const versionOK = e && <i64>e.version == v2 ? "ok" : "wrong";
  const keys = kv.list("kv/", 1);
  let list = "";
  for (let i = 0; i < keys.length; i++) list += keys[i] + ",";
  if (lastCode != 0) list += "(" + codeName(lastCode) + ")";
  const del = kv.delete("kv/a");
  const gone = kv.get("kv/a") ? "still there" : codeName(lastCode);
  kv.delete("kv/b");
  return Response.text("put:" + word(v1) + " cas:" + word(v2) + " stale:" + word(stale) + " absent:" + word(absent) +
    " get:" + value + " version:" + versionOK + " list:" + list + " delete:" + word(del) + " gone:" + gone + "\n");
}

// fresh: a request runs in a fresh instance, so a global and a heap
// value that every request increments read 1 every time.
let freshCalls: i32 = 0;
let freshHeap: Array<i32> | null = null;

function fresh(): Response {
  freshCalls++;
  if (freshHeap == null) freshHeap = [0];
  const heap = freshHeap!;
  heap[0] = heap[0] + 1;
  return Response.text("global=" + freshCalls.toString() + " heap=" + heap[0].toString() + "\n");
}

function handle(req: Request): Response {
  const path = req.path;
  const seg = path.substring(path.lastIndexOf("/") + 1);
  if (seg == "hello") {
    const name = req.queryParam("name");
    return Response.text("hello, " + (name && name!.length > 0 ? name! : "world") + "\n").header("X-Wedge-Sdk", "as");
  }
  if (seg == "head") {
    return Response.text(req.method + " " + req.path + " " + req.query + " " + req.bodyLength.toString() + "\n");
  }
  if (seg == "echo") {
    const s = req.queryParam("status");
    const r = new Response(s ? I32.parseInt(s!) : 200).header("Content-Type", "application/octet-stream");
    const x = req.header("X-Echo");
    if (x) r.header("X-Echo", x!);
    return r.writeBytes(req.body());
  }
  if (seg == "count") {
    const n = new KV().increment("counter", 1);
    if (lastCode != 0) panic("increment: " + codeName(lastCode));
    return Response.text(n.toString() + "\n");
  }
  if (seg == "fresh") return fresh();
  if (seg == "kv") return kv();
  if (seg == "log") {
    const m = req.queryParam("msg");
    info("log: " + (m ? m! : ""));
    return Response.text("logged\n");
  }
  if (seg == "config") {
    const k = req.queryParam("key");
    const v = config(k ? k! : "");
    return v ? Response.text(v! + "\n") : Response.text("not set\n", 404);
  }
  if (seg == "publish") {
    const q = req.queryParam("queue");
    const r = publish(q ? q! : "", req.body());
    return r < 0 ? Response.text(codeName(r), 400) : Response.text("published\n", 202);
  }
  // An AssemblyScript abort (a failed assertion, an index out of bounds)
  // reaches the SDK's abort: logged, then a trap.
  if (seg == "trap") assert(false, "boom from as");
  return Response.text("not found\n", 404);
}

export function wedge_handle(headLen: i32, bodyLen: i32): i32 {
  return serve(headLen, bodyLen, handle);
}

// The event entries, one per kind: each records what it received under a
// "seen-<kind>" key, and the traceparent of the event's cause under
// "trace-<kind>" first.
function put(key: string, value: string): i32 { return new KV().putText(key, value) > 0 ? 0 : 1; }

function onKV(ev: Event, c: KVChange): i32 {
  if (put("trace-kv", ev.traceparent) != 0) return 1;
  return put("seen-kv", c.op + " " + c.key + " " + c.oldVersion.toString() + " " + c.newVersion.toString() + " " + c.text);
}

function onUpload(ev: Event, u: Upload): i32 {
  if (put("trace-upload", ev.traceparent) != 0) return 1;
  const body = u.readAll();
  if (!body) panic("object_read failed");
  if (new KV().put("upload-body", body!) < 0) return 1;
  return put("seen-upload", u.bucket + " " + u.object + " " + u.size.toString() + " " + u.contentType + " " + u.sha256);
}

function onSchedule(ev: Event, t: Tick): i32 {
  new KV().increment("ticks", 1);
  return put("seen-schedule", t.cron + "|" + t.timezone + "|" + t.scheduled);
}

function onQueue(ev: Event, msgs: Message[]): i32 {
  if (put("trace-queue", ev.traceparent) != 0) return 1;
  for (let i = 0; i < msgs.length; i++) {
    if (put("seen-queue", msgs[i].queue + " " + msgs[i].text + " " + msgs[i].attempts.toString()) != 0) return 1;
  }
  return 0;
}

const events = new EventHandlers().onKV(onKV).onUpload(onUpload).onSchedule(onSchedule).onQueue(onQueue);

export function wedge_event(eventLen: i32): i32 {
  return serveEvent(eventLen, events);
}
