#!/usr/bin/env bash
# Download API throughput and latency against nginx serving the same bytes, measured in the same run (issue 5,
# "Results"; issue 14, section 4): the three ways an inference client fetches a config, with a reader token checked on
# every request —
#   id      GET /api/v1/configs/{id}
#   latest  GET /api/v1/models/{model}/configs/latest?method=dc&nfe=6&guidance=7.5   (alias resolution)
#   best    GET /api/v1/configs/best?model={model}&nfe=6&guidance=7.5                  (the recommended config)
#
#   tuning-jobs/benchmarks/download.sh
#
# 1. creates a reader token (`token create`, against the service's database) and seeds one model and one published
#    config (a DC-Solver NFE-6 document as the store writes it: canonical JSON, sha256 ETag) with psql, with its key's
#    `latest` alias and the (model, NFE 6, guidance 7.5) recommendation pointing at it, as a publish leaves them;
# 2. starts the packaged app (JAR) on APP_PORT, and nginx as the current user with a temporary config on NGINX_PORT
#    serving the exact bytes the app returns, at one location per endpoint with the app's extra headers;
# 3. warms both up (WARMUP seconds per endpoint each), then runs `wrk -t2 -c64 -d${DURATION}s --latency` ROUNDS times
#    per endpoint against each, alternating app / nginx, and prints requests/s and p99 per run, and per endpoint the
#    means and the app/nginx ratios (a markdown table).
#
# Environment (defaults in brackets):
#   JAR [target/quarkus-app/quarkus-run.jar]   the packaged service (mvn -B -q package -DskipTests)
#   PGHOST [127.0.0.1] PGPORT [5432] PGDATABASE [solvertune] PGUSER [solvertune] PGPASSWORD [solvertune]
#       a PostgreSQL the app may migrate (Flyway, no clean); the seeded rows stay (model name bench-download-*)
#   APP_PORT [18080] NGINX_PORT [18081] DURATION [20] WARMUP [15] ROUNDS [2] THREADS [2] CONNECTIONS [64]
#   ENDPOINTS ["id latest best"] JAVA_OPTS [-Xmx1g]
# Needs java, psql, wrk and nginx (Debian: apt-get install -y nginx wrk postgresql-client).
# Issue target, per endpoint: app requests/s >= 50% of nginx's, app p99 <= 2x nginx's. Run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=${JAR:-target/quarkus-app/quarkus-run.jar}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGDATABASE=${PGDATABASE:-solvertune}
export PGUSER=${PGUSER:-solvertune} PGPASSWORD=${PGPASSWORD:-solvertune}
APP_PORT=${APP_PORT:-18080}
NGINX_PORT=${NGINX_PORT:-18081}
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-15}
ROUNDS=${ROUNDS:-2}
ENDPOINTS=${ENDPOINTS:-id latest best}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
JAVA_OPTS=${JAVA_OPTS:--Xmx1g}

for tool in java psql wrk nginx curl; do
    command -v "$tool" > /dev/null || { echo "download.sh: $tool is not installed" >&2; exit 2; }
done
[[ -f "$JAR" ]] || { echo "download.sh: no $JAR (mvn -B -q package -DskipTests)" >&2; exit 2; }

TMP=$(mktemp -d /tmp/solvertune-download.XXXXXX)
APP_PID=""
NGINX_PID=""
cleanup() {
    [[ -n "$APP_PID" ]] && kill "$APP_PID" 2> /dev/null && wait "$APP_PID" 2> /dev/null || true
    [[ -n "$NGINX_PID" ]] && kill "$NGINX_PID" 2> /dev/null && wait "$NGINX_PID" 2> /dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

export QUARKUS_DATASOURCE_JDBC_URL="jdbc:postgresql://$PGHOST:$PGPORT/$PGDATABASE"
export QUARKUS_DATASOURCE_USERNAME=$PGUSER QUARKUS_DATASOURCE_PASSWORD=$PGPASSWORD

# ---- 1. token (also migrates the schema) and seed rows -------------------------------------------------------------
echo "== token and seed data ($PGUSER@$PGHOST:$PGPORT/$PGDATABASE)"
TOKEN=$(java $JAVA_OPTS -jar "$JAR" token create --name "bench-download-reader" --role reader > "$TMP/token.out" \
    2> "$TMP/token.err" && grep -E '^st_[A-Za-z0-9_-]+$' "$TMP/token.out" | tail -n 1 || true)
[[ "$TOKEN" == st_* ]] || { echo "download.sh: token create failed:" >&2; tail -n 20 "$TMP/token.out" "$TMP/token.err" >&2; exit 1; }

NAME="bench-download-$(date +%s)-$$"
CONFIG_ID=$(psql -X -q -v ON_ERROR_STOP=1 -t -A -v name="$NAME" <<'SQL'
WITH m AS (
    INSERT INTO models (id, name, kind, spec, content_hash, schedule, prediction_type, anonymous_read)
    VALUES (nextval('models_seq'), :'name', 'analytic', '{"preset": "gmm-sd-d32"}',
            encode(sha256(convert_to(:'name', 'UTF8')), 'hex'),
            '{"type": "vp_discrete", "preset": "scaled_linear", "numTrainTimesteps": 1000}', 'noise', false)
    RETURNING id, name, content_hash),
c AS (SELECT nextval('solver_configs_seq') AS id),
v AS (SELECT jsonb_build_object('type', 'coefficients', 'coefficientSet', jsonb_build_object(
        'base', jsonb_build_object('order', 3, 'prediction', 'DATA', 'solver', 'unipc', 'variant', 'BH2'),
        'columns', jsonb_build_array('ratio'), 'formatVersion', 1, 'method', 'DC', 'nfe', 6,
        'spacing', jsonb_build_object('type', 'logSNR'), 'steps', 6,
        'times', jsonb_build_array(1.0, 0.3929413908386287, 0.22089413655436574, 0.13152862958839598,
                                   0.07372213436045745, 0.03302591469087186, 0.0011806375442739079),
        'values', jsonb_build_array(jsonb_build_array(1.0), jsonb_build_array(1.0),
                                    jsonb_build_array(1.0271018438457283), jsonb_build_array(0.7392241906397113),
                                    jsonb_build_array(1.2263398812353935), jsonb_build_array(0.9848021197337351)),
        'fit', jsonb_build_object('samples', 128, 'seconds', 41.7, 'warnings', jsonb_build_array()),
        'provenance', jsonb_build_object('codeVersion', 'bench', 'createdAt', '2026-01-01T00:00:00Z',
                                         'modelHash', repeat('a', 64)))) AS values),
d AS (SELECT c.id, m.id AS model_id, jsonb_build_object(
        'formatVersion', 1, 'id', c.id,
        'model', jsonb_build_object('id', m.id, 'name', m.name, 'contentHash', m.content_hash,
                                    'predictionType', 'noise'),
        'method', 'dc', 'solver', 'unipc',
        'solverOptions', jsonb_build_object('order', '3', 'prediction', 'data', 'variant', 'bh2'),
        'nfe', 6, 'guidance', 7.5, 'spacing', 'logSNR', 'tStart', 1.0, 'tEnd', 0.0011806375442739079, 'version', 1,
        'key', repeat('b', 64), 'jobId', 1, 'heldOutMse', 0.0123,
        'values', v.values,
        'metrics', jsonb_build_object('heldOutMse', 0.0123, 'baseMse', 0.0201, 'vsBase', 'BEATS'),
        'provenance', jsonb_build_object('codeVersion', 'bench', 'jobId', 1),
        'createdAt', '2026-01-01T00:00:00Z')::text AS document, v.values
      FROM c, m, v)
INSERT INTO solver_configs (id, model_id, method, solver, solver_options, nfe, guidance, spacing, t_start, t_end,
                            version, values, metrics, provenance, key_hash, job_id, sha256, document, held_out_mse)
SELECT d.id, d.model_id, 'dc', 'unipc', '{"order": "3", "prediction": "data", "variant": "bh2"}', 6, 7.5, 'logSNR',
       1.0, 0.0011806375442739079, 1, d.values, '{}', '{"jobId": 1}',
       encode(sha256(convert_to(:'name', 'UTF8')), 'hex'), 1,
       encode(sha256(convert_to(d.document, 'UTF8')), 'hex'), d.document, 0.0123
FROM d
RETURNING id;
SQL
)
CONFIG_ID=$(echo "$CONFIG_ID" | head -n 1 | tr -d '[:space:]')
[[ "$CONFIG_ID" =~ ^[0-9]+$ ]] || { echo "download.sh: seeding failed: $CONFIG_ID" >&2; exit 1; }
echo "config $CONFIG_ID of model $NAME"

# the key's `latest` alias and the (model, NFE 6, guidance 7.5) recommendation point at the config, as a publish sets them
psql -X -q -v ON_ERROR_STOP=1 -v id="$CONFIG_ID" <<'SQL'
INSERT INTO config_aliases (id, model_id, key_hash, alias, config_id, updated_at, updated_by)
SELECT nextval('config_aliases_seq'), model_id, key_hash, 'latest', id, now(), 'job 1'
FROM solver_configs WHERE id = :id;
INSERT INTO config_recommendations (id, model_id, nfe, guidance, config_id, held_out_mse, candidates, job_id,
                                    updated_at)
SELECT nextval('config_recommendations_seq'), model_id, nfe, guidance, id, held_out_mse, 1, job_id, now()
FROM solver_configs WHERE id = :id;
SQL

# ---- 2. the app and nginx ------------------------------------------------------------------------------------------
QUERY="nfe=6&guidance=7.5"
declare -A APP_URL NGINX_URL
APP="http://127.0.0.1:$APP_PORT"
APP_URL[id]="$APP/api/v1/configs/$CONFIG_ID"
APP_URL[latest]="$APP/api/v1/models/$NAME/configs/latest?method=dc&$QUERY"
APP_URL[best]="$APP/api/v1/configs/best?model=$NAME&$QUERY"
for e in $ENDPOINTS; do
    [[ -n "${APP_URL[$e]:-}" ]] || { echo "download.sh: unknown endpoint '$e' (id, latest, best)" >&2; exit 2; }
done
AUTH="Authorization: Bearer $TOKEN"

echo "== starting the app on :$APP_PORT"
QUARKUS_HTTP_PORT=$APP_PORT java $JAVA_OPTS -jar "$JAR" > "$TMP/app.log" 2>&1 &
APP_PID=$!
for _ in $(seq 1 120); do
    curl -fsS -o /dev/null -H "$AUTH" "${APP_URL[id]}" 2> /dev/null && break
    kill -0 "$APP_PID" 2> /dev/null || { echo "download.sh: the app exited:" >&2; tail -n 30 "$TMP/app.log" >&2; exit 1; }
    sleep 1
done
mkdir -p "$TMP/www"
curl -fsS -D "$TMP/app-id.headers" -H "$AUTH" "${APP_URL[id]}" -o "$TMP/www/config.json"
BYTES=$(wc -c < "$TMP/www/config.json")
chmod 755 "$TMP" "$TMP/www" && chmod 644 "$TMP/www/config.json" # nginx workers of a root master run as nobody
echo "app serves $BYTES bytes, $(grep -i '^etag' "$TMP/app-id.headers" | tr -d '\r')"
for e in latest best; do # the alias and the recommendation resolve to that document
    curl -fsS -D "$TMP/app-$e.headers" -H "$AUTH" "${APP_URL[$e]}" -o "$TMP/app-$e.json"
    cmp -s "$TMP/www/config.json" "$TMP/app-$e.json" || { echo "download.sh: $e serves other bytes" >&2; exit 1; }
    grep -qi "^x-config-id: $CONFIG_ID" "$TMP/app-$e.headers" || {
        echo "download.sh: $e resolved to another config:" >&2; cat "$TMP/app-$e.headers" >&2; exit 1; }
done

echo "== starting nginx on :$NGINX_PORT"
# the alias answers' extra headers, as the app sends them (nginx adds its own ETag, Last-Modified, Accept-Ranges)
alias_headers() {
    echo "add_header Cache-Control \"private, max-age=60\"; add_header X-Config-Id $CONFIG_ID;" \
        "add_header X-Config-Version 1; add_header X-Config-Alias $1;" \
        "add_header Content-Location /api/v1/configs/$CONFIG_ID;"
}
cat > "$TMP/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $TMP/nginx.pid;
error_log $TMP/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $TMP/client_body;
    proxy_temp_path $TMP/proxy;
    fastcgi_temp_path $TMP/fastcgi;
    uwsgi_temp_path $TMP/uwsgi;
    scgi_temp_path $TMP/scgi;
    types { application/json json; }
    default_type application/json;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $TMP/www;
        location = /config.json { add_header Cache-Control "private, max-age=31536000, immutable"; }
        location = /latest { alias $TMP/www/config.json; $(alias_headers latest) }
        location = /best { alias $TMP/www/config.json; $(alias_headers recommended) }
    }
}
CONF
nginx -e "$TMP/nginx-error.log" -p "$TMP" -c "$TMP/nginx.conf" &
NGINX_PID=$!
NGINX="http://127.0.0.1:$NGINX_PORT"
NGINX_URL[id]="$NGINX/config.json"
NGINX_URL[latest]="$NGINX/latest?method=dc&$QUERY"
NGINX_URL[best]="$NGINX/best?model=$NAME&$QUERY"
for _ in $(seq 1 50); do curl -fsS -o /dev/null "${NGINX_URL[id]}" 2> /dev/null && break; sleep 0.2; done
for e in $ENDPOINTS; do
    cmp -s "$TMP/www/config.json" <(curl -fsS "${NGINX_URL[$e]}") || {
        echo "download.sh: nginx $e serves other bytes" >&2; exit 1; }
done

# ---- 3. measure ----------------------------------------------------------------------------------------------------
# wrk's latency to milliseconds: 850.00us, 3.21ms, 1.02s
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }
run() { # name url seconds [header] -> "rps p99ms"
    local out
    if [[ -n "${4:-}" ]]; then
        out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$3"s --latency -H "$4" "$2")
    else
        out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$3"s --latency "$2")
    fi
    if echo "$out" | grep -q "Non-2xx"; then
        echo "download.sh: $1 answered non-2xx:" >&2
        echo "$out" >&2
        exit 1
    fi
    local rps p99
    rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
    p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
    echo "$rps $(to_ms "$p99")"
}
load() { uptime | sed 's/.*load average/load average/'; }
echo "== $(load) before the warm-up"
echo "== warm-up (${WARMUP}s per endpoint each)"
for e in $ENDPOINTS; do
    run "app $e" "${APP_URL[$e]}" "$WARMUP" "$AUTH" > /dev/null
    run "nginx $e" "${NGINX_URL[$e]}" "$WARMUP" > /dev/null
done
echo "== $(load) after the warm-up"
echo "== wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency, $ROUNDS rounds, app / nginx alternating per endpoint"
printf '%-6s %-8s %-6s %14s %10s\n' round endpoint server requests/s p99_ms
declare -A RPS P99
for r in $(seq 1 "$ROUNDS"); do
    for e in $ENDPOINTS; do
        for server in app nginx; do
            if [[ $server == app ]]; then
                res=$(run "app $e" "${APP_URL[$e]}" "$DURATION" "$AUTH") # a failed run ends the script (set -e)
            else
                res=$(run "nginx $e" "${NGINX_URL[$e]}" "$DURATION")
            fi
            read -r rps p99 <<< "$res"
            RPS[$server,$e]+="$rps "
            P99[$server,$e]+="$p99 "
            printf '%-6s %-8s %-6s %14s %10s\n' "$r" "$e" "$server" "$rps" "$p99"
        done
    done
done
echo "== $(load) at the end"
mean() { printf '%s\n' $1 | awk '{ s += $1 } END { printf "%.3f", s / NR }'; }
echo "== result (means over $ROUNDS rounds, $BYTES-byte body, $(nproc) cores shared with wrk)"
echo "| endpoint | app requests/s | nginx requests/s | ratio (target >= 0.5) | app p99 | nginx p99 | ratio (target <= 2) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for e in $ENDPOINTS; do
    awk -v e="$e" -v ar="$(mean "${RPS[app,$e]}")" -v nr="$(mean "${RPS[nginx,$e]}")" \
        -v ap="$(mean "${P99[app,$e]}")" -v np="$(mean "${P99[nginx,$e]}")" 'BEGIN {
        printf "| %s | %.0f | %.0f | %.2f | %.2f ms | %.2f ms | %.2f |\n", e, ar, nr, ar / nr, ap, np, ap / np }'
done
