from amount_updater.cli import main

raise SystemExit(main())
