from bench.grid import main

main()
