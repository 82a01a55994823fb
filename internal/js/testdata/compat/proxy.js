// Workers example "Fetch JSON": fetch an upstream API, re-shape its answer.
export default {
  async fetch(request, env) {
    const response = await fetch(env.API_URL + "/users/1", { headers: { accept: "application/json" } });
    if (!response.ok) return new Response("upstream answered " + response.status, { status: 502 });
    const user = await response.json();
    return Response.json({ name: user.name, via: "wedge" });
  },
};
