// CORS: answer preflights, add the headers to the API's answers.
const corsHeaders = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET,HEAD,POST,OPTIONS",
  "Access-Control-Max-Age": "86400",
};

function handleOptions(request) {
  if (
    request.headers.get("Origin") !== null &&
    request.headers.get("Access-Control-Request-Method") !== null &&
    request.headers.get("Access-Control-Request-Headers") !== null
  ) {
    return new Response(null, {
      status: 204,
      headers: { ...corsHeaders, "Access-Control-Allow-Headers": request.headers.get("Access-Control-Request-Headers") },
    });
  }
  return new Response(null, { headers: { Allow: "GET, HEAD, POST, OPTIONS" } });
}

export default {
  async fetch(request) {
    if (request.method === "OPTIONS") return handleOptions(request);
    const response = new Response(JSON.stringify({ message: "hello" }), { headers: { "content-type": "application/json" } });
    const withCors = new Response(response.body, response);
    withCors.headers.set("Access-Control-Allow-Origin", "*");
    withCors.headers.append("Vary", "Origin");
    return withCors;
  },
};
