"""The ``vosbench`` command: argument parsing and printing over the layers below, nothing more."""
