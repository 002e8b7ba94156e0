"""One small module per subcommand (a function taking typed arguments and returning an exit code),
and the argparse parts of each command family (`*_args.py`)."""
