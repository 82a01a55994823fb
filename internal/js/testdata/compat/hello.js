// Workers example "Hello World".
export default {
  async fetch(request, env, ctx) {
    return new Response("Hello World!");
  },
};
