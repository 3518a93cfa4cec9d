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
echo "Portal: http://127.0.0.1:${PORT}/   (Ctrl-C stops the portal and the delivery worker)"
echo "Demo, in a second terminal: both webhooks -> the built-in receiver, and a month of history:"
echo "        PORT=${PORT} .venv/bin/python manage.py seed_demo"
echo "    then deliver a live alert and see it at http://127.0.0.1:${PORT}/demo/receiver/ :"
echo "        .venv/bin/python manage.py send_data_alert --environment sandbox --project-id p1 --title 'High Sales'"
wait -n "$worker" "$web"
