"""Moderate page (officers): the queue of submissions, approve, edit or reject, the audit log, stale records, exports."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from assetmap import settings
from assetmap._errors import AssetMapError, ValidationError
from assetmap.area import register
from assetmap.area.units import UnitLabel
from assetmap.io.export import MEDIA_TYPES
from assetmap.record import PERSONAL_FIELDS, geocode_postcodes
from assetmap.render import webmap
from assetmap.store import EDITABLE_FIELDS, ConflictError, StoreError
from assetmap.taxonomy import load_taxonomy
from assetmap.ui import auth, common, forms

if TYPE_CHECKING:
    from assetmap.area.load import Area
    from assetmap.store import RegisterStore

#: Session key of the message about the last action (shown once, after the rerun the action causes).
MESSAGE_KEY: str = "moderate_message"

#: Columns of the queue table, as the page shows them (officers see private contacts).
QUEUE_COLUMNS: dict[str, str] = {
    "asset_id": "Reference",
    "name": "Name",
    "type": "Type",
    "postcode": "Postcode",
    "area_code": "Ward code",
    "contact_name": "Contact name (private)",
    "contact_email": "Contact email (private)",
    "source": "Source",
    "created_at": "Submitted",
}

#: Columns of the audit log, as the page shows them.
AUDIT_COLUMNS: dict[str, str] = {
    "at": "When (UTC)",
    "record_id": "Record",
    "action": "Action",
    "actor": "By",
    "reason": "Reason",
    "changed": "Fields changed",
}

#: Stale records given a one-click "Confirmed" button each; more are confirmed in a batch.
STALE_BUTTONS: int = 25

#: Height of the preview map in pixels.
MAP_HEIGHT: int = 320

#: Export formats offered: format to label.
EXPORTS: dict[str, str] = {"csv": "CSV", "xlsx": "Excel (XLSX)", "geojson": "GeoJSON", "gpkg": "GeoPackage"}

# Fields of the edit form that are free text, in order.
_EDIT_TEXT = tuple(
    f
    for f in EDITABLE_FIELDS
    if f not in ("type", "elements", "longitude", "latitude", "sensitive", "last_confirmed", "area_code")
)


def _say(message: str) -> None:
    st.session_state[MESSAGE_KEY] = message


def page() -> None:
    """Draw the Moderate page (officers only)."""
    officer = auth.require_officer()
    area = common.current_area()
    st.title("Moderate submissions")
    message = st.session_state.pop(MESSAGE_KEY, None)
    if message:
        st.success(common.md_text(message), icon=":material/check_circle:")
    path = common.area_path()
    try:
        store = common.open_register(path)
    except AssetMapError as exc:
        st.error(f"The register cannot be opened.\n\n{common.md_text(exc)}", icon=":material/error:")
        return
    with store:
        counts = store.counts()
        cols = st.columns(4)
        for col, status in zip(cols, ("pending", "approved", "rejected", "withdrawn"), strict=True):
            col.metric(status.capitalize(), f"{counts[status]:,}")
        queue, stale, log, export, personal = st.tabs(
            ["Queue", "Stale records", "Audit log", "Export", "Personal data"]
        )
        with queue:
            _queue(store, officer, area)
        with stale:
            _stale(store, officer, area)
        with log:
            _audit_table(store.audit(limit=500), key="moderate_audit_all")
        with export:
            _exports(path)
        with personal:
            _personal_data(store, officer)


# -- the queue ---------------------------------------------------------------------------------------


def _queue(store: RegisterStore, officer: str, area: Area | None) -> None:
    pending = store.records(status="pending", public=False)
    if pending.empty:
        st.success("Nothing is waiting for review.", icon=":material/done_all:")
        return
    st.caption("Nothing here is public until it is approved.")
    # The area's own word for its units ("Locality code"), not always "Ward".
    shown = {**QUEUE_COLUMNS, "area_code": f"{_label(area).singular} code"}
    table = pd.DataFrame(pending.drop(columns=pending.geometry.name))[list(QUEUE_COLUMNS)].rename(columns=shown)
    st.dataframe(table, hide_index=True, width="stretch", key="moderate_queue")
    names = dict(zip(pending["asset_id"], pending["name"], strict=True))
    chosen = st.selectbox(
        "Review a submission",
        list(names),
        format_func=lambda i: f"{names[i]} ({i})",
        key="moderate_pick",
    )
    record = store.get(chosen)
    duplicates = store.find_duplicates()
    _review(store, record, duplicates[duplicates["asset_id"] == chosen], officer, area)


def _label(area: Area | None) -> UnitLabel:
    """Return what the area calls its units (Wards where no area is on show)."""
    return area.unit_label if area is not None else UnitLabel()


def _details(record: dict[str, Any], units: UnitLabel) -> pd.DataFrame:
    taxonomy = load_taxonomy()
    labels = {t.key: t.label for t in taxonomy.asset_types}
    rows = []
    for field, label in forms.FORM_LABELS.items():
        value = record.get(field)
        if field == "type":
            value = labels.get(str(value), value)
        elif field == "elements":
            value = ", ".join(f"{e} {taxonomy.element(e).name}" for e in value or ())
        elif field == "sensitive":
            value = "yes" if value else "no"
        rows.append({"Field": label, "Value": "" if value is None else str(value)})
    rows.append({"Field": f"{units.singular} code", "Value": str(record.get("area_code") or "outside the area")})
    return pd.DataFrame(rows)


def _postcode_place(record: dict[str, Any], area: Area | None) -> tuple[str, float, float] | None:
    """Return the submitted postcode and its centre (from the area's postcode lookup), if both are known."""
    code = record.get("postcode")
    if not code or area is None or area.postcodes is None:
        return None
    found = geocode_postcodes(pd.Series([code]), area.postcodes).iloc[0]
    return (str(code), float(found["longitude"]), float(found["latitude"])) if found["found"] else None


def _preview(store: RegisterStore, record: dict[str, Any], officer: str, area: Area | None) -> None:
    """Show the record's place on a map: drag the pin or click the map to move it; save (audited) on confirming."""
    rid, lon, lat = record["asset_id"], float(record["longitude"]), float(record["latitude"])
    postcode = _postcode_place(record, area)
    m = webmap.place_map(
        lon,
        lat,
        name=record.get("name"),
        attribution=settings.attribution_osm,
        postcode=postcode,
        libs_url=common.WEB_LIBS_URL,
    )
    # A new map (and a fresh pin) for each version of the record, and when the officer puts the pin back.
    resets = st.session_state.get(f"moderate_pin_reset_{rid}", 0)
    result = st_folium(
        m,
        height=MAP_HEIGHT,
        use_container_width=True,
        returned_objects=["last_clicked"],
        key=f"moderate_map_{rid}_{record['version']}_{resets}",
    )
    st.caption(
        "Key: the blue pin is the record's place: drag it, or click the map, to correct it"
        + (
            f"; it is at the centre of its postcode, {common.md_text(postcode[0])}."
            if postcode and webmap.at_postcode(lon, lat, postcode)
            else f"; the purple square is the centre of its postcode, {common.md_text(postcode[0])}."
            if postcode
            else "."
        )
    )
    moved = (result or {}).get("last_clicked")
    if not moved:
        return
    new_lon, new_lat = round(float(moved["lng"]), 6), round(float(moved["lat"]), 6)
    if (new_lon, new_lat) == (round(lon, 6), round(lat, 6)):
        return
    far = webmap.metres_between(lon, lat, new_lon, new_lat)
    st.info(
        f"New place: latitude {new_lat:.5f}, longitude {new_lon:.5f}, {far:,.0f} m from the recorded place. "
        "It is saved only when you confirm.",
        icon=":material/edit_location_alt:",
    )
    reason = st.text_input("Reason for moving it (for the audit log)", key=f"moderate_pin_reason_{rid}")
    save, back = st.columns(2)
    if save.button("Save the new place", type="primary", icon=":material/save:", key=f"moderate_pin_save_{rid}"):
        _save_place(store, record, officer, area, (new_lon, new_lat), reason)
    if back.button("Put the pin back", icon=":material/undo:", key=f"moderate_pin_back_{rid}"):
        st.session_state[f"moderate_pin_reset_{rid}"] = resets + 1
        st.rerun()


def _save_place(
    store: RegisterStore,
    record: dict[str, Any],
    officer: str,
    area: Area | None,
    place: tuple[float, float],
    reason: str,
) -> None:
    """Save a record's corrected place through the register's audited edit, with its new ward."""
    lon, lat = place
    changes: dict[str, Any] = {"longitude": lon, "latitude": lat}
    if area is not None:
        changes["area_code"] = register.area_codes_of([lon], [lat], area.boundaries)[0]
    rid = record["asset_id"]
    _act(
        lambda: store.edit(
            rid,
            changes,
            actor=officer,
            reason=reason.strip() or "place corrected on the map",
            expected_version=int(record["version"]),
        ),
        f"Moved {record['name']} ({rid}) to latitude {lat:.5f}, longitude {lon:.5f}.",
    )


def _review(
    store: RegisterStore, record: dict[str, Any], duplicates: pd.DataFrame, officer: str, area: Area | None
) -> None:
    rid = record["asset_id"]
    for d in duplicates.to_dict("records"):
        st.warning(
            f"May repeat record {common.md_text(d['duplicate_of'])}, {common.md_text(d['other_name'])}: "
            f"{common.md_text(d['reason'])}.",
            icon=":material/content_copy:",
        )
    left, right = st.columns([3, 2])
    with left:
        st.dataframe(_details(record, _label(area)), hide_index=True, width="stretch", key=f"moderate_details_{rid}")
    with right:
        _preview(store, record, officer, area)
    approve, reject = st.columns(2)
    with approve:
        if st.button("Approve and publish", type="primary", icon=":material/check:", key=f"moderate_approve_{rid}"):
            _act(lambda: store.approve(rid, actor=officer), f"Approved {record['name']} ({rid}): it is now public.")
    with reject:
        with st.form(f"moderate_reject_{rid}"):
            reason = st.text_input(
                "Reason for rejecting (required; shown to the submitter)",
                key=f"moderate_reason_{rid}",
                help="Written for the person who sent the entry: they see it word for word when they check the "
                "entry with its reference and their email (Check a submission page). Other officers see it in "
                "the audit log. Keep other people's details out of it.",
            )
            go = st.form_submit_button("Reject", icon=":material/block:")
        if go:
            if not reason.strip():
                st.error(
                    "Give a reason: the submitter sees it when they check their entry, and other officers "
                    "see it in the audit log.",
                    icon=":material/error:",
                )
            else:
                _act(lambda: store.reject(rid, actor=officer, reason=reason), f"Rejected {record['name']} ({rid}).")
    with st.expander("Edit before approving"):
        _edit_form(store, record, officer, area)
    st.markdown("**History of this record**")
    _audit_table(store.audit(rid), key=f"moderate_audit_{rid}")


def _act(action: Any, message: str) -> None:
    """Run a store change; on success remember the message and rerun, else show the problem."""
    try:
        action()
    except ValidationError as exc:
        st.error(common.md_text("; ".join(str(p) for p in exc.problems)), icon=":material/error:")
        return
    except StoreError as exc:
        st.error(common.md_text(exc), icon=":material/error:")
        return
    _say(message)
    st.rerun()


def _edit_form(store: RegisterStore, record: dict[str, Any], officer: str, area: Area | None) -> None:
    taxonomy = load_taxonomy()
    rid = record["asset_id"]
    types = taxonomy.type_keys
    labels = {t.key: t.label for t in taxonomy.asset_types}
    # The version the officer opened the form on: a change by anyone else since then is a conflict.
    seen_key = f"moderate_seen_{rid}"
    seen = st.session_state.setdefault(seen_key, int(record["version"]))
    form = f"moderate_edit_{rid}_{seen}"  # a new form (and fresh values) for each version opened
    with st.form(form):
        values: dict[str, Any] = {}
        for field in _EDIT_TEXT:
            current = record.get(field)
            values[field] = st.text_input(
                forms.FORM_LABELS.get(field, field), value=current or "", key=f"{form}_{field}"
            )
        values["type"] = st.selectbox(
            "Type",
            types,
            index=types.index(record["type"]) if record["type"] in types else 0,
            format_func=lambda k: labels.get(k, k),
            key=f"{form}_type",
        )
        values["elements"] = st.multiselect(
            "Elements",
            [e.id for e in taxonomy.elements],
            default=list(record.get("elements") or ()),
            format_func=lambda e: f"{e}. {taxonomy.element(e).name}",
            key=f"{form}_elements",
        )
        a, b = st.columns(2)
        values["latitude"] = a.number_input(
            "Latitude", value=float(record["latitude"]), format="%.6f", key=f"{form}_latitude"
        )
        values["longitude"] = b.number_input(
            "Longitude", value=float(record["longitude"]), format="%.6f", key=f"{form}_longitude"
        )
        values["sensitive"] = st.checkbox(
            f"Sensitive location (shown at {_label(area).singular_lower} level only)",
            value=bool(record["sensitive"]),
            key=f"{form}_sensitive",
        )
        reason = st.text_input("Reason for the change (for the audit log)", key=f"{form}_reason")
        go = st.form_submit_button("Save changes", icon=":material/save:")
    if not go:
        return
    changes = {}
    for field, value in values.items():
        before = record.get(field)
        if field == "elements":
            value = tuple(sorted(value))
            before = tuple(before or ())
        elif isinstance(value, str):
            value = value.strip() or None
        if value != before:
            changes[field] = value
    if not changes:
        st.info("Nothing was changed.", icon=":material/info:")
        return
    if ("latitude" in changes or "longitude" in changes) and area is not None:
        changes["area_code"] = register.area_codes_of([values["longitude"]], [values["latitude"]], area.boundaries)[0]
    try:
        store.edit(rid, changes, actor=officer, reason=reason or None, expected_version=seen)
    except ConflictError as exc:
        st.error(f"{common.md_text(exc)}", icon=":material/sync_problem:")
        st.button("Reload the record", on_click=st.session_state.pop, args=(seen_key, None), key=f"{form}_reload")
        return
    except ValidationError as exc:
        for p in exc.problems:
            st.error(common.md_text(str(p)), icon=":material/error:")
        return
    st.session_state.pop(seen_key, None)
    _say(f"Saved changes to {rid}.")
    st.rerun()


# -- audit log, stale records, exports ---------------------------------------------------------------


def audit_rows(audit: pd.DataFrame) -> pd.DataFrame:
    """Return the audit log as the page shows it: newest first, with the fields each change touched."""
    out = audit.copy()
    changed = []
    for before, after in zip(out["before"], out["after"], strict=True):
        if isinstance(before, dict) and isinstance(after, dict):
            keys = [
                k for k in after if k not in ("version", "updated_at", "updated_by") and after.get(k) != before.get(k)
            ]
            changed.append(", ".join(keys))
        else:
            changed.append("")
    out["changed"] = changed
    return out[list(AUDIT_COLUMNS)].rename(columns=AUDIT_COLUMNS).iloc[::-1].reset_index(drop=True)


def _audit_table(audit: pd.DataFrame, *, key: str) -> None:
    if audit.empty:
        st.caption("No changes recorded yet.")
        return
    st.dataframe(audit_rows(audit), hide_index=True, width="stretch", key=key)


def _stale(store: RegisterStore, officer: str, area: Area | None) -> None:
    # Counted from the area's own date, as the analysis counts them, so the two lists agree.
    as_of = area.as_of if area is not None else None
    stale = forms.stale_records(store.records(status="approved", public=False), as_of=as_of)
    days = settings.stale_after_days
    if stale.empty:
        st.success(f"Every approved record was confirmed within the last {days:,} days.", icon=":material/done_all:")
        return
    st.caption(
        f"{len(stale):,} approved records not confirmed, nor changed by an officer, in the last {days:,} days. "
        "Check each is still running, then mark it confirmed."
    )
    for record in stale.head(STALE_BUTTONS).to_dict("records"):
        rid = record["asset_id"]
        name, when = st.columns([4, 2], vertical_alignment="center")
        # Never confirmed: last seen current when an officer last changed it, else when it was added.
        seen = record["last_confirmed"] or str(record.get("updated_at") or record.get("created_at") or "")[:10]
        name.markdown(f"{common.md_text(record['name'])} ({common.md_text(rid)})")
        if when.button(
            f"Confirmed (last seen current: {seen or 'no date'})",
            key=f"moderate_confirm_{rid}",
            icon=":material/event_available:",
        ):
            _act(lambda rid=rid: store.confirm(rid, actor=officer), f"Marked {record['name']} ({rid}) confirmed today.")
    names = dict(zip(stale["asset_id"], stale["name"], strict=True))
    chosen = st.multiselect(
        "Confirm several at once", list(names), format_func=lambda i: f"{names[i]} ({i})", key="moderate_stale_pick"
    )
    if st.button(f"Mark the {len(chosen)} chosen confirmed", disabled=not chosen, key="moderate_confirm_many"):
        _act(lambda: store.confirm(chosen, actor=officer), f"Marked {len(chosen)} records confirmed today.")


def export_bytes(path: str, fmt: str) -> bytes:
    """Return the whole register of the area in ``path`` for officers (private fields included)."""
    with common.open_register(path) as store:
        return register.export_register(store, fmt, officer=True)


def _exports(path: str) -> None:
    st.caption(
        "Every record with every field, private contacts included: for officers only. "
        "Spreadsheet cells that could run as formulae are neutralised."
    )
    cols = st.columns(len(EXPORTS))
    stem = Path(path).name or "register"
    for col, (fmt, label) in zip(cols, EXPORTS.items(), strict=True):
        col.download_button(
            label,
            data=functools.partial(export_bytes, path, fmt),  # made only when clicked
            file_name=f"{stem}_register.{fmt}",
            mime=MEDIA_TYPES[fmt],
            key=f"moderate_export_{fmt}",
            on_click="ignore",
            icon=":material/download:",
        )


# -- personal data requests ----------------------------------------------------------------------------

#: Session key of everything found about one person at the last search (the download and erasure use it).
HELD_KEY: str = "moderate_pd_held"

#: Columns of the table of records found about one person.
PERSONAL_COLUMNS: dict[str, str] = {
    "asset_id": "Reference",
    "name": "Name",
    "status": "Status",
    "contact_name": "Contact name (private)",
    "contact_email": "Contact email (private)",
    "email": "Public email",
    "phone": "Public phone",
}


def _personal_data(store: RegisterStore, officer: str) -> None:
    st.markdown("**Personal data requests**")
    st.caption(
        "Find everything the register holds about one person by their email, to send it to them, or erase "
        f"a record's personal details ({', '.join(PERSONAL_FIELDS)}) at their request. Each search and "
        f"each erasure is recorded in the audit log under your name. Rejected and withdrawn records lose "
        f"their personal details by themselves {settings.personal_data_retention_days} days after their "
        "last change."
    )
    with st.form("moderate_pd_find"):
        email = st.text_input("Email of the person asking", key="moderate_pd_email")
        reference = st.text_input("Request reference (for the audit log)", key="moderate_pd_reference")
        go = st.form_submit_button("Find everything held", icon=":material/person_search:")
    if go:
        if not email.strip():
            st.error("Give the email address of the person asking.", icon=":material/error:")
        else:
            try:
                st.session_state[HELD_KEY] = store.subject_access(
                    email, actor=officer, reason=reference.strip() or None
                )
            except (ValidationError, StoreError) as exc:
                st.error(common.md_text(exc), icon=":material/error:")
    held = st.session_state.get(HELD_KEY)
    if not held:
        return
    records = held["records"]
    st.markdown(
        f"{len(records)} record{'s' if len(records) != 1 else ''} and {len(held['audit'])} audit rows "
        f"held about {common.md_text(held['email'])}."
    )
    if records:
        table = pd.DataFrame(records).reindex(columns=list(PERSONAL_COLUMNS)).rename(columns=PERSONAL_COLUMNS)
        st.dataframe(table, hide_index=True, width="stretch", key="moderate_pd_records")
    st.download_button(
        "Download everything held (JSON)",
        data=json.dumps(held, indent=2, ensure_ascii=False, default=str).encode("utf-8"),
        file_name="personal_data.json",
        mime="application/json",
        key="moderate_pd_download",
        on_click="ignore",
        icon=":material/download:",
    )
    if records:
        _erase_form(store, officer, records)


def _erase_form(store: RegisterStore, officer: str, records: list[dict[str, Any]]) -> None:
    names = {r["asset_id"]: r["name"] for r in records}
    with st.form("moderate_pd_erase"):
        chosen = st.selectbox(
            "Record whose personal details to erase",
            list(names),
            format_func=lambda i: f"{names[i]} ({i})",
            key="moderate_pd_pick",
        )
        reason = st.text_input("Reason for erasing (required; for the audit log)", key="moderate_pd_reason")
        sure = st.checkbox(
            "I understand the erased details cannot be recovered, from the record or its history",
            key="moderate_pd_sure",
        )
        go = st.form_submit_button("Erase personal details", icon=":material/delete_forever:")
    if not go:
        return
    if not reason.strip():
        st.error("Give a reason: the request the erasure answers.", icon=":material/error:")
    elif not sure:
        st.error("Tick the box to confirm the erasure: it cannot be undone.", icon=":material/error:")
    else:

        def erase() -> None:
            store.erase_personal(chosen, actor=officer, reason=reason.strip())
            # What was found before the erasure holds the erased values: forget it.
            st.session_state.pop(HELD_KEY, None)

        _act(erase, f"Erased the personal details of {names[chosen]} ({chosen}).")
