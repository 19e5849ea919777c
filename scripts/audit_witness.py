"""The audit witness (docs/audit-witness.md): `python scripts/audit_witness.py new-key|public-key|sign|serve`.

Runs without Django and without the portal's secrets; run it as its own user, ideally on its own host.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit.witness_cli import main

if __name__ == "__main__":
    sys.exit(main())
