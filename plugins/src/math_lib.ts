// asc-options: --runtime stub --use abort=
// imports: none
//
// math_lib: a library module, not a plugin on its own: a manifest lists it beside `linked_main`
// under the name "math", and the host links linked_main's `math` imports to its exports.
// export add(a: i32, b: i32): i32     a + b
// export mul(a: i32, b: i32): i32     a * b

export function add(a: i32, b: i32): i32 {
  return a + b;
}

export function mul(a: i32, b: i32): i32 {
  return a * b;
}
