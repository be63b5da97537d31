// An independent verifier for our SD-JWT VC attestations and Token Status Lists, on the npm @sd-jwt libraries
// (not our code). Called by pytest (tests/app/partners/sd_jwt_js.py) with JSON on stdin:
//   {"token": "<SD-JWT VC>", "jwks": {"keys": [...]}, "status_lists": {"<uri>": "<statuslist+jwt>"}?,
//    "now": <unix seconds>?}
// and prints {"ok": true, "payload": {...disclosed claims...}, "status": <0|1|...>} or {"ok": false, "error": "..."}.
// Without status_lists the status list is fetched over HTTP by the library itself.
import { createPublicKey, verify as verifySignature } from "node:crypto";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { digest } from "@sd-jwt/crypto-nodejs";
import { getListFromStatusListJWT } from "@sd-jwt/jwt-status-list";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => { text += chunk; });
  process.stdin.on("end", () => resolve(text));
}));

// @sd-jwt/crypto-nodejs signs and verifies ES256/384/512 only: Ed25519 (RFC 9864 "Ed25519", RFC 8037 "EdDSA")
// through Node's own crypto, with the key the JWT's kid names in the published JWKS.
function headerOf(data) {
  return JSON.parse(Buffer.from(data.split(".")[0], "base64url").toString("utf8"));
}

async function ed25519Verifier(data, signature) {
  const header = headerOf(data);
  if (!["Ed25519", "EdDSA"].includes(header.alg)) throw new Error(`unexpected alg ${header.alg}`);
  const jwk = input.jwks.keys.find((key) => key.kid === header.kid);
  if (!jwk) throw new Error(`no key ${header.kid} in the JWKS`);
  const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: "jwk" });
  return verifySignature(null, Buffer.from(data), key, Buffer.from(signature, "base64url"));
}

let observedStatus = null;
const config = {
  hasher: digest,
  hashAlg: "sha-256",
  verifier: ed25519Verifier,
  statusValidator: async (status) => {
    observedStatus = status;
    if (status !== 0) throw new Error(`status is ${status}, not VALID`);
  },
};
if (input.status_lists) {
  config.statusListFetcher = async (uri) => {
    if (!(uri in input.status_lists)) throw new Error(`no status list for ${uri}`);
    return input.status_lists[uri];
  };
}

const sdjwt = new SDJwtVcInstance(config);
try {
  const options = input.now ? { currentDate: input.now } : undefined;
  const result = await sdjwt.verify(input.token, options);
  const claims = await sdjwt.getClaims(input.token);
  let listStatus = null;
  const reference = result.payload.status?.status_list;
  if (reference && input.status_lists?.[reference.uri]) {
    listStatus = getListFromStatusListJWT(input.status_lists[reference.uri]).getStatus(reference.idx);
  }
  console.log(JSON.stringify({ ok: true, header: result.header, payload: claims, status: observedStatus,
                               list_status: listStatus }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.message ?? error), status: observedStatus }));
}
