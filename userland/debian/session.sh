#!/bin/bash
# The scripted session on the Debian root file system (cargo xtask debian-session): run by
# Debian's bash under Tessera and under Debian's Linux 6.1 in the same QEMU, its output
# compared line by line. Everything it prints must be the same on every correct kernel and
# every run: what differs from boot to boot or between kernels (process ids, times, sizes
# in memory, the kernels' own messages) is reduced here, next to the command that prints
# it, with `norm` (every number becomes N) or a yes/no test; the kernels' messages (dmesg)
# become `[time] message`, without their empty records. A line starting with FAIL is a
# failure even where both kernels print it.
set -u
export LC_ALL=C.UTF-8 TZ=UTC
S=/tmp/session
mkdir -p "$S" && cd "$S" || exit 1

section() { echo "== $*"; }
# check WHAT COMMAND...: ok or FAIL, from the command's status.
check() {
    local what=$1
    shift
    if "$@"; then echo "ok $what"; else echo "FAIL $what (status $?)"; fi
}
# Every number (with its decimal point, commas or colons) as N after one space, and runs
# of blanks as one space: columns are as wide as their numbers (top writes "%Cpu(s):100.0"
# but "%Cpu(s): 50.0").
norm() { sed -E 's/[[:blank:]]*[0-9]+([.,:][0-9]+)*/ N/g; s/[[:blank:]]+/ /g'; }

section "bash: functions, arrays, here-documents, subshells"
fib() { local n=$1; if ((n < 2)); then echo "$n"; else echo $(($(fib $((n - 1))) + $(fib $((n - 2))))); fi; }
echo "fib 15 = $(fib 15)"
fruits=(pear apple fig "passion fruit")
fruits+=(kiwi)
echo "count ${#fruits[@]}, second ${fruits[1]}, last ${fruits[-1]}, slice ${fruits[*]:1:2}"
declare -A color=([apple]=red [kiwi]=green [fig]=purple)
for k in $(printf '%s\n' "${!color[@]}" | sort); do echo "color $k=${color[$k]}"; done
name=Debian
cat <<EOF
here-document: hello from $name, $((6 * 7))
EOF
cat <<'EOF'
quoted here-document: $name stays
EOF
tr a-z A-Z <<<"here-string"
outer=1
(outer=2; cd /usr/bin && echo "subshell: outer=$outer in $PWD")
echo "after the subshell: outer=$outer in $PWD"
echo "nested: $(echo "$(echo inner)" | rev)"
{ echo brace; echo group; } | wc -l
read -r first rest <<<"one two three"
echo "read: $first / $rest"
printf '%05.1f|%-6s|%x\n' 3.14159 left 255
[[ "debian-12" =~ ^([a-z]+)-([0-9]+)$ ]] && echo "regex: ${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"

section "bash: traps"
( trap 'echo "subshell EXIT trap"' EXIT; echo "in the subshell" )
got_usr1=no
trap 'got_usr1=yes' USR1
kill -USR1 $$
echo "USR1 handler ran: $got_usr1"
trap - USR1
( trap 'echo "TERM trapped"; exit 3' TERM; kill -TERM $BASHPID; sleep 5 )
echo "subshell status after TERM: $?"
( set -e; trap 'echo "ERR trap at line $LINENO"' ERR; false; echo "not reached" )
echo "set -e status: $?"

section "bash: job control"
set -m
sleep 30 &
job=$!
jobs -l | norm
kill -STOP %1
sleep 0.3
jobs | norm
kill -CONT %1
kill %1
wait "$job"
echo "killed job status: $?"
(exit 7) &
wait $!
echo "background status: $?"
sleep 0.2 &
fg %1 >/dev/null
echo "fg status: $?"
# Three jobs at once; which ends first depends on the host's load, so each writes a file.
for i in 1 2 3; do (sleep 0.$i; echo "job $i done" >"job$i.out") & done
wait
cat job1.out job2.out job3.out
set +m
echo "jobs left: $(jobs | wc -l)"

section "coreutils"
printf 'pear\napple\nfig\napple\nkiwi\npear\napple\n' >fruits.txt
printf 'a,1,x\nb,2,y\nc,3,z\n' >table.csv
seq 1 1000 >numbers.txt
touch -d '2024-02-29 12:34:56' fruits.txt table.csv numbers.txt
ls -l --time-style=long-iso fruits.txt table.csv numbers.txt
sort fruits.txt | uniq -c
sort -u fruits.txt | tr '\n' ' '
echo
sort -rn numbers.txt | head -3 | tr '\n' ' '
echo
cut -d, -f1,3 table.csv
cut -c1-3 fruits.txt | sort | uniq | wc -l
sha256sum fruits.txt table.csv numbers.txt
md5sum numbers.txt
wc fruits.txt numbers.txt
paste -d: <(head -3 fruits.txt) <(head -3 numbers.txt)
date -u -d @0
date -u -d '2024-02-29 12:00' '+%Y-%m-%d %j %A'
check "date: this year is 2025 or later" test "$(date +%Y)" -ge 2025
stat -c '%n %s %a %U' fruits.txt
basename /usr/lib/os-release .d
dirname /usr/lib/os-release
realpath /bin/sh
readlink /bin/sh
id
uname -snm
expr 6 \* 7
factor 360
seq 1 10 | paste -sd+
awk -F, '{s += $2} END {print "awk sum", s}' table.csv
sed -n 's/^\(p[a-z]*\)$/sed: \1/p' fruits.txt
grep -c apple fruits.txt
grep -n -E '^(fig|kiwi)$' fruits.txt
diff <(printf 'a\nb\nc\n') <(printf 'a\nB\nc\n')
echo "diff status: $?"
cmp -s fruits.txt fruits.txt && echo "cmp: same"
head -c 100000 /dev/urandom >random.bin
check "dd copies 1 MiB in one read" test "$(dd if=/dev/zero bs=1M count=1 2>/dev/null | wc -c)" = 1048576
cat /etc/os-release | grep -E '^(NAME|VERSION_ID)='
cat /etc/debian_version | cut -d. -f1

section "tar, gzip, xz"
mkdir -p tree/a/b tree/c
for i in $(seq 1 20); do seq "$i" 500 >"tree/a/b/file$i.txt"; done
cp fruits.txt table.csv tree/c/
ln -s ../c/table.csv tree/a/link.csv
find tree -exec touch -h -d '2024-01-01 00:00:00' {} +
(cd tree && find . -type f | sort | xargs sha256sum) >before.sum
tar --sort=name --owner=0 --group=0 --numeric-owner -czf tree.tar.gz tree
tar -tzvf tree.tar.gz | awk '{print $1, $2, $3, $4, $5, $6}'
gzip -t tree.tar.gz && echo "gzip -t: ok"
mkdir out && tar -xzf tree.tar.gz -C out
(cd out/tree && find . -type f | sort | xargs sha256sum) >after.sum
cmp before.sum after.sum && echo "tar+gzip round trip: the same $(wc -l <after.sum) files"
readlink out/tree/a/link.csv
tar -cf tree.tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2024-01-01' tree
xz -k -6 tree.tar
xz -t tree.tar.xz && echo "xz -t: ok"
sha256sum tree.tar tree.tar.xz
xz -dc tree.tar.xz | sha256sum
xz -l tree.tar.xz | tail -1 | awk '{print $1, $2, $NF}'
gzip -9 -n -c numbers.txt >numbers.gz
sha256sum numbers.gz
zcat numbers.gz | tail -1
gunzip -c numbers.gz | cmp - numbers.txt && echo "gunzip: same"

section "find and xargs"
find tree -type f -name 'file1*.txt' | sort
find tree -type f -print0 | sort -z | xargs -0 cat | wc -l
find tree -name '*.txt' | sort | xargs -n 5 echo | wc -l
find tree -type l -printf '%p -> %l\n'
find tree -type f -size +1k | wc -l
find tree -newer before.sum | wc -l
printf '%s\n' a b c | xargs -I{} echo "item {}"

section "processes and the system"
ps aux | awk 'NR == 1 || $11 !~ /^\[/ {print $1, $11, $12}'
check "ps aux: numeric pid and memory columns" \
    sh -c "ps aux | awk 'NR > 1 && (\$2 !~ /^[0-9]+\$/ || \$4 !~ /^[0-9.]+\$/) {bad = 1} END {exit bad}'"
ps -o pid,ppid,comm -p $$ | norm
top -b -n 1 | head -5 | norm
check "top lists itself" sh -c "top -b -n 1 | awk '\$NF == \"top\"' | grep -q top"
df -P / /tmp /dev | awk 'NR == 1 {print} NR > 1 {print $6, ($2 > 0)}'
df -h /tmp | awk 'NR > 1 {print $1, $6}'
mount | awk '$3 == "/proc" || $3 == "/tmp" || $3 == "/dev" {print $1, $2, $3, $4, $5}' | sort
findmnt -n -o TARGET,FSTYPE /proc
free | awk 'NR == 1 {print $1, $2, $3, $4, $5, $6} NR > 1 {print $1, ($2 > 0)}'
check "free: used and free add up to at most total" \
    sh -c "free -k | awk '/^Mem:/ {exit !(\$3 + \$4 <= \$2)}'"
dmesg | sed -E '/^$/d; s/^\[ *[0-9]+\.[0-9]+\] .*/[time] message/' | head -5
check "dmesg: lines with timestamps" sh -c "test \$(dmesg | grep -c '^\[ *[0-9]*\.[0-9]*\]') -ge 5"
uptime | sed -E 's/.*load average: .*/load average: N/'
check "uptime: up" sh -c "uptime | grep -q ' up '"
cat /proc/loadavg | norm
nproc
grep -c processor /proc/cpuinfo
head -1 /proc/meminfo | cut -d: -f1
cat /proc/sys/kernel/ostype
cat /proc/self/comm
readlink /proc/self/exe
tr '\0' ' ' </proc/self/cmdline
echo
grep -E '^(Name|State|PPid):' /proc/self/status | norm
hostname
check "pgrep finds this shell" sh -c "pgrep -x bash | grep -qx $$"
pidof sleep || echo "no sleep running"
sleep 20 &
pkill -x sleep && wait $! 2>/dev/null
echo "pkill: sleep status $?"
kill -l 9 15

section "python3"
python3 /opt/session/session.py
echo "python status: $?"

section "session done"
cd / && rm -rf "$S"
