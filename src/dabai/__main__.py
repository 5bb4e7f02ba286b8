import sys

from dabai.cli.main import main

sys.exit(main())
