"""The SPEX vision-language model backend (PyTorch)."""
