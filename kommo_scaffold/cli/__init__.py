"""The command line: the typer app, help formatting, value coercion, error mapping and the
console entry points. Only parses arguments and delegates; nothing imports this package.
"""
