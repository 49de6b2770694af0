from bidding.cli import main

raise SystemExit(main())
