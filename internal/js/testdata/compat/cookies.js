// Cookie parsing: greet a returning visitor, give a new one an id.
const COOKIE_NAME = "__uid";

function getCookie(request, name) {
  const header = request.headers.get("Cookie");
  if (!header) return null;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return null;
}

export default {
  async fetch(request) {
    const uid = getCookie(request, COOKIE_NAME);
    if (uid) return new Response("Welcome back, " + uid);
    const id = crypto.randomUUID();
    return new Response("Hello, new visitor", {
      headers: { "Set-Cookie": `${COOKIE_NAME}=${id}; Path=/; HttpOnly; SameSite=Lax` },
    });
  },
};
