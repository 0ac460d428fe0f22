"""Question -> evidence passages with citations -> answer. No user interface code lives here."""
