import sys

from regdemo.cli.parser import main

sys.exit(main())
