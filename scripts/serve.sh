#!/usr/bin/env bash
# Runs the portal (gunicorn) and a delivery worker (every environment) side by side; Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"

# One worker delivers both environments, each in a loop of its own, so a hanging sandbox receiver
# never delays production.
.venv/bin/python manage.py delivery_worker &
worker=$!
# Threads and the rest come from gunicorn.conf.py.
.venv/bin/gunicorn portal.wsgi --bind "127.0.0.1:${PORT}" --workers 2 --timeout 60 &
web=$!

stop() {
  kill "$worker" "$web" 2>/dev/null || true
  wait "$worker" "$web" 2>/dev/null || true
}
trap stop INT TERM EXIT
# The sign-in comes last, once the portal answers, so that gunicorn's start-up lines do not bury it
# (nor does the access log, which leaves out the logs' live checks).
.venv/bin/python - "http://127.0.0.1:${PORT}/healthz" <<'PY'
import sys, time, urllib.error, urllib.request
for _ in range(150):  # refused at most about 30 s
    try:
        # Long enough for a worker's first request (Django loads): a retry would be a second log line.
        urllib.request.urlopen(sys.argv[1], timeout=15).close()
        break
    except urllib.error.HTTPError:
        break  # it answers
    except OSError:
        time.sleep(0.2)
PY
echo "Portal: http://127.0.0.1:${PORT}/   (Ctrl-C stops the portal and the delivery worker)"
echo "Demo, in a second terminal: both webhooks -> the built-in receiver, and a month of history:"
echo "        PORT=${PORT} .venv/bin/python manage.py seed_demo"
echo "    then deliver a live alert and see it at http://127.0.0.1:${PORT}/demo/receiver/ :"
echo "        .venv/bin/python manage.py send_data_alert --environment sandbox --project-id p1 --title 'High Sales'"
.venv/bin/python manage.py offer_first_login --url "http://127.0.0.1:${PORT}"
wait -n "$worker" "$web"
