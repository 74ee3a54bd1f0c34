#!/bin/sh
# `make run`: the demo.  Installs what is missing, builds the module, and
# starts, all on 127.0.0.1 and all with their files in run/:
#
#   redis-server   port $REDIS_PORT (6379; another free one if busy)
#   nginx          conf.example as run/nginx.conf, port 8080
#   demo/app.js    a Node.js socket.io server in the same cluster,
#                  port $APP_PORT (3000; another free one if busy)
#
# Open http://127.0.0.1:8080/ (?room=lobby|games&user=NAME).  Ctrl-C stops
# exactly the processes started here.
set -e

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN=$ROOT/run
NGINX=${NGINX:-/usr/sbin/nginx}
NGINX_PORT=8080
REDIS_PORT=${REDIS_PORT:-6379}
APP_PORT=${APP_PORT:-3000}

cd "$ROOT"

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------ processes

REDIS_PID=
APP_PID=
NGINX_PID=
SLEEP_PID=

# running, not a zombie waiting to be reaped
alive() {
    [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
    case $(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) in
        Z|X|"") return 1 ;;
    esac
    return 0
}

# SIGTERM, up to 10 s to exit, then SIGKILL; reaped either way
stop() {
    pid=$1
    [ -n "$pid" ] || return 0
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        i=0
        while alive "$pid" && [ $i -lt 100 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        if alive "$pid"; then
            say "$2 (pid $pid) did not exit, killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    trap '' INT TERM
    trap - EXIT
    if [ -n "$SLEEP_PID" ]; then
        kill "$SLEEP_PID" 2>/dev/null || true
        wait "$SLEEP_PID" 2>/dev/null || true
    fi
    if [ -n "$NGINX_PID$APP_PID$REDIS_PID" ]; then
        say "stopping"
    fi
    stop "$NGINX_PID" nginx
    stop "$APP_PID" "node app"
    stop "$REDIS_PID" redis-server
    NGINX_PID= APP_PID= REDIS_PID=
}

trap 'cleanup; say stopped; exit 0' INT TERM
trap 'cleanup' EXIT

# ------------------------------------------------------------ ports

# can a server listen on 127.0.0.1:PORT now?
port_free() {
    node -e '
        const s = require("net").createServer();
        s.once("error", () => process.exit(1));
        s.listen(Number(process.argv[1]), "127.0.0.1",
                 () => s.close(() => process.exit(0)));' "$1"
}

free_port() {
    node -e '
        const s = require("net").createServer();
        s.listen(0, "127.0.0.1", () => {
            console.log(s.address().port);
            s.close();
        });'
}

# waits until 127.0.0.1:PORT accepts, while PID runs
wait_port() {
    i=0
    while :; do
        alive "$2" || return 1
        node -e '
            const c = require("net").connect(Number(process.argv[1]),
                                             "127.0.0.1");
            c.on("connect", () => process.exit(0));
            c.on("error", () => process.exit(1));' "$1" && return 0
        i=$((i + 1))
        [ $i -lt 100 ] || return 1
        sleep 0.1
    done
}

# ------------------------------------------------------------ build

sh t/deps.sh
make --no-print-directory build

if ! port_free "$NGINX_PORT"; then
    die "port $NGINX_PORT on 127.0.0.1 is busy (conf.example listens there); stop what holds it, e.g. a demo still running, and try again"
fi

if ! port_free "$REDIS_PORT"; then
    busy=$REDIS_PORT
    REDIS_PORT=$(free_port)
    say "port $busy is busy: redis-server takes port $REDIS_PORT instead"
fi

if ! port_free "$APP_PORT"; then
    busy=$APP_PORT
    APP_PORT=$(free_port)
    say "port $busy is busy: the app server takes port $APP_PORT instead"
fi

# ------------------------------------------------------------ run/

mkdir -p "$RUN/logs" "$RUN/tmp" "$RUN/html" "$RUN/redis"

# nginx loads a copy: a rebuild (cp over build/*.so) must not change the
# file under the running workers
cp build/ngx_http_socketio_module.so "$RUN/ngx_http_socketio_module.so.new"
mv -f "$RUN/ngx_http_socketio_module.so.new" "$RUN/ngx_http_socketio_module.so"

cp demo/index.html "$RUN/html/index.html"
cp t/node_modules/socket.io-client/dist/socket.io.min.js \
   t/node_modules/socket.io-client/dist/socket.io.min.js.map "$RUN/html/"

REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0

# the replacements must not be read by sed as its own syntax
sed_escape() { printf '%s\n' "$1" | sed 's/[\\|&]/\\&/g'; }

sed -e "s|@PREFIX@|$(sed_escape "$RUN")|g" \
    -e "s|@MODULE@|$(sed_escape "$RUN/ngx_http_socketio_module.so")|g" \
    -e "s|@REDIS@|$(sed_escape "$REDIS_URL")|g" \
    conf.example > "$RUN/nginx.conf"

if ! "$NGINX" -p "$RUN/" -c "$RUN/nginx.conf" -t -q; then
    die "run/nginx.conf does not pass nginx -t"
fi

# ------------------------------------------------------------ start

redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$RUN/redis" \
    --logfile "$RUN/logs/redis.log" --save "" --appendonly no \
    --daemonize no &
REDIS_PID=$!

wait_port "$REDIS_PORT" "$REDIS_PID" \
    || die "redis-server did not start; see run/logs/redis.log"

REDIS_URL=$REDIS_URL APP_PORT=$APP_PORT node demo/app.js &
APP_PID=$!

wait_port "$APP_PORT" "$APP_PID" || die "the app server did not start"

"$NGINX" -p "$RUN/" -c "$RUN/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!

if ! wait_port "$NGINX_PORT" "$NGINX_PID"; then
    tail -n 20 "$RUN/logs/error.log" >&2 2>/dev/null || true
    die "nginx did not start; see run/logs/error.log"
fi

cat <<EOF

  demo       http://127.0.0.1:$NGINX_PORT/
             http://127.0.0.1:$NGINX_PORT/?room=games&user=bob  (another room)

  nginx      pid $NGINX_PID, run/nginx.conf, logs in run/logs/
  redis      pid $REDIS_PID, $REDIS_URL, log run/logs/redis.log
  app        pid $APP_PID, demo/app.js, socket.io on 127.0.0.1:$APP_PORT

  Ctrl-C stops them.

EOF

# until Ctrl-C, or until one of them exits by itself
while alive "$NGINX_PID" && alive "$APP_PID" && alive "$REDIS_PID"; do
    sleep 1 &
    SLEEP_PID=$!
    wait "$SLEEP_PID" || true
    SLEEP_PID=
done

for p in "nginx:$NGINX_PID" "node app:$APP_PID" "redis-server:$REDIS_PID"; do
    alive "${p##*:}" || say "${p%:*} exited"
done

exit 1
