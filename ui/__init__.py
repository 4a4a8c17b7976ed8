"""The Streamlit chat front end (run with `rag ui`)."""
