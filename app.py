"""The assetmap web app: ``streamlit run app.py`` (the area comes from ASSETMAP_AREA)."""

import streamlit as st

from assetmap.ui.pages import gaps as gaps_page
from assetmap.ui.pages import map as map_page

st.set_page_config(page_title="assetmap", page_icon=":material/map:", layout="wide")
st.navigation(
    [
        st.Page(map_page.page, title="Map", icon=":material/map:", url_path="map", default=True),
        st.Page(gaps_page.page, title="Gaps", icon=":material/leaderboard:", url_path="gaps"),
    ]
).run()
