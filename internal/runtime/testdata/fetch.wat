;; The ABI example for outbound HTTP (abi/README.md, "Outbound HTTP").
;; Its request body is [u32 req_len][encoded outbound request][body to send];
;; it sends the request and answers with the upstream status, headers and
;; body, streamed through a 64 KiB buffer. A failure answers 600 + code.
(module
  (import "wedge_v1" "request_body" (func $req_body (param i32 i32) (result i32)))
  (import "wedge_v1" "http_send" (func $send (param i32 i32 i32 i32) (result i32)))
  (import "wedge_v1" "http_response_head" (func $resp_head (param i32 i32 i32) (result i32)))
  (import "wedge_v1" "http_response_read" (func $resp_read (param i32 i32 i32) (result i32)))
  (import "wedge_v1" "http_close" (func $close (param i32) (result i32)))
  (import "wedge_v1" "response_head" (func $head (param i32 i32 i32) (result i32)))
  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 64)                 ;; 4 MiB
  ;; 16: an empty header list; 8192: response head buffer (56 KiB);
  ;; 1 MiB: the request body; 3.5 MiB: the read buffer (64 KiB).
  (func $fail (param $neg i32) (result i32)
    (drop (call $head (i32.sub (i32.const 600) (local.get $neg)) (i32.const 16) (i32.const 4)))
    (i32.const 0))
  (func (export "wedge_handle") (param $head_len i32) (param $body_len i32) (result i32)
    (local $off i32) (local $n i32) (local $h i32) (local $req_len i32)
    (block $done (loop $more
      (local.set $n (call $req_body (i32.add (i32.const 0x100000) (local.get $off)) (i32.const 65536)))
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $off (i32.add (local.get $off) (local.get $n)))
      (br $more)))
    (local.set $req_len (i32.load (i32.const 0x100000)))
    (local.set $h (call $send
      (i32.const 0x100004) (local.get $req_len)
      (i32.add (i32.const 0x100004) (local.get $req_len))
      (i32.sub (local.get $off) (i32.add (i32.const 4) (local.get $req_len)))))
    (if (i32.lt_s (local.get $h) (i32.const 0)) (then (return (call $fail (local.get $h)))))
    ;; status and headers (a guest with a small buffer would call again)
    (local.set $n (call $resp_head (local.get $h) (i32.const 8192) (i32.const 57344)))
    (if (i32.gt_s (local.get $n) (i32.const 57344)) (then (return (call $fail (i32.const -2)))))
    (drop (call $head (i32.load (i32.const 8192)) (i32.const 8196) (i32.sub (local.get $n) (i32.const 4))))
    (block $end (loop $read
      (local.set $n (call $resp_read (local.get $h) (i32.const 0x380000) (i32.const 65536)))
      (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (call $fail (local.get $n)))))
      (br_if $end (i32.eqz (local.get $n)))
      (drop (call $write (i32.const 0x380000) (local.get $n)))
      (br $read)))
    (drop (call $close (local.get $h)))
    (i32.const 0)))
