// A KV counter (the binding is env.KV, the function's namespace).
export default {
  async fetch(request, env) {
    const count = Number(await env.KV.get("counter")) || 0;
    await env.KV.put("counter", String(count + 1));
    return new Response(`Visits: ${count + 1}`);
  },
};
