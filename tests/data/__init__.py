"""Tests of the dataset tools (dabai.data, dabai data …)."""
