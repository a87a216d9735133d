from bodycam.cli import main

main()
