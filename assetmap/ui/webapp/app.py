"""The assetmap web app: ``assetmap serve`` (the area comes from ASSETMAP_AREA).

Streamlit runs this file as the page script (``__main__``); the server imports it
once as a module and finds ``app``, an ``st.App`` serving the script with the
app's own routes (the sign-in cookie, see :mod:`assetmap.ui.routes`).
"""

from pathlib import Path
from typing import Literal

import streamlit as st

#: The app's stylesheet, added to every page (Streamlit puts a style-only block out of the page's flow).
STYLES: Path = Path(__file__).with_name("static") / "app.css"


def main() -> None:
    """Draw the app: the menu of pages, with officer pages only for a signed-in officer."""
    from assetmap.ui import auth, common, phone
    from assetmap.ui.pages import add_group, check_submission, moderate, print_page
    from assetmap.ui.pages import data as data_page
    from assetmap.ui.pages import gaps as gaps_page
    from assetmap.ui.pages import map as map_page
    from assetmap.ui.pages import plan as plan_page
    from assetmap.ui.pages import ward as ward_page

    # The icon is a file of the app's own: a Material icon as page icon would be fetched from Google's fonts site.
    st.set_page_config(page_title="assetmap", page_icon=str(common.ICON), layout="wide")
    # The app's own styles (visible keyboard focus), from the file beside its other static files.
    st.html(STYLES)
    phone.page_chrome()
    # Officer pages are in the menu only when signed in; each page also refuses a signed-out
    # visitor itself, so its address alone shows nothing.
    officer = auth.sidebar() is not None
    shown: Literal["visible", "hidden"] = "visible" if officer else "hidden"
    st.navigation(
        {
            "Explore": [
                # Served at the root; its reserved path is not "map", so that "/map" can answer too (below).
                st.Page(map_page.page, title="Map", icon=":material/map:", url_path="home", default=True),
                st.Page(map_page.page, title="Map", icon=":material/map:", url_path="map", visibility="hidden"),
                st.Page(gaps_page.page, title="Gaps", icon=":material/leaderboard:", url_path="gaps"),
                plan_page.nav_page(),
                st.Page(
                    ward_page.page,
                    title=f"{common.unit_label().singular} profile",
                    icon=":material/location_city:",
                    url_path="ward",
                ),
                st.Page(print_page.page, title="Print", icon=":material/print:", url_path="print"),
            ],
            "Community": [
                st.Page(add_group.page, title="Add your group", icon=":material/group_add:", url_path="add"),
                st.Page(
                    check_submission.page,
                    title="Check a submission",
                    icon=":material/manage_search:",
                    url_path="check",
                ),
            ],
            "Officers": [
                st.Page(
                    moderate.page,
                    title="Moderate",
                    icon=":material/fact_check:",
                    url_path="moderate",
                    visibility=shown,
                ),
                st.Page(data_page.page, title="Data", icon=":material/database:", url_path="data", visibility=shown),
                st.Page(
                    auth.sign_in_page,
                    title="Officer sign-in",
                    icon=":material/login:",
                    url_path="sign-in",
                    visibility="hidden" if officer else "visible",
                ),
            ],
        }
    ).run()


if __name__ == "__main__":
    main()
else:
    from assetmap.ui import routes

    # Found by `streamlit run` (it looks for `app = st.App(...)`): the pages, served with the app's routes.
    app = st.App(__file__, routes=routes.routes(), middleware=routes.middleware())
