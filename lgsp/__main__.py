from lgsp.cli import main

main()
