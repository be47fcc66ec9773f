"""``python -m ddbstream``: the same as the ``ddbstream`` command."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
