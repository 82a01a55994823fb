// Isolation check: increments a module-level variable, a property of a
// heap object and one byte in every 4 KiB of a 1 MiB buffer made at load
// time, and answers with what it read after incrementing. Every request
// of a fresh instance must see global=1 heap=1 spread=1.
let count = 0;
const heap = { n: 0 };
const big = new Uint8Array(1 << 20);
export default {
  fetch() {
    count++;
    heap.n++;
    let most = 0;
    for (let i = 0; i < big.length; i += 4096) { big[i]++; if (big[i] > most) most = big[i]; }
    return new Response("global=" + count + " heap=" + heap.n + " spread=" + most);
  },
};