"""Failure analysis: signatures, the offline classifier and the LLM analyzer, one result schema for all."""
