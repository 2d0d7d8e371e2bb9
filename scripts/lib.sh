# Helpers for the scripts that drive `kinesis-pusher local` (source it: `. "$(dirname "$0")/lib.sh"`).

# free_port: prints a TCP port nothing listens on now.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

# wait_for_local ENDPOINT: returns once KinesisLocal's admin endpoint answers (fails after 10 s).
wait_for_local() {
  for _ in $(seq 100); do curl -sf "$1/_admin/stats" >/dev/null && return 0; sleep 0.1; done
  echo "KinesisLocal at $1 did not answer within 10 s" >&2
  return 1
}
