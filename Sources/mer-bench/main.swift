// mer-bench: GEMM / convolution throughput against the measured FMA peak. See Bench.swift.
Bench.main(CommandLine.arguments)
