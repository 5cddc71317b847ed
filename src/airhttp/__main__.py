"""`python -m airhttp`: the same command as the `airhttp` console script (see `_cli`)."""

from ._cli import main

raise SystemExit(main())
