"""`python -m leaddesk` runs the command line."""

from leaddesk.cli import main

main()
