from bench.maps import main

main()
