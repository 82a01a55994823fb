// A JSON API with a router written by hand.
const todos = [
  { id: 1, title: "read the docs", done: true },
  { id: 2, title: "deploy a worker", done: false },
];

function json(data, status = 200) {
  return new Response(JSON.stringify(data), { status, headers: { "content-type": "application/json;charset=UTF-8" } });
}

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    const m = pathname.match(/^\/api\/todos(?:\/(\d+))?$/);
    if (!m) return json({ error: "not found" }, 404);
    if (m[1] === undefined) {
      if (request.method === "GET") return json(todos);
      if (request.method === "POST") {
        const todo = await request.json();
        return json({ id: todos.length + 1, ...todo }, 201);
      }
      return json({ error: "method not allowed" }, 405);
    }
    const todo = todos.find((t) => t.id === Number(m[1]));
    return todo ? json(todo) : json({ error: "no todo " + m[1] }, 404);
  },
};
