"""The smallest Streamlit page: the baseline the app's page times are compared with."""

import streamlit as st

st.title("hello")
st.selectbox("Choice", ["one", "two"], key="choice")
st.write(st.session_state.choice)
