#!/bin/sh
# The one install step every deployment runs (the Dockerfile calls it; so can a VM's provisioning):
# a virtual environment at VENV with nextcaller-ops and its [slack] and [shared] extras (the bot,
# gunicorn, PostgreSQL and Redis clients) from SOURCE, then a check that the bot imports.
#
#   deploy/install.sh VENV [SOURCE]
#
# SOURCE defaults to the checkout this script is in (a released version: `nextcaller-ops==X.Y`).
# PYTHON picks the interpreter that makes the venv (default python3; 3.11 or newer).
# The test suite runs this script into a temporary venv (tests/cli/test_deploy.py).
set -eu

VENV=${1:?usage: deploy/install.sh VENV [SOURCE]}
SOURCE=${2:-$(cd "$(dirname "$0")/.." && pwd)}
PYTHON=${PYTHON:-python3}

"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$SOURCE[slack,shared]"
# Fails here, not at the first Slack request, when something is missing.
"$VENV/bin/nextcaller-ops" --version
"$VENV/bin/python" -c "import bot.run, gunicorn, psycopg, redis"  # bot.wsgi builds the app at import: not here
echo "installed: $VENV/bin/nextcaller-ops"
