# The walkthrough's shell setup, sourced by the docs' blocks from the repository's root:
#   . docs/session.sh
# Sets API (from PORT, default 3000), WORK (a scratch folder for the files the blocks write) and
# ACCESS / REFRESH for the walkthrough account ada@example.com: registered the first time, signed in
# again when its session has ended, kept while it works (so sourcing it on every page costs one
# request). Needs curl and node (jq is not assumed to be installed).

API=http://localhost:${PORT:-3000}/api/v1
WORK=${WORK:-$(mktemp -d)}

# curl_expect STATUS CURL-ARGS...: runs curl, prints the body, and fails unless the status is STATUS.
curl_expect() {
  local want=$1 out status body
  shift
  out=$(curl -sS -w '\n%{http_code}' "$@") || return 1
  status=${out##*$'\n'}
  body=${out%$'\n'*}
  if [ -n "$body" ]; then printf '%s\n' "$body"; fi
  if [ "$status" != "$want" ]; then
    echo "expected HTTP $want, got $status" >&2
    return 1
  fi
}

# json PATH: the value at PATH (dot-separated, e.g. access_token or sessions.0.id) of the JSON on stdin;
# strings bare, anything else as JSON.
json() {
  node -e '
    let text = "";
    process.stdin.on("data", (d) => (text += d)).on("end", () => {
      let v = JSON.parse(text);
      for (const k of process.argv[1].split(".")) v = v?.[k];
      process.stdout.write(typeof v === "string" ? v : JSON.stringify(v ?? null));
    });' "$1"
}

if [ -z "${ACCESS:-}" ] || [ "$(curl -s -o /dev/null -w '%{http_code}' "$API/auth/me" -H "Authorization: Bearer $ACCESS")" != 200 ]; then
  ADA='{"email":"ada@example.com","password":"correct horse battery","device_name":"laptop"}'
  TOKENS=$(curl -s -X POST "$API/auth/register" -H 'content-type: application/json' -d "$ADA")
  case "$TOKENS" in
  *access_token*) ;;
  *) TOKENS=$(curl -s -X POST "$API/auth/login" -H 'content-type: application/json' -d "$ADA") ;;
  esac
  ACCESS=$(echo "$TOKENS" | json access_token)
  REFRESH=$(echo "$TOKENS" | json refresh_token)
  if [ -z "$ACCESS" ] || [ "$ACCESS" = null ]; then
    echo "docs/session.sh: could not sign in at $API: $TOKENS" >&2
    return 1 2>/dev/null || exit 1
  fi
fi
