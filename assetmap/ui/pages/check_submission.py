"""Check a submission page (public, no sign-in): where an entry sent on "Add your group" has got to.

The visitor gives the reference they were given and the private email they gave; the
page shows the entry's status and, when it was turned down, the officer's reason.
A wrong reference and a wrong email get the same answer, and every look-up is counted
against the visitor's limit before it is made, so references cannot be found by trying.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from assetmap import settings
from assetmap._errors import AssetMapError
from assetmap.ui import common

#: Kind of limit event of a look-up, counted in the register per client address and per browser.
CHECK: str = "submission_check"

#: Session key of the answer to the last look-up (shown until the next).
ANSWER_KEY: str = "check_answer"

#: What a visitor is told when no entry has both the reference and the email (whichever was wrong).
NOT_FOUND: str = (
    "We found no entry with that reference and that email. Check both as they are on your confirmation "
    '(the email is the private one you gave, "Your email"), and try again.'
)

#: What the visitor is told when the register cannot be reached.
UNAVAILABLE: str = "Entries cannot be checked just now. Please try again later."

#: What each status means to the person who sent the entry.
STATUS_TEXT: dict[str, str] = {
    "pending": "Waiting to be checked. An officer checks every entry before it appears on the public map, "
    "usually within {days} working days.",
    "approved": "Approved: it is on the public map.",
    "rejected": "Not approved.",
    "withdrawn": "Withdrawn: it is no longer listed.",
}


def page() -> None:
    """Draw the Check a submission page."""
    st.title("Check a submission")
    st.markdown(
        "Give the reference you were given when you sent your group (for example `AC3D-KM9X`) and your "
        "email, the private one you gave with it, to see whether it has been checked."
    )
    if common.current_area(without_register=True) is None:
        return
    with st.form("check_form", enter_to_submit=True, border=False):
        reference = st.text_input("Reference", key="check_reference", placeholder="e.g. AC3D-KM9X", max_chars=40)
        email = st.text_input("Your email", key="check_email", max_chars=320, autocomplete="email")
        sent = st.form_submit_button("Check", type="primary", icon=":material/search:")
    if sent:
        st.session_state[ANSWER_KEY] = _look_up(reference, email)
    answer = st.session_state.get(ANSWER_KEY)
    if answer is not None:
        _show(answer)


def _look_up(reference: str, email: str) -> dict[str, Any]:
    """Return what to show for this look-up: ``{"error": message}`` or ``{"found": status}``."""
    blank = [label for label, value in (("Reference", reference), ("Your email", email)) if not str(value).strip()]
    if blank:
        return {
            "error": f"{' and '.join(blank)} {'is' if len(blank) == 1 else 'are'} blank. Fill {'it' if len(blank) == 1 else 'both'} in and press Check."
        }
    try:
        # Counted before the look-up, whatever it finds: each try costs the same.
        with common.open_limits() as store:
            wait, _ = common.take_turn(
                store,
                CHECK,
                common.client_keys(),
                limit=settings.max_submission_checks,
                window_s=settings.submission_check_window_s,
            )
        if wait > 0:
            return {
                "error": f"You have checked {settings.max_submission_checks} times in the last "
                f"{settings.submission_check_window_s / 60:.0f} minutes. Please wait about "
                f"{max(1, round(wait / 60))} minutes before checking again."
            }
        with common.open_register() as store:
            found = store.submission_status(reference, email)
    except AssetMapError:
        return {"error": UNAVAILABLE}
    return {"error": NOT_FOUND} if found is None else {"found": found}


def _show(answer: dict[str, Any]) -> None:
    if "error" in answer:
        st.error(answer["error"], icon=":material/error:")
        return
    found = answer["found"]
    status = str(found["status"])
    text = STATUS_TEXT.get(status, status).format(days=settings.review_working_days)
    if found.get("merged"):
        text = "Joined with another entry for the same group, which is listed instead."
    lines = [
        f"**{common.md_text(found['name'])}** (reference {common.md_text(found['reference'])}), "
        f"sent on {str(found['submitted_at'])[:10]}.",
        f"**Status:** {text}",
    ]
    if status == "rejected":
        reason = found.get("reason")
        lines.append(f"**The officer's reason:** {common.md_text(reason)}" if reason else "No reason was recorded.")
        lines.append("You are welcome to send the group again with the details corrected, on the Add your group page.")
    show = {"approved": st.success, "rejected": st.warning}.get(status, st.info)
    show("\n\n".join(lines), icon=":material/info:")
