"""The Streamlit face: pages and components. The only package that imports streamlit."""
