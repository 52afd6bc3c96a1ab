"""smsctl's benchmarks: each figure is a ratio of two commands run side by side."""
