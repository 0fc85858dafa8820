#!/usr/bin/env bash
# The .deb CPack makes from this build: its control data, its files, and the agent it installs.
# It is installed with dpkg into a temporary root (its own dpkg database: the machine's is not
# touched), then the installed agent runs: --version, `rules check` of the installed rule pack,
# the installed unit passes `systemd-analyze verify`, and `once` loads the installed config.
# Usage: deb_test.sh BUILD_DIR
set -euo pipefail
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; fail "cpack"; }
deb=$(ls "$work"/out/opsmaturity_*.deb)
echo "package: $(basename "$deb")"

info=$(dpkg-deb --info "$deb")
grep -q '^ Package: opsmaturity$' <<<"$info" || fail "no Package field: $info"
grep -q '^ Depends: .*libcurl' <<<"$info" || fail "Depends lacks the shared libraries: $info"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/opsmaturity/opsmaturity.yml ||
  fail "the config is not a conffile"
contents=$(dpkg-deb --contents "$deb")
for f in ./usr/bin/opsmaturity ./usr/share/opsmaturity/rules/ ./usr/share/man/man1/opsmaturity.1 \
         ./usr/share/opsmaturity/prometheus/opsmaturity-alerts.yml \
         ./usr/share/opsmaturity/grafana/opsmaturity.json ./usr/share/doc/opsmaturity/README.md \
         ./usr/share/doc/opsmaturity/configuration.md ./usr/lib/systemd/system/opsmaturity.service \
         ./etc/opsmaturity/opsmaturity.yml; do
  grep -q " $f" <<<"$contents" || fail "$f is not in the package"
done
# (The rule pack's own tests, rules/tests/, ship with it: `rules test` after editing rules.)
if grep -qE ' \./(usr/)?(include|src)/| \./usr/lib/.*\.a$| \./usr/bin/.*(test|bench|fuzz)' <<<"$contents"; then
  fail "the package holds build, test or benchmark files"
fi

root="$work/root"
mkdir -p "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/info"
touch "$root/var/lib/dpkg/status"
# Its dependencies are the machine's (this root's dpkg database does not list them).
dpkg --root="$root" --force-depends --force-not-root --force-script-chrootless -i "$deb" \
  >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i"; }
dpkg --root="$root" -s opsmaturity | grep -q '^Status: install ok installed' ||
  fail "dpkg does not list it as installed"

bin="$root/usr/bin/opsmaturity"
"$bin" --version | grep -q '^0\.' || fail "--version"
"$bin" rules check "$root/usr/share/opsmaturity/rules" | grep -q 'is valid: 35 items' ||
  fail "rules check of the installed rule pack"

# The installed unit, its paths moved into the temporary root.
mkdir -p "$work/unit"
sed -e "s|/usr/bin/opsmaturity|$bin|" "$root/usr/lib/systemd/system/opsmaturity.service" \
  >"$work/unit/opsmaturity.service"
grep -q '^ExecStart=/usr/bin/opsmaturity run --config /etc/opsmaturity/opsmaturity.yml$' \
  "$root/usr/lib/systemd/system/opsmaturity.service" || fail "the unit's ExecStart"
systemd-analyze verify --man=no "$work/unit/opsmaturity.service" || fail "systemd-analyze verify"

# The installed config loads: its rule pack and store moved into the temporary root, it
# scores (its example Prometheus is not running: exit 1 names it, not 2, a config error).
config="$work/opsmaturity.yml"
sed -e "s|rules_dir: /usr/share|rules_dir: $root/usr/share|" \
    -e "s|storage_path: /var/lib/opsmaturity/|storage_path: $work/|" \
    -e "s|url: http://127.0.0.1:9090|url: http://127.0.0.1:1|" \
    "$root/etc/opsmaturity/opsmaturity.yml" >"$config"
grep -q "rules_dir: $root/usr/share/opsmaturity/rules" "$config" || fail "the config's rules_dir"
set +e
"$bin" once --config "$config" >"$work/once.out" 2>"$work/once.err"
rc=$?
set -e
[ "$rc" = 1 ] || { cat "$work/once.err"; fail "once exited $rc, not 1"; }
grep -q 'collector prometheus-main failed' "$work/once.err" || { cat "$work/once.err"; fail "once"; }
grep -q 'payments' "$work/once.out" || { cat "$work/once.out"; fail "once printed no scores"; }
[ -f "$work/opsmaturity.db" ] || fail "no store written"

# Removed whole: nothing of it is left but the conffile until purged.
dpkg --root="$root" --force-not-root --force-script-chrootless -r opsmaturity >/dev/null 2>&1 ||
  fail "dpkg -r"
[ ! -e "$bin" ] || fail "the binary is left after removal"
[ -e "$root/etc/opsmaturity/opsmaturity.yml" ] || fail "a removal deleted the conffile"
echo "ok: built, installed into a temporary root, ran, removed"
