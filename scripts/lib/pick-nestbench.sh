# Sourced by the bench scripts: sets $nb to the nestbench binary to use — $NESTBENCH,
# else the newer of this checkout's target/release and target/debug builds, else
# nestbench on PATH — or exits saying how to get one. Needs $here (the checkout) and
# $me (the script's name, for the message).
nb=${NESTBENCH:-}
if [ -z "$nb" ]; then
	for b in "$here/target/release/nestbench" "$here/target/debug/nestbench"; do
		if [ -x "$b" ] && { [ -z "$nb" ] || [ "$b" -nt "$nb" ]; }; then nb=$b; fi
	done
	if [ -z "$nb" ] && command -v nestbench >/dev/null; then nb=nestbench; fi
	[ -n "$nb" ] || { echo "$me: no nestbench binary; run cargo build -p nestbench or set NESTBENCH" >&2; exit 1; }
fi
