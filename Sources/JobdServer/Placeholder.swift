import JobdStore
