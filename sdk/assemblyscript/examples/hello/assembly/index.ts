// hello: the AssemblyScript SDK's example, and the AssemblyScript guest of
// the cross-language conformance suite (sdk/conformance). It dispatches on
// the last segment of the path, so it can be deployed under any route
// ending in "/...".
import {
  ANY_VERSION, IF_ABSENT, KV, Request, Response, codeName, config, info, lastCode, panic, publish, readEvent, serve,
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

// The event entry: the envelope of the last event lands in the store.
export function wedge_event(eventLen: i32): i32 {
  return new KV().putText("last-event", readEvent(eventLen)) > 0 ? 0 : 1;
}
