#!/usr/bin/env bash
# Install and start what the gate's test suite needs beyond Python packages:
#   - Debian's chromium + chromium-driver  (console end-to-end test in headless Chromium)
#   - a PostgreSQL server on loopback      (two gates racing for a single-use pass on one registry)
#   - ffmpeg, GStreamer's RTSP server + python3-gi (network-camera tests: an RTSP server and an HTTP
#     stream on loopback, killed and restarted mid-run)
#   - GNU time                             (scripts/train_default.sh times each step with it)
#
# Idempotent: installs only what is missing, reuses a running server. Progress goes to stderr;
# stdout is one line to evaluate, so CI can do:
#     eval "$(bash scripts/ci_services.sh)"      # exports DABAI_TEST_PG_URL
# Settings: DABAI_PG_PORT (default 5433), DABAI_PG_DATA (default /tmp/dabai-pg).
set -euo pipefail

PGPORT="${DABAI_PG_PORT:-5433}"
PGDATA="${DABAI_PG_DATA:-/tmp/dabai-pg}"
PGUSER_NAME=dabai
PGPASS=dabai
PGDB=dabai_test
log() { echo "ci_services: $*" >&2; }

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
[[ -x /usr/bin/time ]] || need+=(time)
/usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0')" >/dev/null 2>&1 ||
  need+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good)
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing ${need[*]} and not root: install them with apt-get (tests that need them will skip)"
  else
    log "installing ${need[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
  fi
fi

PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [[ -z "$PGBIN" ]]; then
  log "PostgreSQL is not installed; the PostgreSQL test will skip"
  exit 0
fi

as_pg() {  # PostgreSQL refuses to run as root
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if ! "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT"; then
  if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
    log "creating a cluster in $PGDATA"
    mkdir -p "$PGDATA"
    [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --no-sync >/dev/null
  fi
  log "starting PostgreSQL on 127.0.0.1:$PGPORT"
  as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 \
    -o "-p $PGPORT -c listen_addresses=127.0.0.1 -k $PGDATA -c fsync=on" start >&2
fi

psql_admin() { as_pg "$PGBIN/psql" -h "$PGDATA" -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
if [[ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname='$PGUSER_NAME'")" != 1 ]]; then
  psql_admin -c "CREATE ROLE $PGUSER_NAME LOGIN PASSWORD '$PGPASS'"
fi
if [[ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname='$PGDB'")" != 1 ]]; then
  psql_admin -c "CREATE DATABASE $PGDB OWNER $PGUSER_NAME"
fi

URL="postgresql://$PGUSER_NAME:$PGPASS@127.0.0.1:$PGPORT/$PGDB"
log "PostgreSQL ready: $URL"
echo "export DABAI_TEST_PG_URL=$URL"
