#!/bin/sh
# install-test-deps.sh installs the real programs the integration tests drive:
# Postfix (the MTA whose policy client we test against), swaks (SMTP client),
# redis-server (store backend), postgrey (reference greylister), chromium (opens
# the HTML of `tempfail report` headless) and pflogsumm (bench/trace's yardstick).
#
# Idempotent: when everything is present it changes nothing and makes no
# network requests, so CI can call it unconditionally.
set -eu

# Debian puts postfix and postgrey in /usr/sbin, which a non-root PATH often
# lacks; look there explicitly so a present binary is not reported missing.
have() {
	command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]
}

if [ "$(id -u)" -eq 0 ]; then
	SUDO=
elif command -v sudo >/dev/null 2>&1; then
	SUDO=sudo
else
	echo "install-test-deps: need root or sudo to install packages" >&2
	exit 1
fi

missing=
for prog in postfix swaks redis-server postgrey chromium pflogsumm; do
	have "$prog" || missing="$missing $prog"
done

if [ -n "$missing" ]; then
	echo "install-test-deps: missing:$missing; installing"
	# "No configuration" keeps the postinst from writing /etc/postfix/main.cf
	# and from configuring a system MTA: the tests run Postfix only from
	# private config directories (internal/testutil/postfixtest), which as
	# root do not need the default main.cf at all.
	echo "postfix postfix/main_mailer_type select No configuration" |
		$SUDO debconf-set-selections
	$SUDO apt-get update
	$SUDO env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y postfix swaks redis-server postgrey chromium pflogsumm
fi

# The package may have started the system Postfix (only possible when a
# default main.cf exists). It would listen on port 25 and share nothing with
# the tests, so stop it. "postfix status" exits non-zero when not running or
# not configured, which is the normal case here.
if $SUDO /usr/sbin/postfix status >/dev/null 2>&1; then
	echo "install-test-deps: stopping the system Postfix instance"
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		$SUDO systemctl stop postfix || $SUDO /usr/sbin/postfix stop
	else
		$SUDO /usr/sbin/postfix stop
	fi
fi

# postgrey's and redis-server's packages may start system services: postgrey
# on 127.0.0.1:10023 (our default port) and redis on 6379. The tests and the
# benchmark start their own instances on ports of their own, so stop the
# system ones rather than let them answer in our place.
for svc in postgrey redis-server; do
	if command -v service >/dev/null 2>&1; then
		$SUDO service "$svc" stop >/dev/null 2>&1 || true
	fi
done
if command -v pkill >/dev/null 2>&1; then
	# Only the daemons the packages started (the pid files' owners), not
	# instances other tests of ours may be running.
	for pidfile in /run/postgrey.pid /var/run/postgrey.pid /run/redis/redis-server.pid; do
		[ -f "$pidfile" ] && $SUDO kill "$(cat "$pidfile")" 2>/dev/null || true
	done
fi

echo "install-test-deps: ok"
