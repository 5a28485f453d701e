"""``python -m invariants [PATHS...]``: the ``mlsysim check`` command without the mlsysim CLI."""

from invariants.cli import main

if __name__ == "__main__":
    main()
