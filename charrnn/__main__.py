"""python -m charrnn ...: the same as the `charrnn` command."""
import sys

from .cli import main

sys.exit(main())
