"""Files -> paragraphs -> search structures on disk. Knows nothing of questions or user interfaces."""
