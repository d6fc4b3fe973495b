"""The assetmap web app: ``streamlit run app.py`` (the area comes from ASSETMAP_AREA)."""

import streamlit as st

from assetmap.ui.pages import data as data_page
from assetmap.ui.pages import gaps as gaps_page
from assetmap.ui.pages import later, print_page
from assetmap.ui.pages import map as map_page
from assetmap.ui.pages import ward as ward_page

st.set_page_config(page_title="assetmap", page_icon=":material/map:", layout="wide")
st.navigation(
    {
        "Explore": [
            st.Page(map_page.page, title="Map", icon=":material/map:", url_path="map", default=True),
            st.Page(gaps_page.page, title="Gaps", icon=":material/leaderboard:", url_path="gaps"),
            st.Page(ward_page.page, title="Ward profile", icon=":material/location_city:", url_path="ward"),
            st.Page(print_page.page, title="Print", icon=":material/print:", url_path="print"),
        ],
        "Community": [
            st.Page(later.add_group_page, title="Add your group", icon=":material/group_add:", url_path="add"),
            st.Page(later.moderate_page, title="Moderate", icon=":material/fact_check:", url_path="moderate"),
        ],
        "Officers": [
            st.Page(data_page.page, title="Data", icon=":material/database:", url_path="data"),
        ],
    }
).run()
