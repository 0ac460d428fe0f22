"""The Textual user interface: shows what `qa` decided, decides nothing itself."""
