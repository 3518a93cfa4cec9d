#!/bin/sh
# Check one AutoQL delivery by hand with openssl: the raw body saved in a file, the two headers
# as arguments. Prints "valid" (exit 0) or why not (exit 1).
#
#     AUTOQL_WEBHOOK_SECRET='<your secret key>' sh verify_autoql_signature.sh body.json "$TIMESTAMP" "$SIGNATURE"
#
# While a secret rolls, hold both, the next one first; a delivery signed with either is valid:
#
#     AUTOQL_WEBHOOK_SECRETS='<next secret>,<current secret>' sh verify_autoql_signature.sh body.json "$TIMESTAMP" "$SIGNATURE"
#
# To send your receiver a signed delivery of your own, sign it the same way and use curl:
#
#     BODY='{"event":"test","payload":{"message":"hello"}}'
#     TIMESTAMP=$(($(date +%s) * 1000))
#     SIGNATURE=$(printf '%s.%s' "$TIMESTAMP" "$BODY" \
#       | openssl dgst -sha256 -hmac "$AUTOQL_WEBHOOK_SECRET" -binary | openssl base64 -A)
#     curl -X POST "$RECEIVER_URL" -H 'Content-Type: application/json' -H 'AutoQL-Event: test' \
#       -H "AutoQL-Timestamp: $TIMESTAMP" -H "AutoQL-Signature: $SIGNATURE" --data-binary "$BODY"

body_file=$1 timestamp=$2 signature=$3

case $timestamp in '' | *[!0-9]*) echo "AutoQL-Timestamp is not a number"; exit 1 ;; esac
age_ms=$(($(date +%s) * 1000 - timestamp))
if [ "$age_ms" -gt 300000 ] || [ "$age_ms" -lt -300000 ]; then
  echo "AutoQL-Timestamp is more than 5 minutes away from now"; exit 1
fi

# AUTOQL_WEBHOOK_SECRETS (comma-separated) when set, else the one AUTOQL_WEBHOOK_SECRET.
secrets=${AUTOQL_WEBHOOK_SECRETS:-$AUTOQL_WEBHOOK_SECRET}
if [ -z "$secrets" ]; then
  echo "Set AUTOQL_WEBHOOK_SECRET, or AUTOQL_WEBHOOK_SECRETS while a secret rolls"; exit 1
fi

# Compare digests of the two, so that how long the comparison takes says nothing about the signature.
digest() { printf '%s' "$1" | openssl dgst -sha256 -r; }
given=$(digest "$signature")
valid=no
old_ifs=$IFS; IFS=,
for secret in $secrets; do
  IFS=$old_ifs
  [ -n "$secret" ] || continue
  expected=$( { printf '%s.' "$timestamp"; cat "$body_file"; } \
    | openssl dgst -sha256 -hmac "$secret" -binary | openssl base64 -A)
  if [ "$(digest "$expected")" = "$given" ]; then valid=yes; fi
done
IFS=$old_ifs

if [ "$valid" = yes ]; then
  echo "valid"
else
  echo "AutoQL-Signature does not match"; exit 1
fi
