"""Small widgets that render the data objects of `qa` (questions, answers, evidence, sources, status)."""
