#!/bin/bash
# The example's app: once Postgres and Redis are healthy (depends_on), it reaches both by
# their service names every 30 s, records a visit in Postgres and counts it in Redis, and
# says so in its log. Redis is spoken to over bash's /dev/tcp, so the app needs no image
# of its own: it runs on the Postgres image, which has psql.
set -euo pipefail
trap 'exit 0' TERM INT

redis() {
  exec 3<>/dev/tcp/redis/6379
  printf '%s\r\n' "$1" >&3
  IFS= read -r reply <&3
  exec 3>&-
  reply=${reply%$'\r'}
  printf '%s' "${reply#:}"
}

while true; do
  total=$(psql -qtAc 'create table if not exists app_visits (at timestamptz not null default now());
                      insert into app_visits default values;
                      select count(*) from app_visits;')
  counter=$(redis 'INCR app:visits')
  echo "visit recorded: ${total} in postgres, redis counter ${counter}"
  touch /tmp/working
  sleep 30 & wait $!
done
