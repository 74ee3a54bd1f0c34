#!/bin/sh
# Installs what the project needs when it is missing; idempotent.
#   t/deps.sh          everything: Debian packages, then npm packages
#   t/deps.sh build    only what building the module needs
set -e

BUILD_PKGS="nginx-core nginx-dev libhiredis-dev libjansson-dev clang"
TEST_PKGS="redis-server nodejs npm valgrind libclang-rt-14-dev"

missing=""
pkgs="$BUILD_PKGS"
[ "$1" = build ] || pkgs="$BUILD_PKGS $TEST_PKGS"

for p in $pkgs; do
    # nodejs/npm may come from elsewhere than Debian: trust the binaries
    case $p in
        nodejs) command -v node >/dev/null 2>&1 && continue ;;
        npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || missing="$missing $p"
done

if [ -n "$missing" ]; then
    echo "installing:$missing"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        --no-install-recommends $missing >/dev/null
    # the Debian packages start their services: this project runs its own
    $SUDO service nginx stop >/dev/null 2>&1 || true
    $SUDO service redis-server stop >/dev/null 2>&1 || true
fi

[ "$1" = build ] && exit 0

cd "$(dirname "$0")"

# installed once per lockfile: the stamp holds the lockfile it came from
# (timestamps alone would reinstall under every fresh checkout or worktree,
# pulling node_modules away from tests that are running)
if ! cmp -s package-lock.json node_modules/.installed-from 2>/dev/null; then
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.installed-from
fi
