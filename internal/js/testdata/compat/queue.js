// Workers example "Queues": a consumer that handles each message and acks it.
export default {
  async queue(batch, env) {
    for (const message of batch.messages) {
      await env.KV.put("order/" + message.body.order, JSON.stringify({ queue: batch.queue, total: message.body.total }));
      message.ack();
    }
  },
};
