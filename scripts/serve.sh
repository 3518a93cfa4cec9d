#!/usr/bin/env bash
# Runs the portal (gunicorn) and a delivery worker per environment side by side; Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"

# One worker per environment's queue, so a hanging sandbox receiver never delays production.
.venv/bin/python manage.py db_worker --queue-name sandbox,default &
sandbox_worker=$!
.venv/bin/python manage.py db_worker --queue-name production &
production_worker=$!
# Threads and the rest come from gunicorn.conf.py.
.venv/bin/gunicorn portal.wsgi --bind "127.0.0.1:${PORT}" --workers 2 --timeout 60 &
web=$!

stop() {
  kill "$sandbox_worker" "$production_worker" "$web" 2>/dev/null || true
  wait "$sandbox_worker" "$production_worker" "$web" 2>/dev/null || true
}
trap stop INT TERM EXIT
echo "Portal: http://127.0.0.1:${PORT}/   (Ctrl-C stops the portal and the delivery workers)"
echo "Demo, in a second terminal: both webhooks -> the built-in receiver, and a month of history:"
echo "        PORT=${PORT} .venv/bin/python manage.py seed_demo"
echo "    then deliver a live alert and see it at http://127.0.0.1:${PORT}/demo/receiver/ :"
echo "        .venv/bin/python manage.py send_data_alert --environment sandbox --project-id p1 --title 'High Sales'"
wait -n "$sandbox_worker" "$production_worker" "$web"
