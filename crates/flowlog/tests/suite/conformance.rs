// conformance tests: written separately
