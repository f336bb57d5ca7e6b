# Shared by scripts/test and scripts/serve: make .venv and install the project into it.
# ATTUNEMENT_VENV points at another environment (CI and developers may share one).
VENV="${ATTUNEMENT_VENV:-.venv}"

ensure_venv() {
  local spec="$1"
  local stamp="$VENV/.attunement-installed"
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
  fi
  # Reinstall when pyproject.toml changed since the last install (or the extras differ).
  local want
  want="$spec $(sha256sum pyproject.toml | cut -c1-16)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    "$VENV/bin/python" -m pip install -q -e "$spec"
    echo "$want" > "$stamp"
  fi
}
