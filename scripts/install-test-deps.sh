#!/usr/bin/env bash
# Installs the system packages the tests use as real peers (exporters, the nfdump reference, tshark, a
# browser (chromium), Go + govmomi for the vCenter simulator) when they are missing. Runs as `npm test`'s pretest
# step; needs root (or sudo) and Debian's package archive. Set DVFLOW_SKIP_APT=1 to skip.
set -euo pipefail
[ "${DVFLOW_SKIP_APT:-}" = "1" ] && exit 0
need=()
command -v nfdump    >/dev/null 2>&1 || need+=(nfdump)
command -v softflowd >/dev/null 2>&1 || need+=(softflowd)
command -v tshark    >/dev/null 2>&1 || need+=(tshark)
command -v pmacctd   >/dev/null 2>&1 && [ -x /usr/sbin/pmacctd ] || need+=(pmacct)
command -v tcpdump   >/dev/null 2>&1 || need+=(tcpdump)
command -v text2pcap >/dev/null 2>&1 || need+=(tshark)
# The IDS tests record attacks on lo with real tools (collector/test/fixtures/ids/record-captures.sh): nmap and
# hping3 scans and floods, an ssh brute force against a throwaway sshd, python3 HTTP and DNS servers.
command -v nmap      >/dev/null 2>&1 || need+=(nmap)
command -v hping3    >/dev/null 2>&1 || [ -x /usr/sbin/hping3 ] || need+=(hping3)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh       >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
command -v python3   >/dev/null 2>&1 || [ -x /usr/bin/python3 ] || need+=(python3)
# The dashboard's end-to-end tests drive Debian's chromium through playwright-core.
[ -x /usr/bin/chromium ] || need+=(chromium)
# govmomi's vCenter simulator, built offline by scripts/build-vcsim.sh (Debian has no govc package).
command -v go        >/dev/null 2>&1 || need+=(golang-go)
[ -d /usr/share/gocode/src/github.com/vmware/govmomi/simulator ] || need+=(golang-github-vmware-govmomi-dev)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing test dependencies: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections || true
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
