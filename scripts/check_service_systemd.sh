#!/bin/sh
# Installs `dabai gate install-service`'s unit into a REAL systemd and exercises it: start (Type=notify, the
# watchdog), the home's owner and mode, /healthz, decisions on a looping visitor clip, restart after the main
# process is killed, and a clean stop on SIGTERM. Prints one line per check and exits non-zero on the first
# failure.
#
# usage (as root, on a machine where systemd is PID 1):
#     sh scripts/check_service_systemd.sh [VENV]          # VENV: the environment dabai is installed in (.venv)
# In a container without systemd as PID 1, run it inside a throw-away systemd of its own:
#     sh scripts/check_service_systemd.sh --in-namespace [VENV]
# which boots /usr/bin/systemd as PID 1 of new PID and mount namespaces (private /tmp and /run, so boot-time
# cleaning touches nothing outside), runs the checks there and kills that systemd afterwards.
#
# It creates the system user `dabai` if missing and writes /etc/systemd/system/dabai-gate-check.service,
# /var/lib/dabai-gate-check (the service's home) and /srv/dabai-gate-check (the clip); all three are removed
# at the end. Needs ffmpeg (the clip) and curl.
set -eu

if [ "${1:-}" = "--in-namespace" ]; then
    shift
    log=$(mktemp)
    setsid unshare --pid --fork --mount --propagation private --mount-proc sh -c \
        'mount -t tmpfs tmpfs /tmp && mount -t tmpfs tmpfs /run && exec /usr/bin/systemd --system --log-level=notice' \
        </dev/null >"$log" 2>&1 &
    pid=""
    for _ in $(seq 1 50); do
        pid=$(pgrep -n -x systemd -P "$(pgrep -n -f 'unshare --pid --fork --mount --propagation private' || echo 0)" || true)
        [ -n "$pid" ] && break
        sleep 0.2
    done
    [ -n "$pid" ] || { echo "FAIL: systemd did not start in its namespace"; cat "$log"; exit 1; }
    state=""
    for _ in $(seq 1 60); do
        state=$(nsenter -t "$pid" -m -p systemctl is-system-running 2>/dev/null || true)
        case "$state" in running|degraded) break;; esac
        sleep 0.5
    done
    echo "ok   systemd $(nsenter -t "$pid" -m -p systemctl --version | head -1 | cut -d' ' -f2) is PID 1 of its namespace ($state)"
    rc=0
    script=$(readlink -f "$0")
    venv=$(cd "${1:-.venv}" && pwd)
    nsenter -t "$pid" -m -p sh "$script" "$venv" || rc=$?
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$log"
    exit $rc
fi

venv=$(cd "${1:-.venv}" && pwd)
dabai="$venv/bin/dabai"
name=dabai-gate-check
home=/var/lib/$name
srv=/srv/$name
port=8719
[ -x "$dabai" ] || { echo "FAIL: no dabai in $venv"; exit 1; }
[ "$(cat /proc/1/comm)" = systemd ] || { echo "FAIL: systemd is not PID 1 here (try --in-namespace)"; exit 1; }

cleanup() {
    systemctl stop "$name" 2>/dev/null || true
    rm -f "/etc/systemd/system/$name.service"
    systemctl daemon-reload 2>/dev/null || true
    rm -rf "$home" "$srv"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    systemctl status "$name" --no-pager -n 0 2>&1 | sed -n '1,12p' || true
    journalctl -u "$name" --no-pager -n 30 || true
    exit 1
}

id dabai >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin dabai
echo "ok   system user dabai"

# the registry the service will read: a resident, a pass, and a clip of a masked visitor showing it
mkdir -p "$srv"
"$venv/bin/python" - "$home" "$srv/visitors.mp4" <<'PY'
import subprocess, sys
from pathlib import Path
import cv2, numpy as np
from dabai.gate.db import open_registry
from dabai.gate.demo_faces import astronaut, draw_mask, paste_qr
from dabai.gate.home import GateHome
from dabai.gate.keys import init_keys, load_private_key
from dabai.gate.passes import issue_pass, qr_matrix
from dabai.gate.residents import add_resident

home = GateHome(Path(sys.argv[1])).ensure()
init_keys(home)
registry = open_registry(home)
text = issue_pass(registry, load_private_key(home), add_resident(registry, "张三", "3-1-402").id).text
registry.close()
image, box = astronaut()
visitor = paste_qr(cv2.resize(draw_mask(image, box)[0:360, 40:520], (640, 480)), qr_matrix(text), width=170)
empty = np.full((480, 640, 3), 128, np.uint8)
enc = subprocess.Popen(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
                        "-s", "640x480", "-r", "15", "-i", "-", "-c:v", "libx264", "-preset", "ultrafast",
                        "-pix_fmt", "yuv420p", sys.argv[2]], stdin=subprocess.PIPE)
for i in range(15 * 8):  # 3 s empty, 5 s a visitor; looped by --realtime
    enc.stdin.write((empty if i < 45 else visitor).tobytes())
enc.stdin.close()
sys.exit(enc.wait())
PY
chmod 755 "$srv"; chmod 644 "$srv/visitors.mp4"
chown -R dabai:dabai "$home"
echo "ok   home $home with a resident and a pass; clip $srv/visitors.mp4"

"$dabai" gate install-service --name "$name" --home "$home" \
    --run-args "--video $srv/visitors.mp4 --realtime --intent enter --no-reply-audio --health-port $port" >/dev/null
systemd-analyze verify "/etc/systemd/system/$name.service" || fail "systemd-analyze verify"
systemctl daemon-reload
since=$(date '+%Y-%m-%d %H:%M:%S')
systemctl start "$name" || fail "systemctl start (Type=notify: the gate must report READY=1)"
echo "ok   unit installed and started: $(systemctl is-active "$name"), MainPID $(systemctl show -p MainPID --value "$name")"

user=$(ps -o user= -p "$(systemctl show -p MainPID --value "$name")")
[ "$user" = dabai ] || fail "runs as $user, not dabai"
mode=$(stat -c '%a %U' "$home")
[ "$mode" = "700 dabai" ] || fail "home is '$mode', expected '700 dabai'"
echo "ok   runs as dabai; home mode/owner: $mode"

health=""
for _ in $(seq 1 60); do
    health=$(curl -fsS "http://127.0.0.1:$port/healthz" 2>/dev/null || true)
    [ -n "$health" ] && break
    sleep 0.5
done
[ -n "$health" ] || fail "no /healthz on port $port"
echo "ok   /healthz: $(echo "$health" | head -c 200)"

sleep 20
admits=$(journalctl -u "$name" --since "$since" --no-pager | grep -c "\] ALLOW " || true)
[ "$admits" -ge 1 ] || fail "no admit logged in 20 s of a looping visitor"
echo "ok   journal shows $admits admit line(s)"

old=$(systemctl show -p MainPID --value "$name")
kill -9 "$old"
new=""
for _ in $(seq 1 40); do
    new=$(systemctl show -p MainPID --value "$name")
    [ "$new" != 0 ] && [ "$new" != "$old" ] && [ "$(systemctl is-active "$name")" = active ] && break
    sleep 0.5
done
[ "$new" != 0 ] && [ "$new" != "$old" ] || fail "not restarted after kill -9"
echo "ok   restarted after kill -9 (PID $old -> $new, RestartSec=5)"

systemctl stop "$name"
result=$(systemctl show -p Result --value "$name")
[ "$result" = success ] || fail "stop result: $result"
journalctl -u "$name" --no-pager -n 5 | tail -3
echo "ok   stopped cleanly on SIGTERM (Result=$result)"
