// http_get: HTTP through Extism's http_request / http_status_code (the host must allow
// the URL's host, e.g. allowed_hosts ["127.0.0.1"], or refuse the request).
//
// export get(): input = a URL, e.g. "http://127.0.0.1:8080/hello".
//   http_request(req, 0) where req is an Extism block holding
//   {"url":"<url>","method":"GET","headers":{"x-test":"1"}} (the URL JSON-escaped),
//   then http_status_code(). Output: "<status> <body>": the status as decimal, one
//   space, then the response body bytes unchanged, e.g. "200 hello".
// export post(): input = a URL. Same with
//   {"url":"<url>","method":"POST","headers":{"x-test":"1"}} and the body "ping" (an
//   Extism block), e.g. "200 got ping" for a server that answers "got " + its body.
// export headers(): input = a URL. GET as get() does, then http_headers(): outputs the response
//   headers as the host gives them (a JSON object of name -> value), or "none" when
//   http_headers gives 0 (the host does not pass response headers on, the default in Extism).
// Errors (return 1): "get: no response (status 0)" / "post: no response (status 0)"
// when http_request returns without a status (a host may instead trap or fail the
// call itself, e.g. for a host it does not allow).

import { http_request, length, load_u64, load_u8, store_u64, store_u8 } from "@extism/as-pdk/lib/env";
import { alloc, free, inputString, outputBlock, outputString, setError, writeString } from "./lib/mem";

@external("extism:host/env", "http_status_code")
declare function http_status_code(): i32;

@external("extism:host/env", "http_headers")
declare function http_headers(): u64;

/** `s` as the body of a JSON string (quotes, backslashes and control chars escaped). */
function jsonEscape(s: string): string {
  let out = "";
  for (let i = 0, n = s.length; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c == 34) out += "\\\"";
    else if (c == 92) out += "\\\\";
    else if (c < 0x20) out += "\\u00" + (c < 16 ? "0" : "") + (<u32>c).toString(16);
    else out += String.fromCharCode(c);
  }
  return out;
}

function request(fn: string, method: string, body: string | null): i32 {
  const url = inputString();
  const req = writeString(
    "{\"url\":\"" + jsonEscape(url) + "\",\"method\":\"" + method + "\",\"headers\":{\"x-test\":\"1\"}}",
  );
  const bodyBlock: u64 = body !== null ? writeString(body) : 0;
  const res = http_request(req, bodyBlock);
  const status = http_status_code();
  free(req);
  free(bodyBlock);
  if (status == 0) {
    free(res);
    setError(fn + ": no response (status 0)");
    return 1;
  }

  // Output block: "<status> " then the response bytes, copied Extism -> Extism.
  const prefix = String.UTF8.encode(status.toString() + " ");
  const plen = <u64>prefix.byteLength;
  const rlen: u64 = res == 0 ? 0 : length(res);
  const out = alloc(plen + rlen);
  if (out == 0) abort("extism alloc failed");
  for (let i: u64 = 0; i < plen; i++) store_u8(out + i, load<u8>(changetype<usize>(prefix) + <usize>i));
  let i: u64 = 0;
  const n8 = rlen & ~(<u64>7);
  for (; i < n8; i += 8) store_u64(out + plen + i, load_u64(res + i));
  for (; i < rlen; i++) store_u8(out + plen + i, load_u8(res + i));
  free(res);
  outputBlock(out);
  return 0;
}

export function get(): i32 {
  return request("get", "GET", null);
}

export function post(): i32 {
  return request("post", "POST", "ping");
}

export function headers(): i32 {
  const req = writeString("{\"url\":\"" + jsonEscape(inputString()) + "\",\"method\":\"GET\"}");
  const res = http_request(req, 0);
  free(req);
  free(res);
  if (http_status_code() == 0) {
    setError("headers: no response (status 0)");
    return 1;
  }
  const h = http_headers();
  if (h == 0) outputString("none");
  else outputBlock(h);
  return 0;
}
