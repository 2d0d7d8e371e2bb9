import FuzzSupport

runFuzzer(fuzzLocalBackend)
