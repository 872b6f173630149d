"""Every secret the suite uses that the package does not register itself, in one place.

The suite-wide leak check (``tests/conftest.py``) looks for each of these, and for
every secret the package registered with :mod:`nextcaller_ops.redact`, in all log
records and captured output.  A test that invents a secret adds it here.
"""

from __future__ import annotations

BOT_SIGNING_SECRET = "test-signing-secret-7c0ffee"
BOT_TOKEN = "xoxb-000000000000-test-bot-token"
FAULT_SECRET = "fault-secret-9d2e77aa01"
NB_SECRET = "nb-kernel-secret-5f1c2a9e"
NB_WRONG_SECRET = "nb-wrong-secret-3b7d51c0"
RELIABILITY_SIGNING = "reliability-signing-secret-42"
RELIABILITY_BOT_TOKEN = "xoxb-111111111111-reliability-token"
DB_PASSWORD = "hunter2-db-password-0c1d"
REDACT_SECRET = "redact-test-secret-5e7a91"
REDACT_LONGER_SECRET = "redact-test-secret-5e7a91-and-more"
SLACK_USER_TOKEN = "xoxp-333333333333-444444444444-user-token"
SLACK_APP_LEVEL_TOKEN = "xapp-1-A0APP00001-5555555555-app-level-token"
WRONG_APP_TOKEN = "xapp-1-A0APP00001-6666666666-not-this-apps-token"
SLACK_REFRESH_TOKEN = "xoxe-1-My0xTk3nR3fr3sh-ab12"
V21_API_PASSWORD = "v21-basic-password-3b9f0c77"
# The token Slack hands a workflow step's run (function_executed's bot_access_token).
WORKFLOW_TOKEN = "xwfp-777777777777-workflow-step-token"
# Outgoing webhooks' signing secret (whsec_ + base64), as a receiver would hand it out.
WEBHOOK_SECRET = "whsec_bmV4dGNhbGxlci1vcHMtd2ViaG9va3MtdGVzdA=="


def all_secrets() -> set[str]:
    return {v for k, v in globals().items() if k.isupper() and isinstance(v, str)}
