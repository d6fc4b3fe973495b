"""Add your group page (public, no sign-in): one group by a short form, or many from a spreadsheet.

Nothing sent here is public until an officer approves it on the Moderate page.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from typing import TYPE_CHECKING, Any

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from assetmap import settings
from assetmap._errors import AssetMapError, ValidationError
from assetmap.area import register
from assetmap.io import uploads
from assetmap.io.bulk import parse_bulk
from assetmap.io.export import MEDIA_TYPES
from assetmap.record import validate_record
from assetmap.render import webmap
from assetmap.taxonomy import load_taxonomy
from assetmap.ui import common, forms, phone

if TYPE_CHECKING:
    import geopandas as gpd

    from assetmap.area.load import Area

#: Prefix of the session keys of the form's widgets (cleared for the next group).
FIELD_PREFIX: str = "add_"

#: Session key of the idempotency key of the form on show: a double click stores one record.
FORM_ID_KEY: str = "add_form_id"

#: Session key of the problems found at the last press of Send, by field.
ERRORS_KEY: str = "add_errors"

#: Session key of the reference of the group just received (the confirmation replaces the form).
DONE_KEY: str = "add_done"

#: Kind of limit event of a public submission (form or bulk), counted in the register store
#: per client address and per browser cookie, so a reload or a new tab does not reset it.
SUBMISSION: str = "submission"

#: Session key of the point clicked on the map (longitude, latitude).
CLICK_KEY: str = "add_clicked"

#: Key of the honeypot field: hidden from people, filled in by form-filling robots.
HONEYPOT_KEY: str = "add_hp_website2"

#: Session key of the bulk uploader's generation: a new one empties it after a batch is sent.
BULK_GEN_KEY: str = "add_bulk_gen"

#: Session key of the message about the batch just received.
BULK_DONE_KEY: str = "add_bulk_done"

#: Session key of the references given to the batch just received (a table: row, name, reference).
BULK_REFS_KEY: str = "add_bulk_refs"

#: Session key of the field to bring into view after a refused Send, with a count that changes each time.
FOCUS_KEY: str = "add_focus"

#: How the group is placed: choice to label.
LOCATE_BY: dict[str, str] = {
    "postcode": "By its postcode",
    "map": "By clicking the map",
    "coords": "By typing coordinates",
}

#: Height of the map used to place a group, in pixels.
MAP_HEIGHT: int = 380

PRIVACY_NOTICE: str = (
    "**Privacy notice.** The council keeps what you send here in its community asset register. "
    "The group's name, type, description, address, opening times, accessibility and its public contact "
    "details (website, email, phone) are shown on the public map once an officer has checked them. "
    "Your own name and email are private: only council officers see them, to ask about the entry. "
    "A location marked as private is shown only as its ward. You can ask for the entry to be changed "
    "or removed at any time."
)


def privacy_notice(retention_days: int | None = None) -> str:
    """Return the privacy notice shown above the consent box: :data:`PRIVACY_NOTICE` and how long details are kept.

    Parameters
    ----------
    retention_days : int, optional
        Days personal details of rejected and withdrawn entries are kept (default:
        ``settings.personal_data_retention_days``).
    """
    days = settings.personal_data_retention_days if retention_days is None else retention_days
    if isinstance(days, int) and not isinstance(days, bool) and days >= 1:
        # Whole years read as months ("12 months"), as people say them.
        period = f"{days * 12 // 365} months" if days % 365 == 0 else f"{days} day{'s' if days != 1 else ''}"
        after = f"{period} after its last change"
    else:  # a misconfigured period is reported to officers; the public notice stays true without it
        after = "at the end of the period the council keeps them for"
    return (
        f"{PRIVACY_NOTICE} If the entry is turned down or withdrawn, your name and email and the group's "
        f"email and phone are erased {after}. You can ask the council at any time to see everything it holds "
        "about you, or to erase your details."
    )


_NEUTRAL_THANKS = "Thank you. Your submission has been received."

#: What the visitor is told when the register cannot take an entry (no file name or server address).
SAVE_FAILED: str = (
    "Your entry could not be saved just now. Please try again later: what you entered is kept on this page "
    "until you send it."
)


def _k(field: str) -> str:
    return f"{FIELD_PREFIX}{field}"


def page() -> None:
    """Draw the Add your group page."""
    area = common.current_area(without_register=True)
    st.title("Add your group")
    st.markdown(
        "Tell us about a community group, service or place so that residents and council teams can find it. "
        "It takes about five minutes. An officer checks every entry before it appears on the public map."
    )
    if area is None:
        return
    _honeypot()
    one, many = st.tabs(["One group", "Many groups (spreadsheet)"])
    with one:
        if DONE_KEY in st.session_state:
            _confirmation(st.session_state[DONE_KEY])
        else:
            _single(area)
    with many:
        _bulk(area)


def _honeypot() -> None:
    # Hidden with CSS (display: none also hides it from screen readers); people never fill it.
    st.html(f"<style>.st-key-{HONEYPOT_KEY}_box {{display: none !important;}}</style>")
    with st.container(key=f"{HONEYPOT_KEY}_box"):
        st.text_input("Leave this empty", key=HONEYPOT_KEY, label_visibility="collapsed")


def _is_robot() -> bool:
    return bool(str(st.session_state.get(HONEYPOT_KEY) or "").strip())


def _take_turn() -> float:
    """Count this sending against the visitor's limit; return the seconds to wait if it is one too many.

    Counted before the entry is saved (see :func:`assetmap.ui.common.take_turn`). A register
    that cannot be reached refuses, with the message to try again, as the saving would.
    """
    with common.open_limits() as store:
        wait, _ = common.take_turn(
            store,
            SUBMISSION,
            common.client_keys(),
            limit=settings.max_submissions,
            window_s=settings.submission_window_s,
        )
    return wait


def _may_send() -> bool:
    """Take this sending's turn against the visitor's limit; say why and return False where it may not go on."""
    try:
        wait = _take_turn()
    except AssetMapError:
        st.error(SAVE_FAILED, icon=":material/cloud_off:")
        return False
    if wait > 0:
        _throttled_message(wait)
        return False
    return True


def _throttled_message(wait: float) -> None:
    st.error(
        f"You have sent {settings.max_submissions} entries in the last {settings.submission_window_s / 60:.0f} "
        f"minutes. Please wait about {max(1, round(wait / 60))} minutes before sending more.",
        icon=":material/timer:",
    )


# -- one group ----------------------------------------------------------------------------------------


def _confirmation(done: tuple[str, str] | None) -> None:
    if done:
        reference, name = done
        st.success(
            f"Thank you. We have received {common.md_text(name)}. Your reference is **{common.md_text(reference)}**: "
            f"keep it (a note or a screenshot will do).\n\n{forms.what_happens_next()}",
            icon=":material/check_circle:",
        )
    else:
        st.success(_NEUTRAL_THANKS, icon=":material/check_circle:")
    st.button("Add another group", on_click=_new_form, icon=":material/add:", key="add_another")


def _new_form() -> None:
    fields = [*forms.FORM_LABELS, "locate", "consent"]
    for key in [_k(f) for f in fields] + [CLICK_KEY, DONE_KEY, ERRORS_KEY, FORM_ID_KEY, FOCUS_KEY]:
        st.session_state.pop(key, None)


def _errors_for(field: str) -> None:
    for message in st.session_state.get(ERRORS_KEY, {}).get(field, []):
        st.error(common.md_text(message), icon=":material/error:")


def _text(field: str, *, help: str | None = None, area: bool = False, placeholder: str | None = None) -> str:
    widget = st.text_area if area else st.text_input
    value = widget(forms.FORM_LABELS[field], key=_k(field), help=help, placeholder=placeholder)
    _errors_for(field)
    return value


def _single(area: Area) -> None:
    taxonomy = load_taxonomy()
    st.session_state.setdefault(FORM_ID_KEY, uuid.uuid4().hex)
    values: dict[str, Any] = {}
    st.subheader("About the group")
    values["name"] = _text("name")
    types = {t.key: t for t in taxonomy.asset_types}
    values["type"] = st.selectbox(
        forms.FORM_LABELS["type"],
        list(types),
        index=None,
        format_func=lambda k: types[k].label,
        placeholder="Choose the closest kind",
        key=_k("type"),
    )
    if values["type"]:
        usual = "; ".join(f"{e}. {taxonomy.element(e).name}" for e in types[values["type"]].elements)
        st.caption(f"Groups of this kind usually serve: {common.md_text(usual)}. Change them below if yours differs.")
    _errors_for("type")
    values["elements"] = st.multiselect(
        forms.FORM_LABELS["elements"],
        [e.id for e in taxonomy.elements],
        format_func=lambda e: f"{e}. {taxonomy.element(e).name}",
        key=_k("elements"),
        placeholder="Leave empty to use the usual ones for the kind chosen",
        help="The national framework for community-centred public health names 11 ways (its elements) in which "
        "communities and the voluntary, community and social enterprise (VCSE) sector support health, from "
        "neighbourhood working to action on the wider causes of ill health. Choose those your group does.",
    )
    with st.expander("What the elements mean"):
        st.markdown("\n".join(f"- **{e.id}. {e.name}**: {e.description}" for e in taxonomy.elements))
    _errors_for("elements")
    values["description"] = _text("description", area=True)
    values["audience_groups"] = st.multiselect(
        forms.FORM_LABELS["audience_groups"],
        [a.key for a in taxonomy.audiences],
        format_func=lambda a: taxonomy.audience(a).label,
        key=_k("audience_groups"),
        placeholder="Leave empty to use the usual ones for the kind chosen",
    )
    _errors_for("audience_groups")
    values["audience"] = _text("audience", placeholder="e.g. families, older people, everyone")
    values["opening_times"] = _text("opening_times", placeholder="e.g. Tuesdays 10:00-12:00")
    values["accessibility"] = _text("accessibility", placeholder="e.g. step-free entrance, hearing loop")
    values["organisation"] = _text("organisation")
    values["charity_number"] = _text("charity_number", help="If it is a registered charity or company.")

    st.subheader("Where it is")
    values["address"] = _text("address")
    values["postcode"] = _text("postcode")
    how = st.radio(
        "How shall we place it on the map?",
        list(LOCATE_BY),
        format_func=LOCATE_BY.__getitem__,
        horizontal=True,
        key=_k("locate"),
    )
    values.update(_location(area, how))
    _errors_for("location")
    values["sensitive"] = st.checkbox(
        forms.FORM_LABELS["sensitive"],
        key=_k("sensitive"),
        help="For places whose address must not be published (a refuge, a support group that meets privately): "
        "the public map then shows only the ward.",
    )

    st.subheader("Contact details")
    st.caption("Shown on the public map, so residents can get in touch:")
    values["website"] = _text("website", placeholder="https://")
    values["email"] = _text("email")
    values["phone"] = _text("phone")
    st.caption("Private: only council officers see these, to ask about this entry. Your email is required.")
    values["contact_name"] = _text("contact_name")
    values["contact_email"] = _text(
        "contact_email",
        help="Required. Only to ask you about this entry; with your reference, it lets you check the entry later.",
    )

    st.subheader("Your consent")
    st.info(privacy_notice(), icon=":material/privacy_tip:")
    consent = st.checkbox(
        "I agree to the council keeping these details and publishing the public ones once checked.",
        key=_k("consent"),
    )
    _errors_for("consent")
    if st.button("Send", type="primary", icon=":material/send:", key="add_send"):
        _send(area, values, consent)
    _errors_for("form")
    focus = st.session_state.pop(FOCUS_KEY, None)
    if focus:  # only in the run right after a refused Send: typing afterwards is not interrupted
        phone.focus_first_error(*focus)


def _location(area: Area, how: str) -> dict[str, Any]:
    if how == "postcode":
        st.caption("We find the place from its postcode above.")
        return {}
    if how == "coords":
        a, b = st.columns(2)
        return {
            "latitude": a.text_input("Latitude", key=_k("latitude"), placeholder="e.g. 51.5533"),
            "longitude": b.text_input("Longitude", key=_k("longitude"), placeholder="e.g. -0.1048"),
        }
    st.caption("Click the map where the group meets; click again to move it.")
    outline = area.boundaries.to_crs(settings.storage_crs)
    x0, y0, x1, y1 = outline.total_bounds
    m = webmap.base_map(
        attribution=area.attribution,
        fictional=area.fictional,
        bounds=[[y0, x0], [y1, x1]],
        libs_url=common.WEB_LIBS_URL,
    )
    folium.GeoJson(
        outline[[outline.geometry.name]].to_json(),
        style_function=lambda _: {"color": "#0b5394", "weight": 1, "fillOpacity": 0.03},
        interactive=False,
    ).add_to(m)
    clicked = st.session_state.get(CLICK_KEY)
    if clicked:
        folium.Marker([clicked[1], clicked[0]], tooltip="Your group").add_to(m)
    result = st_folium(m, height=MAP_HEIGHT, use_container_width=True, returned_objects=["last_clicked"], key="add_map")
    point = (result or {}).get("last_clicked")
    if point and (point.get("lng"), point.get("lat")) != tuple(clicked or ()):
        st.session_state[CLICK_KEY] = (float(point["lng"]), float(point["lat"]))
        st.rerun()  # draw the marker where it was clicked
    if not clicked:
        return {"longitude": None, "latitude": None, "_map": True}
    st.caption(f"Placed at latitude {clicked[1]:.5f}, longitude {clicked[0]:.5f}.")
    return {"longitude": clicked[0], "latitude": clicked[1]}


def check_form(values: dict[str, Any], consent: bool, area: Area) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """Return the clean record of a filled form (or None) and the problems by field."""
    errors: dict[str, list[str]] = {}
    record = forms.record_from_form(values)
    clean = None
    if values.get("_map") and values.get("longitude") is None:
        errors["location"] = ["The group is not placed yet. Click the map where it meets."]
        record["longitude"] = record["latitude"] = None
    try:
        clean = validate_record(record, postcodes=area.postcodes)
    except ValidationError as exc:
        for field, messages in forms.problems_by_field(exc.problems).items():
            if field == "location" and "location" in errors:
                continue
            errors.setdefault(field, []).extend(messages)
    if forms.record_from_form(values)["contact_email"] is None:
        errors.setdefault("contact_email", []).insert(
            0, "Your email is blank. Give it, so that an officer can ask about the entry and you can check it later."
        )
    if not consent:
        errors["consent"] = ["Tick the box to agree, so that we may keep and publish the entry."]
    return (None if errors else clean), errors


def _send(area: Area, values: dict[str, Any], consent: bool) -> None:
    if _is_robot():
        # Robots are told what people are told, so they learn nothing; nothing is stored.
        st.session_state[DONE_KEY] = None
        st.rerun()
    clean, errors = check_form(values, consent, area)
    if errors:
        st.session_state[ERRORS_KEY] = errors
        labels = [forms.FORM_LABELS.get(f, "Location" if f == "location" else f.capitalize()) for f in errors]
        st.session_state[ERRORS_KEY].setdefault("form", []).insert(
            0, f"Please check: {', '.join(labels)}. The messages are beside each field."
        )
        first = min(
            errors, key=lambda f: forms.FIELD_ORDER.index(f) if f in forms.FIELD_ORDER else len(forms.FIELD_ORDER)
        )
        widget = _k("locate") if first == "location" else _k(first)
        st.session_state[FOCUS_KEY] = (widget, int(st.session_state.get(FOCUS_KEY + "_n", 0)) + 1)
        st.session_state[FOCUS_KEY + "_n"] = st.session_state[FOCUS_KEY][1]
        st.rerun()
    assert clean is not None
    # After the form's own checks (a visitor correcting mistakes is not held back), before saving.
    if not _may_send():
        return
    clean["area_code"] = register.area_codes_of([clean["longitude"]], [clean["latitude"]], area.boundaries)[0]
    try:
        with common.open_register() as store:
            rid = store.submit(clean, actor="public form", idempotency_key=st.session_state[FORM_ID_KEY])
            reference = store.references([rid])[rid]
    except ValidationError as exc:
        st.session_state[ERRORS_KEY] = forms.problems_by_field(exc.problems)
        st.rerun()
    except AssetMapError:
        st.error(SAVE_FAILED, icon=":material/cloud_off:")
        return
    st.session_state.pop(ERRORS_KEY, None)
    st.session_state.pop(FORM_ID_KEY, None)
    st.session_state[DONE_KEY] = (reference, str(clean["name"]))
    st.rerun()


# -- many groups --------------------------------------------------------------------------------------


@st.cache_data(max_entries=16, show_spinner="Checking the file...")
def _parse(data: bytes, name: str, area_path: str, _area: Area) -> tuple[gpd.GeoDataFrame, list]:
    # Keyed on the file's bytes and the area: checking the same file again costs nothing.
    records, problems = parse_bulk(data, name, postcodes=_area.postcodes, max_rows=settings.max_bulk_rows)
    if len(records):
        points = records.geometry.to_crs(settings.storage_crs)
        records["area_code"] = register.area_codes_of(points.x, points.y, _area.boundaries)
    return records, problems


def _bulk(area: Area) -> None:
    done = st.session_state.pop(BULK_DONE_KEY, None)
    if done:
        st.success(common.md_text(done), icon=":material/check_circle:")
    refs = st.session_state.pop(BULK_REFS_KEY, None)
    if refs is not None:
        st.markdown(forms.what_happens_next())
        _table(refs)
        st.download_button(
            "Download the references (CSV)",
            data=refs.to_csv(index=False).encode("utf-8"),
            file_name="group_references.csv",
            mime=MEDIA_TYPES["csv"],
            key="add_bulk_refs_csv",
            on_click="ignore",
            icon=":material/download:",
        )
    st.markdown(
        "Send many groups at once from a spreadsheet. Download the template, fill one row per group "
        "(delete the example row), and upload it. Every row is checked first: nothing is stored until "
        "every row is right, unless you choose to send only the rows without problems."
    )
    _bulk_templates(area)
    gen = st.session_state.setdefault(BULK_GEN_KEY, 0)
    upload = st.file_uploader(
        f"Your spreadsheet (CSV or Excel, up to {uploads.upload_limit_mb('assets'):g} MB and "
        f"{settings.max_bulk_rows:,} rows)",
        type=["csv", "xlsx"],
        key=f"add_bulk_file_{gen}",
    )
    if upload is None:
        return
    data = upload.getvalue()
    refused = uploads.check_upload(upload.name, len(data), "assets")
    if refused:
        for p in refused:
            st.error(common.md_text(p), icon=":material/error:")
        return
    records, problems = _parse(data, upload.name, common.area_path(), area)
    n_bad = len({p.row for p in problems})
    st.markdown(
        f"**{len(records) + n_bad:,} rows read: {len(records):,} ready, {n_bad:,} with problems.**"
        if all(p.row is not None for p in problems)
        else "**The file cannot be read as it is.**"
    )
    if problems:
        st.error("Fix these rows (the header is row 1) and upload the file again:", icon=":material/error:")
        # A plain table: its text wraps on a phone, where a grid cut off "Problem" and "How to fix".
        _table(forms.row_report(problems))
    if not len(records):
        return
    _bulk_duplicates(records)
    if _bulk_confirmed(len(records), n_bad) and _may_send_bulk(gen):
        _send_bulk(records, data, upload.name, gen)


def _table(frame: pd.DataFrame) -> None:
    """Show a report as a plain table, its text escaped (``st.table`` reads cells as Markdown)."""
    shown = pd.DataFrame({c: ["" if pd.isna(v) else common.md_text(v) for v in frame[c]] for c in frame.columns})
    st.table(shown, hide_index=True)


def _bulk_templates(area: Area) -> None:
    """Offer the spreadsheet template, its example row in the area (one of its postcodes)."""
    postcode = None
    if area.postcodes is not None and len(area.postcodes):
        postcode = str(area.postcodes["postcode"].iloc[0]) if "postcode" in area.postcodes else None
    a, b = st.columns(2)
    for col, fmt, label in ((a, "csv", "Template (CSV)"), (b, "xlsx", "Template (Excel)")):
        col.download_button(
            label,
            data=functools.partial(forms.template_bytes, fmt, postcode=postcode),
            file_name=f"add_groups_template.{fmt}",
            mime=MEDIA_TYPES[fmt],
            key=f"add_template_{fmt}",
            on_click="ignore",
            icon=":material/download:",
        )


def _bulk_duplicates(records: gpd.GeoDataFrame) -> None:
    """Warn of rows that may repeat a listed group or another row."""
    try:
        with common.open_register() as store:
            # Only against what the public map shows: the answer must not reveal a pending
            # or sensitive record (officers see every match on the Moderate page).
            duplicates = store.find_duplicates(records, public=True)
    except AssetMapError:
        duplicates = None
    if duplicates is not None and len(duplicates):
        st.warning(
            f"{len(duplicates):,} rows may repeat a group already listed or another row of the file. "
            "Check them; an officer will look too.",
            icon=":material/content_copy:",
        )
        st.dataframe(
            forms.duplicate_report(duplicates, public=True), hide_index=True, width="stretch", key="add_bulk_duplicates"
        )


def _bulk_confirmed(n_ready: int, n_bad: int) -> bool:
    """Ask for consent (and, with bad rows, whether to leave them out); return True once sent with consent."""
    st.info(privacy_notice(), icon=":material/privacy_tip:")
    consent = st.checkbox(
        "I agree to the council keeping these details and publishing the public ones once checked, "
        "and I may share the contact details in this file.",
        key="add_bulk_consent",
    )
    only_valid = False
    if n_bad:
        only_valid = st.checkbox(
            f"Leave out the {n_bad:,} rows with problems and send only the {n_ready:,} rows without",
            key="add_bulk_only_valid",
        )
        label = f"Send the {n_ready:,} rows without problems"
    else:
        label = f"Send all {n_ready:,} groups"
    if not st.button(label, type="primary", disabled=bool(n_bad) and not only_valid, key="add_bulk_send"):
        return False
    if not consent:
        st.error("Tick the box to agree before sending.", icon=":material/error:")
        return False
    return True


def _may_send_bulk(gen: int) -> bool:
    """Thank a robot as if it were sent (storing nothing), and apply the sending limits."""
    if _is_robot():
        st.session_state[BULK_DONE_KEY] = _NEUTRAL_THANKS
        st.session_state[BULK_GEN_KEY] = gen + 1
        st.rerun()
    return _may_send()


def _send_bulk(records: gpd.GeoDataFrame, data: bytes, file: str, gen: int) -> None:
    """Store the ready rows as pending records, once per file and session, and thank the sender."""
    # One key per file and session: a second press sends nothing twice.
    key = (
        "bulk-" + hashlib.sha256(data + st.session_state.setdefault(FORM_ID_KEY, uuid.uuid4().hex).encode()).hexdigest()
    )
    try:
        with common.open_register() as store:
            ids = store.bulk_add(records, actor="public bulk upload", idempotency_key=key, file=file)
            refs = store.references(ids)
    except ValidationError as exc:
        st.error("Nothing was stored:", icon=":material/error:")
        _table(forms.row_report(exc.problems))
        return
    except AssetMapError:
        st.error(SAVE_FAILED, icon=":material/cloud_off:")
        return
    st.session_state[BULK_DONE_KEY] = (
        f"Thank you. We have received {len(ids):,} groups. Each has its own reference, below: keep them "
        "(download the list). An officer will check them before they appear on the public map."
    )
    st.session_state[BULK_REFS_KEY] = pd.DataFrame(
        {
            "Row": records["row"].astype(int).to_list(),
            "Name": records["name"].to_list(),
            "Reference": [refs[i] for i in ids],
        }
    )
    st.session_state[BULK_GEN_KEY] = gen + 1
    st.rerun()
