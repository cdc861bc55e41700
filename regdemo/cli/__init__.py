"""The command line: `python -m regdemo ...` (parser, commands, output)."""
