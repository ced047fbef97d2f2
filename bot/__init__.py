"""Studybot: spaced repetition for attention and transformers."""
