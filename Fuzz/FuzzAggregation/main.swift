import FuzzSupport

runFuzzer(fuzzAggregation)
