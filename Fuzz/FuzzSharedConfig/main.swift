import FuzzSupport

runFuzzer(fuzzSharedConfig)
