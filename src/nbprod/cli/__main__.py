"""``python -m nbprod.cli``: the ``nbprod`` command."""

from . import main

if __name__ == "__main__":  # pragma: no cover
    main()
