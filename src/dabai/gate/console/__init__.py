"""The gate's local web console (``dabai gate serve``): FastAPI, server-rendered pages, no CDN."""
