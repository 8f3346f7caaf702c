"""Benchmarks (``make bench``): shadowscan against a grep baseline measured in the same run."""
