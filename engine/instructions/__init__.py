"""Instructions: the target catalogue, size limits, the parsed plan, and SPIE prompts."""
