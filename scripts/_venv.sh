# Sourced by scripts/demo and scripts/test: make sure .venv exists and holds cimmeter with the
# given extras, reinstalling only when pyproject.toml changed. Needs python3 >= 3.11 on PATH
# (or PYTHON=/path/to/python).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${CIMMETER_VENV:-$root/.venv}"
extras="${1:-}"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "cimmeter needs Python >= 3.11 ($python is $("$python" --version 2>&1))" >&2
  exit 2
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "creating virtual environment in $venv" >&2
  "$python" -m venv "$venv"
fi
stamp="$venv/.cimmeter-installed${extras:+-$extras}"
want="$(cat "$root/pyproject.toml" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing cimmeter${extras:+[$extras]} into $venv" >&2
  "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
  "$venv/bin/python" -m pip install --quiet -e "$root${extras:+[$extras]}" >&2
  echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"
