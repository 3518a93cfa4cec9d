// An AutoQL webhook receiver: Node.js, built-in modules only.
//
//     AUTOQL_WEBHOOK_SECRET='<your secret key>' PORT=8080 node autoql_receiver.js
//
// While a secret rolls, hold both, the next one first; a delivery signed with either is accepted:
//
//     AUTOQL_WEBHOOK_SECRETS='<next secret>,<current secret>' PORT=8080 node autoql_receiver.js

const crypto = require("node:crypto");
const http = require("node:http");

// AUTOQL_WEBHOOK_SECRETS (comma-separated) when set, else the one AUTOQL_WEBHOOK_SECRET.
const SECRETS = (process.env.AUTOQL_WEBHOOK_SECRETS || "").split(",").map((s) => s.trim()).filter(Boolean);
if (SECRETS.length === 0 && process.env.AUTOQL_WEBHOOK_SECRET) SECRETS.push(process.env.AUTOQL_WEBHOOK_SECRET);
if (SECRETS.length === 0) throw new Error("Set AUTOQL_WEBHOOK_SECRET, or AUTOQL_WEBHOOK_SECRETS while a secret rolls");
const MAX_AGE_MS = 5 * 60 * 1000;
const MAX_BODY_BYTES = 1024 * 1024;

// AutoQL-Signature is base64(HMAC-SHA256(secret, timestamp + "." + raw body)), made with one of `secrets`.
function verify(secrets, timestamp, signature, body) {
  if (typeof timestamp !== "string" || !/^[0-9]+$/.test(timestamp)) return false;
  // Too old (or from the future): a replay, or a clock far off.
  if (Math.abs(Date.now() - Number(timestamp)) > MAX_AGE_MS) return false;
  const given = Buffer.from(typeof signature === "string" ? signature : "");
  let matches = false;
  for (const secret of secrets) {
    // Every one is checked: the time taken says nothing of which matched.
    const expected = Buffer.from(
      crypto.createHmac("sha256", secret).update(timestamp + ".").update(body).digest("base64"),
    );
    if (given.length === expected.length && crypto.timingSafeEqual(given, expected)) matches = true;
  }
  return matches;
}

function answer(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on("data", (chunk) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  req.on("end", () => {
    if (size > MAX_BODY_BYTES) return answer(res, 413, { error: "body too large" });
    const body = Buffer.concat(chunks); // the raw bytes: verify before parsing
    if (!verify(SECRETS, req.headers["autoql-timestamp"], req.headers["autoql-signature"], body)) {
      return answer(res, 401, { error: "invalid signature" });
    }
    const delivery = JSON.parse(body);
    // Retries repeat AutoQL-Delivery-Id: skip deliveries you have already handled.
    console.log(req.headers["autoql-delivery-id"], delivery.event, JSON.stringify(delivery.payload));
    answer(res, 200, { message: "ok" });
  });
});

server.listen(Number(process.env.PORT || 8080), process.env.HOST, () => {
  console.log(`Listening on port ${server.address().port}`);
});
