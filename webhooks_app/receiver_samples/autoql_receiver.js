// An AutoQL webhook receiver: Node.js, built-in modules only.
//
//     AUTOQL_WEBHOOK_SECRET='<your secret key>' PORT=8080 node autoql_receiver.js

const crypto = require("node:crypto");
const http = require("node:http");

const SECRET = process.env.AUTOQL_WEBHOOK_SECRET;
const MAX_AGE_MS = 5 * 60 * 1000;
const MAX_BODY_BYTES = 1024 * 1024;

// AutoQL-Signature is base64(HMAC-SHA256(secret, timestamp + "." + raw body)).
function verify(secret, timestamp, signature, body) {
  if (typeof timestamp !== "string" || !/^[0-9]+$/.test(timestamp)) return false;
  // Too old (or from the future): a replay, or a clock far off.
  if (Math.abs(Date.now() - Number(timestamp)) > MAX_AGE_MS) return false;
  const expected = Buffer.from(
    crypto.createHmac("sha256", secret).update(timestamp + ".").update(body).digest("base64"),
  );
  const given = Buffer.from(typeof signature === "string" ? signature : "");
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
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
    if (!verify(SECRET, req.headers["autoql-timestamp"], req.headers["autoql-signature"], body)) {
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
