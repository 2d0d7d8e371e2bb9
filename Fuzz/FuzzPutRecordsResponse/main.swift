import FuzzSupport

runFuzzer(fuzzPutRecordsResponse)
