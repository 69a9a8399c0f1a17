"""The bench: captures, decoding, classification, results, and the brewbench command."""
