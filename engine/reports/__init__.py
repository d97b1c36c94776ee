"""What a run reports: its record, the explanation, the manifest and the per-stage profile."""
