"""Command-line interface: one module per subcommand group, each a thin layer over the Python API."""
