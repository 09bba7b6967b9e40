import JobdSystem

/// Parses JOB.ADD's options (also CRON.ADD's and the log's), with an
/// error that names the argument for anything it cannot take.
public enum JobRequestParser {
    /// Options from `words` (everything after queue and payload).
    /// `allowID`/`allowSchedule`: CRON.ADD takes neither ID nor DELAY/AT.
    public static func parse(queue: [UInt8], payload: [UInt8], words: ArraySlice<[UInt8]>, now: Int64,
                             allowID: Bool = true, allowSchedule: Bool = true) throws(JobError) -> JobEngine.AddRequest {
        var request = JobEngine.AddRequest(queue: queue, payload: payload)
        var i = words.startIndex
        var sawDelay = false, sawAt = false
        func value(_ name: String) throws(JobError) -> [UInt8] {
            guard i + 1 < words.endIndex else { throw JobError("ERR \(name) needs a value") }
            i += 1
            return words[i]
        }
        func number(_ name: String, _ range: ClosedRange<Int64>, _ what: String) throws(JobError) -> Int64 {
            let word = try value(name)
            guard let n = Numbers.parseInt64(word), range.contains(n) else {
                throw JobError("ERR \(name) must be \(what), got '\(String(decoding: word.prefix(64), as: UTF8.self))'")
            }
            return n
        }
        let millis = "an integer of milliseconds >= 0"
        while i < words.endIndex {
            let option = String(decoding: words[i].prefix(32), as: UTF8.self).uppercased()
            switch option {
            case "PRIORITY":
                request.options.priority = Int(try number(option, 0...10, "an integer from 0 (most urgent) to 10"))
            case "DELAY" where allowSchedule:
                request.runAt = now + (try number(option, 0...(Int64.max / 4), millis))
                sawDelay = true
            case "AT" where allowSchedule:
                request.runAt = try number(option, 0...(Int64.max / 4), "a Unix time in milliseconds")
                sawAt = true
            case "RETRIES":
                request.options.maxRetries = Int(try number(option, 0...1_000_000, "an integer from 0 to 1000000"))
            case "BACKOFF":
                request.options.backoff = try number(option, 0...(Int64.max / 4), millis)
                // MAX and JITTER belong to BACKOFF and may follow it in either order.
                while i + 1 < words.endIndex {
                    let next = String(decoding: words[i + 1].prefix(8), as: UTF8.self).uppercased()
                    if next == "MAX" {
                        i += 1
                        request.options.backoffMax = try number("MAX", 0...(Int64.max / 4), millis)
                    } else if next == "JITTER" {
                        i += 1
                        request.options.jitter = true
                    } else {
                        break
                    }
                }
            case "MAX", "JITTER":
                throw JobError("ERR \(option) must follow BACKOFF ms")
            case "TIMEOUT":
                request.options.timeout = try number(option, 1...(Int64.max / 4), "an integer of milliseconds > 0")
            case "TTL":
                request.options.ttl = try number(option, 1...(Int64.max / 4), "an integer of milliseconds > 0")
            case "UNIQUE":
                let key = try value(option)
                guard !key.isEmpty else { throw JobError("ERR UNIQUE key must not be empty") }
                request.options.unique = key
                if i + 1 < words.endIndex, String(decoding: words[i + 1].prefix(4), as: UTF8.self).uppercased() == "FOR" {
                    i += 1
                    request.options.uniqueFor = try number("FOR", 0...(Int64.max / 4), millis)
                }
            case "FOR":
                throw JobError("ERR FOR must follow UNIQUE key")
            case "RESULTTTL":
                request.options.resultTTL = try number(option, 0...(Int64.max / 4), millis)
            case "ID" where allowID:
                let id = try value(option)
                guard !id.isEmpty, id.count <= 256 else { throw JobError("ERR ID must be 1 to 256 bytes") }
                request.id = id
            default:
                throw JobError("ERR unknown option '\(String(decoding: words[i].prefix(64), as: UTF8.self))'")
            }
            i += 1
        }
        if sawDelay && sawAt { throw JobError("ERR DELAY and AT cannot both be given") }
        return request
    }

    /// The options of `request` as JOB.ADD words (CRON.LIST and the log),
    /// with a DELAY turned into an absolute AT.
    public static func words(_ request: JobEngine.AddRequest, includeID: Bool = true) -> [[UInt8]] {
        var words: [[UInt8]] = []
        func add(_ name: String, _ value: String) { words.append(Array(name.utf8)); words.append(Array(value.utf8)) }
        let o = request.options
        if let p = o.priority { add("PRIORITY", String(p)) }
        if let at = request.runAt { add("AT", String(at)) }
        if o.maxRetries != 0 { add("RETRIES", String(o.maxRetries)) }
        if o.backoff != 0 || o.jitter || o.backoffMax != JobOptions().backoffMax {
            add("BACKOFF", String(o.backoff))
            add("MAX", String(o.backoffMax))
            if o.jitter { words.append(Array("JITTER".utf8)) }
        }
        if o.timeout != 0 { add("TIMEOUT", String(o.timeout)) }
        if o.ttl != 0 { add("TTL", String(o.ttl)) }
        if let unique = o.unique {
            words.append(Array("UNIQUE".utf8))
            words.append(unique)
            if o.uniqueFor != 0 { add("FOR", String(o.uniqueFor)) }
        }
        if let r = o.resultTTL { add("RESULTTTL", String(r)) }
        if includeID, let id = request.id { words.append(Array("ID".utf8)); words.append(id) }
        return words
    }
}
