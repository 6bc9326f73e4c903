#!/usr/bin/env python3
"""The scale-out manifests rely on three things in spin.toml: GET /health/ready reaches
the API component, that component's allowed_outbound_hosts is built from the
`database_host` variable, and its `database_url` variable comes from the application
variable the Deployment sets (SPIN_VARIABLE_DATABASE_URL). Checked here so a change to
spin.toml cannot quietly break the overlay."""
import sys
import tomllib

path = sys.argv[1] if len(sys.argv) > 1 else "spin.toml"
with open(path, "rb") as f:
    m = tomllib.load(f)

problems = []
app_vars = m.get("variables", {})
for var in ("database_url", "database_host"):
    if var not in app_vars:
        problems.append(f"[variables] must declare {var}")
routes = {t.get("route"): t.get("component") for t in m.get("trigger", {}).get("http", [])}
api = routes.get("/health/ready")
if api is None:
    problems.append("no [[trigger.http]] route = \"/health/ready\" (the readiness probe)")
else:
    comp = m.get("component", {}).get(api, {})
    if "{{ database_host }}" not in comp.get("allowed_outbound_hosts", []):
        problems.append(f"component.{api}.allowed_outbound_hosts must include \"{{{{ database_host }}}}\"")
    if comp.get("variables", {}).get("database_url") != "{{ database_url }}":
        problems.append(f"component.{api}.variables.database_url must be \"{{{{ database_url }}}}\"")

for p in problems:
    print(f"{path}: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
