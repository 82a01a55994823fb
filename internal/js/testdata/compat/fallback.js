// Static routes and a 404 fallback.
const routes = {
  "/pages/": () => new Response("index"),
  "/pages/about": () => new Response("about us"),
};

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    const handler = routes[pathname];
    if (handler) return handler(request);
    return new Response(`Not found: ${pathname}`, { status: 404, headers: { "content-type": "text/plain" } });
  },
};
