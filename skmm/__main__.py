"""``python -m skmm`` is the ``skmm`` command."""

from skmm.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
