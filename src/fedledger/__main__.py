from fedledger.cli.app import main

main()
