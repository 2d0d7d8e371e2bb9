import FuzzSupport

runFuzzer(fuzzLineInput)
