#!/usr/bin/env bash
# make ui   (or: bash infra/prefect/local-ui.sh [PORT], from the workspace, with the venv's bin on PATH)
# A Prefect server on 127.0.0.1, the deployments of prefect.yaml on a process work pool, and a worker that
# runs their flow runs in this workspace. Ctrl-C stops the worker and the server.
set -euo pipefail
port="${1:-4200}"
export PREFECT_API_URL="http://127.0.0.1:${port}/api"
export PREFECT_SERVER_ANALYTICS_ENABLED=false
home="${PREFECT_HOME:-$HOME/.prefect}"
mkdir -p "$home"

prefect server start --host 127.0.0.1 --port "$port" > "$home/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
python - "$PREFECT_API_URL/health" "$server" "$home/server.log" <<'PY'
import os, sys, time, urllib.request
url, pid, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for _ in range(240):
    try:
        urllib.request.urlopen(url, timeout=2)
        sys.exit(0)
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            sys.exit(f"the Prefect server exited; see {log}")
        time.sleep(0.5)
sys.exit(f"the Prefect server did not answer at {url} within 2 minutes; see {log}")
PY
prefect work-pool create llmops-local --type process --overwrite
prefect --no-prompt deploy --all
echo "Prefect UI: http://127.0.0.1:${port}  (Deployments -> retrain -> Run -> Custom run to change parameters)"
prefect worker start --pool llmops-local
