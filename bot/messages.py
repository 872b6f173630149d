"""Every sentence the bot shows people, in one place.

Listeners and block builders take their words from here; the core's errors
carry an :class:`~nextcaller_ops.errors.Action` and this module words it for
someone in Slack (the CLI's words are in ``cli/_common.py``, the
notebook's in ``notebook/words.py``).  Text that comes from a record or from
the API, and anything a person typed, is escaped for mrkdwn before it is put in a
sentence: in a message's ``text`` as much as in its blocks, ``<!channel>`` or
``<https://evil|click>`` from a record must neither ping nor link.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from nextcaller_ops.api.render import no_record_text, risk_label, spoof_label
from nextcaller_ops.errors import Action, NextCallerError
from nextcaller_ops.redact import mask_phone

from .policy import Refusal

USAGE = (
    "*Look up a caller:* `/caller 212-555-8383`\n"
    "Any US format works: `(212) 555-8383`, `+1 212.555.8383`, `212-555-8383 x12`.\n"
    "The card is visible only to you; *Share in channel* shows it to the channel "
    "(email and street hidden unless the channel is cleared for them).\n"
    "In a watched triage channel: `/caller triage` lists its open items; "
    "admins turn watching on or off with `/caller watch on|off`.\n"
    "With the newer API (v2.1): `/caller jerry@example.com` looks up by email, and each card has *Fraud check*."
)


def esc(text: str) -> str:
    """Escape for mrkdwn: Slack treats <, > and & as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def mention(user_id: str | None) -> str:
    """``<@U123>`` for a Slack user id; anything else is shown escaped, never as markup."""
    if user_id and user_id[:1] in "UWB" and set(user_id) <= _ID_CHARS:
        return f"<@{user_id}>"
    return esc(user_id or "someone")


# -- who may look up where ----------------------------------------------------------------


_REFUSALS = {
    Refusal.USER: (
        "Sorry — caller lookups are limited to approved agents. "
        "Ask a workspace admin to add you to NEXTCALLER_OPS_ALLOWED_USERS."
    ),
    Refusal.CHANNEL: (
        "Sorry — caller lookups aren't enabled in this channel. "
        "Try a triage channel, or ask an admin to add it to NEXTCALLER_OPS_ALLOWED_CHANNELS."
    ),
}


def refusal(reason: Refusal) -> str:
    return _REFUSALS[reason]


def rate_limited(limit: int, wait_seconds: float) -> str:
    return f"You've reached {limit} lookups a minute. Try again in {int(wait_seconds) + 1} s."


# -- lookups ------------------------------------------------------------------------------


def bad_number(exc: NextCallerError) -> str:
    """The 10-digit rule, for input refused before any request (what was typed is echoed escaped)."""
    message = exc.message[:1].upper() + exc.message[1:]  # not capitalize(): it lowercases "US" and "GB"
    return esc(f"{message}. Use a 10-digit US number, e.g. `/caller 212-555-8383`.")


_NOT_CONFIGURED = (
    "The caller lookup service isn't configured correctly right now "
    "(an admin has been notified in the bot's log). Please try again later."
)
_BUSY = "The lookup service is busy. Please try again in a minute."
_NOT_ANSWERING = "The lookup service isn't answering right now. Please try again in a minute."

# What an agent is told for each kind of error.  Credentials and the account are the
# admin's business (the code is in the bot's log); an input problem is told as it is.
_ERROR_WORDS: dict[Action, str] = {
    Action.LOGIN: _NOT_CONFIGURED,
    Action.LOGIN_BASIC: _NOT_CONFIGURED,
    Action.NEW_KEY: _NOT_CONFIGURED,
    Action.DASHBOARD: _NOT_CONFIGURED,
    Action.KEYRING: _NOT_CONFIGURED,
    Action.USE_HTTPS: _NOT_CONFIGURED,  # an http:// base URL to another machine: the admin's to fix
    Action.WAIT: _BUSY,
    Action.RETRY_LATER: _NOT_ANSWERING,
    Action.CHECK_URL: _NOT_ANSWERING,
    Action.CHECK_NETWORK: _NOT_ANSWERING,
    Action.RAISE_TIMEOUT: _NOT_ANSWERING,
}


def error_text(exc: NextCallerError) -> str:
    """A short sentence for the agent about ``exc`` (no code, no hint meant for an admin)."""
    return _ERROR_WORDS.get(exc.action) or f"That lookup didn't work: {esc(exc.message)}"


def needs_v21(what: str) -> str:
    """A v2.1 question asked of a bot set up for API v2: what to ask the admin for."""
    return (
        f"{esc(what[:1].upper() + what[1:])} needs the newer Next Caller API (v2.1), and this bot speaks v2. "
        "An admin can switch it (NEXTCALLER_API_VERSION=v2.1 with an API username and password)."
    )


def bad_text(problem: str) -> str:
    """``/caller`` text holding a control character (ESC, a bidi override): refused before any request."""
    return f"That text {problem}, so nothing was looked up. Type it again without it (was it pasted from a terminal?)"


def bad_email(exc: NextCallerError) -> str:
    """An address refused before any request (masked as the core masks it)."""
    return esc(f"{exc.message[:1].upper()}{exc.message[1:]}. Give a whole address, e.g. `/caller jerry@example.com`.")


def fraud_level(shown_number: str, risk: str, spoofed: str) -> str:
    """``🛡️ Fraud check for (312) 555-0142: risk 🔴 high · caller ID spoofed: ⚠️ yes …``."""
    return esc(f"🛡️ Fraud check for {shown_number}: risk {risk_label(risk)} · caller ID spoofed: {spoof_label(spoofed)}")


def no_record(shown_number: str) -> str:
    """ "No record for (212) 555-8383." — the core's sentence, escaped for mrkdwn."""
    return esc(no_record_text(shown_number))


NO_NUMBER_IN_MESSAGE = "I didn't find a US phone number in that message."


def numbers_not_looked_up(count: int) -> str:
    return f"{count} more number(s) in that message were not looked up."


def more_records_not_shown(count: int) -> str:
    return f"{count} more record(s) not shown; use `nextcaller-ops lookup` for all of them."


RECORD_CHANGED = "That record has changed since the card was shown; press Refresh and try again."
REDACTED_NOTE = "email and street hidden in this channel"
NO_LOOKUPS_YET = "No lookups yet."


def shared(redacted: bool) -> str:
    return "Shared in the channel" + (" (email and street hidden)." if redacted else ".")


_NOT_A_MEMBER = ("not_in_channel", "channel_not_found", "is_archived", "restricted_action", "cant_invite_self")


def cannot_post(error: str) -> str:
    """Why a card could not be posted in the channel, and what to do about it."""
    if error in _NOT_A_MEMBER:
        return (
            f"I can't post in this channel (Slack says `{esc(error)}`). "
            "Invite me with `/invite @nextcaller`, then press *Share in channel* again."
        )
    return f"Slack didn't take the message (`{esc(error)}`). Please try again in a minute."


# -- corrections --------------------------------------------------------------------------

FORM_DAMAGED = "This form is damaged; close it and press Suggest correction again."
FORM_NOT_OPENED = "Slack didn't open the correction form in time; press Suggest correction again."
NOTHING_CHANGED = "Nothing was changed, so no correction was sent."


def changed_fields(changed: dict[str, str]) -> str:
    return esc(", ".join(f"{k} → {v!r}" if v else f"{k} cleared" for k, v in sorted(changed.items())))


def correction_queued(phone: str, changed: dict[str, str]) -> str:
    return (
        f"📮 The lookup service isn't answering, so your correction to {esc(mask_phone(phone))} "
        f"is saved and will be delivered automatically; you'll get a message when it is. ({changed_fields(changed)})"
    )


def correction_sent(profile_id: str, changed: dict[str, str]) -> str:
    return f"✅ Correction sent for record `{esc(profile_id)}`: {changed_fields(changed)}"


def correction_refused(error: str) -> str:
    return f"⚠️ The API refused this correction: {esc(error)}"


def queued_correction_delivered(profile_id: str) -> str:
    return f"✅ Your queued correction to record `{esc(profile_id)}` has now been delivered."


def queued_correction_refused(profile_id: str, error: str) -> str:
    return f"⚠️ The API refused your correction to record `{esc(profile_id)}`: {esc(error)}"


# -- triage channels ----------------------------------------------------------------------


def when(ts: float) -> str:
    """A time every reader sees in their own time zone (Slack's date token), UTC as the fallback."""
    fallback = time.strftime("%H:%M UTC", time.gmtime(ts))
    return f"<!date^{int(ts)}^{{time}}|{fallback}>"


def seen_times(count: int) -> str:
    if count <= 1:
        return "first time seen in this channel in the last 24 h"
    return f"🔁 seen {count} times in this channel in the last 24 h"


def channel(channel_id: str | None) -> str:
    """``<#C123>`` for a Slack channel id (Slack shows its name); anything else escaped, never markup."""
    if channel_id and channel_id[:1] in "CGD" and set(channel_id) <= _ID_CHARS:
        return f"<#{channel_id}>"
    return esc(channel_id or "a channel")


def ago(seconds: float) -> str:
    """'just now', '12 min ago', '5 h ago', '3 d ago'."""
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} d ago"


def flagged_elsewhere(channel_id: str, user_id: str | None, seconds_ago: float) -> str:
    return f"🚩 flagged as fraud in {channel(channel_id)} {ago(seconds_ago)} by {mention(user_id)}"


def seen_across(per_channel: Mapping[str, int], *, here: str | None) -> str:
    """How often a number was seen in the last 24 h across watched channels, per channel (``here`` first)."""
    total = sum(per_channel.values())
    if here is not None and set(per_channel) <= {here}:
        return seen_times(total)  # only here: the words every channel has always had
    order = sorted(per_channel, key=lambda c: (c != here, -per_channel[c], c))
    parts = [f"{per_channel[c]} {'here' if c == here else 'in ' + channel(c)}" for c in order]
    times = "once" if total == 1 else f"{total} times"
    return f"🔁 seen {times} in watched channels in the last 24 h ({', '.join(parts)})"


TRIAGE_NOT_ANSWERING = "⏳ The lookup service isn't answering; I'll try again and update this reply."
TRIAGE_GAVE_UP = "⚠️ Couldn't look this number up; press *Look up* to try again."
TRIAGE_OPEN = "🟦 Open"
TRIAGE_NO_RECORD = "No record."


def triage_paused(budget: int) -> str:
    return (
        f"⏸ Lookups are paused for a moment in this channel (its budget is {budget} a minute). "
        "I'll look it up shortly, or press *Look up*."
    )


def triage_more_numbers(count: int) -> str:
    return f"{count} more number(s) in that message were not looked up (5 at most)."


def claimed(user_id: str | None, at: float | None) -> str:
    return f"🙋 Claimed by {mention(user_id)} at {when(at or 0)}"


def resolved(user_id: str | None, at: float | None) -> str:
    return f"✅ Resolved by {mention(user_id)} at {when(at or 0)}"


def flagged(user_id: str | None, at: float | None) -> str:
    return f"🚩 Flagged as fraud by {mention(user_id)} at {when(at or 0)}"


def dropped(user_id: str | None, at: float | None, reason: str | None) -> str:
    return f"🗑 Dropped by {mention(user_id)} at {when(at or 0)}" + (f" ({esc(reason)})" if reason else "")


def snoozed(user_id: str | None, until: float | None) -> str:
    return f"💤 Snoozed by {mention(user_id)} until {when(until or 0)}"


def snooze_note(user_id: str | None, until: float, numbers: str) -> str:
    """The one line a new message about a snoozed number gets in its thread (no lookup)."""
    return f"💤 {numbers} snoozed by {mention(user_id)} until {when(until)}: not looked up."


def snoozed_line(user_id: str | None, until: float) -> str:
    return f"💤 Snoozed by {mention(user_id)} until {when(until)}."


def dropped_line(user_id: str | None, reason: str) -> str:
    return f"🗑 Dropped by {mention(user_id)}: {esc(reason)}."


def reopened_line(user_id: str | None) -> str:
    return f"↩️ Reopened by {mention(user_id)}."


INTERNAL_NUMBER = (
    "That's one of our own internal numbers (NEXTCALLER_OPS_INTERNAL_NUMBERS), so it isn't looked up. "
    "Check the number, or ask an admin if it shouldn't be on that list."
)
VERIFY_NOTHING_GIVEN = "Type at least one thing the caller says: their name, ZIP, email or street."
VERIFY_FORM_NOT_OPENED = "I couldn't open the verify form (Slack took too long). Press *Verify caller* again."
_VERDICT_ICONS = {"match": "✅", "partial": "🟡", "no match": "❌", "not on record": "➖"}


def verification(phone_shown: str, verdicts: list[tuple[str, str]], overall: str) -> str:
    """The private answer to Verify caller: a verdict per field and the overall one (nothing typed is repeated)."""
    labels = {"name": "Name", "zip": "ZIP", "email": "Email", "street": "Street"}
    lines = [f"{_VERDICT_ICONS.get(v, '')} {labels.get(f, f)}: {v}" for f, v in verdicts]
    return f"*Verify caller {esc(phone_shown)}: {_VERDICT_ICONS.get(overall, '')} {overall}*\n" + "\n".join(lines)


def _for(seconds: float) -> str:
    return ago(seconds).removesuffix(" ago")


def claim_reminder(user_id: str | None, seconds: float) -> str:
    return (
        f"⏰ {mention(user_id)}, you claimed this {_for(seconds)} ago and it's still open: "
        "resolve it when done, or release it for someone else."
    )


def claim_auto_released(user_id: str | None, seconds: float) -> str:
    return (
        f"⏱ Released automatically: {mention(user_id)} claimed it {_for(seconds)} ago and it was still open. "
        "Anyone can claim it now."
    )


def digest_title(channel_id: str, since: float) -> str:
    return f"*📋 Triage digest for {channel(channel_id)}* · since {when(since)}"


def digest_counts(counts: Mapping[str, int]) -> str:
    return " · ".join(f"{counts.get(k, 0)} {k}" for k in ("opened", "claimed", "resolved", "dropped", "flagged"))


def digest_text(channel_id: str, counts: Mapping[str, int]) -> str:
    return f"Triage digest: {digest_counts(counts)}"


def digest_open_title(total: int) -> str:
    return f"*{total} open, oldest first:*"


def digest_open_item(link: str, numbers: str, created: float, *, claimed_by: str | None, stale: bool) -> str:
    who = f"claimed by {mention(claimed_by)}" if claimed_by else ("⚠️ unclaimed, stale" if stale else "unclaimed")
    return f"• <{link}|{esc(numbers)}> since {when(created)} · {who}"


def digest_repeat_title() -> str:
    return "*Repeat callers (last 24 h):*"


DIGEST_ADMINS_ONLY = "Sorry — only admins can post a digest. Ask a workspace admin (NEXTCALLER_OPS_ADMINS)."
DIGEST_NOTHING_WATCHED = "No channel is watched, so there is no digest to post."


def digest_posted(count: int) -> str:
    return f"Posted {count} digest(s)." if count else "No digest posted (Slack did not take it; try again)."


BOARD_NOTHING_WATCHED = "No channel is watched yet. An admin can turn one on with `/caller watch on`."
BOARD_NOTHING_OPEN = "*Open items:* none in the watched channels. 🎉"
BOARD_MINE_TITLE = "*Your claims:*"
BOARD_NOTHING_MINE = "*Your claims:* none open."
BOARD_REPEAT_TITLE = "*Repeat callers (last 7 days, all watched channels):*"
BOARD_FLAGS_TITLE = "*Recent fraud flags (last 7 days):*"
BOARD_SNOOZES_TITLE = "*Snoozed now:*"


def board_open_title(total: int, channels: int) -> str:
    return f"*{total} open item(s) in {channels} watched channel(s) from the last 24 h, oldest first:*"


TRIAGE_NOT_LIVE = "That item is already resolved or dropped, so nothing was done. Press *Reopen* on it first."
TRIAGE_NOT_DONE = "That item is still open, so there is nothing to reopen."
TRIAGE_BAD_CHOICE = "I didn't understand that choice, so nothing was done. Pick one from the menu on the reply."


def already_claimed(user_id: str | None, at: float | None) -> str:
    return f"{mention(user_id)} already has this one (claimed at {when(at or 0)})."


def not_your_claim(user_id: str | None) -> str:
    return f"Only {mention(user_id)}, who claimed it, can release it." if user_id else "Nobody has claimed it."


def already_done(what: str, user_id: str | None, at: float | None) -> str:
    return f"Already {what} by {mention(user_id)} at {when(at or 0)}."


TRIAGE_GONE = "I don't have that item any more (items are kept for a week)."
TRIAGE_NOT_THIS_CHANNEL = (
    "That button belongs to a triage item in another channel, so nothing was done. "
    "Use the buttons on the bot's reply in that channel's thread."
)
TRIAGE_NOT_THIS_REPLY = (
    "That button doesn't belong to the message it was pressed on, so nothing was done. "
    "Use the buttons on the bot's own reply in the thread of the message with the number."
)
TRIAGE_REPLY_PENDING = "That reply is still being posted, so nothing was done yet. Press the button again in a moment."
TRIAGE_BUSY = "That lookup is already under way; the reply will update when it's done."
NOT_WATCHED = "This channel isn't watched. An admin can turn it on with `/caller watch on`."
NO_OPEN_ITEMS = "No open items in this channel from the last 24 h."
WATCH_ADMINS_ONLY = "Sorry — only admins can turn watching on or off. Ask a workspace admin (NEXTCALLER_OPS_ADMINS)."
WATCH_USAGE = "Use `/caller watch on`, `/caller watch off`, or `/caller watch` to see whether this channel is watched."


def watch_state(on: bool) -> str:
    if on:
        return "👀 This channel is watched: numbers posted here get a threaded caller card."
    return "This channel isn't watched. An admin can turn it on with `/caller watch on`."


def watch_changed(on: bool) -> str:
    if on:
        return "👀 Watching this channel: every message with a US number gets a threaded caller card."
    return "Stopped watching this channel."


def open_items_title(count: int) -> str:
    return f"*{count} open item(s) in this channel from the last 24 h, oldest first:*"


def triage_more_items(count: int) -> str:
    return f"… and {count} more."


# -- forgetting one person (/caller forget, issue 23) ----------------------------------------

FORGET_NOT_ADMIN = (
    "Only an admin (NEXTCALLER_OPS_ADMINS) can forget a number. Nothing was removed: ask an admin to run"
    " `/caller forget NUMBER`."
)
FORGET_USAGE = "Say which number (or email) to forget: `/caller forget 212-555-8383`."
FORGET_CANCELLED = "Nothing was forgotten."
# What a triage reply that showed a forgotten person becomes.
REMOVED_ON_REQUEST = "Removed on request."
# A DM to the agent whose waiting correction was for a forgotten person.
CORRECTION_CANCELLED_FORGOTTEN = (
    "A correction you submitted was cancelled before it was sent: that person's data was removed on request."
)


def forget_confirm(shown: str) -> str:
    return (
        f"Forget *{esc(shown)}* everywhere: the audit log, the caches, triage items and replies, waiting"
        " corrections? This cannot be undone."
    )


def forget_done(shown: str, total: int, lines: list[str]) -> str:
    held = "\n".join(f"• {esc(line)}" for line in lines)
    return f"Forgot *{esc(shown)}*: {total} entr{'y' if total == 1 else 'ies'} removed.\n{held}"
