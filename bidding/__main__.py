from bidding.cli import main

# Guarded: the processes that open bids (multiprocessing) import this module again under another name.
if __name__ == "__main__":
    raise SystemExit(main())
