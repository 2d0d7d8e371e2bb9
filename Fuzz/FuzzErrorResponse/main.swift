import FuzzSupport

runFuzzer(fuzzErrorResponse)
