"""Exchange with other study tools (Anki packages); may import optional libraries."""
