;; The Extism kernel of this host: the `extism:host/env` memory and I/O functions a plugin imports.
;; One instance per plugin, linked wasm-to-wasm into the plugin, so the PDKs' byte-by-byte and
;; 8-byte reads of input and memory never cross into JavaScript.
;;
;; Memory is imported so the host sets its page limit. Blocks are 8-byte aligned and carry a 16-byte
;; header just before the offset handed out: u32 magic (used or free), u32 capacity, u64 length.
;; Offset 0 means "none", as everywhere in the Extism ABI.
;;
;; What a call used is zeroed lazily: memory between the heap top and $dirty_top may still hold bytes
;; of freed blocks (a block freed at the top, everything after a reset) and reads as zeros. A block
;; is zeroed where it overlaps that range when it is handed out (only its padding when the host
;; fills it at once), and a load or store that reaches past the top zeroes the range first. So no
;; call reads another's bytes and a new block reads as zeros, as if each reset zeroed the heap, as
;; the native kernel's does, but a call pays only for the blocks it allocates.
(module
  (import "host" "memory" (memory $mem 1))
  ;; Called when the memory cannot grow: the host throws a clear error naming the limit.
  (import "host" "out_of_memory" (func $out_of_memory (param i64)))

  (global $heap_start i32 (i32.const 64))
  (global $used_magic i32 (i32.const 0x45585449)) ;; "EXTI"
  (global $free_magic i32 (i32.const 0x46524545)) ;; "FREE"
  (global $top (mut i32) (i32.const 64))
  ;; Memory in [top, dirty_top) reads as zeros whatever it holds; past dirty_top it is as stored.
  (global $dirty_top (mut i32) (i32.const 64))
  (global $free_list (mut i32) (i32.const 0))
  ;; Entries on the free list: the walk in alloc never goes further, even if a plugin stored a cycle.
  (global $free_count (mut i32) (i32.const 0))
  (global $input_offset (mut i64) (i64.const 0))
  (global $input_length (mut i64) (i64.const 0))
  (global $output_offset (mut i64) (i64.const 0))
  (global $output_length (mut i64) (i64.const 0))
  (global $error (mut i64) (i64.const 0))
  ;; Where input_load_u64 reads: index i, i + 8 <= input_length, reads Extism memory at
  ;; input_offset + i modulo 2^64, or gives 0 when those 8 bytes are not all in memory. The indices that
  ;; read memory are [0, $input_fast), at $input_base + i, and [$input_wrap_from, + $input_wrap_count)
  ;; (an input_offset near 2^64 wraps), at i - $input_wrap_from. $input_window keeps them when the
  ;; input changes or the top moves below its end, and zeroes what of them would read as zeros.
  (global $input_fast (mut i64) (i64.const 0))
  (global $input_wrap_from (mut i64) (i64.const 0))
  (global $input_wrap_count (mut i64) (i64.const 0))
  (global $input_base (mut i32) (i32.const 0))
  ;; Where the input ends, or all ones when it reaches past the top (or wraps): a top that moves below
  ;; it needs $input_window again, any other move of the top (or growth of memory) does not.
  (global $input_reach (mut i64) (i64.const 0))

  (func $capacity (param $p i32) (result i32)
    (i32.load (i32.sub (local.get $p) (i32.const 12))))

  (func $set_header (param $p i32) (param $magic i32) (param $cap i32) (param $len i64)
    (i32.store (i32.sub (local.get $p) (i32.const 16)) (local.get $magic))
    (i32.store (i32.sub (local.get $p) (i32.const 12)) (local.get $cap))
    (i64.store (i32.sub (local.get $p) (i32.const 8)) (local.get $len)))

  ;; A live block: in the heap, aligned, marked used, inside the heap top, its length within its
  ;; capacity. A plugin can store over any header, so nothing here trusts one beyond these checks.
  (func $is_block (param $offs i64) (result i32)
    (local $p i32)
    (if (i64.gt_u (local.get $offs) (i64.extend_i32_u (global.get $top))) (then (return (i32.const 0))))
    (local.set $p (i32.wrap_i64 (local.get $offs)))
    (if (i32.lt_u (local.get $p) (i32.add (global.get $heap_start) (i32.const 16)))
      (then (return (i32.const 0))))
    (if (i32.and (local.get $p) (i32.const 7)) (then (return (i32.const 0))))
    (if (i32.ne (i32.load (i32.sub (local.get $p) (i32.const 16))) (global.get $used_magic))
      (then (return (i32.const 0))))
    (if (call $bad_capacity (local.get $p)) (then (return (i32.const 0))))
    (i64.le_u (i64.load (i32.sub (local.get $p) (i32.const 8)))
              (i64.extend_i32_u (call $capacity (local.get $p)))))

  ;; A free-list entry that can be reused: in the heap, aligned, marked free, inside the heap top.
  (func $is_free_entry (param $p i32) (result i32)
    (if (i32.lt_u (local.get $p) (i32.add (global.get $heap_start) (i32.const 16)))
      (then (return (i32.const 0))))
    (if (i32.and (local.get $p) (i32.const 7)) (then (return (i32.const 0))))
    (if (i32.gt_u (local.get $p) (global.get $top)) (then (return (i32.const 0))))
    (if (i32.ne (i32.load (i32.sub (local.get $p) (i32.const 16))) (global.get $free_magic))
      (then (return (i32.const 0))))
    (i32.eqz (call $bad_capacity (local.get $p))))

  ;; Every block the kernel makes holds at least 8 bytes and ends inside the heap top.
  (func $bad_capacity (param $p i32) (result i32)
    (i32.or (i32.lt_u (call $capacity (local.get $p)) (i32.const 8))
            (i32.gt_u (call $capacity (local.get $p)) (i32.sub (global.get $top) (local.get $p)))))

  ;; Whether [offs, offs + n) lies in Extism memory: loads and stores are bounded by the memory,
  ;; not by block, as in Extism's native kernel.
  (func $in_memory (param $offs i64) (param $n i64) (result i32)
    (if (i64.gt_u (local.get $offs) (i64.const 0xffffffff)) (then (return (i32.const 0))))
    (i64.le_u (i64.add (local.get $offs) (local.get $n))
              (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16))))

  ;; Whether a load or store of [offs, offs + n) past the heap top may go ahead; one that reaches the
  ;; range that reads as zeros zeroes it first. Loads and stores inside the top never come here.
  (func $reach (param $offs i64) (param $n i64) (result i32)
    (if (i32.eqz (call $in_memory (local.get $offs) (local.get $n))) (then (return (i32.const 0))))
    (if (i32.and (i64.gt_u (i64.add (local.get $offs) (local.get $n)) (i64.extend_i32_u (global.get $top)))
                 (i64.lt_u (local.get $offs) (i64.extend_i32_u (global.get $dirty_top))))
      (then (call $zero_dirty)))
    (i32.const 1))

  (func $input_window
    (local $last i64) (local $room i64)
    (global.set $input_fast (i64.const 0))
    (global.set $input_wrap_count (i64.const 0))
    (global.set $input_reach (i64.const 0))
    (if (i64.lt_u (global.get $input_length) (i64.const 8)) (then (return)))
    (local.set $last (i64.sub (global.get $input_length) (i64.const 8)))
    ;; the last offset an 8-byte load may start at
    (local.set $room (i64.sub (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)) (i64.const 8)))
    (global.set $input_base (i32.wrap_i64 (global.get $input_offset)))
    (if (i64.le_u (global.get $input_offset) (local.get $room))
      (then
        (global.set $input_fast (i64.add (i64.const 1)
          (select (local.get $last) (i64.sub (local.get $room) (global.get $input_offset))
            (i64.lt_u (local.get $last) (i64.sub (local.get $room) (global.get $input_offset))))))))
    ;; the indices past 2^64 - input_offset, where the offset wraps to the memory's start
    (if (i64.ne (global.get $input_offset) (i64.const 0))
      (then
        (global.set $input_wrap_from (i64.sub (i64.const 0) (global.get $input_offset)))
        (if (i64.le_u (global.get $input_wrap_from) (local.get $last))
          (then
            (global.set $input_wrap_count (i64.add (i64.const 1)
              (select (i64.sub (local.get $last) (global.get $input_wrap_from)) (local.get $room)
                (i64.lt_u (i64.sub (local.get $last) (global.get $input_wrap_from)) (local.get $room)))))))))
    ;; where the input ends (all ones if it wraps)
    (global.set $input_reach
      (select (i64.const -1) (i64.add (global.get $input_offset) (global.get $input_length))
        (i64.gt_u (global.get $input_offset) (i64.sub (i64.const -1) (global.get $input_length)))))
    ;; an input not wholly below the top (a plugin set it there, or freed its block): what of it
    ;; would read as zeros is zeroed now, as a load past the top does (see $reach)
    (if (i64.gt_u (global.get $input_reach) (i64.extend_i32_u (global.get $top)))
      (then
        (global.set $input_reach (i64.const -1))
        (if (i32.lt_u (global.get $top) (global.get $dirty_top)) (then (call $zero_dirty))))))

  ;; After the top moved: the input's window again if the top is now below where its bytes end.
  (func $input_window_at_top
    (if (i64.gt_u (global.get $input_reach) (i64.extend_i32_u (global.get $top))) (then (call $input_window))))

  (func $zero_dirty
    (memory.fill (global.get $top) (i32.const 0) (i32.sub (global.get $dirty_top) (global.get $top)))
    (global.set $dirty_top (global.get $top)))

  ;; Zeroes the part of [from, to) that still holds old bytes (below $dirty_top), before it is handed out.
  (func $clean (param $from i32) (param $to i32)
    (if (i32.lt_u (local.get $from) (global.get $dirty_top))
      (then
        (if (i32.gt_u (local.get $to) (global.get $dirty_top)) (then (local.set $to (global.get $dirty_top))))
        (memory.fill (local.get $from) (i32.const 0) (i32.sub (local.get $to) (local.get $from))))))

  (func $push_free (param $p i32)
    (i32.store (local.get $p) (global.get $free_list))
    (global.set $free_list (local.get $p))
    (global.set $free_count (i32.add (global.get $free_count) (i32.const 1))))

  (func (export "alloc") (param $n i64) (result i64)
    (i64.extend_i32_u (call $alloc_block (local.get $n) (i32.const 0))))

  ;; A block of n bytes, zeroed but for its first $keep bytes (which the host fills at once), or 0.
  (func $alloc_block (param $n i64) (param $keep i32) (result i32)
    (local $cap i32) (local $p i32) (local $prev i32) (local $next i32) (local $have i32)
    (local $end i32) (local $size i32) (local $rest i32) (local $left i32)
    (if (i64.eqz (local.get $n)) (then (return (i32.const 0))))
    (if (i64.gt_u (local.get $n) (i64.const 0xfff00000))
      (then (call $out_of_memory (local.get $n)) (return (i32.const 0))))
    (local.set $cap (i32.and (i32.add (i32.wrap_i64 (local.get $n)) (i32.const 7)) (i32.const -8)))
    ;; first fit in the free list; a large remainder becomes a free block of its own. An entry a
    ;; plugin has overwritten ends the list there: its blocks are lost until the next reset.
    (local.set $p (global.get $free_list))
    (local.set $left (global.get $free_count))
    (block $done
      (loop $walk
        (br_if $done (i32.eqz (local.get $p)))
        (if (i32.or (i32.eqz (local.get $left)) (i32.eqz (call $is_free_entry (local.get $p))))
          (then
            (if (local.get $prev)
              (then (i32.store (local.get $prev) (i32.const 0)))
              (else (global.set $free_list (i32.const 0))))
            (global.set $free_count (i32.sub (global.get $free_count) (local.get $left)))
            (br $done)))
        (local.set $left (i32.sub (local.get $left) (i32.const 1)))
        (local.set $next (i32.load (local.get $p)))
        (local.set $have (call $capacity (local.get $p)))
        (if (i32.ge_u (local.get $have) (local.get $cap))
          (then
            (if (local.get $prev)
              (then (i32.store (local.get $prev) (local.get $next)))
              (else (global.set $free_list (local.get $next))))
            (global.set $free_count (i32.sub (global.get $free_count) (i32.const 1)))
            (if (i32.ge_u (i32.sub (local.get $have) (local.get $cap)) (i32.const 64))
              (then
                (local.set $rest (i32.add (i32.add (local.get $p) (local.get $cap)) (i32.const 16)))
                (call $set_header (local.get $rest) (global.get $free_magic)
                  (i32.sub (i32.sub (local.get $have) (local.get $cap)) (i32.const 16)) (i64.const 0))
                (call $push_free (local.get $rest))
                (local.set $have (local.get $cap))))
            (call $set_header (local.get $p) (global.get $used_magic) (local.get $have) (local.get $n))
            ;; a reused block reads as zeros, as a fresh one does
            (memory.fill (i32.add (local.get $p) (local.get $keep)) (i32.const 0) (i32.sub (local.get $have) (local.get $keep)))
            (return (local.get $p))))
        (local.set $prev (local.get $p))
        (local.set $p (local.get $next))
        (br $walk)))
    ;; bump
    (local.set $p (i32.add (global.get $top) (i32.const 16)))
    (local.set $end (i32.add (local.get $p) (local.get $cap)))
    (if (i32.lt_u (local.get $end) (local.get $p))
      (then (call $out_of_memory (local.get $n)) (return (i32.const 0))))
    (local.set $size (i32.shl (memory.size) (i32.const 16)))
    (if (i32.gt_u (local.get $end) (local.get $size))
      (then
        (if (i32.eq
              (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end) (local.get $size)) (i32.const 0xffff))
                                      (i32.const 16)))
              (i32.const -1))
          (then (call $out_of_memory (local.get $n)) (return (i32.const 0))))))
    (call $clean (i32.add (local.get $p) (local.get $keep)) (local.get $end))
    (call $set_header (local.get $p) (global.get $used_magic) (local.get $cap) (local.get $n))
    (global.set $top (local.get $end))
    (if (i32.gt_u (local.get $end) (global.get $dirty_top)) (then (global.set $dirty_top (local.get $end))))
    (call $input_window_at_top)
    (local.get $p))

  (func (export "free") (param $offs i64)
    (local $p i32)
    (if (i32.eqz (call $is_block (local.get $offs))) (then (return)))
    (local.set $p (i32.wrap_i64 (local.get $offs)))
    ;; a block at the top goes back to the bump allocator; its bytes now read as zeros
    (if (i32.eq (i32.add (local.get $p) (call $capacity (local.get $p))) (global.get $top))
      (then
        (global.set $top (i32.sub (local.get $p) (i32.const 16)))
        (call $input_window_at_top)
        (return)))
    (i32.store (i32.sub (local.get $p) (i32.const 16)) (global.get $free_magic))
    (call $push_free (local.get $p)))

  (func (export "length") (param $offs i64) (result i64)
    (if (i32.eqz (call $is_block (local.get $offs))) (then (return (i64.const 0))))
    (i64.load (i32.sub (i32.wrap_i64 (local.get $offs)) (i32.const 8))))

  ;; As the native kernel's: 0 for an offset that is not a block, never a trap.
  (func (export "length_unsafe") (param $offs i64) (result i64)
    (if (i32.eqz (call $is_block (local.get $offs))) (then (return (i64.const 0))))
    (i64.load (i32.sub (i32.wrap_i64 (local.get $offs)) (i32.const 8))))

  ;; Outside Extism memory a load gives 0 and a store does nothing, as in the native kernel. Inside
  ;; the heap top (where a PDK's loads and stores are) nothing more is checked.
  (func (export "load_u8") (param $offs i64) (result i32)
    (if (i64.lt_u (local.get $offs) (i64.extend_i32_u (global.get $top)))
      (then (return (i32.load8_u (i32.wrap_i64 (local.get $offs))))))
    (if (i32.eqz (call $reach (local.get $offs) (i64.const 1))) (then (return (i32.const 0))))
    (i32.load8_u (i32.wrap_i64 (local.get $offs))))
  ;; load_u64 and store_u64: the fast path falls through (V8 lays a taken branch out of line)
  (func (export "load_u64") (param $offs i64) (result i64)
    (if (i64.gt_u (local.get $offs) (i64.extend_i32_u (i32.sub (global.get $top) (i32.const 8))))
      (then (if (i32.eqz (call $reach (local.get $offs) (i64.const 8))) (then (return (i64.const 0))))))
    (i64.load (i32.wrap_i64 (local.get $offs))))
  (func (export "store_u8") (param $offs i64) (param $v i32)
    (if (i64.lt_u (local.get $offs) (i64.extend_i32_u (global.get $top)))
      (then (i32.store8 (i32.wrap_i64 (local.get $offs)) (local.get $v)) (return)))
    (if (i32.eqz (call $reach (local.get $offs) (i64.const 1))) (then (return)))
    (i32.store8 (i32.wrap_i64 (local.get $offs)) (local.get $v)))
  (func (export "store_u64") (param $offs i64) (param $v i64)
    (if (i64.gt_u (local.get $offs) (i64.extend_i32_u (i32.sub (global.get $top) (i32.const 8))))
      (then (if (i32.eqz (call $reach (local.get $offs) (i64.const 8))) (then (return)))))
    (i64.store (i32.wrap_i64 (local.get $offs)) (local.get $v)))

  (func (export "input_set") (param $offs i64) (param $n i64)
    (global.set $input_offset (local.get $offs))
    (global.set $input_length (local.get $n))
    (call $input_window))
  (func (export "input_length") (result i64) (global.get $input_length))
  (func (export "input_offset") (result i64) (global.get $input_offset))
  ;; Past the input (or outside memory, if a plugin set it there) a load gives 0, as natively.
  (func (export "input_load_u8") (param $i i64) (result i32)
    (local $at i64)
    (if (i64.ge_u (local.get $i) (global.get $input_length)) (then (return (i32.const 0))))
    (local.set $at (i64.add (global.get $input_offset) (local.get $i)))
    (if (i64.lt_u (local.get $at) (i64.extend_i32_u (global.get $top)))
      (then (return (i32.load8_u (i32.wrap_i64 (local.get $at))))))
    (if (i32.eqz (call $reach (local.get $at) (i64.const 1))) (then (return (i32.const 0))))
    (i32.load8_u (i32.wrap_i64 (local.get $at))))
  ;; What a PDK reads its input with, 8 bytes a call. Where the kernel is merged into the plugin, V8
  ;; inlines this into the PDK's loop: it is small, its fast path one compare, and no path makes a
  ;; call (a call on any path, however cold, makes V8 keep the loop's values on the stack on every
  ;; turn, and keeps the loop from being unrolled). $input_window did the checks.
  (func (export "input_load_u64") (param $i i64) (result i64)
    ;; the fast path falls through: V8 lays the taken branch out of line
    (if (i64.ge_u (local.get $i) (global.get $input_fast))
      (then
        (local.set $i (i64.sub (local.get $i) (global.get $input_wrap_from)))
        (if (i64.lt_u (local.get $i) (global.get $input_wrap_count))
          (then (return (i64.load (i32.wrap_i64 (local.get $i))))))
        (return (i64.const 0))))
    (i64.load (i32.add (global.get $input_base) (i32.wrap_i64 (local.get $i)))))

  (func (export "output_set") (param $offs i64) (param $n i64)
    (global.set $output_offset (local.get $offs))
    (global.set $output_length (local.get $n)))
  (func (export "output_length") (result i64) (global.get $output_length))
  (func (export "output_offset") (result i64) (global.get $output_offset))

  (func (export "error_set") (param $offs i64) (global.set $error (local.get $offs)))
  (func (export "error_get") (result i64) (global.get $error))

  (func (export "memory_bytes") (result i64)
    (i64.extend_i32_u (i32.shl (memory.size) (i32.const 16))))

  ;; Frees every block at once: the host calls it before each call. What the last call used now reads
  ;; as zeros (see $dirty_top), as natively the reset zeroes it.
  (func $reset (export "reset")
    (global.set $top (global.get $heap_start))
    (global.set $free_list (i32.const 0))
    (global.set $free_count (i32.const 0))
    (global.set $input_offset (i64.const 0))
    (global.set $input_length (i64.const 0))
    (global.set $output_offset (i64.const 0))
    (global.set $output_length (i64.const 0))
    (global.set $error (i64.const 0))
    (global.set $input_fast (i64.const 0))
    (global.set $input_wrap_count (i64.const 0))
    (global.set $input_reach (i64.const 0)))

  ;; The host's side, in i32 (an offset or length below 4 GiB, read as unsigned) so that no BigInt is
  ;; made per call. Not importable by a plugin: the host offers only the names above.

  ;; A block of n bytes that the host fills at once: only its padding is zeroed. 0 if n is 0.
  (func (export "host_alloc") (param $n i32) (result i32)
    (call $alloc_block (i64.extend_i32_u (local.get $n)) (local.get $n)))

  ;; The length of a live block, 0 for an offset that is not one.
  (func (export "host_length") (param $offs i64) (result i32)
    (if (i32.eqz (call $is_block (local.get $offs))) (then (return (i32.const 0))))
    (i32.wrap_i64 (i64.load (i32.sub (i32.wrap_i64 (local.get $offs)) (i32.const 8)))))

  ;; A call begins: reset, and a block of n bytes for the input (the host fills it) set as the input.
  (func (export "host_begin") (param $n i32) (result i32)
    (local $p i32)
    (call $reset)
    (local.set $p (call $alloc_block (i64.extend_i32_u (local.get $n)) (local.get $n)))
    (global.set $input_offset (i64.extend_i32_u (local.get $p)))
    (global.set $input_length (i64.extend_i32_u (local.get $n)))
    ;; $input_window for a block wholly below the top, as this one is (0 when n is 0)
    (if (i32.and (i32.ge_u (local.get $n) (i32.const 8)) (i32.ne (local.get $p) (i32.const 0)))
      (then
        (global.set $input_base (local.get $p))
        (global.set $input_fast (i64.extend_i32_u (i32.sub (local.get $n) (i32.const 7))))
        (global.set $input_reach (i64.extend_i32_u (i32.add (local.get $p) (local.get $n))))))
    (local.get $p))

  ;; A call ended: the offset of its output (0 when empty) when no error is set and the output is
  ;; (0, 0) or the first bytes of a block; otherwise 1 (never an offset), and the host looks closer.
  (func (export "host_output") (result i32)
    (local $have i64)
    (if (i64.ne (global.get $error) (i64.const 0)) (then (return (i32.const 1))))
    (if (i64.eqz (i64.or (global.get $output_offset) (global.get $output_length))) (then (return (i32.const 0))))
    (if (i32.eqz (call $is_block (global.get $output_offset))) (then (return (i32.const 1))))
    (local.set $have (i64.load (i32.sub (i32.wrap_i64 (global.get $output_offset)) (i32.const 8))))
    (if (i32.or (i64.eqz (local.get $have)) (i64.gt_u (global.get $output_length) (local.get $have)))
      (then (return (i32.const 1))))
    (i32.wrap_i64 (global.get $output_offset)))

  (func (export "host_output_length") (result i32) (i32.wrap_i64 (global.get $output_length)))
)
