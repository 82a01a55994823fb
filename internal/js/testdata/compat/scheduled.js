// Workers example "Cron Triggers": work on a schedule, kept alive with ctx.waitUntil.
async function doSomeTaskOnASchedule(env, controller) {
  const runs = Number(await env.KV.get("runs")) || 0;
  await env.KV.put("runs", String(runs + 1));
  await env.KV.put("last-cron", controller.cron);
}

export default {
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(doSomeTaskOnASchedule(env, controller));
  },
};
