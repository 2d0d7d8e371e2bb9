import FuzzSupport

runFuzzer(fuzzLocalRequest)
