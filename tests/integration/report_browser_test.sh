#!/bin/sh
# The HTML assessment report renders in a real headless browser (Debian's chromium): the agent
# binary writes the report of a system, chromium prints it to PDF and takes a screenshot, and
# both files must be real (PDF and PNG signatures, plausible sizes).
# Usage: report_browser_test.sh OPSMATURITY_BINARY SOURCE_DIR
set -eu
bin=$1 src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/opsm-report-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

printf '{"facts": [{"system": "payments", "key": "plugin.drill.last_report_age_seconds", "value": 3600}]}\n' >"$tmp/facts.json"
cat >"$tmp/attestations.yaml" <<EOT
attestations:
  - system: payments
    criterion: 6.7.4/L1/2
    attested_by: Li Wei
    document: https://wiki.example.com/crisis-org
    date: $(date -u -d '-1 day' +%Y-%m-%d)
EOT
cat >"$tmp/agent.yml" <<EOT
rules_dir: $src/rules
attestations_file: attestations.yaml
systems: [payments]
collectors:
  - {name: drills, type: exec, command: [cat, $tmp/facts.json]}
EOT

"$bin" report --config "$tmp/agent.yml" --system payments --format html --lang zh --output "$tmp/report.html"
grep -q '技术运营成熟度评估报告：payments' "$tmp/report.html"

browser=$(command -v chromium || command -v chromium-browser)
common="--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --user-data-dir=$tmp/profile"
HOME=$tmp timeout 120 "$browser" $common --print-to-pdf="$tmp/report.pdf" "file://$tmp/report.html" >"$tmp/pdf.log" 2>&1 || {
  echo "chromium --print-to-pdf failed:"; cat "$tmp/pdf.log"; exit 1; }
HOME=$tmp timeout 120 "$browser" $common --window-size=1280,2000 --screenshot="$tmp/report.png" "file://$tmp/report.html" >"$tmp/png.log" 2>&1 || {
  echo "chromium --screenshot failed:"; cat "$tmp/png.log"; exit 1; }

[ "$(head -c 4 "$tmp/report.pdf")" = "%PDF" ] || { echo "not a PDF"; exit 1; }
pdf_size=$(wc -c <"$tmp/report.pdf")
[ "$pdf_size" -gt 20000 ] || { echo "PDF too small: $pdf_size bytes"; exit 1; }
[ "$(head -c 8 "$tmp/report.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || { echo "not a PNG"; exit 1; }
png_size=$(wc -c <"$tmp/report.png")
[ "$png_size" -gt 20000 ] || { echo "PNG too small: $png_size bytes"; exit 1; }
echo "report rendered: PDF $pdf_size bytes, PNG $png_size bytes"
