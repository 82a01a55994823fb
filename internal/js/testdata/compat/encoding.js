// base64, TextEncoder/TextDecoder and crypto.
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const text = url.searchParams.get("text") ?? "";
    const bytes = new TextEncoder().encode(text);
    let binary = "";
    for (const b of bytes) binary += String.fromCharCode(b);
    const b64 = btoa(binary);
    const back = new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
    const nonce = crypto.getRandomValues(new Uint8Array(16));
    return Response.json({
      base64: b64,
      roundTrip: back === text,
      nonceHex: [...nonce].map((b) => b.toString(16).padStart(2, "0")).join(""),
      id: crypto.randomUUID(),
    });
  },
};
