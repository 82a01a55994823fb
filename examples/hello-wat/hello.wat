;; The smallest useful wedge function, written by hand against abi/README.md.
;; It answers every request with a fixed greeting: one host call.
(module
  (import "wedge_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from wedge\n")
  (func (export "wedge_handle") (param $head_len i32) (param $body_len i32) (result i32)
    (drop (call $write (i32.const 16) (i32.const 17)))
    (i32.const 0)))
