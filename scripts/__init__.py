"""Developer scripts: codegen, the local mesh launcher and demo, benchmarks."""
